//! Schedules (opening hours, holiday lists) and group night forwarding, per tenant and site.

use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::lists::{by_bytes, ListSql};
use super::{corrupt, get, unique_or_store, ExtensionUse, Store};
use crate::error::{Error, Result};
use crate::model::{
    AuditAction, AuditEntity, HolidayEntry, ListQuery, Listed, NightMode, NightService,
    NightTarget, Schedule, ScheduleKind, SiteId, TenantId, WeeklyHours,
};

const COLUMNS: &str = "id, name, kind, rules_json";

/// A schedule as a write sets it (already checked by `admin`).
pub struct ScheduleWrite<'a> {
    pub name: &'a str,
    pub kind: ScheduleKind,
    pub hours: Option<&'a WeeklyHours>,
    pub holidays: &'a [HolidayEntry],
}

/// Night service as a write sets it: the schedules by id.
pub struct NightWrite {
    pub site: Option<SiteId>,
    pub mode: NightMode,
    pub hours: Option<i64>,
    pub holidays: Option<i64>,
    pub target: NightTarget,
    pub destination: Option<String>,
}

/// Night service as stored, with the schedules it uses.
#[derive(Clone, Debug)]
pub struct NightRecord {
    pub service: NightService,
    pub hours: Option<Schedule>,
    pub holidays: Option<Schedule>,
}

impl Store {
    /// Creates (`id` None) or replaces a schedule.
    pub async fn schedule_write(
        &self,
        tenant: TenantId,
        id: Option<i64>,
        schedule: &ScheduleWrite<'_>,
    ) -> Result<Schedule> {
        let rules = match schedule.kind {
            ScheduleKind::OpeningHours => serde_json::to_string(&schedule.hours),
            ScheduleKind::Holidays => serde_json::to_string(schedule.holidays),
        }
        .map_err(Error::json("a schedule"))?;
        let taken = || {
            format!(
                "this tenant already has a schedule named {:?}",
                schedule.name
            )
        };
        let mut tx = self.begin_write().await?;
        let (id, action) = match id {
            None => (
                sqlx::query_scalar(
                    "INSERT INTO schedules (tenant_id, name, kind, rules_json) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(tenant.0)
                .bind(schedule.name)
                .bind(schedule.kind.as_str())
                .bind(&rules)
                .fetch_one(tx.conn())
                .await
                .map_err(|e| {
                    unique_or_store(e, taken)
                        .coded("schedule_taken", [("name", schedule.name.to_owned())])
                })?,
                AuditAction::Create,
            ),
            Some(id) => {
                let before = read(tx.conn(), tenant, id).await?;
                tx.before = Some(json(&before)?.to_string());
                sqlx::query(
                    "UPDATE schedules SET name = $1, rules_json = $2 WHERE id = $3 AND tenant_id = $4",
                )
                .bind(schedule.name)
                .bind(&rules)
                .bind(id)
                .bind(tenant.0)
                .execute(tx.conn())
                .await
                .map_err(|e| {
                    unique_or_store(e, taken)
                        .coded("schedule_taken", [("name", schedule.name.to_owned())])
                })?;
                (id, AuditAction::Update)
            }
        };
        let saved = read(tx.conn(), tenant, id).await?;
        tx.after = Some(json(&saved)?);
        tx.commit(tenant, AuditEntity::Schedule, id, action).await?;
        Ok(saved)
    }

    /// Deletes a schedule no night service uses; one that does is a conflict on `schedule`
    /// naming the schedule and every night service that uses it (the tenant's, sites').
    pub async fn schedule_delete(&self, tenant: TenantId, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let before = read(tx.conn(), tenant, id).await?;
        let users: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT s.name FROM night_service ns LEFT JOIN sites s ON s.id = ns.site_id \
             WHERE ns.tenant_id = $1 AND (ns.hours_id = $2 OR ns.holidays_id = $2) \
             ORDER BY s.name IS NOT NULL, s.name",
        )
        .bind(tenant.0)
        .bind(id)
        .fetch_all(tx.conn())
        .await?;
        if !users.is_empty() {
            let whose: Vec<String> = users
                .iter()
                .map(|site| match site {
                    Some(site) => format!("site {site:?}'s"),
                    None => "the tenant's".to_owned(),
                })
                .collect();
            let services = if whose.len() == 1 {
                "service"
            } else {
                "services"
            };
            return Err(Error::conflict_on(
                "schedule",
                format!(
                    "schedule {:?} is used by {} night {services}; change that first",
                    before.name,
                    whose.join(" and ")
                ),
            )
            .coded(
                "schedule_in_use",
                [
                    ("name", before.name.clone()),
                    ("count", whose.len().to_string()),
                ],
            ));
        }
        sqlx::query("DELETE FROM schedules WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        tx.record(Some(json(&before)?), serde_json::Value::Null);
        tx.commit(tenant, AuditEntity::Schedule, id, AuditAction::Delete)
            .await?;
        Ok(())
    }

    pub async fn schedule_get(&self, tenant: TenantId, id: i64) -> Result<Schedule> {
        let mut conn = self.pool.acquire().await?;
        read(&mut conn, tenant, id).await
    }

    pub async fn schedule_id_by_name(&self, tenant: TenantId, name: &str) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM schedules WHERE tenant_id = $1 AND name = $2")
                .bind(tenant.0)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// A page of the tenant's schedules by name, searched in their names.
    pub async fn schedule_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<Schedule>> {
        let order = format!("{}, id", by_bytes(self.backend, "name"));
        self.list(
            &ListSql::new(
                COLUMNS,
                "FROM schedules WHERE tenant_id = $1",
                &[tenant.0],
                &order,
            )
            .search(&["name"]),
            query,
            schedule_from,
        )
        .await
    }

    /// Sets the night service of the tenant (`site` None) or of a site, once `rule` holds for
    /// the owner of the auto-attendant's extension (when the destination is one) as the write
    /// reads it.
    pub async fn night_service_set(
        &self,
        tenant: TenantId,
        night: &NightWrite,
        rule: impl FnOnce(&Option<ExtensionUse>) -> Result<()> + Send,
    ) -> Result<()> {
        let scope = night.site.map(|s| s.0).unwrap_or(0);
        let mut tx = self.begin_write().await?;
        let extension = night
            .destination
            .as_ref()
            .filter(|d| !d.starts_with('+'))
            .cloned();
        tx.checked::<Option<ExtensionUse>>(tenant, extension, rule)
            .await?;
        let before = night_read(tx.conn(), tenant, night.site).await?;
        sqlx::query("DELETE FROM night_service WHERE tenant_id = $1 AND scope = $2")
            .bind(tenant.0)
            .bind(scope)
            .execute(tx.conn())
            .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO night_service (tenant_id, scope, site_id, mode, hours_id, holidays_id, \
             target_kind, destination) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(tenant.0)
        .bind(scope)
        .bind(night.site.map(|s| s.0))
        .bind(night.mode.as_str())
        .bind(night.hours)
        .bind(night.holidays)
        .bind(night.target.as_str())
        .bind(night.destination.as_deref())
        .fetch_one(tx.conn())
        .await?;
        let after = night_read(tx.conn(), tenant, night.site).await?;
        tx.record(
            before.map(|b| json(&b.service)).transpose()?,
            after
                .map(|a| json(&a.service))
                .transpose()?
                .unwrap_or_default(),
        );
        tx.commit(tenant, AuditEntity::NightService, id, AuditAction::Set)
            .await?;
        Ok(())
    }

    /// Removes a site's own night service (the tenant's applies to it again); a site without
    /// one is left as it is.
    pub async fn night_service_clear(&self, tenant: TenantId, site: SiteId) -> Result<()> {
        let mut tx = self.begin_write().await?;
        // None of its own: nothing to remove, nothing to record.
        let Some(before) = night_read(tx.conn(), tenant, Some(site)).await? else {
            return Ok(());
        };
        sqlx::query("DELETE FROM night_service WHERE tenant_id = $1 AND scope = $2")
            .bind(tenant.0)
            .bind(site.0)
            .execute(tx.conn())
            .await?;
        tx.record(Some(json(&before.service)?), serde_json::Value::Null);
        tx.commit(
            tenant,
            AuditEntity::NightService,
            site.0,
            AuditAction::Delete,
        )
        .await?;
        Ok(())
    }

    /// The night service of the tenant (`site` None) or a site's own, if set.
    pub async fn night_service(
        &self,
        tenant: TenantId,
        site: Option<SiteId>,
    ) -> Result<Option<NightRecord>> {
        let mut conn = self.pool.acquire().await?;
        night_read(&mut conn, tenant, site).await
    }
}

async fn read(conn: &mut AnyConnection, tenant: TenantId, id: i64) -> Result<Schedule> {
    let row = super::row_by_id(
        &mut *conn,
        &format!("SELECT {COLUMNS} FROM schedules WHERE id = $1 AND tenant_id = $2"),
        ("schedule", id),
        tenant,
    )
    .await?;
    schedule_from(&row)
}

fn schedule_from(row: &AnyRow) -> Result<Schedule> {
    let kind: ScheduleKind = get::<String>(row, "kind")?
        .parse()
        .map_err(|e| corrupt("schedule kind", e))?;
    let rules: String = get(row, "rules_json")?;
    let (hours, holidays) = match kind {
        ScheduleKind::OpeningHours => (
            serde_json::from_str(&rules).map_err(|e| corrupt("opening hours", e))?,
            Vec::new(),
        ),
        ScheduleKind::Holidays => (
            None,
            serde_json::from_str(&rules).map_err(|e| corrupt("holidays", e))?,
        ),
    };
    Ok(Schedule {
        id: get(row, "id")?,
        name: get(row, "name")?,
        kind,
        hours,
        holidays,
    })
}

async fn night_read(
    conn: &mut AnyConnection,
    tenant: TenantId,
    site: Option<SiteId>,
) -> Result<Option<NightRecord>> {
    let Some(row) = sqlx::query(
        "SELECT ns.mode, ns.hours_id, ns.holidays_id, ns.target_kind, ns.destination, \
         s.name AS site_name FROM night_service ns LEFT JOIN sites s ON s.id = ns.site_id \
         WHERE ns.tenant_id = $1 AND ns.scope = $2",
    )
    .bind(tenant.0)
    .bind(site.map(|s| s.0).unwrap_or(0))
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let schedule = async |conn: &mut AnyConnection, column| -> Result<Option<Schedule>> {
        match get::<Option<i64>>(&row, column)? {
            Some(id) => read(conn, tenant, id).await.map(Some),
            None => Ok(None),
        }
    };
    let hours = schedule(&mut *conn, "hours_id").await?;
    let holidays = schedule(&mut *conn, "holidays_id").await?;
    let parse = |column, what| -> Result<String> {
        get::<String>(&row, column).map_err(|e| corrupt(what, e))
    };
    Ok(Some(NightRecord {
        service: NightService {
            site: get(&row, "site_name")?,
            mode: parse("mode", "night mode")?
                .parse()
                .map_err(|e| corrupt("night mode", e))?,
            hours: hours.as_ref().map(|s| s.name.clone()),
            holidays: holidays.as_ref().map(|s| s.name.clone()),
            target: parse("target_kind", "night target")?
                .parse()
                .map_err(|e| corrupt("night target", e))?,
            destination: get(&row, "destination")?,
        },
        hours,
        holidays,
    }))
}

fn json<T: serde::Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(Error::json("a schedule"))
}
