//! The crate's error type. Variants are actionable: each says what went wrong with which object,
//! and each boundary (CLI, HTTP, TFTP) maps them in one exhaustive `match`.
//!
//! A variant with a cause keeps it (`source()`), and its text ends with the cause's text, so a log
//! line of the error alone says everything; the CLI prints a chain without repeating a cause.

use std::borrow::Cow;
use std::fmt;

/// The failure underneath an error (the database's, argon2's, a parser's), kept whole.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A field-level validation failure: which input field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Cow<'static, str>,
    pub message: String,
    /// The rule's message as a key and its values, for a client that says it in another
    /// language (the portal); `message` is its English text.
    pub code: Option<Code>,
}

/// A rule's message by a stable key (`rules.<key>` in the portal's catalogues) with its
/// named values, each `{name}` in a catalogue's text. The English text is made where the
/// rule refuses (and is what the API and the CLI say); a language without the key shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// One problem of an import file: the line it is on (1 is the header), the column (or `file`),
/// and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub line: u64,
    pub field: String,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, {}: {}", self.line, self.field, self.message)
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
    /// `field` names the input it is about when there is one (a name taken, an object in use),
    /// so a form can show it there; the text is the same either way.
    #[error("{message}")]
    Conflict {
        field: Option<Cow<'static, str>>,
        message: String,
        /// As `FieldError::code`.
        code: Option<Code>,
    },
    /// Locked after too many failed attempts, until an admin resets it.
    #[error("{message}")]
    Locked {
        message: String,
        /// As `FieldError::code`.
        code: Option<Code>,
    },
    /// A device template failed to load or render.
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    /// The configuration is unusable; the message names the key.
    #[error("config: {0}")]
    Config(String),
    /// The database failed, or holds what no rule allows (a value edited behind our back:
    /// "stored … is invalid"). `context` says what was being done, when more than the cause
    /// does. The text is for the log and the operator, never for a client.
    #[error("store: {}", joined(.context, .source.as_deref()))]
    Store {
        context: Cow<'static, str>,
        #[source]
        source: Option<Cause>,
    },
    /// Hashing or checking a secret failed (argon2, or the pool it runs on).
    #[error("{}", joined(.context, .source.as_deref()))]
    Hashing {
        context: Cow<'static, str>,
        #[source]
        source: Option<Cause>,
    },
    /// An import file with bad rows (or a bad header): every one, in file order; nothing was
    /// written.
    #[error("{}", rows_text(.0))]
    Rows(Vec<RowError>),
    /// Writing a CSV export failed.
    #[error("writing CSV: {0}")]
    Csv(#[source] Cause),
    /// A value of ours would not encode as JSON (the audit trail's records, stored settings).
    #[error("JSON of {what}: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub fn invalid(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Error::Invalid(FieldError {
            field: field.into(),
            message: message.into(),
            code: None,
        })
    }

    /// A conflict with the current state that no one input field is to blame for.
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict {
            field: None,
            message: message.into(),
            code: None,
        }
    }

    /// A conflict about the input `field` (a name taken, the object named in use).
    pub fn conflict_on(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Error::Conflict {
            field: Some(field.into()),
            message: message.into(),
            code: None,
        }
    }

    /// Locked after too many failed attempts.
    pub fn locked(message: impl Into<String>) -> Self {
        Error::Locked {
            message: message.into(),
            code: None,
        }
    }

    /// This rule's refusal (`Invalid`, `Conflict` or `Locked`) by `key` and its values, so the portal
    /// can say it in the page's language; other errors stay as they are. The English text is
    /// the one given when it was made.
    pub fn coded<const N: usize>(
        mut self,
        key: &'static str,
        args: [(&'static str, String); N],
    ) -> Self {
        let new = Some(Code {
            key,
            args: args.into(),
        });
        match &mut self {
            Error::Invalid(f) => f.code = new,
            Error::Conflict { code, .. } | Error::Locked { code, .. } => *code = new,
            _ => {}
        }
        self
    }

    /// A conflict about no field in particular, placed on `field` (the input that chose the
    /// object in conflict); other errors stay as they are.
    pub fn about(mut self, name: &'static str) -> Self {
        if let Error::Conflict {
            field: f @ None, ..
        } = &mut self
        {
            *f = Some(Cow::Borrowed(name));
        }
        self
    }

    /// The code of a rule's refusal, if it has one.
    pub fn code(&self) -> Option<&Code> {
        match self {
            Error::Invalid(f) => f.code.as_ref(),
            Error::Conflict { code, .. } | Error::Locked { code, .. } => code.as_ref(),
            _ => None,
        }
    }

    pub fn not_found(what: &'static str, key: impl fmt::Display) -> Self {
        Error::NotFound {
            what,
            key: key.to_string(),
        }
    }

    /// A store failure: what was being done, and the cause.
    pub fn store(context: impl Into<Cow<'static, str>>, cause: impl Into<Cause>) -> Self {
        Error::Store {
            context: context.into(),
            source: Some(cause.into()),
        }
    }

    /// A hashing failure: what was being done, and the cause.
    pub fn hashing(context: impl Into<Cow<'static, str>>, cause: impl Into<Cause>) -> Self {
        Error::Hashing {
            context: context.into(),
            source: Some(cause.into()),
        }
    }

    /// JSON encoding of `what` failed.
    pub fn json(what: &'static str) -> impl FnOnce(serde_json::Error) -> Self {
        move |source| Error::Json { what, source }
    }
}

/// The problems of an import file, one a line.
fn rows_text(rows: &[RowError]) -> String {
    let mut text = format!(
        "the file has {} error{}; nothing was imported",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    for row in rows {
        text.push('\n');
        text.push_str(&row.to_string());
    }
    text
}

/// `context: cause`, or either alone.
fn joined(context: &str, cause: Option<&(dyn std::error::Error + Send + Sync)>) -> String {
    match (context.is_empty(), cause) {
        (_, None) => context.to_owned(),
        (true, Some(cause)) => cause.to_string(),
        (false, Some(cause)) => format!("{context}: {cause}"),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn causes_are_kept_and_shown_once() {
        let e = Error::store("stored mac is invalid", std::io::Error::other("bad digit"));
        assert_eq!(e.to_string(), "store: stored mac is invalid: bad digit");
        assert_eq!(e.source().unwrap().to_string(), "bad digit");
        let e = Error::Store {
            context: "".into(),
            source: Some("database is locked".into()),
        };
        assert_eq!(e.to_string(), "store: database is locked");
        let e = Error::Hashing {
            context: "the hashing pool is closed".into(),
            source: None,
        };
        assert_eq!(e.to_string(), "the hashing pool is closed");
        assert!(e.source().is_none());
    }
}
