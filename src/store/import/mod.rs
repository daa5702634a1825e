//! Bulk imports: one write transaction for a whole file (one revision bump, one audit entry),
//! into which each kind's batches are checked and inserted with multi-row statements. Nothing
//! is visible to anyone before the commit, and a process killed before it leaves nothing.
//!
//! The kinds' SQL is in the files beside this one; what the rows must satisfy is `admin`'s.

mod devices;
mod directory;
mod numbers;
mod speed_dials;
mod users;

use std::collections::HashMap;

use sqlx::any::AnyRow;

use super::numbers::number_from;
use super::tenants::{site_from, SITE_COLUMNS};
use super::users::{user_from, SELECT as USER_SELECT};
use super::{get, NumberUse, Store, WriteTx};
use crate::error::Result;
use crate::model::{AuditAction, AuditEntity, Number, Site, TenantId, User};

pub use devices::{ImportDevice, ImportLine};
pub use speed_dials::ImportSpeedDial;
pub use users::ImportUser;

/// Rows checked against the store at a time (an `IN` list of this many values).
pub const BATCH: usize = 250;

/// An import's open transaction. Dropped without [`Import::commit`], it rolls back.
pub struct Import<'s> {
    tx: WriteTx<'s>,
    tenant: TenantId,
    /// Rows this import has inserted, and how many there were when the statistics were last
    /// refreshed (see [`Import::keep_statistics`]).
    inserted: u64,
    analyzed: u64,
}

/// Rows an import inserts before PostgreSQL's statistics are first refreshed.
const ANALYZE_FIRST: u64 = 1000;

impl Store {
    /// Opens an import into `tenant`: the write lock is held from here to the commit.
    pub async fn import_begin(&self, tenant: TenantId) -> Result<Import<'_>> {
        Ok(Import {
            tx: self.begin_write().await?,
            tenant,
            inserted: 0,
            analyzed: 0,
        })
    }
}

impl Import<'_> {
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// Rows of `columns` values per multi-row `INSERT`. SQLite looks a bound value's name up in
    /// a list (sqlx binds by name), so a statement's cost grows with the square of its values:
    /// small statements there; PostgreSQL gains from fewer round trips.
    fn rows_per_insert(&self, columns: usize) -> usize {
        let values = match self.tx.store.backend {
            super::Backend::Sqlite => 240,
            super::Backend::Postgres => 8000,
        };
        (values / columns).max(1)
    }

    /// Commits the import as one change of the tenant: the audit trail records its kind and
    /// how many rows it wrote. The revision.
    pub async fn commit(mut self, kind: &str, rows: u64) -> Result<i64> {
        self.tx
            .record(None, serde_json::json!({ "kind": kind, "rows": rows }));
        let tenant = self.tenant;
        self.tx
            .commit(tenant, AuditEntity::Tenant, tenant.0, AuditAction::Import)
            .await
    }

    /// Counts `rows` just inserted into `table`, and on PostgreSQL refreshes the table's
    /// statistics each time the import's rows have doubled since the last refresh (about ten
    /// times for 100,000 rows). The planner estimates each batch's lookups from them, and the
    /// import's own rows — uncommitted, so autovacuum never counts them — leave them saying the
    /// table is nearly empty: it then reads every row of the tenant for each batch (index on
    /// `tenant_id` only), and a 100,000-user import took minutes. `ANALYZE` inside the
    /// transaction counts the transaction's own rows, and is rolled back with it.
    async fn keep_statistics(&mut self, table: &'static str, rows: usize) -> Result<()> {
        self.inserted += rows as u64;
        if self.tx.store.backend != super::Backend::Postgres
            || self.inserted < ANALYZE_FIRST.max(2 * self.analyzed)
        {
            return Ok(());
        }
        self.analyzed = self.inserted;
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(self.tx.conn())
            .await?;
        Ok(())
    }

    /// The tenant's sites, as this transaction sees them, by name.
    pub async fn sites(&mut self) -> Result<Vec<Site>> {
        let sql = format!("SELECT {SITE_COLUMNS} FROM sites WHERE tenant_id = $1");
        let rows = sqlx::query(&sql)
            .bind(self.tenant.0)
            .fetch_all(self.tx.conn())
            .await?;
        let mut sites = rows.iter().map(site_from).collect::<Result<Vec<_>>>()?;
        sites.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(sites)
    }

    /// The tenant's numbers among `e164s`, each with its holder and handset, by E.164.
    pub async fn number_uses(&mut self, e164s: &[&str]) -> Result<HashMap<String, NumberUse>> {
        let mut uses = HashMap::new();
        if e164s.is_empty() {
            return Ok(uses);
        }
        let list = placeholders(e164s.len(), 2);
        let sql = format!(
            "SELECT {} FROM numbers WHERE tenant_id = $1 AND e164 IN ({list})",
            super::numbers::COLUMNS
        );
        for row in self.fetch(&sql, e164s).await? {
            let number: Number = number_from(&row)?;
            uses.insert(
                number.e164.as_str().to_owned(),
                NumberUse {
                    number,
                    holder: None,
                    handset: None,
                    owner: None,
                },
            );
        }
        let sql = format!("{USER_SELECT} WHERE n.tenant_id = $1 AND n.e164 IN ({list})");
        for row in self.fetch(&sql, e164s).await? {
            let user: User = user_from(&row)?;
            if let Some(u) = user.number.as_ref().and_then(|n| uses.get_mut(n.as_str())) {
                u.holder = Some(user);
            }
        }
        // As `number_use` reads it: the first owner (a line before a fax), unless that is
        // the user who holds it as their line.
        let sql = super::extensions::owners_by_e164_sql(&list);
        let mut first = std::collections::HashSet::new();
        for row in self.fetch(&sql, e164s).await? {
            let e164: String = get(&row, "e164")?;
            if !first.insert(e164.clone()) {
                continue;
            }
            let owner = super::extensions::number_owner_from(&row)?;
            if let Some(u) = uses.get_mut(&e164) {
                u.owner = super::extensions::besides_holder(owner);
            }
        }
        let sql = format!(
            "SELECT n.e164, d.phone_id FROM device_lines l JOIN devices d ON d.id = l.device_id \
             JOIN numbers n ON n.id = l.number_id WHERE n.tenant_id = $1 AND n.e164 IN ({list})"
        );
        for row in self.fetch(&sql, e164s).await? {
            let e164: String = get(&row, "e164")?;
            if let Some(u) = uses.get_mut(&e164) {
                u.handset = Some(get(&row, "phone_id")?);
            }
        }
        Ok(uses)
    }

    /// The rows of `sql`, with the tenant bound as `$1` and `values` as `$2…`.
    async fn fetch(&mut self, sql: &str, values: &[&str]) -> Result<Vec<AnyRow>> {
        let mut query = sqlx::query(sql).bind(self.tenant.0);
        for v in values {
            query = query.bind(*v);
        }
        Ok(query.fetch_all(self.tx.conn()).await?)
    }

    /// Which of `values` `sql` (tenant as `$1`, the values as `$2…`, one text column out) finds.
    async fn found(&mut self, sql: &str, values: &[&str]) -> Result<Vec<String>> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.fetch(sql, values).await?;
        rows.iter()
            .map(|r| sqlx::Row::try_get(r, 0).map_err(Into::into))
            .collect()
    }
}

/// `$first, $first+1, …` for `n` values.
pub(super) fn placeholders(n: usize, first: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, $2, …), (…)` for `rows` rows of `columns` values.
fn values(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", placeholders(columns, r * columns + 1)))
        .collect::<Vec<_>>()
        .join(", ")
}
