//! What several nodes on one store must share to verify each other's work: the Digest nonce
//! keys (rotated, with overlap) and the nonce counts spent anywhere in the cluster. Not
//! configuration: no revision, no audit trail.

use super::{get, Store};
use crate::error::Result;

/// A Digest nonce key as the store holds it.
#[derive(Clone)]
pub struct NonceKey {
    /// Rises by one per rotation; carried in each nonce so any node finds the key.
    pub id: i64,
    pub secret: [u8; 32],
    pub created_at: i64,
}

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceKey")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl Store {
    /// Every nonce key, newest first. A stored key that does not decode is skipped (and said):
    /// a nonce made with it is then stale, which costs a phone one more challenge.
    pub async fn nonce_keys(&self) -> Result<Vec<NonceKey>> {
        let rows = sqlx::query("SELECT id, secret, created_at FROM digest_keys ORDER BY id DESC")
            .fetch_all(&self.pool)
            .await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = get(&row, "id")?;
            let text: String = get(&row, "secret")?;
            let secret = hex::decode(text.trim())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok());
            match secret {
                Some(secret) => keys.push(NonceKey {
                    id,
                    secret,
                    created_at: get(&row, "created_at")?,
                }),
                None => tracing::error!(id, "stored Digest nonce key is invalid; skipped"),
            }
        }
        Ok(keys)
    }

    /// Adds the nonce key `id` unless a node added it first; whether this call did. Then drops
    /// the keys older than `keep_from` (no nonce made with them is still young enough).
    pub async fn add_nonce_key(
        &self,
        id: i64,
        secret: &[u8; 32],
        now: i64,
        keep_from: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO digest_keys (id, secret, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(hex::encode(secret))
        .bind(now)
        .execute(&self.pool)
        .await?;
        sqlx::query("DELETE FROM digest_keys WHERE id < $1")
            .bind(keep_from)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Spends the count `nc` of `nonce` cluster-wide: `true` the first time anywhere, `false`
    /// for a replay. The row goes at `expires_at`, when the nonce is stale anyway.
    pub async fn spend_nonce(&self, nonce: &str, nc: u32, expires_at: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO digest_spent (nonce, nc, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (nonce, nc) DO NOTHING",
        )
        .bind(nonce)
        .bind(i64::from(nc))
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets the spent counts of nonces expired by `now`; how many.
    pub async fn forget_spent_nonces(&self, now: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM digest_spent WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
