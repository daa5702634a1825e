//! `Secret`: a value (SIP or admin password) that must never reach a log. `Debug` and `Display`
//! print a placeholder; the value is reachable only through `expose`, which the renderer calls.
//! `constant_time_eq`: the one comparison of a secret with what was offered.

use std::fmt;

use rand::distr::{Alphanumeric, SampleString};

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// Length of generated passwords: well above the 20 characters the product promises.
const GENERATED_LEN: usize = 24;

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// A fresh random password of `GENERATED_LEN` letters and digits (about 143 bits), from the
    /// thread-local CSPRNG (ChaCha, seeded from the OS). Letters and digits only, so it needs no
    /// escaping in any format.
    pub fn generate() -> Self {
        Secret(Alphanumeric.sample_string(&mut rand::rng(), GENERATED_LEN))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Whether `a` equals `b`, compared without an early exit, so the time taken does not tell how
/// much of a guess was right (only whether the lengths differ).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_is_long_random_and_redacted() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert!(a.expose().len() >= 20);
        assert!(a.expose().bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert!(!format!("{a:?} {a}").contains(a.expose()));
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"123456", b"123456"));
        assert!(!constant_time_eq(b"123456", b"123457"));
        assert!(!constant_time_eq(b"12345", b"123456"));
        assert!(constant_time_eq(b"", b""));
    }
}
