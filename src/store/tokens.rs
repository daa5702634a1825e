//! API tokens. Not configuration: writing them moves no revision (no phone file depends on them),
//! but each creation and revocation is in the audit trail, in the same transaction.

use super::{corrupt, get, now, Store};
use crate::error::{Error, Result};
use crate::model::{AuditAction, AuditEntity, Principal, Role, TenantId, UserId};

impl Store {
    /// Stores a token's hash; returns its id.
    pub async fn token_create(
        &self,
        role: Role,
        tenant: Option<TenantId>,
        user: Option<UserId>,
        selector: &str,
        secret_hash: &str,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (secret_hash, role, tenant_id, user_id, created_at, selector) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(secret_hash)
        .bind(role.as_str())
        .bind(tenant.map(|t| t.0))
        .bind(user.map(|u| u.0))
        .bind(now())
        .bind(selector)
        .fetch_one(&mut *tx)
        .await?;
        let after = serde_json::json!({
            "role": role.as_str(),
            "tenant_id": tenant.map(|t| t.0),
            "user_id": user.map(|u| u.0),
        });
        self.audit_only(
            &mut tx,
            tenant,
            (AuditEntity::Token, id),
            AuditAction::Create,
            None,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A live (not revoked) token by its selector: its hash and who it stands for.
    pub async fn token_by_selector(&self, selector: &str) -> Result<Option<(String, Principal)>> {
        let row = sqlx::query(
            "SELECT id, secret_hash, role, tenant_id, user_id FROM api_tokens \
             WHERE selector = $1 AND revoked_at IS NULL",
        )
        .bind(selector)
        .fetch_optional(&self.pool)
        .await?;
        token_from(row)
    }

    /// A live token made before selectors, by its id.
    pub async fn token_legacy(&self, id: i64) -> Result<Option<(String, Principal)>> {
        let row = sqlx::query(
            "SELECT id, secret_hash, role, tenant_id, user_id FROM api_tokens \
             WHERE id = $1 AND selector IS NULL AND revoked_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        token_from(row)
    }

    pub async fn token_revoke(&self, id: i64) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let tenant: Option<Option<i64>> = sqlx::query_scalar(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
             RETURNING tenant_id",
        )
        .bind(now())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(tenant) = tenant else {
            return Err(Error::not_found("token", id));
        };
        let after = serde_json::json!({ "revoked": true });
        self.audit_only(
            &mut tx,
            tenant.map(TenantId),
            (AuditEntity::Token, id),
            AuditAction::Revoke,
            None,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A token row as (hash, principal).
fn token_from(row: Option<sqlx::any::AnyRow>) -> Result<Option<(String, Principal)>> {
    let Some(row) = row else {
        return Ok(None);
    };
    let role: String = get(&row, "role")?;
    Ok(Some((
        get(&row, "secret_hash")?,
        Principal {
            token_id: get(&row, "id")?,
            role: role.parse().map_err(|e| corrupt("token role", e))?,
            tenant: get::<Option<i64>>(&row, "tenant_id")?.map(TenantId),
            user: get::<Option<i64>>(&row, "user_id")?.map(UserId),
        },
    )))
}
