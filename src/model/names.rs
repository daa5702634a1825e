//! Person names with the portal's limits: first name at most 23 characters, last name at most 30.

use std::fmt;

use crate::error::Error;

pub const FIRST_NAME_MAX: usize = 23;
pub const LAST_NAME_MAX: usize = 30;

macro_rules! name_type {
    ($name:ident, $field:literal, $max:expr) => {
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Trims surrounding space; refuses empty names, names longer than the limit
            /// (counted in characters, not bytes) and control characters (a newline would let a
            /// name add a line to a key=value file).
            pub fn parse(input: &str) -> Result<Self, Error> {
                let value = input.trim();
                let n_chars = value.chars().count();
                if n_chars == 0 {
                    return Err(Error::invalid($field, "must not be empty"));
                }
                if n_chars > $max {
                    return Err(Error::invalid(
                        $field,
                        format!(
                            "{value:?} has {n_chars} characters; at most {} are allowed",
                            $max
                        ),
                    ));
                }
                if value.chars().any(char::is_control) {
                    return Err(Error::invalid(
                        $field,
                        format!("{value:?} contains a control character"),
                    ));
                }
                Ok($name(value.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
    };
}

name_type!(FirstName, "first_name", FIRST_NAME_MAX);
name_type!(LastName, "last_name", LAST_NAME_MAX);

/// A tenant's or site's name: 1–64 characters, no control characters, not all digits (a name
/// that is all digits could not be told from an id on the command line).
pub fn parse_label(field: &'static str, input: &str) -> Result<String, Error> {
    let value = input.trim();
    let n_chars = value.chars().count();
    if n_chars == 0 || n_chars > 64 {
        return Err(Error::invalid(
            field,
            format!("{value:?} must have 1 to 64 characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!("{value:?} contains a control character"),
        ));
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            field,
            format!("{value:?} is all digits, which is kept for ids"),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_characters() {
        assert!(FirstName::parse(&"a".repeat(23)).is_ok());
        let err = FirstName::parse(&"a".repeat(24)).unwrap_err().to_string();
        assert!(
            err.contains("first_name") && err.contains("24 characters"),
            "{err}"
        );
        assert!(LastName::parse(&"ö".repeat(30)).is_ok());
        assert!(LastName::parse(&"ö".repeat(31)).is_err());
        assert!(FirstName::parse("  ").is_err());
        assert!(FirstName::parse("Ann\nx").is_err());
        assert_eq!(FirstName::parse(" Ann ").unwrap().as_str(), "Ann");
    }

    #[test]
    fn labels() {
        assert!(parse_label("name", "Acme").is_ok());
        assert!(parse_label("name", "123").is_err());
        assert!(parse_label("name", "").is_err());
    }
}
