//! Virtual users: extensions that dial an external number.

use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::lists::ListSql;
use super::{corrupt, get, now, unique_or_store, ExtensionUse, Fresh, Store};
use crate::error::{Error, Result};
use crate::model::{
    AuditAction, AuditEntity, FirstName, LastName, ListQuery, Listed, TenantId, VirtualUser, E164,
};

/// A virtual user to create, or what an update sets.
#[derive(Clone, Debug)]
pub struct NewVirtualUser {
    pub tenant_id: TenantId,
    pub first_name: FirstName,
    pub last_name: LastName,
    pub external: E164,
    pub extension: String,
}

pub(super) const COLUMNS: &str = "id, tenant_id, first_name, last_name, external, extension";

fn taken(ext: &str) -> String {
    format!("extension {ext} is already used in this tenant")
}

impl Store {
    /// Creates a virtual user once `rule` holds for their extension as the write reads it.
    pub async fn virtual_user_create(
        &self,
        v: &NewVirtualUser,
        rule: impl FnOnce(&ExtensionUse) -> Result<()> + Send,
    ) -> Result<VirtualUser> {
        let mut tx = self.begin_write().await?;
        tx.checked::<ExtensionUse>(v.tenant_id, v.extension.clone(), rule)
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO virtual_users (tenant_id, first_name, last_name, external, extension, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(v.tenant_id.0)
        .bind(v.first_name.as_str())
        .bind(v.last_name.as_str())
        .bind(v.external.as_str())
        .bind(&v.extension)
        .bind(now())
        .fetch_one(tx.conn())
        .await
        .map_err(|e| {
            unique_or_store(e, || taken(&v.extension))
                .coded("extension_used", [("extension", v.extension.clone())])
        })?;
        tx.commit(
            v.tenant_id,
            AuditEntity::VirtualUser,
            id,
            AuditAction::Create,
        )
        .await?;
        self.virtual_user_get(v.tenant_id, id).await
    }

    /// Replaces virtual user `id` with `v`, once `rule` holds for the extension.
    pub async fn virtual_user_update(
        &self,
        id: i64,
        v: &NewVirtualUser,
        rule: impl FnOnce(&ExtensionUse) -> Result<()> + Send,
    ) -> Result<VirtualUser> {
        let tenant = v.tenant_id;
        let mut tx = self.begin_write().await?;
        tx.checked::<VirtualUser>(tenant, id, |_| Ok(())).await?;
        tx.checked::<ExtensionUse>(tenant, v.extension.clone(), rule)
            .await?;
        tx.snapshot_before(AuditEntity::VirtualUser, id).await?;
        sqlx::query(
            "UPDATE virtual_users SET first_name = $1, last_name = $2, external = $3, \
             extension = $4 WHERE id = $5 AND tenant_id = $6",
        )
        .bind(v.first_name.as_str())
        .bind(v.last_name.as_str())
        .bind(v.external.as_str())
        .bind(&v.extension)
        .bind(id)
        .bind(tenant.0)
        .execute(tx.conn())
        .await
        .map_err(|e| {
            unique_or_store(e, || taken(&v.extension))
                .coded("extension_used", [("extension", v.extension.clone())])
        })?;
        tx.commit(tenant, AuditEntity::VirtualUser, id, AuditAction::Update)
            .await?;
        self.virtual_user_get(tenant, id).await
    }

    /// Deletes a virtual user: their extension is free at once.
    pub async fn virtual_user_delete(&self, tenant: TenantId, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        tx.snapshot_before(AuditEntity::VirtualUser, id).await?;
        let done = sqlx::query("DELETE FROM virtual_users WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("virtual user", id));
        }
        tx.commit(tenant, AuditEntity::VirtualUser, id, AuditAction::Delete)
            .await?;
        Ok(())
    }

    pub async fn virtual_user_get(&self, tenant: TenantId, id: i64) -> Result<VirtualUser> {
        self.read_now(tenant, id).await
    }

    /// The tenant's virtual users by name.
    pub async fn virtual_user_list(&self, tenant: TenantId) -> Result<Vec<VirtualUser>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM virtual_users WHERE tenant_id = $1 \
             ORDER BY last_name, first_name, id"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(virtual_user_from).collect()
    }

    /// A page of the tenant's virtual users by name; a search looks in the name, number and
    /// extension.
    pub async fn virtual_user_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<VirtualUser>> {
        self.list(
            &ListSql::new(
                COLUMNS,
                "FROM virtual_users WHERE tenant_id = $1",
                &[tenant.0],
                "last_name, first_name, id",
            )
            .search(&["first_name || ' ' || last_name", "external", "extension"]),
            query,
            virtual_user_from,
        )
        .await
    }
}

impl Fresh for VirtualUser {
    type Key = i64;

    async fn read(conn: &mut AnyConnection, tenant: TenantId, id: i64) -> Result<VirtualUser> {
        let sql = format!("SELECT {COLUMNS} FROM virtual_users WHERE id = $1 AND tenant_id = $2");
        virtual_user_from(&super::row_by_id(conn, &sql, ("virtual user", id), tenant).await?)
    }
}

pub(super) fn virtual_user_from(row: &AnyRow) -> Result<VirtualUser> {
    let external: String = get(row, "external")?;
    Ok(VirtualUser {
        id: get(row, "id")?,
        tenant_id: TenantId(get(row, "tenant_id")?),
        first_name: FirstName::stored(get(row, "first_name")?),
        last_name: LastName::stored(get(row, "last_name")?),
        external: external
            .parse()
            .map_err(|e| corrupt("external number", e))?,
        extension: get(row, "extension")?,
    })
}
