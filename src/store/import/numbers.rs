//! The `numbers` kind's SQL: which numbers exist anywhere, which sites have a main number, and
//! the batch insert.

use super::{placeholders, values, Import};
use crate::error::Result;
use crate::model::SiteId;
use crate::store::{now, NewNumber};

impl Import<'_> {
    /// Which of `e164s` exist, in any tenant (a number is allocated once).
    pub async fn numbers_taken(&mut self, e164s: &[&str]) -> Result<Vec<String>> {
        // `$1` is the tenant, unused here: the check is global.
        let sql = format!(
            "SELECT e164 FROM numbers WHERE $1 = $1 AND e164 IN ({})",
            placeholders(e164s.len(), 2)
        );
        self.found(&sql, e164s).await
    }

    /// The sites of the tenant that have a main number.
    pub async fn sites_with_main(&mut self) -> Result<Vec<SiteId>> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT site_id FROM numbers WHERE tenant_id = $1 AND is_main = 1")
                .bind(self.tenant.0)
                .fetch_all(self.tx.conn())
                .await?;
        Ok(ids.into_iter().map(SiteId).collect())
    }

    pub async fn numbers_insert(&mut self, batch: &[NewNumber]) -> Result<()> {
        let at = now();
        for chunk in batch.chunks(self.rows_per_insert(7)) {
            let sql = format!(
                "INSERT INTO numbers (tenant_id, site_id, e164, status, is_main, created_at, \
                 default_pin) VALUES {}",
                values(chunk.len(), 7)
            );
            let mut query = sqlx::query(&sql);
            for n in chunk {
                query = query
                    .bind(n.tenant_id.0)
                    .bind(n.site_id.0)
                    .bind(n.e164.as_str())
                    .bind(n.status.as_str())
                    .bind(i64::from(n.is_main))
                    .bind(at)
                    .bind(n.default_pin.as_str());
            }
            query.execute(self.tx.conn()).await?;
        }
        Ok(())
    }
}
