//! `E164`: an international phone number, `+` then 2–15 digits, the first not zero.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

impl E164 {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the leading `+`.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    /// The default extension of a user holding this number: its last four digits.
    pub fn default_extension(&self) -> String {
        let d = self.digits();
        d[d.len().saturating_sub(4)..].to_owned()
    }
}

impl FromStr for E164 {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self, Error> {
        let digits = input.strip_prefix('+').ok_or_else(|| {
            Error::invalid(
                "number",
                format!(
                    "{input:?} is not an E.164 number: it must start with + and the country code"
                ),
            )
        })?;
        let ok = (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !ok {
            return Err(Error::invalid(
                "number",
                format!("{input:?} is not an E.164 number: + then 2 to 15 digits, the first not 0"),
            ));
        }
        Ok(E164(input.to_owned()))
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E164({})", self.0)
    }
}

impl serde::Serialize for E164 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid() {
        for ok in ["+4930123456", "+12025550123", "+44"] {
            assert!(ok.parse::<E164>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "+",
            "4930123456",
            "+0301234",
            "+49 30 123456",
            "+49-30",
            "+1234567890123456",
            "+4",
        ] {
            let err = bad.parse::<E164>().unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn default_extension_is_last_four_digits() {
        let n: E164 = "+4930123456".parse().unwrap();
        assert_eq!(n.default_extension(), "3456");
        assert_eq!(n.digits(), "4930123456");
    }
}
