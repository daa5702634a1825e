//! Monitor lists (BLF) and the tenant directory as phones see them.

use super::users::user_from;
use super::{store_err, unique_or_store, Store};
use crate::error::{Error, Result};
use crate::model::{TenantId, User, UserId};

const USER_SELECT: &str = "SELECT u.id, u.tenant_id, u.first_name, u.last_name, u.email, u.state, \
                           u.number_id, n.e164, u.extension FROM users u \
                           LEFT JOIN numbers n ON n.id = u.number_id";

impl Store {
    /// Appends `watched` to `user`'s monitor list.
    pub async fn monitor_add(&self, tenant: TenantId, user: UserId, watched: UserId) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let position: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(position), 0) + 1 FROM monitors WHERE user_id = $1",
        )
        .bind(user.0)
        .fetch_one(tx.conn())
        .await
        .map_err(store_err)?;
        sqlx::query(
            "INSERT INTO monitors (tenant_id, user_id, monitored_user_id, position) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(watched.0)
        .bind(position)
        .execute(tx.conn())
        .await
        .map_err(|e| unique_or_store(e, || "that user is already on the monitor list".into()))?;
        tx.commit(tenant, "user", user.0, "monitor-add").await?;
        Ok(())
    }

    pub async fn monitor_remove(
        &self,
        tenant: TenantId,
        user: UserId,
        watched: UserId,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "DELETE FROM monitors WHERE tenant_id = $1 AND user_id = $2 AND monitored_user_id = $3",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(watched.0)
        .execute(tx.conn())
        .await
        .map_err(store_err)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("monitored user", watched));
        }
        tx.commit(tenant, "user", user.0, "monitor-remove").await?;
        Ok(())
    }

    /// The users `user` monitors, in key order.
    pub async fn monitor_list(&self, tenant: TenantId, user: UserId) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "{USER_SELECT} JOIN monitors m ON m.monitored_user_id = u.id \
             WHERE m.tenant_id = $1 AND m.user_id = $2 ORDER BY m.position"
        ))
        .bind(tenant.0)
        .bind(user.0)
        .fetch_all(&self.pool)
        .await
        .map_err(store_err)?;
        rows.iter().map(user_from).collect()
    }

    /// Replaces `user`'s speed dials with `dials` (label, target), in order.
    pub async fn speed_dials_set(
        &self,
        tenant: TenantId,
        user: UserId,
        dials: &[(String, String)],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM speed_dials WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.0)
            .bind(user.0)
            .execute(tx.conn())
            .await
            .map_err(store_err)?;
        for (position, (label, target)) in (1i64..).zip(dials) {
            sqlx::query(
                "INSERT INTO speed_dials (tenant_id, user_id, position, label, target) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(tenant.0)
            .bind(user.0)
            .bind(position)
            .bind(label)
            .bind(target)
            .execute(tx.conn())
            .await
            .map_err(store_err)?;
        }
        tx.commit(tenant, "user", user.0, "speed-dials").await?;
        Ok(())
    }

    /// `user`'s speed dials (label, target), in order.
    pub async fn speed_dials(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT label, target FROM speed_dials WHERE tenant_id = $1 AND user_id = $2 \
             ORDER BY position",
        )
        .bind(tenant.0)
        .bind(user.0)
        .fetch_all(&self.pool)
        .await
        .map_err(store_err)?;
        rows.iter()
            .map(|row| Ok((super::get(row, "label")?, super::get(row, "target")?)))
            .collect()
    }

    /// The tenant's users that have a number, for phone directories.
    pub async fn directory(&self, tenant: TenantId) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "{USER_SELECT} WHERE u.tenant_id = $1 AND u.number_id IS NOT NULL \
             ORDER BY u.last_name, u.first_name, u.id"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await
        .map_err(store_err)?;
        rows.iter().map(user_from).collect()
    }
}
