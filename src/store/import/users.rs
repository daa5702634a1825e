//! The `users` kind's SQL: extensions in use, the licence pools' room, and the batch insert of
//! users (pending, as `user_create` makes them) with their licences.

use std::collections::HashMap;

use super::{placeholders, values, Import};
use crate::error::{Error, Result};
use crate::model::{LicenceKind, UserState};
use crate::store::{get, now, NewUser};

/// A user to import.
pub type ImportUser = NewUser;

impl Import<'_> {
    /// Which of `extensions` anyone in the tenant has (the extension plan: users, groups,
    /// virtual users, bridges, park slots).
    pub async fn extensions_taken(&mut self, extensions: &[&str]) -> Result<Vec<String>> {
        let list = placeholders(extensions.len(), 2);
        let sql = crate::store::extensions::extensions_taken_sql(&list);
        self.found(&sql, extensions).await
    }

    /// Licences of each kind the tenant's pools still have unassigned.
    pub async fn licences_free(&mut self) -> Result<HashMap<LicenceKind, i64>> {
        let mut free = HashMap::new();
        for &kind in LicenceKind::ALL {
            let row = sqlx::query(
                "SELECT COALESCE((SELECT total FROM licence_pools WHERE tenant_id = $1 AND \
                 kind = $2), 0) AS total, (SELECT COUNT(*) FROM user_licences WHERE \
                 tenant_id = $1 AND kind = $2) AS assigned",
            )
            .bind(self.tenant.0)
            .bind(kind.as_str())
            .fetch_one(self.tx.conn())
            .await?;
            free.insert(
                kind,
                get::<i64>(&row, "total")? - get::<i64>(&row, "assigned")?,
            );
        }
        Ok(free)
    }

    /// Inserts a batch of users, pending, with their licences.
    pub async fn users_insert(&mut self, batch: &[ImportUser]) -> Result<()> {
        let at = now();
        for chunk in batch.chunks(self.rows_per_insert(11)) {
            let ids = self.users_chunk(chunk, at).await?;
            let licences: Vec<(i64, LicenceKind)> = ids
                .iter()
                .zip(chunk)
                .flat_map(|(id, u)| u.licences.iter().map(move |k| (*id, *k)))
                .collect();
            for licences in licences.chunks(self.rows_per_insert(4)) {
                self.licences_insert(licences, at).await?;
            }
        }
        self.keep_statistics("users", batch.len()).await
    }

    /// Inserts users; their ids in the order of `chunk`.
    async fn users_chunk(&mut self, chunk: &[ImportUser], at: i64) -> Result<Vec<i64>> {
        let sql = format!(
            "INSERT INTO users (tenant_id, first_name, last_name, email, state, number_id, \
             extension, created_at, mobile, contract_number, trunk_id) VALUES {} RETURNING id",
            values(chunk.len(), 11)
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for u in chunk {
            query = query
                .bind(u.tenant_id.0)
                .bind(u.first_name.as_str())
                .bind(u.last_name.as_str())
                .bind(u.email.as_deref())
                .bind(UserState::Pending.as_str())
                .bind(u.number_id.map(|n| n.0))
                .bind(u.extension.as_deref())
                .bind(at)
                .bind(u.mobile.as_ref().map(|m| m.as_str()))
                .bind(u.contract_number.as_deref())
                .bind(u.trunk_id);
        }
        let mut ids = query.fetch_all(self.tx.conn()).await?;
        if ids.len() != chunk.len() {
            return Err(Error::store(
                "importing users",
                "not every user was returned",
            ));
        }
        // Ids are drawn in the order of the rows; RETURNING need not keep it.
        ids.sort_unstable();
        Ok(ids)
    }

    async fn licences_insert(&mut self, licences: &[(i64, LicenceKind)], at: i64) -> Result<()> {
        let sql = format!(
            "INSERT INTO user_licences (tenant_id, user_id, kind, assigned_at) VALUES {}",
            values(licences.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for (id, kind) in licences {
            query = query
                .bind(self.tenant.0)
                .bind(*id)
                .bind(kind.as_str())
                .bind(at);
        }
        query.execute(self.tx.conn()).await?;
        Ok(())
    }
}
