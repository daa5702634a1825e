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
            .coded("e164_plus", [("value", format!("{input:?}"))])
        })?;
        let ok = (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !ok {
            return Err(Error::invalid(
                "number",
                format!("{input:?} is not an E.164 number: + then 2 to 15 digits, the first not 0"),
            )
            .coded("e164_digits", [("value", format!("{input:?}"))]));
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

impl<'de> serde::Deserialize<'de> for E164 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Kinds of German numbers that TKG §66k(2) forbids as a displayed caller ID or an added
/// user-specific number, by their national prefix after +49.
const TKG_66K: &[(&str, &str, &str, &str)] = &[
    (
        "137",
        "a mass-calling service number (0137)",
        "mass-calling",
        "0137",
    ),
    (
        "138",
        "a mass-calling service number (0138)",
        "mass-calling",
        "0138",
    ),
    (
        "12",
        "an innovative-service number (012)",
        "innovative-service",
        "012",
    ),
    (
        "900",
        "a premium-rate number (0900)",
        "premium-rate",
        "0900",
    ),
    (
        "190",
        "a premium-rate number (0190)",
        "premium-rate",
        "0190",
    ),
    (
        "118",
        "a directory-enquiry number (118)",
        "directory-enquiry",
        "118",
    ),
    ("11", "a short-dial number (11x)", "short-dial", "11x"),
];

/// The kinds of number TKG §66k(2) forbids, as a refusal names them (its `kind`).
pub const TKG_66K_KINDS: &[&str] = &[
    "mass-calling",
    "innovative-service",
    "premium-rate",
    "directory-enquiry",
    "short-dial",
];

impl E164 {
    /// TKG §66k(2): a German number shown as caller ID or added as a user-specific number must
    /// not be a mass-calling, innovative-service, premium, directory-enquiry or short-dial
    /// number. The error names the rule and the kind of number.
    pub fn check_tkg_66k(&self, field: &'static str) -> Result<(), Error> {
        let Some(national) = self.digits().strip_prefix("49") else {
            return Ok(());
        };
        let kind = TKG_66K
            .iter()
            .find(|(prefix, ..)| national.starts_with(prefix));
        match kind {
            Some((_, kind, word, prefix)) => Err(Error::invalid(
                field,
                format!(
                    "{self} is {kind}; TKG \u{a7}66k(2) forbids it as a displayed or user-specific number"
                ),
            )
            .coded(
                "tkg_66k",
                [
                    ("number", self.to_string()),
                    ("kind", (*word).to_owned()),
                    ("prefix", (*prefix).to_owned()),
                ],
            )),
            None => Ok(()),
        }
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
    fn tkg_66k_refuses_special_numbers_by_name() {
        for (n, kind) in [
            ("+4913712345678", "mass-calling"),
            ("+491212345678", "innovative-service"),
            ("+499001234567", "premium"),
            ("+4911833", "directory-enquiry"),
            ("+49115", "short-dial"),
            ("+49116117", "short-dial"),
        ] {
            let e: E164 = n.parse().unwrap();
            let err = e.check_tkg_66k("cli_number").unwrap_err().to_string();
            assert!(err.contains(kind) && err.contains("66k"), "{n}: {err}");
            assert!(err.starts_with("cli_number"), "{err}");
        }
        for ok in ["+4930123456", "+4930999", "+441234567890", "+1900555012"] {
            assert!(
                ok.parse::<E164>().unwrap().check_tkg_66k("x").is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn default_extension_is_last_four_digits() {
        let n: E164 = "+4930123456".parse().unwrap();
        assert_eq!(n.default_extension(), "3456");
        assert_eq!(n.digits(), "4930123456");
    }
}
