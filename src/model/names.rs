//! Person names with the portal's limits: first name at most 23 characters, last name at most 30.

use std::fmt;

use super::text::parse_text;
use crate::error::Error;

pub const FIRST_NAME_MAX: usize = 23;
pub const LAST_NAME_MAX: usize = 30;

macro_rules! name_type {
    ($name:ident, $field:literal, $max:expr) => {
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// Trims surrounding space; refuses empty names, names longer than the limit
            /// (counted in characters, not bytes) and what no text may hold
            /// ([`check_text`](super::check_text): a newline would let a name add a line to
            /// a key=value file).
            pub fn parse(input: &str) -> Result<Self, Error> {
                parse_text($field, input, $max).map($name)
            }

            /// A name read back from the store, as it is: a rule made later must not make
            /// names stored before it unreadable (the files' escaping still applies).
            pub fn stored(text: String) -> Self {
                $name(text)
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

/// A tenant's, site's or trunk's name, a number's label part: 1–64 characters of text
/// ([`check_text`](super::check_text)), not all digits (a name that is all digits could not
/// be told from an id on the command line).
pub fn parse_label(field: &'static str, input: &str) -> Result<String, Error> {
    let value = parse_text(field, input, 64)?;
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            field,
            format!("{value:?} is all digits, which is kept for ids"),
        )
        .coded("name_all_digits", [("value", format!("{value:?}"))]));
    }
    Ok(value)
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
