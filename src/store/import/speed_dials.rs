//! The `speed-dials` kind's SQL: a user's speed dials replaced by the file's.

use super::{placeholders, values, Import};
use crate::error::Result;
use crate::model::UserId;

/// A speed dial to import: whose, in which key (from 1), label and what it dials.
#[derive(Clone, Debug)]
pub struct ImportSpeedDial {
    pub user: UserId,
    pub position: u32,
    pub label: String,
    pub target: String,
}

impl Import<'_> {
    /// Removes the speed dials of `users` (the file replaces them).
    pub async fn speed_dials_clear(&mut self, users: &[UserId]) -> Result<()> {
        if users.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "DELETE FROM speed_dials WHERE tenant_id = $1 AND user_id IN ({})",
            placeholders(users.len(), 2)
        );
        let mut query = sqlx::query(&sql).bind(self.tenant.0);
        for u in users {
            query = query.bind(u.0);
        }
        query.execute(self.tx.conn()).await?;
        Ok(())
    }

    pub async fn speed_dials_insert(&mut self, batch: &[ImportSpeedDial]) -> Result<()> {
        for chunk in batch.chunks(self.rows_per_insert(5)) {
            let sql = format!(
                "INSERT INTO speed_dials (tenant_id, user_id, position, label, target) VALUES {}",
                values(chunk.len(), 5)
            );
            let mut query = sqlx::query(&sql);
            for d in chunk {
                query = query
                    .bind(self.tenant.0)
                    .bind(d.user.0)
                    .bind(i64::from(d.position))
                    .bind(d.label.as_str())
                    .bind(d.target.as_str());
            }
            query.execute(self.tx.conn()).await?;
        }
        Ok(())
    }
}
