//! The end of things: removing and replacing devices, releasing numbers, changing and removing
//! sites, removing tenants, listing tokens. Each removal is guarded by what the write reads
//! (`WriteTx::checked`), so nothing in use goes, and each is in the audit trail.

use sqlx::AnyConnection;

use super::{get, now, unique_on, Fresh, NumberUse, ShownBy, Store, Value};
use crate::error::{Error, Result};
use crate::model::{AuditAction, AuditEntity, Device, Mac, NumberId, Role, SiteId, TenantId};

/// What a site holds, as a guarded removal reads it.
#[derive(Clone, Debug, Default)]
pub struct SiteContents {
    pub numbers: i64,
    pub devices: i64,
    /// Users bound to one of the site's trunks.
    pub trunk_users: i64,
}

/// What a tenant holds, as a guarded removal reads it.
#[derive(Clone, Debug, Default)]
pub struct TenantContents {
    pub sites: i64,
    pub numbers: i64,
    pub users: i64,
    pub devices: i64,
}

/// An API token as a list shows it: never its secret or hash.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub role: Role,
    pub tenant_id: Option<i64>,
    pub user_id: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; none while the token works.
    pub revoked_at: Option<i64>,
}

/// A site's changed settings, already validated; `None` keeps a field.
#[derive(Clone, Debug, Default)]
pub struct SitePatch {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub ntp_server: Option<String>,
    pub sip_domain: Option<String>,
    /// `Some(None)` clears the proxy.
    pub sip_proxy: Option<Option<String>>,
    pub sip_port: Option<u16>,
    pub sip_transport: Option<String>,
}

async fn count(conn: &mut AnyConnection, sql: &str, id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(sql).bind(id).fetch_one(conn).await?)
}

impl Fresh for SiteContents {
    type Key = SiteId;

    async fn read(conn: &mut AnyConnection, tenant: TenantId, id: SiteId) -> Result<Self> {
        super::row_by_id(
            &mut *conn,
            "SELECT id FROM sites WHERE id = $1 AND tenant_id = $2",
            ("site", id.0),
            tenant,
        )
        .await?;
        Ok(SiteContents {
            numbers: count(
                conn,
                "SELECT COUNT(*) FROM numbers WHERE site_id = $1",
                id.0,
            )
            .await?,
            devices: count(
                conn,
                "SELECT COUNT(*) FROM devices WHERE site_id = $1",
                id.0,
            )
            .await?,
            trunk_users: count(
                conn,
                "SELECT COUNT(*) FROM users WHERE trunk_id IN \
                 (SELECT id FROM trunks WHERE site_id = $1)",
                id.0,
            )
            .await?,
        })
    }
}

impl Fresh for TenantContents {
    type Key = TenantId;

    async fn read(conn: &mut AnyConnection, _: TenantId, id: TenantId) -> Result<Self> {
        let n = |table: &str| format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = $1");
        Ok(TenantContents {
            sites: count(conn, &n("sites"), id.0).await?,
            numbers: count(conn, &n("numbers"), id.0).await?,
            users: count(conn, &n("users"), id.0).await?,
            devices: count(conn, &n("devices"), id.0).await?,
        })
    }
}

impl Store {
    /// Removes a handset: its lines are logged out with it (the numbers stay with the tenant),
    /// its MAC is free to register again, and the trail keeps the record as it was. Returns the
    /// numbers that were logged in.
    pub async fn device_remove(&self, device: &Device) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let lines: Vec<String> = sqlx::query_scalar(
            "SELECT n.e164 FROM device_lines l JOIN numbers n ON n.id = l.number_id \
             WHERE l.device_id = $1 ORDER BY l.position",
        )
        .bind(device.id.0)
        .fetch_all(tx.conn())
        .await?;
        tx.snapshot_before(AuditEntity::Device, device.id.0).await?;
        let done = sqlx::query("DELETE FROM devices WHERE id = $1 AND tenant_id = $2")
            .bind(device.id.0)
            .bind(device.tenant_id.0)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("device", device.mac));
        }
        tx.after = Some(serde_json::json!({ "removed": true, "lines_logged_out": lines }));
        tx.commit(
            device.tenant_id,
            AuditEntity::Device,
            device.id.0,
            AuditAction::Delete,
        )
        .await?;
        Ok(lines)
    }

    /// Gives a handset's record (lines, keys, Phone ID, settings) to new hardware: the MAC
    /// changes, the old credentials and sightings go, and a first-contact window opens until
    /// `until`. `None` when `mac` is taken (registered anywhere, or reserved for another
    /// tenant), decided inside the write as `device_create` does.
    pub async fn device_replace(
        &self,
        device: &Device,
        mac: Mac,
        until: i64,
    ) -> Result<Option<()>> {
        let mut tx = self.begin_write().await?;
        let taken: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM devices WHERE mac = $1) + \
             (SELECT COUNT(*) FROM device_reservations WHERE mac = $1 AND tenant_id <> $2)",
        )
        .bind(mac.to_string())
        .bind(device.tenant_id.0)
        .fetch_one(tx.conn())
        .await?;
        if taken > 0 {
            return Ok(None);
        }
        tx.snapshot_before(AuditEntity::Device, device.id.0).await?;
        sqlx::query(
            "UPDATE devices SET mac = $1, first_contact_until = $2, http_password = NULL, \
             http_password_prev = NULL, http_prev_until = NULL, last_seen_at = NULL, \
             last_seen_addr = NULL, last_seen_protocol = NULL, firmware_version = NULL, \
             proven_at = NULL, failed_at = NULL, failure = NULL, failed_addr = NULL \
             WHERE id = $3",
        )
        .bind(mac.to_string())
        .bind(until)
        .bind(device.id.0)
        .execute(tx.conn())
        .await?;
        tx.commit(
            device.tenant_id,
            AuditEntity::Device,
            device.id.0,
            AuditAction::Replace,
        )
        .await?;
        Ok(Some(()))
    }

    /// Sets a handset's model (and its family, which the model decides).
    pub async fn device_set_model(&self, device: &Device, family: &str, model: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        tx.snapshot_before(AuditEntity::Device, device.id.0).await?;
        tx.update(
            "devices",
            &[
                ("family", Value::Text(Some(family.to_owned()))),
                ("model", Value::Text(Some(model.to_owned()))),
            ],
            &[],
            device.id.0,
            device.tenant_id,
        )
        .await?;
        tx.commit(
            device.tenant_id,
            AuditEntity::Device,
            device.id.0,
            AuditAction::Update,
        )
        .await?;
        Ok(())
    }

    /// Gives a number back to the operator: it leaves the tenant, once `rule` holds for its use
    /// and who shows it, as the write reads them.
    pub async fn number_release(
        &self,
        tenant: TenantId,
        id: NumberId,
        rule: impl FnOnce(&(NumberUse, ShownBy)) -> Result<()> + Send,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        tx.checked::<(NumberUse, ShownBy)>(tenant, (id, id), rule)
            .await?;
        tx.snapshot_before(AuditEntity::Number, id.0).await?;
        sqlx::query("DELETE FROM numbers WHERE id = $1 AND tenant_id = $2")
            .bind(id.0)
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        tx.after = Some(serde_json::json!({ "released": true }));
        tx.commit(tenant, AuditEntity::Number, id.0, AuditAction::Release)
            .await?;
        Ok(())
    }

    /// Changes a site's settings.
    pub async fn site_update(&self, tenant: TenantId, id: SiteId, patch: &SitePatch) -> Result<()> {
        let text = |v: &Option<String>| v.clone().map(|s| Value::Text(Some(s)));
        let sets: Vec<(&str, Value)> = [
            ("name", text(&patch.name)),
            ("time_zone", text(&patch.time_zone)),
            ("ntp_server", text(&patch.ntp_server)),
            ("sip_domain", text(&patch.sip_domain)),
            ("sip_proxy", patch.sip_proxy.clone().map(Value::Text)),
            (
                "sip_port",
                patch.sip_port.map(|p| Value::Int(Some(p.into()))),
            ),
            ("sip_transport", text(&patch.sip_transport)),
        ]
        .into_iter()
        .filter_map(|(column, value)| value.map(|v| (column, v)))
        .collect();
        let mut tx = self.begin_write().await?;
        tx.snapshot_before(AuditEntity::Site, id.0).await?;
        if !sets.is_empty() {
            let n = tx
                .update("sites", &sets, &[], id.0, tenant)
                .await
                .map_err(|e| {
                    unique_on(e, "name", || {
                        format!(
                            "this tenant already has a site named {:?}",
                            patch.name.clone().unwrap_or_default()
                        )
                    })
                    .coded(
                        "site_taken",
                        [("name", patch.name.clone().unwrap_or_default())],
                    )
                })?;
            if n == 0 {
                return Err(Error::not_found("site", id));
            }
        }
        tx.commit(tenant, AuditEntity::Site, id.0, AuditAction::Update)
            .await?;
        Ok(())
    }

    /// Removes a site (its trunks go with it), once `rule` holds for what it holds as the write
    /// reads it.
    pub async fn site_remove(
        &self,
        tenant: TenantId,
        id: SiteId,
        rule: impl FnOnce(&SiteContents) -> Result<()> + Send,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        tx.checked::<SiteContents>(tenant, id, rule).await?;
        tx.snapshot_before(AuditEntity::Site, id.0).await?;
        sqlx::query("DELETE FROM sites WHERE id = $1 AND tenant_id = $2")
            .bind(id.0)
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        tx.after = Some(serde_json::json!({ "removed": true }));
        tx.commit(tenant, AuditEntity::Site, id.0, AuditAction::Delete)
            .await?;
        Ok(())
    }

    /// Removes a tenant, once `rule` holds for what it holds as the write reads it. Its
    /// reservations, tokens and licence pools go with it; its audit trail is kept as the
    /// platform's (no tenant to belong to), with the removal's own entry naming the tenant.
    pub async fn tenant_remove(
        &self,
        tenant: TenantId,
        name: &str,
        rule: impl FnOnce(&TenantContents) -> Result<()> + Send,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        tx.checked::<TenantContents>(tenant, tenant, rule).await?;
        sqlx::query("UPDATE change_log SET tenant_id = NULL WHERE tenant_id = $1")
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        let done = sqlx::query("DELETE FROM tenants WHERE id = $1")
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("tenant", tenant));
        }
        let before = serde_json::json!({ "id": tenant.0, "name": name });
        sqlx::query(
            "INSERT INTO change_log (revision, tenant_id, entity, entity_id, action, at, actor, \
             before_json, after_json) VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(tx.revision)
        .bind(AuditEntity::Tenant.as_str())
        .bind(tenant.0)
        .bind(AuditAction::Delete.as_str())
        .bind(now())
        .bind(&*self.actor)
        .bind(before.to_string())
        .bind(serde_json::json!({ "removed": true }).to_string())
        .execute(tx.conn())
        .await?;
        let revision = tx.revision;
        tx.announce().await?;
        tx.tx.commit().await?;
        self.revisions.observe_global(revision);
        Ok(())
    }

    /// The API tokens, of `tenant` only when given, newest first; never a secret or hash.
    pub async fn token_list(&self, tenant: Option<TenantId>) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, role, tenant_id, user_id, created_at, revoked_at FROM api_tokens \
             WHERE ($1 = 0 OR tenant_id = $1) ORDER BY id DESC",
        )
        .bind(tenant.map(|t| t.0).unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let role: String = get(row, "role")?;
                Ok(TokenInfo {
                    id: get(row, "id")?,
                    role: role.parse().map_err(|e| super::corrupt("token role", e))?,
                    tenant_id: get(row, "tenant_id")?,
                    user_id: get(row, "user_id")?,
                    created_at: get(row, "created_at")?,
                    revoked_at: get(row, "revoked_at")?,
                })
            })
            .collect()
    }
}
