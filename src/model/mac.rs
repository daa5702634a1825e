//! `Mac`: a device's hardware address, parsed once at the edge and normalised.

use std::fmt;
use std::str::FromStr;

use mac_address::MacAddress;

use crate::error::Error;

/// A MAC address. Accepts the notations phones and admins use — `001565A1B2C3`,
/// `00:15:65:a1:b2:c3`, `00-15-65-A1-B2-C3`, `0015.65a1.b2c3` — and nothing else.
/// Displays as 12 lowercase hex digits, the form the store and most file names use.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(MacAddress);

impl Mac {
    pub fn bytes(&self) -> [u8; 6] {
        self.0.bytes()
    }

    /// 12 uppercase hex digits, for vendors that name files that way (Cisco, Snom).
    pub fn upper(&self) -> String {
        self.to_string().to_ascii_uppercase()
    }

    /// `00:15:65:a1:b2:c3`, the colon form.
    pub fn colon(&self) -> String {
        let b = self.bytes();
        format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl FromStr for Mac {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self, Error> {
        let bad = || {
            Error::invalid(
                "mac",
                format!(
                    "{input:?} is not a MAC address (use 001565A1B2C3, 00:15:65:a1:b2:c3, 00-15-65-A1-B2-C3 or 0015.65a1.b2c3)"
                ),
            )
            .coded("mac_invalid", [("value", format!("{input:?}"))])
        };
        let hex: String = match input.len() {
            12 => input.to_owned(),
            17 => {
                let sep = input.as_bytes()[2];
                if sep != b':' && sep != b'-' {
                    return Err(bad());
                }
                let groups: Vec<&str> = input.split(sep as char).collect();
                if groups.len() != 6 || groups.iter().any(|g| g.len() != 2) {
                    return Err(bad());
                }
                groups.concat()
            }
            14 => {
                let groups: Vec<&str> = input.split('.').collect();
                if groups.len() != 3 || groups.iter().any(|g| g.len() != 4) {
                    return Err(bad());
                }
                groups.concat()
            }
            _ => return Err(bad()),
        };
        if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut bytes = [0u8; 6];
        for (i, byte) in bytes.iter_mut().enumerate() {
            // Every character is an ASCII hex digit (checked above), so this cannot fail.
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Mac(MacAddress::new(bytes)))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.bytes() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mac({self})")
    }
}

impl serde::Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: Option<&str>) {
        let got = input.parse::<Mac>().ok().map(|m| m.to_string());
        assert_eq!(got.as_deref(), expected, "input {input:?}");
    }

    #[test]
    fn accepts_the_four_notations() {
        for input in [
            "001565A1B2C3",
            "001565a1b2c3",
            "00:15:65:a1:b2:c3",
            "00-15-65-A1-B2-C3",
            "0015.65a1.b2c3",
        ] {
            check(input, Some("001565a1b2c3"));
        }
    }

    #[test]
    fn refuses_everything_else() {
        for input in [
            "",
            "001565A1B2C",
            "001565A1B2C3D",
            "00:15:65:a1:b2",
            "00:15:65-a1:b2:c3",
            "0:15:65:a1:b2:c3:",
            "00:15:65:a1:b2:g3",
            "0015.65a1.b2c",
            "0015:65a1:b2c3",
            "00 15 65 a1 b2 c3",
            "+01565A1B2C3",
            "ÄÄ1565A1B2",
        ] {
            check(input, None);
        }
    }

    #[test]
    fn error_shows_the_input() {
        let err = "00:15:65:zz:b2:c3".parse::<Mac>().unwrap_err();
        assert!(err.to_string().contains("\"00:15:65:zz:b2:c3\""), "{err}");
    }

    #[test]
    fn other_forms() {
        let mac: Mac = "00:15:65:a1:b2:c3".parse().unwrap();
        assert_eq!(mac.upper(), "001565A1B2C3");
        assert_eq!(mac.colon(), "00:15:65:a1:b2:c3");
    }
}
