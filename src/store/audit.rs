//! The audit trail: the record of each audited entity as the trail keeps it, and the change log
//! read back with filters.

use sqlx::any::AnyRow;

use super::{
    bridges, corrupt, devices, directory, get, numbers, tenants, users, virtual_users, Store,
};
use crate::error::{Error, Result};
use crate::model::{AuditAction, AuditEntity, TenantId};

/// One recorded change: who, when, what, and the record before and after (no secrets).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    /// The tenant the change belongs to; none for the platform's own (platform tokens).
    pub tenant_id: Option<i64>,
    /// Unix seconds.
    pub at: i64,
    pub actor: Option<String>,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub action: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
}

/// Which entries to list; every filter is optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub action: Option<String>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Only the platform's own entries (no tenant: tenants, number allocation, portal
    /// accounts, what a removed tenant left); for the whole trail's `audit(None, …)`.
    pub platform_only: bool,
    pub limit: i64,
    pub offset: i64,
}

/// The filter of both queries: $1 tenant (0: every tenant and the platform's own entries), $2
/// actor, $3 entity, $4 entity id, $5 action, $6..$7 the time range, $8 1 for the platform's
/// own entries only; an empty text or 0 matches anything.
macro_rules! audit_where {
    () => {
        "WHERE ($1 = 0 OR tenant_id = $1) AND ($2 = '' OR actor = $2) AND ($3 = '' OR entity = $3) \
         AND ($4 = 0 OR entity_id = $4) AND ($5 = '' OR action = $5) AND at >= $6 AND at <= $7 \
         AND ($8 = 0 OR tenant_id IS NULL)"
    };
}

impl Store {
    /// An audit entry for a write that is not configuration (tokens, portal accounts): the
    /// current revision, no bump, in the caller's transaction `conn`; `tenant` `None` is the
    /// platform's own. `before` and `after` hold no secret.
    pub(super) async fn audit_only(
        &self,
        conn: &mut sqlx::AnyConnection,
        tenant: Option<TenantId>,
        (entity, id): (AuditEntity, i64),
        action: AuditAction,
        before: Option<&serde_json::Value>,
        after: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO change_log (revision, tenant_id, entity, entity_id, action, at, actor, \
             before_json, after_json) VALUES ((SELECT value FROM revision WHERE id = 1), $1, \
             $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(tenant.map(|t| t.0))
        .bind(entity.as_str())
        .bind(id)
        .bind(action.as_str())
        .bind(super::now())
        .bind(&*self.actor)
        .bind(before.map(|b| b.to_string()))
        .bind(after.to_string())
        .execute(conn)
        .await?;
        Ok(())
    }

    /// The audit entries of `tenant` (of everyone with `None`) matching `filter`, newest first,
    /// and how many match in all.
    pub async fn audit(
        &self,
        tenant: Option<TenantId>,
        filter: &AuditFilter,
    ) -> Result<(Vec<AuditEntry>, i64)> {
        let bind = |sql: &'static str| {
            sqlx::query(sql)
                .bind(tenant.map(|t| t.0).unwrap_or(0))
                .bind(filter.actor.clone().unwrap_or_default())
                .bind(filter.entity.clone().unwrap_or_default())
                .bind(filter.entity_id.unwrap_or(0))
                .bind(filter.action.clone().unwrap_or_default())
                .bind(filter.since.unwrap_or(0))
                .bind(filter.until.unwrap_or(i64::MAX))
                .bind(i64::from(filter.platform_only))
        };
        let total: i64 = get(
            &bind(concat!(
                "SELECT COUNT(*) AS n FROM change_log ",
                audit_where!()
            ))
            .fetch_one(&self.pool)
            .await?,
            "n",
        )?;
        let rows = bind(concat!(
            "SELECT id, tenant_id, at, actor, entity, entity_id, action, before_json, after_json \
             FROM change_log ",
            audit_where!(),
            " ORDER BY id DESC LIMIT $9 OFFSET $10"
        ))
        .bind(filter.limit)
        .bind(filter.offset)
        .fetch_all(&self.pool)
        .await?;
        let json = |v: Option<String>| -> Result<Option<serde_json::Value>> {
            v.map(|t| serde_json::from_str(&t))
                .transpose()
                .map_err(|e| corrupt("audit record", e))
        };
        let entries = rows
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: get(r, "id")?,
                    tenant_id: get(r, "tenant_id")?,
                    at: get(r, "at")?,
                    actor: get(r, "actor")?,
                    entity: get(r, "entity")?,
                    entity_id: get(r, "entity_id")?,
                    action: get(r, "action")?,
                    before: json(get(r, "before_json")?)?,
                    after: json(get(r, "after_json")?)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok((entries, total))
    }
}

/// Reads an audited entity's record from its row, as the JSON the trail keeps.
type Record = fn(&AnyRow) -> Result<serde_json::Value>;

/// The statement (`$1` the id) and reader of `entity`'s record, or `None` for entities the trail
/// keeps no record of (what they changed is set with `WriteTx::record`).
fn record_of(entity: AuditEntity) -> Option<(String, Record)> {
    fn json<T: serde::Serialize>(record: Result<T>) -> Result<serde_json::Value> {
        serde_json::to_value(record?).map_err(Error::json("an audit record"))
    }
    Some(match entity {
        AuditEntity::User => (format!("{} WHERE u.id = $1", users::SELECT), |r| {
            json(users::user_from(r))
        }),
        AuditEntity::Number => (
            format!("SELECT {} FROM numbers WHERE id = $1", numbers::COLUMNS),
            |r| json(numbers::number_from(r)),
        ),
        AuditEntity::Device => (
            format!("SELECT {} FROM devices WHERE id = $1", devices::COLUMNS),
            |r| json(devices::device_from(r)),
        ),
        AuditEntity::Site => (
            format!("SELECT {} FROM sites WHERE id = $1", tenants::SITE_COLUMNS),
            |r| json(tenants::site_from(r)),
        ),
        AuditEntity::DirectoryEntry => (
            format!(
                "SELECT {} FROM directory_entries WHERE id = $1",
                directory::COLUMNS
            ),
            |r| json(directory::entry_from(r)),
        ),
        AuditEntity::VirtualUser => (
            format!(
                "SELECT {} FROM virtual_users WHERE id = $1",
                virtual_users::COLUMNS
            ),
            |r| json(virtual_users::virtual_user_from(r)),
        ),
        AuditEntity::Bridge => (format!("{} WHERE b.id = $1", bridges::SELECT), |r| {
            json(bridges::bridge_from(r))
        }),
        AuditEntity::Tenant
        | AuditEntity::DeviceLines
        | AuditEntity::DeviceReservation
        | AuditEntity::LicencePool
        | AuditEntity::Trunk
        | AuditEntity::BlfGrant
        | AuditEntity::HuntGroup
        | AuditEntity::CallCentre
        | AuditEntity::Token
        | AuditEntity::VendorPrefix
        | AuditEntity::PickupGroup
        | AuditEntity::ParkGroup
        | AuditEntity::Schedule
        | AuditEntity::NightService
        | AuditEntity::PortalAccount => return None,
    })
}

/// The record `entity` `id` as JSON for the audit trail (records carry no secrets), or `None`
/// for entities without one (or a row that is gone).
pub(super) async fn snapshot(
    conn: &mut sqlx::AnyConnection,
    entity: AuditEntity,
    id: i64,
) -> Result<Option<String>> {
    let Some((sql, record)) = record_of(entity) else {
        return Ok(None);
    };
    let Some(row) = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let mut value = record(&row)?;
    // PINs stay out of the trail for good: only whether one is set.
    for pointer in ["/default_pin", "/options/conference_pin"] {
        if let Some(pin) = value.pointer_mut(pointer) {
            if !pin.is_null() {
                *pin = serde_json::Value::from("(set)");
            }
        }
    }
    Ok(Some(value.to_string()))
}
