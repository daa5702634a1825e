//! API tokens: random, shown once, stored as an argon2 hash, revocable. A token is
//! `ap_<selector>_<secret>`: the selector (random, 16 hex digits) finds the stored hash, so a
//! guesser cannot name a token that exists and make the server hash a secret against it; the
//! numeric id (in the audit trail, for `token revoke`) is not part of the token. Failed checks
//! are counted per source address: past `FAIL_BURST` an address gets "too many" without any
//! hashing until it has earned a try back.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::Digest as _;
use tokio::time::Instant;

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{Principal, Role, Secret, TenantId, UserId};

/// A token as its holder writes it: `ap_<selector>_<secret>` (tokens made before selectors:
/// `ap_<id>_<secret>`).
const PREFIX: &str = "ap_";

/// Failed token checks an address may make, and how many it earns back a minute.
const FAIL_BURST: f64 = 20.0;
const FAIL_PER_MINUTE: f64 = 20.0;

/// Failed token checks per source address (IPv6 per /64): a token bucket each. Cloned handles
/// share the buckets.
/// The same buckets serve the portal's logins, keyed by address and by account, with their
/// own burst and rate.
#[derive(Clone)]
pub(crate) struct Failures<K: std::hash::Hash + Eq + Send + Sync + 'static = IpAddr> {
    buckets: moka::sync::Cache<K, Arc<Mutex<(f64, Instant)>>>,
    burst: f64,
    per_minute: f64,
}

impl Failures<IpAddr> {
    pub(crate) fn new() -> Failures {
        Failures::with_limits(FAIL_BURST, FAIL_PER_MINUTE)
    }

    /// Seconds until `ip` (IPv6: its /64) may try again; `None` when it may now.
    pub(crate) fn wait_ip(&self, ip: IpAddr) -> Option<u64> {
        self.wait(&crate::model::source_key(ip))
    }

    pub(crate) fn fail_ip(&self, ip: IpAddr) {
        self.fail(crate::model::source_key(ip))
    }
}

impl<K: std::hash::Hash + Eq + Send + Sync + Clone + 'static> Failures<K> {
    pub(crate) fn with_limits(burst: f64, per_minute: f64) -> Failures<K> {
        Failures {
            buckets: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
            burst,
            per_minute,
        }
    }

    /// Seconds until `key` may try again; `None` when it may now.
    pub(crate) fn wait(&self, key: &K) -> Option<u64> {
        let bucket = self.buckets.get(key)?;
        let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        b.0 = crate::model::refill(b.0, now.duration_since(b.1), self.burst, self.per_minute);
        b.1 = now;
        (b.0 < 1.0).then(|| ((1.0 - b.0) * 60.0 / self.per_minute).ceil() as u64)
    }

    pub(crate) fn fail(&self, key: K) {
        let burst = self.burst;
        let bucket = self
            .buckets
            .get_with(key, || Arc::new(Mutex::new((burst, Instant::now()))));
        let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
        b.0 -= 1.0;
    }
}

/// What a presented token is worth.
#[derive(Clone, Debug)]
pub enum Authenticated {
    Yes(Principal),
    No,
    /// Too many failed checks from this address lately: come back in this many seconds.
    Throttled(u64),
}

impl Admin {
    /// What a token or portal account of `role` is bound to: a platform admin's to nothing, a
    /// tenant admin's to a tenant, a user's to a tenant and a user of it; each must exist.
    /// `what` names the thing in the message ("token", "account").
    pub(super) async fn role_binding(
        &self,
        what: &str,
        role: Role,
        tenant: Option<TenantId>,
        user: Option<UserId>,
    ) -> Result<()> {
        match (role, tenant, user) {
            (Role::PlatformAdmin, None, None) | (Role::TenantAdmin, Some(_), None) => {}
            (Role::User, Some(t), Some(u)) => {
                self.store.user_get(t, u).await?;
            }
            (Role::PlatformAdmin, _, _) => {
                return Err(Error::invalid(
                    "tenant",
                    format!("a platform-admin {what} is bound to no tenant or user"),
                ))
            }
            (Role::TenantAdmin | Role::User, None, _) => {
                return Err(Error::invalid(
                    "tenant",
                    format!("a {role} {what} needs --tenant"),
                ))
            }
            (Role::TenantAdmin, Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "user",
                    format!("a tenant-admin {what} is bound to no user"),
                ))
            }
            (Role::User, Some(_), None) => {
                return Err(Error::invalid(
                    "user",
                    format!("a user {what} needs --user"),
                ))
            }
        }
        if let Some(t) = tenant {
            self.store.tenant_get(t).await?;
        }
        Ok(())
    }

    /// Makes a token for `role`: a platform-admin's is bound to nothing, a tenant-admin's to a
    /// tenant, a user's to a tenant and a user of it. Returns the id and the token, which is not
    /// kept anywhere: only its hash is stored.
    pub async fn token_create(
        &self,
        role: Role,
        tenant: Option<TenantId>,
        user: Option<UserId>,
    ) -> Result<(i64, Secret)> {
        self.role_binding("token", role, tenant, user).await?;
        let secret = Secret::generate();
        let selector = hex::encode(rand::random::<[u8; 8]>());
        let hash = self
            .hasher
            .hash("token", secret.expose().to_owned())
            .await?;
        let id = self
            .store
            .token_create(role, tenant, user, &selector, &hash)
            .await?;
        Ok((
            id,
            Secret::new(format!("{PREFIX}{selector}_{}", secret.expose())),
        ))
    }

    /// `authenticate`, for a request from `peer`: an address with too many failed checks
    /// lately is answered without any look-up or hashing.
    pub async fn authenticate_from(
        &self,
        token: &str,
        peer: Option<IpAddr>,
    ) -> Result<Authenticated> {
        let key: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        if let Some(principal) = self.verified.get(&key) {
            return Ok(Authenticated::Yes(principal));
        }
        if let Some(wait) = peer.and_then(|ip| self.token_failures.wait_ip(ip)) {
            return Ok(Authenticated::Throttled(wait));
        }
        match self.authenticate(token).await? {
            Some(principal) => Ok(Authenticated::Yes(principal)),
            None => {
                if let Some(ip) = peer {
                    self.token_failures.fail_ip(ip);
                }
                Ok(Authenticated::No)
            }
        }
    }

    /// Who a token stands for; `None` for anything that is not a live token of ours. A verified
    /// token is remembered for a minute (argon2 is slow on purpose); revoking it here forgets it
    /// at once, revoking it from another process within that minute.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>> {
        let key: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        if let Some(principal) = self.verified.get(&key) {
            return Ok(Some(principal));
        }
        let found = self.authenticate_uncached(token).await?;
        if let Some(principal) = &found {
            self.verified.insert(key, principal.clone());
        }
        Ok(found)
    }

    async fn authenticate_uncached(&self, token: &str) -> Result<Option<Principal>> {
        let Some((handle, secret)) = token
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('_'))
        else {
            return Ok(None);
        };
        let found = if handle.len() == 16 && handle.bytes().all(|b| b.is_ascii_hexdigit()) {
            self.store.token_by_selector(handle).await?
        } else if let Ok(id) = handle.parse::<i64>() {
            // A token made before selectors: found by its id, only if it has no selector.
            self.store.token_legacy(id).await?
        } else {
            None
        };
        let Some((hash, principal)) = found else {
            return Ok(None);
        };
        // A stored hash that does not parse is nobody's token.
        let ok = self
            .hasher
            .verify("token", secret.to_owned(), hash)
            .await
            .unwrap_or(false);
        Ok(ok.then_some(principal))
    }

    pub async fn token_revoke(&self, id: i64) -> Result<()> {
        self.store.token_revoke(id).await?;
        // Forget it at once in this process (`invalidate_entries_if` needs a support flag, so
        // the whole small cache goes).
        self.verified.invalidate_all();
        Ok(())
    }
}
