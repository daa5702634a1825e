//! The `directory` kind's SQL: the entries already there (for the duplicate rule) and the batch
//! insert.

use std::collections::HashSet;

use super::{values, Import};
use crate::error::Result;
use crate::model::SiteId;
use crate::store::{get, now, NewDirectoryEntry};

impl Import<'_> {
    /// The tenant's entries as (site, name, number), as this transaction sees them.
    pub async fn directory_keys(&mut self) -> Result<HashSet<(Option<SiteId>, String, String)>> {
        let rows =
            sqlx::query("SELECT site_id, name, number FROM directory_entries WHERE tenant_id = $1")
                .bind(self.tenant.0)
                .fetch_all(self.tx.conn())
                .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get::<Option<i64>>(r, "site_id")?.map(SiteId),
                    get(r, "name")?,
                    get(r, "number")?,
                ))
            })
            .collect()
    }

    pub async fn directory_insert(&mut self, batch: &[NewDirectoryEntry]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO directory_entries (tenant_id, site_id, first_name, last_name, company, \
             name, number, created_at) VALUES {}",
            values(batch.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        let at = now();
        for e in batch {
            query = query
                .bind(self.tenant.0)
                .bind(e.site_id.map(|s| s.0))
                .bind(e.first_name.as_deref())
                .bind(e.last_name.as_deref())
                .bind(e.company.as_deref())
                .bind(e.name.as_str())
                .bind(e.number.as_str())
                .bind(at);
        }
        query.execute(self.tx.conn()).await?;
        Ok(())
    }
}
