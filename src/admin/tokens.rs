//! API tokens: random, shown once, stored as an argon2 hash, revocable.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::Digest as _;

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{Principal, Role, Secret, TenantId, UserId};

/// A token as its holder writes it: `ap_<id>_<secret>`.
const PREFIX: &str = "ap_";

impl Admin {
    /// Makes a token for `role`: a platform-admin's is bound to nothing, a tenant-admin's to a
    /// tenant, a user's to a tenant and a user of it. Returns the id and the token, which is not
    /// kept anywhere: only its hash is stored.
    pub async fn token_create(
        &self,
        role: Role,
        tenant: Option<TenantId>,
        user: Option<UserId>,
    ) -> Result<(i64, Secret)> {
        match (role, tenant, user) {
            (Role::PlatformAdmin, None, None) | (Role::TenantAdmin, Some(_), None) => {}
            (Role::User, Some(t), Some(u)) => {
                self.store.user_get(t, u).await?;
            }
            (Role::PlatformAdmin, _, _) => {
                return Err(Error::invalid(
                    "tenant",
                    "a platform-admin token is bound to no tenant or user",
                ))
            }
            (Role::TenantAdmin, None, _) | (Role::User, None, _) => {
                return Err(Error::invalid(
                    "tenant",
                    format!("a {role} token needs --tenant"),
                ))
            }
            (Role::TenantAdmin, Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "user",
                    "a tenant-admin token is bound to no user",
                ))
            }
            (Role::User, Some(_), None) => {
                return Err(Error::invalid("user", "a user token needs --user"))
            }
        }
        if let Some(t) = tenant {
            self.store.tenant_get(t).await?;
        }
        let secret = Secret::generate();
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let hash = Argon2::default()
            .hash_password(secret.expose().as_bytes(), &salt)
            .map_err(|e| Error::Store(format!("hashing a token: {e}")))?
            .to_string();
        let id = self.store.token_create(role, tenant, user, &hash).await?;
        Ok((id, Secret::new(format!("{PREFIX}{id}_{}", secret.expose()))))
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
        let Some((id, secret)) = token
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(id, secret)| Some((id.parse::<i64>().ok()?, secret)))
        else {
            return Ok(None);
        };
        let Some((hash, principal)) = self.store.token_get(id).await? else {
            return Ok(None);
        };
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return Ok(None);
        };
        let ok = Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok();
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
