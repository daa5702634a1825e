//! Portal accounts and sessions. Not configuration: writing them moves no revision (no phone
//! file depends on them), but an account's creation and each password reset or change is in
//! the audit trail (as the account's tenant's, or the platform's for an operator), in the same
//! transaction, with the login, role and whether a change is due: never a password or hash.
//! A session row holds the SHA-256 of the session id, never the id.

use super::{corrupt, get, now, Store};
use crate::error::{Error, Result};
use crate::model::{AuditAction, AuditEntity, Principal, Role, TenantId, UserId};

/// A portal account as the store keeps it (the hash stays inside `admin`).
#[derive(Clone, Debug)]
pub struct PortalAccount {
    pub id: i64,
    pub login: String,
    pub role: Role,
    pub tenant: Option<TenantId>,
    pub user: Option<UserId>,
    pub password_hash: String,
    pub must_change: bool,
}

impl PortalAccount {
    /// The identity the API's rules take, with the account's id where a token's would be.
    pub fn principal(&self) -> Principal {
        Principal {
            token_id: self.id,
            role: self.role,
            tenant: self.tenant,
            user: self.user,
        }
    }
}

/// A live session row: its account, its CSRF token and its times (Unix seconds).
#[derive(Clone, Debug)]
pub struct PortalSessionRow {
    pub account: PortalAccount,
    pub csrf: String,
    pub created_at: i64,
    pub seen_at: i64,
}

const ACCOUNT_COLUMNS: &str =
    "a.id, a.login, a.role, a.tenant_id, a.user_id, a.password_hash, a.must_change";

impl Store {
    pub async fn portal_account_create(
        &self,
        login: &str,
        role: Role,
        tenant: Option<TenantId>,
        user: Option<UserId>,
        password_hash: &str,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO portal_accounts (login, role, tenant_id, user_id, password_hash, \
             must_change, created_at) VALUES ($1, $2, $3, $4, $5, 1, $6) \
             ON CONFLICT (login) DO NOTHING RETURNING id",
        )
        .bind(login)
        .bind(role.as_str())
        .bind(tenant.map(|t| t.0))
        .bind(user.map(|u| u.0))
        .bind(password_hash)
        .bind(now())
        .fetch_optional(&mut *tx)
        .await?;
        let id = id.ok_or_else(|| {
            Error::conflict_on("login", format!("a portal account {login} exists already"))
                .coded("portal_login_taken", [("login", login.to_string())])
        })?;
        let after = serde_json::json!({
            "login": login,
            "role": role.as_str(),
            "tenant_id": tenant.map(|t| t.0),
            "user_id": user.map(|u| u.0),
            "must_change": true,
        });
        self.audit_only(
            &mut tx,
            tenant,
            (AuditEntity::PortalAccount, id),
            AuditAction::Create,
            None,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn portal_account_by_login(&self, login: &str) -> Result<Option<PortalAccount>> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM portal_accounts a WHERE a.login = $1"
        ))
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| account_from(&r)).transpose()
    }

    /// Sets an account's password hash and whether it must be changed at the next login, and
    /// ends the account's sessions but `keep_session` (the one that changed it, if any); the
    /// audit trail records it as `action` (a reset or the account's own change).
    pub async fn portal_password_set(
        &self,
        account: i64,
        password_hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
        action: AuditAction,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let before =
            sqlx::query("SELECT login, tenant_id, must_change FROM portal_accounts WHERE id = $1")
                .bind(account)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| Error::not_found("portal account", account))?;
        let login: String = get(&before, "login")?;
        let tenant = get::<Option<i64>>(&before, "tenant_id")?.map(TenantId);
        let was = get::<i64>(&before, "must_change")? != 0;
        sqlx::query(
            "UPDATE portal_accounts SET password_hash = $1, must_change = $2 WHERE id = $3",
        )
        .bind(password_hash)
        .bind(i64::from(must_change))
        .bind(account)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM portal_sessions WHERE account_id = $1 AND id_hash <> $2")
            .bind(account)
            .bind(keep_session.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        self.audit_only(
            &mut tx,
            tenant,
            (AuditEntity::PortalAccount, account),
            action,
            Some(&serde_json::json!({ "login": login, "must_change": was })),
            &serde_json::json!({ "login": login, "must_change": must_change }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn portal_session_create(
        &self,
        id_hash: &str,
        account: i64,
        csrf: &str,
    ) -> Result<()> {
        let at = now();
        sqlx::query(
            "INSERT INTO portal_sessions (id_hash, account_id, csrf, created_at, seen_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(id_hash)
        .bind(account)
        .bind(csrf)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn portal_session_get(&self, id_hash: &str) -> Result<Option<PortalSessionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS}, s.csrf, s.created_at, s.seen_at FROM portal_sessions s \
             JOIN portal_accounts a ON a.id = s.account_id WHERE s.id_hash = $1"
        ))
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(PortalSessionRow {
            account: account_from(&row)?,
            csrf: get(&row, "csrf")?,
            created_at: get(&row, "created_at")?,
            seen_at: get(&row, "seen_at")?,
        }))
    }

    pub async fn portal_session_touch(&self, id_hash: &str) -> Result<()> {
        sqlx::query("UPDATE portal_sessions SET seen_at = $1 WHERE id_hash = $2")
            .bind(now())
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn portal_session_delete(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM portal_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn account_from(row: &sqlx::any::AnyRow) -> Result<PortalAccount> {
    let role: String = get(row, "role")?;
    Ok(PortalAccount {
        id: get(row, "id")?,
        login: get(row, "login")?,
        role: role.parse().map_err(|e| corrupt("portal role", e))?,
        tenant: get::<Option<i64>>(row, "tenant_id")?.map(TenantId),
        user: get::<Option<i64>>(row, "user_id")?.map(UserId),
        password_hash: get(row, "password_hash")?,
        must_change: get::<i64>(row, "must_change")? != 0,
    })
}
