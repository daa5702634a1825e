//! argon2, off the async workers. Hashing is slow on purpose (tens of milliseconds), so it runs
//! on the blocking pool, and at most `HASHERS` at once: a flood of wrong secrets waits for a
//! permit instead of taking the runtime's threads, and a phone's fetch never queues behind it.

use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// Hashes running at once: one core's worth on a small machine, leaving the other to the
/// phones.
const HASHERS: usize = 1;

#[derive(Clone)]
pub(crate) struct Hasher {
    permits: Arc<Semaphore>,
    /// Hashes computed so far (for `/metrics` and the tests of the throttle).
    runs: Arc<std::sync::atomic::AtomicU64>,
}

impl Hasher {
    pub(crate) fn new() -> Hasher {
        Hasher {
            permits: Arc::new(Semaphore::new(HASHERS)),
            runs: Arc::default(),
        }
    }

    pub(crate) fn runs(&self) -> u64 {
        self.runs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// An argon2 hash (PHC string) of `secret`, with a fresh salt.
    pub(crate) async fn hash(&self, what: &'static str, secret: String) -> Result<String> {
        self.run(move || {
            phc(secret.as_bytes())
                .map_err(|e| Error::hashing(format!("hashing a {what}"), e.to_string()))
        })
        .await
    }

    /// Whether `secret` matches `hash`; a stored hash that does not parse is an error.
    pub(crate) async fn verify(
        &self,
        what: &'static str,
        secret: String,
        hash: String,
    ) -> Result<bool> {
        self.run(move || {
            let parsed = PasswordHash::new(&hash).map_err(|e| {
                Error::store(format!("stored {what} hash is invalid"), e.to_string())
            })?;
            Ok(Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok())
        })
        .await
    }

    /// Verifies `secret` against a hash of nothing anyone knows, and answers false: the work
    /// a wrong password costs, for a login whose account does not exist, so the two take the
    /// same time. The hash is made once, with the same parameters as every stored one.
    pub(crate) async fn verify_against_nothing(&self, secret: String) -> Result<bool> {
        static NOTHING: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| phc(&rand::random::<[u8; 32]>()).unwrap_or_default());
        self.run(move || {
            if let Ok(parsed) = PasswordHash::new(&NOTHING) {
                let _ = Argon2::default().verify_password(secret.as_bytes(), &parsed);
            }
            Ok(false)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::hashing("the hashing pool is closed", e))?;
        self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::hashing("hashing task failed", e))?
    }
}

/// An argon2 hash (PHC string) of `secret` with a fresh salt and the default parameters: on
/// the blocking pool only.
fn phc(secret: &[u8]) -> std::result::Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret, &salt)
        .map(|h| h.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a single-threaded runtime, a hash in progress leaves the thread free: a task that is
    /// ready wins against it. Were argon2 run on the worker, the hash would finish within its
    /// first poll and win.
    #[tokio::test(flavor = "current_thread")]
    async fn issue_10_hashing_leaves_the_async_worker_free() {
        let hasher = Hasher::new();
        let hash = hasher.hash("test", "secret".into()).await.unwrap();
        let verify = hasher.verify("test", "wrong".into(), hash);
        tokio::pin!(verify);
        let first = tokio::select! {
            biased;
            _ = &mut verify => "hash",
            _ = std::future::ready(()) => "other work",
        };
        assert_eq!(first, "other work");
        assert!(!verify.await.unwrap());
        assert_eq!(hasher.runs(), 2);
    }
}
