//! The crate's error type. Variants are actionable: each says what went wrong with which object,
//! and each boundary (CLI, HTTP, TFTP) maps them in one exhaustive `match`.

use std::fmt;

/// A field-level validation failure: which input field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: std::borrow::Cow<'static, str>,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that breaks a rule; the message names the field and shows what was given.
    #[error("{0}")]
    Invalid(FieldError),
    /// The thing asked for does not exist (or is not visible to the caller).
    #[error("{what} not found: {key}")]
    NotFound { what: &'static str, key: String },
    /// The request is valid but collides with the current state (duplicate, wrong state).
    #[error("{0}")]
    Conflict(String),
    /// Locked after too many failed attempts, until an admin resets it.
    #[error("{0}")]
    Locked(String),
    /// A device template failed to load or render.
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    /// The configuration is unusable; the message names the key.
    #[error("config: {0}")]
    Config(String),
    #[error("store: {0}")]
    Store(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub fn invalid(
        field: impl Into<std::borrow::Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Error::Invalid(FieldError {
            field: field.into(),
            message: message.into(),
        })
    }

    pub fn not_found(what: &'static str, key: impl fmt::Display) -> Self {
        Error::NotFound {
            what,
            key: key.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
