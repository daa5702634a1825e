//! Device trust: who gets secrets. A request for a device's file is classified before anything
//! is rendered:
//!
//! 1. *proven* — a vendor client certificate (checked by the TLS layer against the vendor CA
//!    bundles) whose MAC is the file's, or the device's HTTP credentials (Digest, RFC 7616, with
//!    SHA-256 or MD5; Basic only over TLS when enabled);
//! 2. *first contact* — the device's first-contact window is open: it gets its full file once,
//!    with new HTTP credentials, and the window closes;
//! 3. *allowed network* — the source address is in the site's allowed networks;
//! 4. *unproven* — everything else: a Digest challenge over HTTPS, else the credential-free
//!    bootstrap file or the uniform 404, per configuration.
//!
//! This file holds the parts that need no store: Digest challenges and verification with
//! server-side nonce tracking, and the failure throttle.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use md5::Md5;
use moka::sync::Cache;
use sha2::{Digest as _, Sha256};

use crate::model::{constant_time_eq, Secret};

/// The Digest realm phones see.
pub const REALM: &str = "autoprov";

/// How a request was classified, for the log and the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    ProvenCertificate,
    ProvenDigest,
    ProvenBasic,
    /// The directory asked for under the device's URL token (see `url_token`), over HTTPS.
    ProvenUrl,
    FirstContact,
    AllowedNetwork,
    Unproven,
    /// Credentials or a certificate that do not fit the file's device.
    Refused,
    /// Digest credentials with an expired (or foreign) nonce: challenged again.
    Stale,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::ProvenCertificate => "proven-certificate",
            Decision::ProvenDigest => "proven-digest",
            Decision::ProvenBasic => "proven-basic",
            Decision::ProvenUrl => "proven-url",
            Decision::FirstContact => "first-contact",
            Decision::AllowedNetwork => "allowed-network",
            Decision::Unproven => "unproven",
            Decision::Refused => "refused",
            Decision::Stale => "stale-nonce",
        }
    }

    pub const ALL: [Decision; 9] = [
        Decision::ProvenCertificate,
        Decision::ProvenDigest,
        Decision::ProvenBasic,
        Decision::ProvenUrl,
        Decision::FirstContact,
        Decision::AllowedNetwork,
        Decision::Unproven,
        Decision::Refused,
        Decision::Stale,
    ];

    /// Whether the full file (with secrets) may be served.
    pub fn trusted(self) -> bool {
        !matches!(
            self,
            Decision::Unproven | Decision::Refused | Decision::Stale
        )
    }
}

/// Digest authentication. Nonces are stateless — a time, a random part and an HMAC of both under
/// a key of this process — so unauthenticated requests, however many, store nothing. Only after a
/// response verifies is its nonce remembered, with the highest nonce count seen, so a captured
/// response cannot be replayed.
pub struct Digest {
    key: [u8; 32],
    lifetime: Duration,
    counts: Cache<String, Arc<AtomicU32>>,
}

/// What a Digest nonce is worth, decided before anything about the device is looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceState {
    Fresh,
    /// Ours but too old, or not ours at all: the client gets a new challenge.
    Stale,
}

/// What a client's `Authorization: Digest …` says.
#[derive(Debug, Default, PartialEq, Eq)]
struct DigestResponse {
    username: String,
    realm: String,
    nonce: String,
    uri: String,
    response: String,
    algorithm: String,
    qop: String,
    nc: String,
    cnonce: String,
}

type HmacSha256 = hmac::Hmac<Sha256>;

impl Digest {
    pub fn new(lifetime: Duration) -> Digest {
        Digest {
            key: rand::random(),
            lifetime,
            counts: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(lifetime)
                .build(),
        }
    }

    fn tag(&self, stamp_and_random: &[u8]) -> String {
        use hmac::Mac as _;
        // An HMAC key of any length is accepted.
        let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(stamp_and_random);
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    fn nonce(&self) -> String {
        let now = jiff::Timestamp::now().as_second().to_be_bytes();
        let random: [u8; 8] = rand::random();
        let mut both = now.to_vec();
        both.extend_from_slice(&random);
        format!("{}{}", hex::encode(&both), self.tag(&both))
    }

    /// Whether the nonce in `header` is one of ours and young enough.
    pub fn nonce_state(&self, header: &str) -> NonceState {
        let Some(r) = parse_digest(header) else {
            return NonceState::Stale;
        };
        let Ok(bytes) = hex::decode(r.nonce.get(..32).unwrap_or_default()) else {
            return NonceState::Stale;
        };
        let tag = r.nonce.get(32..).unwrap_or_default();
        if bytes.len() != 16 || !constant_time_eq(self.tag(&bytes).as_bytes(), tag.as_bytes()) {
            return NonceState::Stale;
        }
        let mut stamp = [0u8; 8];
        stamp.copy_from_slice(&bytes[..8]);
        let age = jiff::Timestamp::now().as_second() - i64::from_be_bytes(stamp);
        if (0..=self.lifetime.as_secs() as i64).contains(&age) {
            NonceState::Fresh
        } else {
            NonceState::Stale
        }
    }

    /// `WWW-Authenticate` values: SHA-256 first (preferred), then MD5 for older phones, sharing
    /// one fresh nonce; `stale` tells a client its nonce expired (RFC 7616), so it retries with the
    /// same credentials.
    pub fn challenge(&self, stale: bool) -> Vec<String> {
        let nonce = self.nonce();
        let stale = if stale { ", stale=true" } else { "" };
        ["SHA-256", "MD5"]
            .iter()
            .map(|algorithm| {
                format!(
                    "Digest realm=\"{REALM}\", qop=\"auth\", algorithm={algorithm}, nonce=\"{nonce}\"{stale}"
                )
            })
            .collect()
    }

    /// Checks `header` (the `Authorization` value) for `user` with any of `passwords`, for a
    /// request with this `method` and `uri`. The nonce must be fresh (see `nonce_state`) and its
    /// count must go up. Every password is tried (no early exit), compared in constant time.
    pub fn verify(
        &self,
        header: &str,
        method: &str,
        uri: &str,
        user: &str,
        passwords: &[&Secret],
    ) -> bool {
        if self.nonce_state(header) != NonceState::Fresh {
            return false;
        }
        let Some(r) = parse_digest(header) else {
            return false;
        };
        let Ok(nc) = u32::from_str_radix(&r.nc, 16) else {
            return false;
        };
        let hash: fn(&str) -> String = match r.algorithm.to_ascii_uppercase().as_str() {
            "" | "MD5" => md5_hex,
            "SHA-256" => sha256_hex,
            _ => return false,
        };
        let shape_ok = r.realm == REALM && r.qop == "auth" && r.uri == uri && r.username == user;
        let ha2 = hash(&format!("{method}:{}", r.uri));
        let mut matched = false;
        for password in passwords {
            let ha1 = hash(&format!("{}:{REALM}:{}", r.username, password.expose()));
            let expected = hash(&format!(
                "{ha1}:{}:{}:{}:auth:{ha2}",
                r.nonce, r.nc, r.cnonce
            ));
            matched |= constant_time_eq(
                expected.as_bytes(),
                r.response.to_ascii_lowercase().as_bytes(),
            );
        }
        if !(shape_ok && matched) {
            return false;
        }
        // Only now is the nonce remembered: a wrong guess stores nothing and cannot lock out the
        // phone's next try.
        let seen = self
            .counts
            .get_with(r.nonce.clone(), || Arc::new(AtomicU32::new(0)));
        let before = seen.fetch_max(nc, Ordering::AcqRel);
        nc > before
    }
}

impl Digest {
    /// Spends the nonce count of a Digest answer that is seen but cannot be accepted (over plain
    /// HTTP): the same answer, replayed over HTTPS, is then refused as a replay.
    pub fn spend(&self, header: &str) {
        if self.nonce_state(header) != NonceState::Fresh {
            return;
        }
        let Some(r) = parse_digest(header) else {
            return;
        };
        let Ok(nc) = u32::from_str_radix(&r.nc, 16) else {
            return;
        };
        self.counts
            .get_with(r.nonce, || Arc::new(AtomicU32::new(0)))
            .fetch_max(nc, Ordering::AcqRel);
    }
}

/// The part of a directory URL that stands in for the device's credentials, for phones that
/// cannot (or, by their vendor's documentation, do not) answer a challenge for their directory:
/// a keyed hash of the device's HTTP password, so it changes when the credentials rotate and
/// tells nothing about the password. It opens only the directory file, and only over HTTPS.
pub fn url_token(password: &Secret) -> String {
    use hmac::Mac as _;
    let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(password.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(b"autoprov directory url");
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// Whether `segments` hold the URL token of any of `passwords` (constant time for each).
pub fn verify_url_token(segments: &[&str], passwords: &[&Secret]) -> bool {
    let mut matched = false;
    for password in passwords {
        let token = url_token(password);
        for segment in segments {
            matched |= constant_time_eq(token.as_bytes(), segment.as_bytes());
        }
    }
    matched
}

/// Checks `Authorization: Basic …` for `user` with any of `passwords`.
pub fn verify_basic(header: &str, user: &str, passwords: &[&Secret]) -> bool {
    let Some(encoded) = header.trim().strip_prefix("Basic ") else {
        return false;
    };
    let Some(decoded) = base64_decode(encoded.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((name, password)) = text.split_once(':') else {
        return false;
    };
    let mut matched = false;
    for candidate in passwords {
        matched |= constant_time_eq(candidate.expose().as_bytes(), password.as_bytes());
    }
    matched && name == user
}

fn parse_digest(header: &str) -> Option<DigestResponse> {
    let rest = header.trim().strip_prefix("Digest")?;
    let mut r = DigestResponse::default();
    let mut chars = rest.trim().chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let value: String = if chars.peek() == Some(&'"') {
            chars.next();
            let mut v = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => v.extend(chars.next()),
                    '"' => break,
                    c => v.push(c),
                }
            }
            v
        } else {
            chars
                .by_ref()
                .take_while(|c| *c != ',')
                .collect::<String>()
                .trim()
                .to_owned()
        };
        let slot = match key.trim().to_ascii_lowercase().as_str() {
            "username" => &mut r.username,
            "realm" => &mut r.realm,
            "nonce" => &mut r.nonce,
            "uri" => &mut r.uri,
            "response" => &mut r.response,
            "algorithm" => &mut r.algorithm,
            "qop" => &mut r.qop,
            "nc" => &mut r.nc,
            "cnonce" => &mut r.cnonce,
            _ => continue,
        };
        *slot = value;
    }
    (!r.nonce.is_empty() && !r.response.is_empty()).then_some(r)
}

fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Standard base64 (RFC 4648) for Basic credentials; `None` on anything malformed.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    if text.len() % 4 != 0 || bytes.len() + 2 < text.len() {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let produced = chunk.len() * 6 / 8;
        for i in 0..produced {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// Limits for the failure throttle, as the configuration gives them.
pub use crate::config::ThrottleLimits;

/// What the throttle says about a request before it is looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Answer, but late.
    Slow,
    /// Answer with the uniform 404 at once, without looking anything up.
    Refused,
}

/// Credential checks a refused address may still have looked at, a minute: a phone behind the
/// same NAT as a guesser can still prove itself, while the guesser gets a handful of look-ups
/// instead of hundreds.
const OFFERS_PER_MINUTE: u32 = 6;

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
    banned_until: Option<Instant>,
}

/// Token buckets of failures (404 and 401 answers) per source address, of guesses per vendor
/// prefix, and of credential checks from refused addresses. Time is tokio's, so tests can pause
/// it.
pub struct Throttle {
    limits: ThrottleLimits,
    /// Keyed by `source_key`, and apart for TFTP: a spoofable UDP source must not get an address
    /// refused over HTTP.
    addresses: Cache<(IpAddr, bool), Arc<Mutex<Bucket>>>,
    /// Guesses per vendor prefix, over every address and transport (a guesser who changes
    /// address every few requests is seen here). An exhausted prefix closes first-contact
    /// windows only: phones that prove themselves or ask from their site's allowed network are
    /// never refused because of other people's guesses.
    prefixes: Cache<[u8; 3], Arc<Mutex<Bucket>>>,
    offers: Cache<IpAddr, Arc<Mutex<Bucket>>>,
}

/// What counting a failure changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted {
    /// The prefix's guesses just ran out: its first-contact windows close now.
    pub windows_closed: bool,
}

impl Throttle {
    pub fn new(limits: ThrottleLimits) -> Throttle {
        let idle = limits.ban.max(Duration::from_secs(600));
        Throttle {
            addresses: Cache::builder()
                .max_capacity(1_000_000)
                .time_to_idle(idle)
                .build(),
            prefixes: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(idle.max(Duration::from_secs(24 * 3600)))
                .build(),
            offers: Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(120))
                .build(),
            limits,
        }
    }

    fn refill(bucket: &mut Bucket, burst: u32, per_minute: u32, now: Instant) {
        bucket.tokens = crate::model::refill(
            bucket.tokens,
            now.duration_since(bucket.updated),
            f64::from(burst),
            f64::from(per_minute),
        );
        bucket.updated = now;
        if bucket.banned_until.is_some_and(|t| t <= now) {
            bucket.banned_until = None;
        }
    }

    fn bucket(burst: u32) -> Arc<Mutex<Bucket>> {
        Arc::new(Mutex::new(Bucket {
            tokens: f64::from(burst),
            updated: Instant::now(),
            banned_until: None,
        }))
    }

    /// How to treat the next request from `ip` (over TFTP when `tftp`).
    pub fn gate(&self, ip: IpAddr, tftp: bool) -> Gate {
        let now = Instant::now();
        let l = &self.limits;
        let Some(bucket) = self.addresses.get(&(source_key(ip), tftp)) else {
            return Gate::Open;
        };
        let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
        Self::refill(&mut b, l.burst, l.per_minute, now);
        if b.banned_until.is_some() {
            Gate::Refused
        } else if b.tokens < f64::from(l.burst) / 2.0 {
            Gate::Slow
        } else {
            Gate::Open
        }
    }

    /// Whether a refused address may still have one credential check looked at now (see
    /// `OFFERS_PER_MINUTE`); decided before the credentials are parsed.
    pub fn offer(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let bucket = self
            .offers
            .get_with(source_key(ip), || Self::bucket(OFFERS_PER_MINUTE));
        let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
        Self::refill(&mut b, OFFERS_PER_MINUTE, OFFERS_PER_MINUTE, now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether the first-contact windows of vendor `prefix` are closed by guessing.
    pub fn windows_closed(&self, prefix: [u8; 3]) -> bool {
        let Some(bucket) = self.prefixes.get(&prefix) else {
            return false;
        };
        let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
        let l = &self.limits;
        Self::refill(&mut b, l.prefix_burst, l.prefix_per_minute, Instant::now());
        // Closed for the ban, and until the prefix has earned a guess back.
        b.banned_until.is_some() || b.tokens < 1.0
    }

    /// Counts a failure of `ip` (over TFTP when `tftp`): when an address has none left, it is
    /// refused for `ban`. A `guess` (a MAC nobody registered, or credentials that do not fit) of
    /// vendor `prefix` also counts against the prefix, from every address and both transports,
    /// unless the address is already refused.
    pub fn fail(&self, ip: IpAddr, tftp: bool, guess: Option<[u8; 3]>) -> Counted {
        let now = Instant::now();
        let l = &self.limits;
        let bucket = self
            .addresses
            .get_with((source_key(ip), tftp), || Self::bucket(l.burst));
        let already_refused = {
            let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
            Self::refill(&mut b, l.burst, l.per_minute, now);
            let refused = b.banned_until.is_some();
            b.tokens -= 1.0;
            if b.tokens < 1.0 && !refused {
                b.banned_until = Some(now + l.ban);
                tracing::warn!(%ip, tftp, ban_secs = l.ban.as_secs(), "too many failed requests: address refused for a while");
            }
            refused
        };
        let mut counted = Counted {
            windows_closed: false,
        };
        if let (Some(prefix), false) = (guess, already_refused) {
            let bucket = self
                .prefixes
                .get_with(prefix, || Self::bucket(l.prefix_burst));
            let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
            Self::refill(&mut b, l.prefix_burst, l.prefix_per_minute, now);
            // Bounded below, so the windows open again a while after the guessing stops.
            b.tokens = (b.tokens - 1.0).max(-f64::from(l.prefix_burst));
            if b.tokens < 1.0 {
                counted.windows_closed = b.banned_until.is_none();
                // Each further guess keeps the windows closed.
                b.banned_until = Some(now + l.ban);
            }
        }
        counted
    }

    /// A proven request gives its address one failure back (phones behind one NAT that are
    /// challenged before they authenticate are not punished for it).
    pub fn succeed(&self, ip: IpAddr, tftp: bool) {
        if let Some(bucket) = self.addresses.get(&(source_key(ip), tftp)) {
            let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
            if b.banned_until.is_none() {
                b.tokens = (b.tokens + 1.0).min(f64::from(self.limits.burst));
            }
        }
    }
}

pub use crate::model::source_key;

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(
        challenge: &str,
        (name, algorithm): (&str, fn(&str) -> String),
        password: &str,
        nc: &str,
        uri: &str,
    ) -> String {
        let nonce = challenge
            .split("nonce=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let ha1 = algorithm(&format!("001565a1b2c3:{REALM}:{password}"));
        let ha2 = algorithm(&format!("GET:{uri}"));
        let response = algorithm(&format!("{ha1}:{nonce}:{nc}:abc:auth:{ha2}"));
        format!(
            "Digest username=\"001565a1b2c3\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             algorithm={name}, response=\"{response}\", qop=auth, nc={nc}, cnonce=\"abc\""
        )
    }

    #[test]
    fn digest_accepts_once_per_count_with_either_algorithm() {
        let digest = Digest::new(Duration::from_secs(60));
        let password = Secret::new("s3cret".into());
        let challenge = digest.challenge(false);
        assert_eq!(challenge.len(), 2);
        assert!(challenge[0].contains("algorithm=SHA-256"));
        for (hash, nc) in [
            (("SHA-256", sha256_hex as fn(&str) -> String), "00000001"),
            (("MD5", md5_hex as fn(&str) -> String), "00000002"),
        ] {
            let header = answer(&challenge[0], hash, "s3cret", nc, "/001565a1b2c3.cfg");
            assert!(digest.verify(
                &header,
                "GET",
                "/001565a1b2c3.cfg",
                "001565a1b2c3",
                &[&password]
            ));
            // The same response again: a replay.
            assert!(!digest.verify(
                &header,
                "GET",
                "/001565a1b2c3.cfg",
                "001565a1b2c3",
                &[&password]
            ));
        }
    }

    #[test]
    fn digest_refuses_what_does_not_fit() {
        let digest = Digest::new(Duration::from_secs(60));
        let password = Secret::new("s3cret".into());
        let old = Secret::new("old".into());
        let challenge = digest.challenge(false);
        let ok =
            |h: &str, uri: &str, user: &str, pw: &[&Secret]| digest.verify(h, "GET", uri, user, pw);
        let good = answer(
            &challenge[0],
            ("SHA-256", sha256_hex),
            "s3cret",
            "00000001",
            "/a.cfg",
        );
        assert!(
            !ok(&good, "/b.cfg", "001565a1b2c3", &[&password]),
            "another URI"
        );
        assert!(
            !ok(&good, "/a.cfg", "001565000000", &[&password]),
            "another user"
        );
        assert!(
            !ok(&good, "/a.cfg", "001565a1b2c3", &[&old]),
            "wrong password"
        );
        // A wrong guess does not spend the count: the right answer still works.
        assert!(
            ok(&good, "/a.cfg", "001565a1b2c3", &[&old, &password]),
            "either password"
        );
        // A nonce we never issued, with a response computed correctly over it.
        let fake = format!("Digest realm=\"{REALM}\", nonce=\"{}\"", "0".repeat(64));
        let foreign = answer(
            &fake,
            ("SHA-256", sha256_hex),
            "s3cret",
            "00000001",
            "/a.cfg",
        );
        assert_eq!(digest.nonce_state(&foreign), NonceState::Stale);
        assert!(
            !ok(&foreign, "/a.cfg", "001565a1b2c3", &[&password]),
            "a nonce we never issued"
        );
        assert!(!ok(
            "Digest garbage",
            "/a.cfg",
            "001565a1b2c3",
            &[&password]
        ));
        assert!(!ok(
            "Basic Zm9vOmJhcg==",
            "/a.cfg",
            "001565a1b2c3",
            &[&password]
        ));
    }

    #[test]
    fn stale_challenges_and_ipv6_source_keys() {
        let digest = Digest::new(Duration::from_secs(60));
        assert!(digest.challenge(true)[0].ends_with(", stale=true"));
        assert!(!digest.challenge(false)[0].contains("stale"));
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        assert_eq!(source_key(a), source_key(b), "one /64");
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(source_key(v4), v4);
    }

    #[test]
    fn basic() {
        let pw = Secret::new("pw".into());
        // "001565a1b2c3:pw"
        assert!(verify_basic(
            "Basic MDAxNTY1YTFiMmMzOnB3",
            "001565a1b2c3",
            &[&pw]
        ));
        assert!(!verify_basic(
            "Basic MDAxNTY1YTFiMmMzOnB3",
            "001565a1b2c4",
            &[&pw]
        ));
        assert!(!verify_basic("Basic !!!!", "001565a1b2c3", &[&pw]));
        assert_eq!(base64_decode("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64_decode("Zm9vYmE=").unwrap(), b"fooba");
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert!(base64_decode("Zm9").is_none());
    }

    #[test]
    fn throttle_slows_then_refuses_one_address_only() {
        let throttle = Throttle::new(ThrottleLimits {
            burst: 10,
            per_minute: 1,
            slow: Duration::from_millis(1),
            ban: Duration::from_secs(60),
            prefix_burst: 1000,
            prefix_per_minute: 1000,
        });
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(throttle.gate(a, false), Gate::Open);
        for _ in 0..6 {
            throttle.fail(a, false, Some([0, 0x15, 0x65]));
        }
        assert_eq!(throttle.gate(a, false), Gate::Slow);
        for _ in 0..4 {
            throttle.fail(a, false, Some([0, 0x15, 0x65]));
        }
        assert_eq!(throttle.gate(a, false), Gate::Refused);
        assert_eq!(throttle.gate(b, false), Gate::Open);
        // TFTP failures are counted apart: a forged UDP source cannot get the address refused
        // over HTTP.
        assert_eq!(throttle.gate(a, true), Gate::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn issue_10_guesses_from_rotating_addresses_close_the_prefix_windows_for_a_while() {
        let throttle = Throttle::new(ThrottleLimits {
            burst: 60,
            per_minute: 60,
            slow: Duration::from_millis(1),
            ban: Duration::from_secs(600),
            prefix_burst: 100,
            prefix_per_minute: 2,
        });
        let yealink = [0, 0x15, 0x65];
        let mut closed_at = None;
        for i in 0..1000u32 {
            // A new address every 25 guesses: no address is ever slowed.
            let ip = IpAddr::from([127, 1, (i / 25 / 256) as u8, (i / 25 % 256) as u8]);
            assert_eq!(throttle.gate(ip, i % 2 == 0), Gate::Open);
            if throttle.fail(ip, i % 2 == 0, Some(yealink)).windows_closed {
                assert!(closed_at.is_none(), "the closing is reported once");
                closed_at = Some(i);
            }
        }
        assert_eq!(closed_at, Some(99), "TFTP and HTTP guesses both count");
        assert!(throttle.windows_closed(yealink));
        assert!(!throttle.windows_closed([0, 0x04, 0x13]), "another vendor");
        // The guessing stops: the windows stay closed past the ban, until the prefix has been
        // quiet long enough to earn a guess back (from -100 at 2 a minute: 50 minutes).
        tokio::time::advance(Duration::from_secs(601)).await;
        assert!(throttle.windows_closed(yealink));
        tokio::time::advance(Duration::from_secs(39 * 60)).await;
        assert!(throttle.windows_closed(yealink));
        tokio::time::advance(Duration::from_secs(2 * 60)).await;
        assert!(!throttle.windows_closed(yealink));
        // A refused address has a few credential checks a minute, no more.
        let offers = (0..20)
            .filter(|_| throttle.offer("192.0.2.9".parse().unwrap()))
            .count();
        assert_eq!(offers, OFFERS_PER_MINUTE as usize);
    }
}
