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
//! server-side nonce tracking, Basic credentials and URL tokens; `throttle` holds the failure
//! throttle. The decision itself, which needs the store, is `provision::classify`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::cache::{Cache, Hasher};
use md5::Md5;
use sha2::{Digest as _, Sha256};

use crate::model::{constant_time_eq, Secret};

mod throttle;

pub use throttle::{Counted, Gate, Throttle, ThrottleLimits};

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
    /// Whether the device proved itself with its own credentials or certificate.
    pub fn is_proven(self) -> bool {
        matches!(
            self,
            Decision::ProvenCertificate
                | Decision::ProvenDigest
                | Decision::ProvenBasic
                | Decision::ProvenUrl
        )
    }

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

/// Digest authentication. Nonces are stateless — a time, a random part and the id of the key
/// that signs them, with an HMAC of all three under that key — so unauthenticated requests,
/// however many, store nothing. The keys are the store's (see `Provisioner::refresh_nonce_keys`),
/// so a nonce one node made verifies at any other; until they are loaded, a key of this process
/// (id 0) signs. Only after a response verifies is its nonce remembered, with the highest nonce
/// count seen, so a captured response cannot be replayed here; [`Spent`] is what the caller
/// spends cluster-wide.
pub struct Digest {
    keys: std::sync::RwLock<Keys>,
    lifetime: Duration,
    counts: Cache<String, Arc<AtomicU32>>,
}

/// The keys a `Digest` verifies with, and the one it signs new nonces with.
struct Keys {
    signing: u32,
    by_id: Vec<(u32, [u8; 32])>,
}

/// A nonce count a verified (or seen) answer used: the caller spends it in the store too, so
/// the same answer is refused on every node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spent {
    pub nonce: String,
    pub nc: u32,
    /// When the nonce goes stale (Unix seconds): the spent count can be forgotten then.
    pub expires_at: i64,
}

/// Hex digits of a nonce's signed part: stamp (8 bytes), random (8), key id (4).
const SIGNED_HEX: usize = 40;

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
            keys: std::sync::RwLock::new(Keys {
                signing: 0,
                by_id: vec![(0, rand::random())],
            }),
            lifetime,
            counts: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(lifetime)
                .build_with_hasher(Hasher::default()),
        }
    }

    /// How long a nonce stays fresh.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Verifies with `keys` (id and secret) from now on and signs with `signing`, one of them.
    /// The process's own key is dropped: nonces it signed (only before the store's keys were
    /// first loaded) go stale, which costs a phone one more challenge.
    pub fn set_keys(&self, keys: Vec<(u32, [u8; 32])>, signing: u32) {
        if !keys.iter().any(|(id, _)| *id == signing) {
            return;
        }
        let mut k = self.keys.write().unwrap_or_else(|e| e.into_inner());
        *k = Keys {
            signing,
            by_id: keys,
        };
    }

    /// The id of the key new nonces are signed with.
    pub fn signing_key(&self) -> u32 {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).signing
    }

    fn tag(key: &[u8; 32], signed: &[u8]) -> String {
        use hmac::Mac as _;
        // An HMAC key of any length is accepted.
        let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(signed);
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    fn nonce(&self) -> String {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let key = keys
            .by_id
            .iter()
            .find(|(id, _)| *id == keys.signing)
            .map(|(_, key)| *key)
            // `set_keys` only takes a signing key that is in the list.
            .unwrap_or_else(|| unreachable!("the signing key is one of the keys"));
        let signing = keys.signing;
        drop(keys);
        let now = jiff::Timestamp::now().as_second().to_be_bytes();
        let random: [u8; 8] = rand::random();
        let mut signed = now.to_vec();
        signed.extend_from_slice(&random);
        signed.extend_from_slice(&signing.to_be_bytes());
        format!("{}{}", hex::encode(&signed), Self::tag(&key, &signed))
    }

    /// Whether the nonce in `header` is one of ours (signed with a key still listed) and young
    /// enough.
    pub fn nonce_state(&self, header: &str) -> NonceState {
        match parse_digest(header) {
            Some(r) => self
                .nonce_expiry(&r.nonce)
                .map_or(NonceState::Stale, |_| NonceState::Fresh),
            None => NonceState::Stale,
        }
    }

    /// When a fresh nonce of ours goes stale; `None` for a stale or foreign one.
    fn nonce_expiry(&self, nonce: &str) -> Option<i64> {
        let bytes = hex::decode(nonce.get(..SIGNED_HEX)?).ok()?;
        let tag = nonce.get(SIGNED_HEX..)?;
        if bytes.len() != SIGNED_HEX / 2 {
            return None;
        }
        let mut id = [0u8; 4];
        id.copy_from_slice(&bytes[16..20]);
        let id = u32::from_be_bytes(id);
        let key = {
            let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
            keys.by_id
                .iter()
                .find(|(k, _)| *k == id)
                .map(|(_, key)| *key)
        }?;
        if !constant_time_eq(Self::tag(&key, &bytes).as_bytes(), tag.as_bytes()) {
            return None;
        }
        let mut stamp = [0u8; 8];
        stamp.copy_from_slice(&bytes[..8]);
        let made = i64::from_be_bytes(stamp);
        let age = jiff::Timestamp::now().as_second() - made;
        let lifetime = self.lifetime.as_secs() as i64;
        (0..=lifetime).contains(&age).then_some(made + lifetime)
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
    /// count must go up in this process. Every password is tried (no early exit), compared in
    /// constant time. What it returns is the count to spend cluster-wide before accepting.
    pub fn verify(
        &self,
        header: &str,
        method: &str,
        uri: &str,
        user: &str,
        passwords: &[&Secret],
    ) -> Option<Spent> {
        let r = parse_digest(header)?;
        let expires_at = self.nonce_expiry(&r.nonce)?;
        let nc = u32::from_str_radix(&r.nc, 16).ok()?;
        let hash: fn(&str) -> String = match r.algorithm.to_ascii_uppercase().as_str() {
            "" | "MD5" => md5_hex,
            "SHA-256" => sha256_hex,
            _ => return None,
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
            return None;
        }
        // Only now is the nonce remembered: a wrong guess stores nothing and cannot lock out the
        // phone's next try.
        let seen = self
            .counts
            .get_with(r.nonce.clone(), || Arc::new(AtomicU32::new(0)));
        let before = seen.fetch_max(nc, Ordering::AcqRel);
        (nc > before).then_some(Spent {
            nonce: r.nonce,
            nc,
            expires_at,
        })
    }
}

impl Digest {
    /// Spends the nonce count of a Digest answer that is seen but cannot be accepted (over plain
    /// HTTP): the same answer, replayed over HTTPS, is then refused as a replay. What it returns
    /// is the count to spend cluster-wide too.
    pub fn spend(&self, header: &str) -> Option<Spent> {
        let r = parse_digest(header)?;
        let expires_at = self.nonce_expiry(&r.nonce)?;
        let nc = u32::from_str_radix(&r.nc, 16).ok()?;
        self.counts
            .get_with(r.nonce.clone(), || Arc::new(AtomicU32::new(0)))
            .fetch_max(nc, Ordering::AcqRel);
        Some(Spent {
            nonce: r.nonce,
            nc,
            expires_at,
        })
    }
}

/// The part of a directory URL that stands in for the device's credentials, for phones that
/// cannot (or, by their vendor's documentation, do not) answer a challenge for their directory:
/// a keyed hash of the device's HTTP password, so it changes when the credentials rotate and
/// tells nothing about the password. It opens only the directory file, and only over HTTPS.
pub fn url_token(password: &Secret) -> String {
    keyed_token(password, b"autoprov directory url")
}

/// The part of the phone service's URL (`/x/<token>/<mac>/…`, signing in at the handset) that
/// stands in for the device's credentials: like `url_token`, but keyed for the service, so the
/// directory's token does not open it, nor the other way round.
pub fn service_token(password: &Secret) -> String {
    keyed_token(password, b"autoprov phone service url")
}

fn keyed_token(password: &Secret, purpose: &[u8]) -> String {
    use hmac::Mac as _;
    let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(password.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(purpose);
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// Whether `token` is the service token of any of `passwords` (constant time for each).
pub fn verify_service_token(token: &str, passwords: &[&Secret]) -> bool {
    let mut matched = false;
    for password in passwords {
        matched |= constant_time_eq(service_token(password).as_bytes(), token.as_bytes());
    }
    matched
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

pub use crate::model::source_key;

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

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
            assert!(digest
                .verify(
                    &header,
                    "GET",
                    "/001565a1b2c3.cfg",
                    "001565a1b2c3",
                    &[&password]
                )
                .is_some());
            // The same response again: a replay.
            assert!(digest
                .verify(
                    &header,
                    "GET",
                    "/001565a1b2c3.cfg",
                    "001565a1b2c3",
                    &[&password]
                )
                .is_none());
        }
    }

    #[test]
    fn digest_refuses_what_does_not_fit() {
        let digest = Digest::new(Duration::from_secs(60));
        let password = Secret::new("s3cret".into());
        let old = Secret::new("old".into());
        let challenge = digest.challenge(false);
        let ok = |h: &str, uri: &str, user: &str, pw: &[&Secret]| {
            digest.verify(h, "GET", uri, user, pw).is_some()
        };
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
        let fake = format!("Digest realm=\"{REALM}\", nonce=\"{}\"", "0".repeat(72));
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
    fn nonces_verify_on_every_node_with_the_keys_and_survive_a_rotation() {
        let password = Secret::new("s3cret".into());
        let (one, two) = ([1u8; 32], [2u8; 32]);
        let a = Digest::new(Duration::from_secs(60));
        let b = Digest::new(Duration::from_secs(60));
        let ok = |d: &Digest, h: &str| {
            d.verify(h, "GET", "/a.cfg", "001565a1b2c3", &[&password])
                .is_some()
        };
        let answer_to = |d: &Digest, nc: &str| {
            let challenge = d.challenge(false);
            answer(
                &challenge[0],
                ("SHA-256", sha256_hex),
                "s3cret",
                nc,
                "/a.cfg",
            )
        };
        // Each process's own key: B does not know A's nonces.
        assert!(!ok(&b, &answer_to(&a, "00000001")));
        a.set_keys(vec![(1, one)], 1);
        b.set_keys(vec![(1, one)], 1);
        let before_rotation = answer_to(&a, "00000001");
        assert!(ok(&b, &before_rotation), "A's challenge answered at B");
        // Rotated: B signs with key 2 and still takes nonces made under key 1.
        b.set_keys(vec![(2, two), (1, one)], 2);
        assert_eq!(b.signing_key(), 2);
        assert!(ok(&b, &answer_to(&a, "00000001")));
        assert!(ok(&b, &answer_to(&b, "00000001")));
        // Key 1 dropped: its nonces are stale.
        b.set_keys(vec![(2, two)], 2);
        assert_eq!(b.nonce_state(&answer_to(&a, "00000002")), NonceState::Stale);
        // A signing key that is not among the keys is ignored.
        b.set_keys(vec![(3, one)], 4);
        assert_eq!(b.signing_key(), 2);
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
}
