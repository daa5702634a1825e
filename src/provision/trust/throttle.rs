//! The failure throttle: token buckets of failures (404 and 401 answers) per source address, of
//! guesses per vendor prefix, and of credential checks from refused addresses. It decides from
//! counts alone, before anything is looked up; tokio time, so tests pause it.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cache::{Cache, Hasher};
use tokio::time::Instant;

use crate::model::source_key;

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
            addresses: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_idle(idle)
                .build_with_hasher(Hasher::default()),
            prefixes: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(idle.max(Duration::from_secs(24 * 3600)))
                .build_with_hasher(Hasher::default()),
            offers: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(120))
                .build_with_hasher(Hasher::default()),
            limits,
        }
    }

    fn refill(
        bucket: &mut Bucket,
        burst: impl Into<f64>,
        per_minute: impl Into<f64>,
        now: Instant,
    ) {
        bucket.tokens = crate::model::refill(
            bucket.tokens,
            now.duration_since(bucket.updated),
            burst.into(),
            per_minute.into(),
        );
        bucket.updated = now;
        if bucket.banned_until.is_some_and(|t| t <= now) {
            bucket.banned_until = None;
        }
    }

    fn bucket(burst: impl Into<f64>) -> Arc<Mutex<Bucket>> {
        Arc::new(Mutex::new(Bucket {
            tokens: burst.into(),
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

    /// This node's share of the prefix budget (burst, per minute): the configured budget divided
    /// by the nodes sharing the store, so guesses spread over every node of the cluster still
    /// total at most `prefix_burst` (and `prefix_per_minute`). Counted here, not in the store:
    /// a flood of guesses costs no write.
    fn prefix_share(&self) -> (f64, f64) {
        let l = &self.limits;
        let nodes = f64::from(l.nodes.max(1));
        (
            f64::from(l.prefix_burst) / nodes,
            f64::from(l.prefix_per_minute) / nodes,
        )
    }

    /// Whether the first-contact windows of vendor `prefix` are closed by guessing.
    pub fn windows_closed(&self, prefix: [u8; 3]) -> bool {
        let Some(bucket) = self.prefixes.get(&prefix) else {
            return false;
        };
        let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
        let (burst, per_minute) = self.prefix_share();
        Self::refill(&mut b, burst, per_minute, Instant::now());
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
            let (burst, per_minute) = self.prefix_share();
            let bucket = self.prefixes.get_with(prefix, || Self::bucket(burst));
            let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
            Self::refill(&mut b, burst, per_minute, now);
            // Bounded below, so the windows open again a while after the guessing stops.
            b.tokens = (b.tokens - 1.0).max(-burst);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_slows_then_refuses_one_address_only() {
        let throttle = Throttle::new(ThrottleLimits {
            burst: 10,
            per_minute: 1,
            slow: Duration::from_millis(1),
            ban: Duration::from_secs(60),
            prefix_burst: 1000,
            prefix_per_minute: 1000,
            nodes: 1,
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
    async fn issue_16_nodes_share_the_prefix_budget() {
        // Two nodes, each with half of 100 guesses: spread over both, the cluster still sees
        // the windows close after 100.
        let limits = ThrottleLimits {
            burst: 1000,
            per_minute: 60,
            slow: Duration::from_millis(1),
            ban: Duration::from_secs(600),
            prefix_burst: 100,
            prefix_per_minute: 1,
            nodes: 2,
        };
        let nodes = [Throttle::new(limits.clone()), Throttle::new(limits)];
        let yealink = [0, 0x15, 0x65];
        let mut guesses = 0;
        for i in 0..1000u32 {
            let node = &nodes[i as usize % 2];
            let ip = IpAddr::from([127, 2, (i / 256) as u8, (i % 256) as u8]);
            node.fail(ip, false, Some(yealink));
            guesses += 1;
            if nodes.iter().all(|n| n.windows_closed(yealink)) {
                break;
            }
        }
        assert_eq!(guesses, 100, "the cluster's budget, not each node's");
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
            nodes: 1,
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
