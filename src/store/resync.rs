//! What the resync watcher reads: the devices a write may have changed, with where they were
//! last seen. Not configuration: nothing here writes.

use super::devices::{device_from, COLUMNS};
use super::{get, Store};
use crate::error::Result;
use crate::model::Device;

/// A device a write since some revision may have changed, with its last-seen address.
#[derive(Clone, Debug)]
pub struct Changed {
    pub device: Device,
    /// The device's own revision (see `WriteTx::device_only`).
    pub revision: i64,
    /// The address it last fetched a file from, as stored (an IP address).
    pub addr: Option<String>,
}

impl Store {
    /// Devices whose tenant or own row was written after `revision` and that have been seen
    /// somewhere (a device never seen has no address to be told at).
    pub async fn devices_changed_since(&self, revision: i64) -> Result<Vec<Changed>> {
        let columns: Vec<String> = COLUMNS
            .split(',')
            .map(|c| format!("d.{}", c.trim()))
            .collect();
        let rows = sqlx::query(&format!(
            "SELECT {}, d.revision, d.last_seen_addr FROM devices d \
             JOIN tenants t ON t.id = d.tenant_id \
             WHERE (t.revision > $1 OR d.revision > $1) AND d.last_seen_addr IS NOT NULL \
             ORDER BY d.id",
            columns.join(", ")
        ))
        .bind(revision)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Changed {
                    device: device_from(row)?,
                    revision: get(row, "revision")?,
                    addr: get(row, "last_seen_addr")?,
                })
            })
            .collect()
    }

    /// The device's own revision and its last-seen address, for a resync asked for by hand.
    pub async fn device_resync_facts(&self, device: &Device) -> Result<(i64, Option<String>)> {
        let row = sqlx::query("SELECT revision, last_seen_addr FROM devices WHERE id = $1")
            .bind(device.id.0)
            .fetch_one(&self.pool)
            .await?;
        Ok((get(&row, "revision")?, get(&row, "last_seen_addr")?))
    }
}
