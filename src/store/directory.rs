//! The phone directory's own entries: read, paged and searched, written one by one (a CSV
//! import writes them in batches: `import/directory.rs`).

use sqlx::any::AnyRow;

use super::lists::{by_bytes, ListSql};
use super::{get, now, row_by_id, unique_or_store, Store};
use crate::error::{Error, Result};
use crate::model::{
    AuditAction, AuditEntity, DirectoryEntry, DirectoryEntryId, ListQuery, Listed, SiteId, TenantId,
};

/// An entry as the admin checked it, to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDirectoryEntry {
    pub site_id: Option<SiteId>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub name: String,
    pub number: String,
}

pub(super) const COLUMNS: &str =
    "id, tenant_id, site_id, first_name, last_name, company, name, number";

const DUPLICATE: &str = "the directory already has this name with this number";

impl Store {
    pub async fn directory_entry_get(
        &self,
        tenant: TenantId,
        id: DirectoryEntryId,
    ) -> Result<DirectoryEntry> {
        let sql =
            format!("SELECT {COLUMNS} FROM directory_entries WHERE id = $1 AND tenant_id = $2");
        let row = row_by_id(&self.pool, &sql, ("directory entry", id.0), tenant).await?;
        entry_from(&row)
    }

    /// A page of the tenant's entries (of one site's, and the tenant-wide ones, with `site`), by
    /// name; a search looks in the name, the company and the number.
    pub async fn directory_entry_page(
        &self,
        tenant: TenantId,
        site: Option<SiteId>,
        query: &ListQuery,
    ) -> Result<Listed<DirectoryEntry>> {
        self.list(
            &ListSql::new(
                COLUMNS,
                "FROM directory_entries WHERE tenant_id = $1 \
                 AND ($2 = 0 OR site_id IS NULL OR site_id = $2)",
                &[tenant.0, site.map(|s| s.0).unwrap_or(0)],
                &format!("{}, number, id", by_bytes(self.backend, "name")),
            )
            .search(&["name", "COALESCE(company, '')", "number"]),
            query,
            entry_from,
        )
        .await
    }

    /// Every entry of the tenant, by name: what phones and the CSV export show.
    pub async fn directory_entries(&self, tenant: TenantId) -> Result<Vec<DirectoryEntry>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM directory_entries WHERE tenant_id = $1 ORDER BY {}, number, id",
            by_bytes(self.backend, "name")
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_from).collect()
    }

    pub async fn directory_entry_create(
        &self,
        tenant: TenantId,
        entry: &NewDirectoryEntry,
    ) -> Result<DirectoryEntry> {
        let mut tx = self.begin_write().await?;
        let id = insert(tx.conn(), tenant, entry).await?;
        tx.commit(tenant, AuditEntity::DirectoryEntry, id, AuditAction::Create)
            .await?;
        Ok(stored(tenant, DirectoryEntryId(id), entry))
    }

    /// Replaces what `id` says (an edit sends the whole entry).
    pub async fn directory_entry_update(
        &self,
        tenant: TenantId,
        id: DirectoryEntryId,
        entry: &NewDirectoryEntry,
    ) -> Result<DirectoryEntry> {
        let mut tx = self.begin_write().await?;
        tx.snapshot_before(AuditEntity::DirectoryEntry, id.0)
            .await?;
        let done = sqlx::query(
            "UPDATE directory_entries SET site_id = $1, first_name = $2, last_name = $3, \
             company = $4, name = $5, number = $6 WHERE id = $7 AND tenant_id = $8",
        )
        .bind(entry.site_id.map(|s| s.0))
        .bind(entry.first_name.as_deref())
        .bind(entry.last_name.as_deref())
        .bind(entry.company.as_deref())
        .bind(&entry.name)
        .bind(&entry.number)
        .bind(id.0)
        .bind(tenant.0)
        .execute(tx.conn())
        .await
        .map_err(|e| unique_or_store(e, || DUPLICATE.to_owned()).coded("entry_duplicate", []))?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("directory entry", id));
        }
        tx.commit(
            tenant,
            AuditEntity::DirectoryEntry,
            id.0,
            AuditAction::Update,
        )
        .await?;
        Ok(stored(tenant, id, entry))
    }

    pub async fn directory_entry_delete(
        &self,
        tenant: TenantId,
        id: DirectoryEntryId,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        tx.snapshot_before(AuditEntity::DirectoryEntry, id.0)
            .await?;
        let done = sqlx::query("DELETE FROM directory_entries WHERE id = $1 AND tenant_id = $2")
            .bind(id.0)
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("directory entry", id));
        }
        tx.commit(
            tenant,
            AuditEntity::DirectoryEntry,
            id.0,
            AuditAction::Delete,
        )
        .await?;
        Ok(())
    }
}

async fn insert(
    conn: &mut sqlx::AnyConnection,
    tenant: TenantId,
    entry: &NewDirectoryEntry,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO directory_entries (tenant_id, site_id, first_name, last_name, company, name, \
         number, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(tenant.0)
    .bind(entry.site_id.map(|s| s.0))
    .bind(entry.first_name.as_deref())
    .bind(entry.last_name.as_deref())
    .bind(entry.company.as_deref())
    .bind(&entry.name)
    .bind(&entry.number)
    .bind(now())
    .fetch_one(conn)
    .await
    .map_err(|e| unique_or_store(e, || DUPLICATE.to_owned()).coded("entry_duplicate", []))?;
    Ok(id)
}

fn stored(tenant: TenantId, id: DirectoryEntryId, entry: &NewDirectoryEntry) -> DirectoryEntry {
    DirectoryEntry {
        id,
        tenant_id: tenant,
        site_id: entry.site_id,
        first_name: entry.first_name.clone(),
        last_name: entry.last_name.clone(),
        company: entry.company.clone(),
        name: entry.name.clone(),
        number: entry.number.clone(),
    }
}

pub(super) fn entry_from(row: &AnyRow) -> Result<DirectoryEntry> {
    Ok(DirectoryEntry {
        id: DirectoryEntryId(get(row, "id")?),
        tenant_id: TenantId(get(row, "tenant_id")?),
        site_id: get::<Option<i64>>(row, "site_id")?.map(SiteId),
        first_name: get(row, "first_name")?,
        last_name: get(row, "last_name")?,
        company: get(row, "company")?,
        name: get(row, "name")?,
        number: get(row, "number")?,
    })
}
