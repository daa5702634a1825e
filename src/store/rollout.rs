//! What the phone path recorded about devices, for the rollout views: the last fetch (where,
//! how, which firmware), the last fetch in which the device proved itself, and its last refused
//! request. Written in batches by the poller, never on a request; no revision moves.

use sqlx::any::AnyRow;

use super::devices::{device_from, LastSeen, COLUMNS};
use super::lists::ListSql;
use super::{get, now, Store};
use crate::error::Result;
use crate::model::{Device, DeviceId, ListQuery, Listed, SiteId, TenantId};

/// A refused request of a registered device: from where, and why (`wrong-credentials`,
/// `wrong-certificate`, `mac-mismatch`, `no-credentials`).
pub type Refusal = (String, &'static str);

/// A device's last refused request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Failure {
    /// Unix seconds.
    pub at: i64,
    /// `wrong-credentials`, `wrong-certificate`, `mac-mismatch` or `no-credentials` (no
    /// credentials, no open first-contact window, not on an allowed network).
    pub reason: String,
    pub addr: String,
}

/// What the phone path recorded about one device.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    pub last_seen: Option<LastSeen>,
    /// Unix seconds of the last fetch with the device's own credentials or certificate.
    pub proven_at: Option<i64>,
    /// The last refused request, until a fetch succeeds.
    pub failure: Option<Failure>,
}

const ACTIVITY_COLUMNS: &str = "last_seen_at, last_seen_addr, last_seen_protocol, \
     firmware_version, proven_at, failed_at, failure, failed_addr";

fn activity_from(row: &AnyRow) -> Result<Activity> {
    let seen_at: Option<i64> = get(row, "last_seen_at")?;
    let failed_at: Option<i64> = get(row, "failed_at")?;
    Ok(Activity {
        last_seen: match seen_at {
            Some(at) => Some(LastSeen {
                at,
                addr: get::<Option<String>>(row, "last_seen_addr")?.unwrap_or_default(),
                protocol: get::<Option<String>>(row, "last_seen_protocol")?.unwrap_or_default(),
                firmware: get(row, "firmware_version")?,
            }),
            None => None,
        },
        proven_at: get(row, "proven_at")?,
        failure: match failed_at {
            Some(at) => Some(Failure {
                at,
                reason: get::<Option<String>>(row, "failure")?.unwrap_or_default(),
                addr: get::<Option<String>>(row, "failed_addr")?.unwrap_or_default(),
            }),
            None => None,
        },
    })
}

fn both(row: &AnyRow) -> Result<(Device, Activity)> {
    Ok((device_from(row)?, activity_from(row)?))
}

impl Store {
    /// Records refused requests of registered devices, in one transaction. Not configuration.
    pub async fn devices_failed(&self, batch: &[(DeviceId, Refusal)]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let at = now();
        for (id, (addr, reason)) in batch {
            sqlx::query(
                "UPDATE devices SET failed_at = $1, failed_addr = $2, failure = $3 WHERE id = $4",
            )
            .bind(at)
            .bind(addr.as_str())
            .bind(*reason)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// What was recorded about one device.
    pub async fn device_activity(&self, id: DeviceId) -> Result<Activity> {
        let row = sqlx::query(&format!(
            "SELECT {ACTIVITY_COLUMNS} FROM devices WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(activity_from)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// A page of the tenant's devices with what was recorded about them, by MAC; a search
    /// looks in the MAC, Phone ID and model; `firmware`, when given, keeps the devices whose
    /// last reported firmware version it is.
    pub async fn device_activity_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
        firmware: Option<&str>,
    ) -> Result<Listed<(Device, Activity)>> {
        let columns = format!("{COLUMNS}, {ACTIVITY_COLUMNS}");
        self.list(
            &ListSql::new(
                &columns,
                "FROM devices WHERE tenant_id = $1",
                &[tenant.0],
                "mac",
            )
            .search(&["mac", "phone_id", "model"])
            .equals("firmware_version", firmware),
            query,
            both,
        )
        .await
    }

    /// The firmware versions the tenant's devices last reported, each once, in order.
    pub async fn device_firmwares(&self, tenant: TenantId) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT firmware_version FROM devices \
             WHERE tenant_id = $1 AND firmware_version IS NOT NULL ORDER BY firmware_version",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The tenant's devices (of one site, when given) with what was recorded about them, by
    /// MAC: what a rollout summary is made of.
    pub async fn device_activities(
        &self,
        tenant: TenantId,
        site: Option<SiteId>,
    ) -> Result<Vec<(Device, Activity)>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, {ACTIVITY_COLUMNS} FROM devices WHERE tenant_id = $1 \
             AND ($2 = 0 OR site_id = $2) ORDER BY mac"
        ))
        .bind(tenant.0)
        .bind(site.map(|s| s.0).unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(both).collect()
    }
}
