//! MACs the platform operator reserves for a tenant ("devices bought from us are already
//! registered"), and moving a handset from one tenant to another.

use super::lists::ListSql;
use super::{get, now, unique_or_store, HandsetLines, Store};
use crate::error::{Error, Result};
use crate::model::{
    AuditAction, AuditEntity, Device, ListQuery, Listed, Mac, SiteId, TenantId, E164,
};

/// A MAC set aside for a tenant: only that tenant can register it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Reservation {
    pub mac: Mac,
    pub tenant_id: TenantId,
    /// Unix seconds.
    pub created_at: i64,
}

/// Who holds a MAC, as one write found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacHolder {
    /// A device with the MAC is registered in this tenant.
    Registered(TenantId),
    /// The MAC is reserved for this tenant.
    Reserved(TenantId),
}

impl Store {
    /// The tenant a MAC is reserved for, if any.
    pub async fn reservation_of(&self, mac: Mac) -> Result<Option<TenantId>> {
        let tenant: Option<i64> =
            sqlx::query_scalar("SELECT tenant_id FROM device_reservations WHERE mac = $1")
                .bind(mac.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(tenant.map(TenantId))
    }

    /// The tenant's reservations, by MAC.
    pub async fn reservations(&self, tenant: TenantId) -> Result<Vec<Reservation>> {
        let rows = sqlx::query(
            "SELECT mac, tenant_id, created_at FROM device_reservations WHERE tenant_id = $1 \
             ORDER BY mac",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(reservation_from).collect()
    }

    /// A page of the tenant's reservations, by MAC; a search looks in the MAC.
    pub async fn reservation_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<Reservation>> {
        self.list(
            &ListSql::new(
                "mac, tenant_id, created_at",
                "FROM device_reservations WHERE tenant_id = $1",
                &[tenant.0],
                "mac",
            )
            .search(&["mac"]),
            query,
            reservation_from,
        )
        .await
    }

    /// Reserves `macs` for `tenant`, all or none, in one write. Inside it, each MAC is looked up
    /// first: one registered in another tenant, or reserved for another, stops the write and
    /// is returned as `Err` with its holder (a MAC already reserved for, or registered in,
    /// `tenant` itself is reserved all the same).
    pub async fn reservations_add(
        &self,
        tenant: TenantId,
        macs: &[Mac],
    ) -> Result<std::result::Result<(), (Mac, MacHolder)>> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let mut added = Vec::new();
        for mac in macs {
            let registered: Option<i64> =
                sqlx::query_scalar("SELECT tenant_id FROM devices WHERE mac = $1")
                    .bind(mac.to_string())
                    .fetch_optional(tx.conn())
                    .await?;
            if let Some(other) = registered.filter(|t| *t != tenant.0) {
                return Ok(Err((*mac, MacHolder::Registered(TenantId(other)))));
            }
            let reserved: Option<i64> =
                sqlx::query_scalar("SELECT tenant_id FROM device_reservations WHERE mac = $1")
                    .bind(mac.to_string())
                    .fetch_optional(tx.conn())
                    .await?;
            match reserved {
                Some(t) if t == tenant.0 => continue,
                Some(other) => return Ok(Err((*mac, MacHolder::Reserved(TenantId(other))))),
                None => {}
            }
            sqlx::query(
                "INSERT INTO device_reservations (mac, tenant_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(mac.to_string())
            .bind(tenant.0)
            .bind(at)
            .execute(tx.conn())
            .await
            .map_err(|e| {
                unique_or_store(e, || format!("MAC {mac} is already reserved"))
                    .coded("mac_reserved", [("mac", mac.to_string())])
            })?;
            added.push(mac.to_string());
        }
        if added.is_empty() {
            // Nothing new: no revision, no entry.
            return Ok(Ok(()));
        }
        tx.record(None, serde_json::json!({ "reserved": added }));
        tx.leaves_directory();
        tx.commit(
            tenant,
            AuditEntity::DeviceReservation,
            tenant.0,
            AuditAction::Reserve,
        )
        .await?;
        Ok(Ok(()))
    }

    /// Releases a MAC reserved for `tenant`; `false` if it was not.
    pub async fn reservation_release(&self, tenant: TenantId, mac: Mac) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM device_reservations WHERE mac = $1 AND tenant_id = $2")
            .bind(mac.to_string())
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        tx.record(
            Some(serde_json::json!({ "reserved": [mac.to_string()] })),
            serde_json::json!({ "released": [mac.to_string()] }),
        );
        tx.leaves_directory();
        tx.commit(
            tenant,
            AuditEntity::DeviceReservation,
            tenant.0,
            AuditAction::Release,
        )
        .await?;
        Ok(true)
    }

    /// Moves `device` to `site` of another tenant, in one write that logs out every number in
    /// it (they are its old tenant's). Both tenants' trails get the entry, and both revisions
    /// move. Returns the numbers logged out.
    pub async fn device_move_tenant(
        &self,
        device: &Device,
        tenant: TenantId,
        site: SiteId,
    ) -> Result<Vec<E164>> {
        let mut tx = self.begin_write().await?;
        let HandsetLines(numbers) = tx.fresh(device.tenant_id, device.id).await?;
        sqlx::query("DELETE FROM device_lines WHERE device_id = $1")
            .bind(device.id.0)
            .execute(tx.conn())
            .await?;
        let done = sqlx::query(
            "UPDATE devices SET tenant_id = $1, site_id = $2 WHERE id = $3 AND tenant_id = $4",
        )
        .bind(tenant.0)
        .bind(site.0)
        .bind(device.id.0)
        .bind(device.tenant_id.0)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("device", device.mac));
        }
        let before = serde_json::json!({
            "device": device,
            "lines_logged_out": numbers,
        });
        let mut after = serde_json::to_value(device).map_err(Error::json("a device record"))?;
        after["tenant_id"] = serde_json::json!(tenant.0);
        after["site_id"] = serde_json::json!(site.0);
        tx.record(Some(before), after);
        tx.also(device.tenant_id);
        tx.leaves_directory();
        tx.commit(
            tenant,
            AuditEntity::Device,
            device.id.0,
            AuditAction::MoveTenant,
        )
        .await?;
        Ok(numbers)
    }
}

fn reservation_from(row: &sqlx::any::AnyRow) -> Result<Reservation> {
    Ok(Reservation {
        mac: get::<String>(row, "mac")?
            .parse()
            .map_err(|e| super::corrupt("mac", e))?,
        tenant_id: TenantId(get(row, "tenant_id")?),
        created_at: get(row, "created_at")?,
    })
}
