//! Users (the people numbers and handsets belong to).

use sqlx::any::AnyRow;

use super::{corrupt, get, now, store_err, unique_or_store, Store};
use crate::error::{Error, Result};
use crate::model::{FirstName, LastName, NumberId, TenantId, User, UserId, UserState};

#[derive(Clone, Debug)]
pub struct NewUser {
    pub tenant_id: TenantId,
    pub first_name: FirstName,
    pub last_name: LastName,
    pub email: Option<String>,
    pub number_id: Option<NumberId>,
    pub extension: Option<String>,
}

/// The profile fields an update may change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserPatch {
    pub first_name: Option<FirstName>,
    pub last_name: Option<LastName>,
    /// `Some(None)` clears the e-mail address.
    pub email: Option<Option<String>>,
    pub extension: Option<String>,
}

const SELECT: &str = "SELECT u.id, u.tenant_id, u.first_name, u.last_name, u.email, u.state, \
                      u.number_id, n.e164, u.extension FROM users u \
                      LEFT JOIN numbers n ON n.id = u.number_id";

fn extension_taken(extension: Option<&str>) -> String {
    match extension {
        Some(ext) => format!(
            "extension {ext} is already used in this tenant, or the number is already assigned"
        ),
        None => "the number is already assigned to another user".to_owned(),
    }
}

impl Store {
    pub async fn user_create(&self, user: &NewUser) -> Result<User> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (tenant_id, first_name, last_name, email, state, number_id, \
             extension, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(user.tenant_id.0)
        .bind(user.first_name.as_str())
        .bind(user.last_name.as_str())
        .bind(user.email.as_deref())
        .bind(UserState::Pending.as_str())
        .bind(user.number_id.map(|n| n.0))
        .bind(user.extension.as_deref())
        .bind(now())
        .fetch_one(tx.conn())
        .await
        .map_err(|e| unique_or_store(e, || extension_taken(user.extension.as_deref())))?;
        tx.commit(user.tenant_id, "user", id, "create").await?;
        self.user_get(user.tenant_id, UserId(id)).await
    }

    /// Applies `patch` in one statement, so a concurrent update of other fields is not lost.
    pub async fn user_update(
        &self,
        tenant: TenantId,
        id: UserId,
        patch: &UserPatch,
    ) -> Result<User> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET first_name = COALESCE($1, first_name), \
             last_name = COALESCE($2, last_name), \
             email = CASE WHEN $3 = 1 THEN $4 ELSE email END, \
             extension = COALESCE($5, extension) \
             WHERE id = $6 AND tenant_id = $7",
        )
        .bind(patch.first_name.as_ref().map(|n| n.as_str()))
        .bind(patch.last_name.as_ref().map(|n| n.as_str()))
        .bind(i64::from(patch.email.is_some()))
        .bind(patch.email.clone().flatten())
        .bind(patch.extension.as_deref())
        .bind(id.0)
        .bind(tenant.0)
        .execute(tx.conn())
        .await
        .map_err(|e| unique_or_store(e, || extension_taken(patch.extension.as_deref())))?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("user", id));
        }
        tx.commit(tenant, "user", id.0, "update").await?;
        self.user_get(tenant, id).await
    }

    pub async fn user_set_state(
        &self,
        tenant: TenantId,
        id: UserId,
        state: UserState,
    ) -> Result<User> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET state = $1 WHERE id = $2 AND tenant_id = $3")
            .bind(state.as_str())
            .bind(id.0)
            .bind(tenant.0)
            .execute(tx.conn())
            .await
            .map_err(store_err)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("user", id));
        }
        tx.commit(tenant, "user", id.0, state.as_str()).await?;
        self.user_get(tenant, id).await
    }

    /// Deactivates a user, with what callers hear (`announcement`, `transfer` number, `mode`).
    pub async fn user_deactivate(
        &self,
        tenant: TenantId,
        id: UserId,
        announcement: Option<&str>,
        transfer: Option<&str>,
        mode: &str,
    ) -> Result<User> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET state = 'deactivated', deactivation_announcement = $1, \
             deactivation_transfer = $2, deactivation_mode = $3 WHERE id = $4 AND tenant_id = $5",
        )
        .bind(announcement)
        .bind(transfer)
        .bind(mode)
        .bind(id.0)
        .bind(tenant.0)
        .execute(tx.conn())
        .await
        .map_err(store_err)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("user", id));
        }
        tx.commit(tenant, "user", id.0, "deactivate").await?;
        self.user_get(tenant, id).await
    }

    /// Deletes a user in one transaction: their number is logged out of every handset and is
    /// free again at once; monitor lists and speed dials go with the user (foreign keys).
    pub async fn user_delete(&self, tenant: TenantId, id: UserId) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM device_lines WHERE number_id IN \
             (SELECT number_id FROM users WHERE id = $1 AND tenant_id = $2 AND number_id IS NOT NULL)",
        )
        .bind(id.0)
        .bind(tenant.0)
        .execute(tx.conn())
        .await
        .map_err(store_err)?;
        let done = sqlx::query("DELETE FROM users WHERE id = $1 AND tenant_id = $2")
            .bind(id.0)
            .bind(tenant.0)
            .execute(tx.conn())
            .await
            .map_err(store_err)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("user", id));
        }
        tx.commit(tenant, "user", id.0, "delete").await?;
        Ok(())
    }

    pub async fn user_get(&self, tenant: TenantId, id: UserId) -> Result<User> {
        let row = sqlx::query(&format!("{SELECT} WHERE u.id = $1 AND u.tenant_id = $2"))
            .bind(id.0)
            .bind(tenant.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_err)?
            .ok_or_else(|| Error::not_found("user", id))?;
        user_from(&row)
    }

    /// The users of `tenant` matching one of: e-mail, number (E.164), or "First Last".
    pub async fn user_search(&self, tenant: TenantId, key: &str) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE u.tenant_id = $1 AND (u.email = $2 OR n.e164 = $2 \
             OR u.first_name || ' ' || u.last_name = $2) ORDER BY u.id"
        ))
        .bind(tenant.0)
        .bind(key)
        .fetch_all(&self.pool)
        .await
        .map_err(store_err)?;
        rows.iter().map(user_from).collect()
    }

    pub async fn user_list(&self, tenant: TenantId) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE u.tenant_id = $1 ORDER BY u.last_name, u.first_name, u.id"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await
        .map_err(store_err)?;
        rows.iter().map(user_from).collect()
    }

    pub async fn user_by_extension(
        &self,
        tenant: TenantId,
        extension: &str,
    ) -> Result<Option<User>> {
        let row = sqlx::query(&format!(
            "{SELECT} WHERE u.tenant_id = $1 AND u.extension = $2"
        ))
        .bind(tenant.0)
        .bind(extension)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_err)?;
        row.as_ref().map(user_from).transpose()
    }

    /// The user a number is assigned to, if any.
    pub async fn user_by_number(&self, number: NumberId) -> Result<Option<User>> {
        let row = sqlx::query(&format!("{SELECT} WHERE u.number_id = $1"))
            .bind(number.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_err)?;
        row.as_ref().map(user_from).transpose()
    }
}

pub(super) fn user_from(row: &AnyRow) -> Result<User> {
    let first: String = get(row, "first_name")?;
    let last: String = get(row, "last_name")?;
    let state: String = get(row, "state")?;
    let number: Option<String> = get(row, "e164")?;
    Ok(User {
        id: UserId(get(row, "id")?),
        tenant_id: TenantId(get(row, "tenant_id")?),
        first_name: FirstName::parse(&first).map_err(|e| corrupt("first name", e))?,
        last_name: LastName::parse(&last).map_err(|e| corrupt("last name", e))?,
        email: get(row, "email")?,
        state: state.parse().map_err(|e| corrupt("user state", e))?,
        number_id: get::<Option<i64>>(row, "number_id")?.map(NumberId),
        number: number
            .map(|n| n.parse())
            .transpose()
            .map_err(|e| corrupt("number", e))?,
        extension: get(row, "extension")?,
    })
}
