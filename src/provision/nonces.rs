//! The Digest nonce keys and spent counts, shared through the store so that several nodes act
//! as one: a nonce any node made verifies at every node, and an answer is accepted once in the
//! whole cluster.
//!
//! Keys rotate every [`ROTATE`]. A new key is inserted by whichever node notices first (its id
//! is the newest one's plus one, so racing nodes agree on one), and signs nothing until it is
//! [`ANNOUNCE`] old: by then every node has loaded it (each reloads every [`RELOAD`]), so no node
//! gets a nonce signed with a key it does not know. The two keys before the newest stay listed,
//! so a nonce made under the previous key is accepted until it expires (a nonce lives at most a
//! day, a key signs for a day).

use std::time::Duration;

use super::trust::Spent;
use super::Provisioner;
use crate::error::Result;
use crate::store::Backend;

/// How long a key signs new nonces.
pub const ROTATE: i64 = 24 * 3600;
/// How old a key must be before it signs, so every node knows it first.
pub const ANNOUNCE: i64 = 60;
/// How often a node reloads the keys.
pub const RELOAD: Duration = Duration::from_secs(10);

impl Provisioner {
    /// Loads the store's nonce keys, adding the first or the next one when it is time, and
    /// forgets spent counts of expired nonces.
    pub async fn refresh_nonce_keys(&self) -> Result<()> {
        let now = jiff::Timestamp::now().as_second();
        let mut keys = self.store.nonce_keys().await?;
        let due = keys
            .first()
            .is_none_or(|newest| newest.created_at + ROTATE <= now);
        if due {
            let next = keys.first().map_or(1, |newest| newest.id + 1);
            if self
                .store
                .add_nonce_key(next, &rand::random(), now, next - 2)
                .await?
            {
                tracing::info!(id = next, "made a new Digest nonce key");
            }
            keys = self.store.nonce_keys().await?;
        }
        let usable: Vec<(u32, [u8; 32])> = keys
            .iter()
            .filter_map(|k| u32::try_from(k.id).ok().map(|id| (id, k.secret)))
            .collect();
        // The newest key old enough to be known everywhere; the only key when there is one.
        let signing = keys
            .iter()
            .find(|k| k.created_at + ANNOUNCE <= now)
            .or(keys.last())
            .and_then(|k| u32::try_from(k.id).ok());
        if let Some(signing) = signing {
            self.digest.set_keys(usable, signing);
        }
        if self.store.backend() == Backend::Postgres {
            self.store.forget_spent_nonces(now).await?;
        }
        Ok(())
    }

    /// Spends an answer's nonce count in the whole cluster: `false` when some node (this one
    /// included) already did. On SQLite there is one node and the per-process count is the
    /// whole truth, so nothing is written on the phones' hot path.
    pub(super) async fn spend_cluster_wide(&self, spent: &Spent) -> Result<bool> {
        if self.store.backend() != Backend::Postgres {
            return Ok(true);
        }
        self.store
            .spend_nonce(&spent.nonce, spent.nc, spent.expires_at)
            .await
    }
}
