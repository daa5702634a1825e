//! Monitor lists (BLF) and the tenant directory as phones see them.

use super::lists::ListSql;
use super::users::user_from;
use super::{unique_or_store, Store};
use crate::error::{Error, Result};
use crate::model::{AuditAction, AuditEntity, ListQuery, Listed, TenantId, User, UserId};

use super::users::SELECT as USER_SELECT;

/// Permission for `watcher` (or anyone, `None`) to monitor `watched`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BlfGrant {
    pub id: i64,
    pub watched: UserId,
    pub watcher: Option<UserId>,
}

impl Store {
    /// Appends `watched` to `user`'s monitor list.
    /// Only a user an admin has granted to be monitored by `user` (or by anyone) may be added;
    /// the grant is checked in the same transaction.
    pub async fn monitor_add(&self, tenant: TenantId, user: UserId, watched: UserId) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let granted: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM blf_grants WHERE tenant_id = $1 AND watched_id = $2 \
             AND (watcher_id IS NULL OR watcher_id = $3)",
        )
        .bind(tenant.0)
        .bind(watched.0)
        .bind(user.0)
        .fetch_one(tx.conn())
        .await?;
        if granted == 0 {
            return Err(Error::invalid(
                "watched",
                format!(
                    "user {watched} may not be monitored by user {user}: an admin must grant it first (blf-grants)"
                ),
            )
            .coded("monitor_not_granted", []));
        }
        let position: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(position), 0) + 1 FROM monitors WHERE user_id = $1",
        )
        .bind(user.0)
        .fetch_one(tx.conn())
        .await?;
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
        .map_err(|e| {
            unique_or_store(e, || "that user is already on the monitor list".into())
                .coded("monitor_listed", [])
        })?;
        tx.leaves_directory();
        tx.commit(tenant, AuditEntity::User, user.0, AuditAction::MonitorAdd)
            .await?;
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
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("monitored user", watched));
        }
        tx.leaves_directory();
        tx.commit(
            tenant,
            AuditEntity::User,
            user.0,
            AuditAction::MonitorRemove,
        )
        .await?;
        Ok(())
    }

    /// Grants that `watched` may be monitored by `watcher` (`None`: by anyone of the tenant).
    pub async fn blf_grant(
        &self,
        tenant: TenantId,
        watched: UserId,
        watcher: Option<UserId>,
    ) -> Result<BlfGrant> {
        let mut tx = self.begin_write().await?;
        let exists: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM blf_grants WHERE watched_id = $1 AND \
             ((watcher_id IS NULL AND $2 = 0) OR watcher_id = $2)",
        )
        .bind(watched.0)
        .bind(watcher.map(|w| w.0).unwrap_or(0))
        .fetch_one(tx.conn())
        .await?;
        if exists > 0 {
            return Err(
                Error::conflict("this permission is already granted").coded("grant_exists", [])
            );
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO blf_grants (tenant_id, watched_id, watcher_id, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(tenant.0)
        .bind(watched.0)
        .bind(watcher.map(|w| w.0))
        .bind(super::now())
        .fetch_one(tx.conn())
        .await
        .map_err(|e| {
            unique_or_store(e, || "this permission is already granted".into())
                .coded("grant_exists", [])
        })?;
        tx.leaves_directory();
        tx.commit(tenant, AuditEntity::BlfGrant, id, AuditAction::Grant)
            .await?;
        Ok(BlfGrant {
            id,
            watched,
            watcher,
        })
    }

    /// Withdraws a grant; monitor-list entries it alone allowed go with it (the BLF keys vanish
    /// at the phones' next fetch).
    pub async fn blf_revoke(&self, tenant: TenantId, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM blf_grants WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("BLF grant", id));
        }
        sqlx::query(
            "DELETE FROM monitors WHERE tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM blf_grants g \
             WHERE g.watched_id = monitors.monitored_user_id \
             AND (g.watcher_id IS NULL OR g.watcher_id = monitors.user_id))",
        )
        .bind(tenant.0)
        .execute(tx.conn())
        .await?;
        tx.leaves_directory();
        tx.commit(tenant, AuditEntity::BlfGrant, id, AuditAction::Revoke)
            .await?;
        Ok(())
    }

    pub async fn blf_grants(&self, tenant: TenantId) -> Result<Vec<BlfGrant>> {
        let rows = sqlx::query(
            "SELECT id, watched_id, watcher_id FROM blf_grants WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(grant_from).collect()
    }

    /// A page of the tenant's BLF grants, oldest first (they are not searched).
    pub async fn blf_grant_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<BlfGrant>> {
        self.list(
            &ListSql::new(
                "id, watched_id, watcher_id",
                "FROM blf_grants WHERE tenant_id = $1",
                &[tenant.0],
                "id",
            ),
            query,
            grant_from,
        )
        .await
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
        .await?;
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
            .await?;
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
            .await?;
        }
        tx.leaves_directory();
        tx.commit(tenant, AuditEntity::User, user.0, AuditAction::SpeedDials)
            .await?;
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
        .await?;
        rows.iter()
            .map(|row| Ok((super::get(row, "label")?, super::get(row, "target")?)))
            .collect()
    }

    /// What the tenant's phone directories show: its users with a number (not those hidden by
    /// their PBX option), virtual users, hunt groups and call centres, bridges and the
    /// directory's entries.
    pub async fn phone_directory(&self, tenant: TenantId) -> Result<crate::model::PhoneDirectory> {
        Ok(crate::model::PhoneDirectory {
            users: self.directory_users(tenant).await?,
            virtual_users: self.virtual_user_list(tenant).await?,
            groups: self.group_list(tenant).await?,
            bridges: self.bridge_list(tenant).await?,
            entries: self.directory_entries(tenant).await?,
        })
    }

    /// The tenant's users that have a number, for phone directories.
    async fn directory_users(&self, tenant: TenantId) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "{USER_SELECT} WHERE u.tenant_id = $1 AND u.number_id IS NOT NULL \
             ORDER BY u.last_name, u.first_name, u.id"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        // Users hidden by their PBX option stay out of the phones' directory.
        let mut users = rows.iter().map(user_from).collect::<Result<Vec<_>>>()?;
        users.retain(|u| !u.options.hidden_from_directory);
        Ok(users)
    }
}

fn grant_from(row: &sqlx::any::AnyRow) -> Result<BlfGrant> {
    Ok(BlfGrant {
        id: super::get(row, "id")?,
        watched: UserId(super::get(row, "watched_id")?),
        watcher: super::get::<Option<i64>>(row, "watcher_id")?.map(UserId),
    })
}
