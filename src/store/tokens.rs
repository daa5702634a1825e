//! API tokens. Not configuration: writing them moves no revision (no phone file depends on them).

use super::{get, now, store_err, Store};
use crate::error::{Error, Result};
use crate::model::{Principal, Role, TenantId, UserId};

impl Store {
    /// Stores a token's hash; returns its id.
    pub async fn token_create(
        &self,
        role: Role,
        tenant: Option<TenantId>,
        user: Option<UserId>,
        secret_hash: &str,
    ) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO api_tokens (secret_hash, role, tenant_id, user_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(secret_hash)
        .bind(role.as_str())
        .bind(tenant.map(|t| t.0))
        .bind(user.map(|u| u.0))
        .bind(now())
        .fetch_one(&self.pool)
        .await
        .map_err(store_err)
    }

    /// A live (not revoked) token: its hash and who it stands for.
    pub async fn token_get(&self, id: i64) -> Result<Option<(String, Principal)>> {
        let row = sqlx::query(
            "SELECT id, secret_hash, role, tenant_id, user_id FROM api_tokens \
             WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let role: String = get(&row, "role")?;
        Ok(Some((
            get(&row, "secret_hash")?,
            Principal {
                token_id: get(&row, "id")?,
                role: role
                    .parse()
                    .map_err(|e| Error::Store(format!("stored token role: {e}")))?,
                tenant: get::<Option<i64>>(&row, "tenant_id")?.map(TenantId),
                user: get::<Option<i64>>(&row, "user_id")?.map(UserId),
            },
        )))
    }

    pub async fn token_revoke(&self, id: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(store_err)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("token", id));
        }
        Ok(())
    }
}
