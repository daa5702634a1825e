//! The `devices` kind's SQL: taken MACs and Phone IDs, and the batch insert of handsets with
//! the numbers logged in to them.

use std::collections::HashMap;

use super::{placeholders, values, Import};
use crate::error::{Error, Result};
use crate::model::{NumberId, Secret};
use crate::store::{get, now, NewDevice};

/// A handset to import, with its lines in slot order.
#[derive(Clone, Debug)]
pub struct ImportDevice {
    pub device: NewDevice,
    pub lines: Vec<ImportLine>,
}

/// A number logged in to an imported handset.
#[derive(Clone, Debug)]
pub struct ImportLine {
    pub number_id: NumberId,
    pub sip_user: String,
    pub sip_password: Secret,
}

impl Import<'_> {
    /// Which of `macs` are registered in any tenant, or reserved for another tenant than this
    /// import's (`device_create`'s rule).
    pub async fn macs_taken(&mut self, macs: &[&str]) -> Result<Vec<String>> {
        let list = placeholders(macs.len(), 2);
        let sql = format!(
            "SELECT mac FROM devices WHERE $1 = $1 AND mac IN ({list}) UNION \
             SELECT mac FROM device_reservations WHERE tenant_id <> $1 AND mac IN ({list})"
        );
        self.found(&sql, macs).await
    }

    /// Which of `phone_ids` a handset of any tenant has.
    pub async fn phone_ids_taken(&mut self, phone_ids: &[&str]) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT phone_id FROM devices WHERE $1 = $1 AND phone_id IN ({})",
            placeholders(phone_ids.len(), 2)
        );
        self.found(&sql, phone_ids).await
    }

    /// Inserts a batch of handsets and their lines.
    pub async fn devices_insert(&mut self, batch: &[ImportDevice]) -> Result<()> {
        let at = now();
        for chunk in batch.chunks(self.rows_per_insert(9)) {
            let ids = self.devices_chunk(chunk, at).await?;
            let lines: Vec<(i64, usize, &ImportLine)> = chunk
                .iter()
                .map(|d| {
                    let id = ids.get(&d.device.mac.to_string()).copied().ok_or_else(|| {
                        Error::store("importing devices", "an inserted device was not returned")
                    })?;
                    Ok(d.lines.iter().enumerate().map(move |(i, l)| (id, i + 1, l)))
                })
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect();
            for lines in lines.chunks(self.rows_per_insert(6)) {
                self.lines_insert(lines, at).await?;
            }
        }
        Ok(())
    }

    /// Inserts handsets; their ids by MAC.
    async fn devices_chunk(
        &mut self,
        chunk: &[ImportDevice],
        at: i64,
    ) -> Result<HashMap<String, i64>> {
        let sql = format!(
            "INSERT INTO devices (tenant_id, site_id, mac, family, model, admin_password, \
             created_at, first_contact_until, phone_id) VALUES {} RETURNING id, mac",
            values(chunk.len(), 9)
        );
        let mut query = sqlx::query(&sql);
        for ImportDevice { device: d, .. } in chunk {
            query = query
                .bind(d.tenant_id.0)
                .bind(d.site_id.0)
                .bind(d.mac.to_string())
                .bind(d.family.as_str())
                .bind(d.model.as_str())
                .bind(d.admin_password.expose())
                .bind(at)
                .bind(d.first_contact_until)
                .bind(d.phone_id.as_str());
        }
        let mut ids = HashMap::with_capacity(chunk.len());
        for row in query.fetch_all(self.tx.conn()).await? {
            ids.insert(get::<String>(&row, "mac")?, get::<i64>(&row, "id")?);
        }
        Ok(ids)
    }

    async fn lines_insert(&mut self, lines: &[(i64, usize, &ImportLine)], at: i64) -> Result<()> {
        let sql = format!(
            "INSERT INTO device_lines (device_id, number_id, position, sip_user, sip_password, \
             created_at) VALUES {}",
            values(lines.len(), 6)
        );
        let mut query = sqlx::query(&sql);
        for (device, position, line) in lines {
            query = query
                .bind(*device)
                .bind(line.number_id.0)
                .bind(*position as i64)
                .bind(line.sip_user.as_str())
                .bind(line.sip_password.expose())
                .bind(at);
        }
        query.execute(self.tx.conn()).await?;
        Ok(())
    }
}
