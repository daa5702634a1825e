//! Handsets and the numbers logged in to them.

use sqlx::any::AnyRow;

use super::lists::ListSql;
use super::{corrupt, get, now, unique_or_store, Fresh, NumberUse, Store};
use crate::error::{Error, Result};
use crate::model::{
    AuditAction, AuditEntity, Device, DeviceAccess, DeviceId, ListQuery, Listed, Mac, NumberId,
    Secret, SiteId, TenantId, UserId, E164,
};

#[derive(Clone, Debug)]
pub struct NewDevice {
    pub tenant_id: TenantId,
    pub site_id: SiteId,
    pub mac: Mac,
    pub family: String,
    pub model: String,
    pub phone_id: String,
    pub admin_password: Secret,
    /// The first-contact window opens with the device.
    pub first_contact_until: Option<i64>,
}

/// A number logged in to a handset: where, in which slot, as which SIP user.
/// A registered device with its site's trust settings, as the phone path needs them.
#[derive(Clone, Debug)]
pub struct DeviceTrust {
    pub device: Device,
    pub allowed_networks: Vec<ipnet::IpNet>,
    pub first_contact_networks: Vec<ipnet::IpNet>,
    /// The revision of the last write that changed only this device (0: none yet).
    pub revision: i64,
}

#[derive(Clone, Debug)]
pub struct LineLogin {
    pub number_id: NumberId,
    pub number: E164,
    pub phone_id: String,
    pub mac: Mac,
    pub position: u16,
    pub sip_user: String,
    /// The user whose number it is, if any: their id and "First Last".
    pub user: Option<(UserId, String)>,
}

/// Where a device was seen: its address, the protocol (`http`, `https`, `tftp`), the firmware
/// version its User-Agent reported, and whether it proved itself (its own credentials or
/// certificate).
pub type Sighting = (String, &'static str, Option<String>, bool);

/// The last fetch of a device.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LastSeen {
    /// Unix seconds.
    pub at: i64,
    pub addr: String,
    /// `http`, `https` or `tftp`.
    pub protocol: String,
    /// The firmware version the User-Agent last reported.
    pub firmware: Option<String>,
}

pub(super) const COLUMNS: &str = "id, tenant_id, site_id, mac, family, model, phone_id, \
     admin_password, http_password, http_password_prev, http_prev_until, first_contact_until";

impl Store {
    /// Registers a device, unless its MAC is taken: registered in any tenant, or reserved for
    /// another tenant than the device's. That is decided inside the write, so a concurrent
    /// registration or reservation cannot slip between a check and the insert; `None` when taken.
    pub async fn device_create(&self, device: &NewDevice) -> Result<Option<Device>> {
        let mut tx = self.begin_write().await?;
        let taken: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM devices WHERE mac = $1) + \
             (SELECT COUNT(*) FROM device_reservations WHERE mac = $1 AND tenant_id <> $2)",
        )
        .bind(device.mac.to_string())
        .bind(device.tenant_id.0)
        .fetch_one(tx.conn())
        .await?;
        if taken > 0 {
            // Dropping the transaction rolls the revision bump back.
            return Ok(None);
        }
        // The site was read before this write began; a removal may have committed since. The
        // revision bump above serialises writers, so what this reads holds at the commit (the
        // insert would otherwise fail on the foreign key).
        let site: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sites WHERE id = $1 AND tenant_id = $2")
                .bind(device.site_id.0)
                .bind(device.tenant_id.0)
                .fetch_one(tx.conn())
                .await?;
        if site == 0 {
            return Err(Error::not_found("site", device.site_id.0));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO devices (tenant_id, site_id, mac, family, model, admin_password, \
             created_at, first_contact_until, phone_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             RETURNING id",
        )
        .bind(device.tenant_id.0)
        .bind(device.site_id.0)
        .bind(device.mac.to_string())
        .bind(&device.family)
        .bind(&device.model)
        .bind(device.admin_password.expose())
        .bind(now())
        .bind(device.first_contact_until)
        .bind(&device.phone_id)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| {
            // The MAC was free inside this write: what collides is the Phone ID.
            unique_or_store(e, || {
                format!(
                    "Phone ID {} is taken; register the device again for another",
                    device.phone_id
                )
            })
            .coded("phone_id_taken", [("phone_id", device.phone_id.clone())])
        })?;
        // A new handset is in no other device's file and in no directory.
        tx.device_only(DeviceId(id));
        tx.commit(
            device.tenant_id,
            AuditEntity::Device,
            id,
            AuditAction::Create,
        )
        .await?;
        Ok(Some(Device {
            id: DeviceId(id),
            tenant_id: device.tenant_id,
            site_id: device.site_id,
            mac: device.mac,
            family: device.family.clone(),
            model: device.model.clone(),
            phone_id: device.phone_id.clone(),
            admin_password: device.admin_password.clone(),
            access: DeviceAccess {
                first_contact_until: device.first_contact_until,
                ..DeviceAccess::default()
            },
        }))
    }

    /// Uses the first-contact window: stores the device's new HTTP password and closes the
    /// window, if it is still open at `at`. `false` when it was not (closed, expired, or taken by
    /// a concurrent request): exactly one request wins a window.
    pub async fn device_first_contact(
        &self,
        device: &Device,
        password: &Secret,
        at: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE devices SET http_password = $1, http_password_prev = NULL, \
             http_prev_until = NULL, first_contact_until = NULL \
             WHERE id = $2 AND first_contact_until IS NOT NULL AND first_contact_until > $3",
        )
        .bind(password.expose())
        .bind(device.id.0)
        .bind(at)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            // Dropping the transaction rolls the revision bump back.
            return Ok(false);
        }
        tx.device_only(device.id);
        tx.commit(
            device.tenant_id,
            AuditEntity::Device,
            device.id.0,
            AuditAction::FirstContact,
        )
        .await?;
        Ok(true)
    }

    /// Moves a handset to another site of its tenant, once `rule` holds for its lines as the
    /// write reads them.
    pub async fn device_set_site(
        &self,
        device: &Device,
        site: SiteId,
        rule: impl FnOnce(&HandsetLines) -> Result<()> + Send,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        tx.checked::<HandsetLines>(device.tenant_id, device.id, rule)
            .await?;
        tx.snapshot_before(AuditEntity::Device, device.id.0).await?;
        tx.update(
            "devices",
            &[("site_id", super::Value::Int(Some(site.0)))],
            &[],
            device.id.0,
            device.tenant_id,
        )
        .await?;
        // Only this handset's own files change (its site's settings and entries).
        tx.device_only(device.id);
        tx.commit(
            device.tenant_id,
            AuditEntity::Device,
            device.id.0,
            AuditAction::Move,
        )
        .await?;
        Ok(())
    }

    /// Opens (or re-opens) the first-contact window until `until`.
    pub async fn device_arm(&self, device: &Device, until: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE devices SET first_contact_until = $1 WHERE id = $2")
            .bind(until)
            .bind(device.id.0)
            .execute(tx.conn())
            .await?;
        tx.device_only(device.id);
        tx.commit(
            device.tenant_id,
            AuditEntity::Device,
            device.id.0,
            AuditAction::Arm,
        )
        .await?;
        Ok(())
    }

    /// Issues a new HTTP password; the current one stays valid until `prev_until`.
    pub async fn device_rotate(
        &self,
        device: &Device,
        password: &Secret,
        prev_until: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE devices SET http_password_prev = http_password, http_prev_until = $1, \
             http_password = $2 WHERE id = $3",
        )
        .bind(prev_until)
        .bind(password.expose())
        .bind(device.id.0)
        .execute(tx.conn())
        .await?;
        tx.device_only(device.id);
        tx.commit(
            device.tenant_id,
            AuditEntity::Device,
            device.id.0,
            AuditAction::Rotate,
        )
        .await?;
        Ok(())
    }

    /// The tenant's devices, by MAC.
    pub async fn device_list(&self, tenant: TenantId) -> Result<Vec<Device>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM devices WHERE tenant_id = $1 ORDER BY mac"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(device_from).collect()
    }

    /// The tenant's device with this Phone ID.
    pub async fn device_by_phone_id(
        &self,
        tenant: TenantId,
        phone_id: &str,
    ) -> Result<Option<Device>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM devices WHERE phone_id = $1 AND tenant_id = $2"
        ))
        .bind(phone_id)
        .bind(tenant.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(device_from).transpose()
    }

    /// The tenant's logged-in lines: which number sits in which handset's slot.
    pub async fn line_logins(&self, tenant: TenantId) -> Result<Vec<LineLogin>> {
        let rows = sqlx::query(
            "SELECT l.number_id, n.e164, d.phone_id, d.mac, l.position, l.sip_user, \
             u.id AS user_id, u.first_name, u.last_name \
             FROM device_lines l JOIN devices d ON d.id = l.device_id \
             JOIN numbers n ON n.id = l.number_id LEFT JOIN users u ON u.number_id = n.id \
             WHERE d.tenant_id = $1 ORDER BY n.e164",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let position: i64 = get(row, "position")?;
                Ok(LineLogin {
                    number_id: NumberId(get(row, "number_id")?),
                    number: get::<String>(row, "e164")?
                        .parse()
                        .map_err(|e| corrupt("number", e))?,
                    phone_id: get(row, "phone_id")?,
                    mac: get::<String>(row, "mac")?
                        .parse()
                        .map_err(|e| corrupt("mac", e))?,
                    position: line_position(position)?,
                    sip_user: get(row, "sip_user")?,
                    user: match get::<Option<i64>>(row, "user_id")? {
                        Some(id) => Some((
                            UserId(id),
                            format!(
                                "{} {}",
                                get::<String>(row, "first_name")?,
                                get::<String>(row, "last_name")?
                            ),
                        )),
                        None => None,
                    },
                })
            })
            .collect()
    }

    /// The device with this Phone ID, whatever its tenant (Phone IDs are unique platform-wide).
    pub async fn device_by_phone_id_any(&self, phone_id: &str) -> Result<Option<Device>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM devices WHERE phone_id = $1"
        ))
        .bind(phone_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(device_from).transpose()
    }

    /// Logs `number` out of whatever handset it is in; `false` if it was in none. Once `rule`
    /// holds for the number's use as the write reads it.
    pub async fn number_logout(
        &self,
        tenant: TenantId,
        number: NumberId,
        rule: impl FnOnce(&NumberUse) -> Result<()> + Send,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let fresh = tx.checked::<NumberUse>(tenant, number, rule).await?;
        if fresh.handset.is_none() {
            return Ok(false);
        }
        tx.snapshot_before(AuditEntity::Number, number.0).await?;
        sqlx::query("DELETE FROM device_lines WHERE number_id = $1")
            .bind(number.0)
            .execute(tx.conn())
            .await?;
        tx.leaves_directory();
        tx.commit(tenant, AuditEntity::Number, number.0, AuditAction::Logout)
            .await?;
        Ok(true)
    }

    /// New SIP passwords for lines, in one transaction: (number, password) pairs of numbers
    /// that are logged in. Returns the numbers that were.
    pub async fn line_passwords_set(
        &self,
        tenant: TenantId,
        lines: &[(NumberId, Secret)],
    ) -> Result<Vec<NumberId>> {
        let mut tx = self.begin_write().await?;
        let mut done = Vec::new();
        for (number, password) in lines {
            let n = sqlx::query(
                "UPDATE device_lines SET sip_password = $1 WHERE number_id = $2 AND device_id IN \
                 (SELECT id FROM devices WHERE tenant_id = $3)",
            )
            .bind(password.expose())
            .bind(number.0)
            .bind(tenant.0)
            .execute(tx.conn())
            .await?;
            if n.rows_affected() > 0 {
                done.push(*number);
            }
        }
        // The trail says whose login details changed, never the passwords.
        let ids: Vec<i64> = done.iter().map(|n| n.0).collect();
        tx.record(None, serde_json::json!({ "number_ids": ids }));
        tx.leaves_directory();
        tx.commit(
            tenant,
            AuditEntity::DeviceLines,
            tenant.0,
            AuditAction::NewLoginDetails,
        )
        .await?;
        Ok(done)
    }

    /// The device with this MAC, whatever its tenant (MACs are unique platform-wide).
    pub async fn device_by_mac(&self, mac: Mac) -> Result<Option<Device>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM devices WHERE mac = $1"))
            .bind(mac.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(device_from).transpose()
    }

    /// Records where and when devices last fetched a file, in one transaction; a fetch clears
    /// the device's last refusal (the provisioner writes one device's two in the order they
    /// came). Not a configuration change: no revision moves, no cache entry goes stale.
    pub async fn devices_seen(&self, batch: &[(DeviceId, Sighting)]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let at = now();
        for (id, (addr, protocol, firmware, proven)) in batch {
            sqlx::query(
                "UPDATE devices SET last_seen_at = $1, last_seen_addr = $2, \
                 last_seen_protocol = $3, firmware_version = COALESCE($4, firmware_version), \
                 proven_at = CASE WHEN $6 = 1 THEN $1 ELSE proven_at END, failed_at = NULL, \
                 failure = NULL, failed_addr = NULL WHERE id = $5",
            )
            .bind(at)
            .bind(addr.as_str())
            .bind(*protocol)
            .bind(firmware.as_deref())
            .bind(id.0)
            .bind(i64::from(*proven))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// When, from where and how the device last fetched a file, if it ever did.
    pub async fn device_last_seen(&self, id: DeviceId) -> Result<Option<LastSeen>> {
        let row = sqlx::query(
            "SELECT last_seen_at, last_seen_addr, last_seen_protocol, firmware_version \
             FROM devices WHERE id = $1",
        )
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| Error::not_found("device", id))?;
        let at: Option<i64> = get(&row, "last_seen_at")?;
        Ok(match at {
            Some(at) => Some(LastSeen {
                at,
                addr: get::<Option<String>>(&row, "last_seen_addr")?.unwrap_or_default(),
                protocol: get::<Option<String>>(&row, "last_seen_protocol")?.unwrap_or_default(),
                firmware: get(&row, "firmware_version")?,
            }),
            None => None,
        })
    }

    /// The device with this MAC and its site's trust settings, in one query (a registered MAC
    /// costs no more round trips than an unknown one).
    pub async fn device_access_by_mac(&self, mac: Mac) -> Result<Option<DeviceTrust>> {
        let columns: Vec<String> = COLUMNS
            .split(',')
            .map(|c| format!("d.{}", c.trim()))
            .collect();
        let row = sqlx::query(&format!(
            "SELECT {}, d.revision, s.allowed_networks, s.first_contact_networks FROM devices d \
             JOIN sites s ON s.id = d.site_id WHERE d.mac = $1",
            columns.join(", ")
        ))
        .bind(mac.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let allowed: String = get(&row, "allowed_networks")?;
        let first_contact: String = get(&row, "first_contact_networks")?;
        Ok(Some(DeviceTrust {
            device: device_from(&row)?,
            allowed_networks: super::tenants::parse_networks(&allowed)?,
            first_contact_networks: super::tenants::parse_networks(&first_contact)?,
            revision: get(&row, "revision")?,
        }))
    }

    /// Records that guessing closed the first-contact windows of vendor `prefix` (12-hex-digit
    /// MACs starting with it): one audit entry for each tenant with an open window there, and
    /// one for the operator. Not configuration: no revision moves.
    pub async fn first_contact_suspended(&self, prefix: &str, secs: u64) -> Result<()> {
        let now = now();
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT tenant_id, COUNT(*) AS n FROM devices WHERE mac LIKE $1 \
             AND first_contact_until > $2 GROUP BY tenant_id",
        )
        .bind(format!("{prefix}%"))
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut entries: Vec<(Option<i64>, i64)> = Vec::new();
        for row in &rows {
            entries.push((Some(get(row, "tenant_id")?), get(row, "n")?));
        }
        entries.push((None, entries.iter().map(|(_, n)| n).sum()));
        let id = i64::from_str_radix(prefix, 16).unwrap_or_default();
        for (tenant, windows) in entries {
            let after = serde_json::json!({
                "vendor_prefix": prefix,
                "open_windows": windows,
                "closed_for_at_least_secs": secs,
                "reason": "too many requests for MACs nobody registered: someone is guessing",
            });
            sqlx::query(
                "INSERT INTO change_log (revision, tenant_id, entity, entity_id, action, at, \
                 actor, after_json) VALUES ((SELECT value FROM revision WHERE id = 1), $1, \
                 $2, $3, $4, $5, 'server', $6)",
            )
            .bind(tenant)
            .bind(AuditEntity::VendorPrefix.as_str())
            .bind(id)
            .bind(AuditAction::FirstContactClosed.as_str())
            .bind(now)
            .bind(after.to_string())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Logs `number` in to `device` in the next free account slot, with a new SIP account.
    /// Returns the slot.
    ///
    /// With `only_line`, a handset that already has a line is refused here, inside the write
    /// transaction, so two concurrent logins cannot both take it; so is a number `rule` refuses
    /// as the write reads its use.
    pub async fn device_login(
        &self,
        device: &Device,
        number: NumberId,
        sip_user: &str,
        sip_password: &Secret,
        only_line: bool,
        rule: impl FnOnce(&NumberUse) -> Result<()> + Send,
    ) -> Result<u16> {
        let mut tx = self.begin_write().await?;
        tx.checked::<NumberUse>(device.tenant_id, number, rule)
            .await?;
        let position = insert_line(
            &mut tx,
            device,
            number,
            sip_user,
            sip_password,
            only_line,
            None,
        )
        .await?;
        tx.record(
            None,
            serde_json::json!({ "number_id": number.0, "position": position }),
        );
        tx.leaves_directory();
        tx.commit(
            device.tenant_id,
            AuditEntity::Device,
            device.id.0,
            AuditAction::Login,
        )
        .await?;
        line_position(position)
    }
}

/// Logs `number` in to `device` at the handset's next free position, inside `tx`: that
/// position. With `only_line`, a handset that has a line already is refused (a conflict on
/// `field`, when the caller's input names one).
pub(super) async fn insert_line(
    tx: &mut super::WriteTx<'_>,
    device: &Device,
    number: NumberId,
    sip_user: &str,
    sip_password: &Secret,
    only_line: bool,
    field: Option<&'static str>,
) -> Result<i64> {
    let position: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position), 0) + 1 FROM device_lines WHERE device_id = $1",
    )
    .bind(device.id.0)
    .fetch_one(tx.conn())
    .await?;
    if only_line && position > 1 {
        let message = format!(
            "someone is already logged in to handset {}; log them out first",
            device.phone_id
        );
        let error = match field {
            Some(field) => Error::conflict_on(field, message),
            None => Error::conflict(message),
        };
        return Err(error.coded("handset_occupied", [("phone_id", device.phone_id.clone())]));
    }
    sqlx::query(
        "INSERT INTO device_lines (device_id, number_id, position, sip_user, sip_password, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(device.id.0)
    .bind(number.0)
    .bind(position)
    .bind(sip_user)
    .bind(sip_password.expose())
    .bind(now())
    .execute(tx.conn())
    .await
    .map_err(|e| {
        unique_or_store(e, || {
            "the number is already logged in to a handset".to_owned()
        })
        .coded("number_on_a_handset", [])
    })?;
    Ok(position)
}

pub(super) fn device_from(row: &AnyRow) -> Result<Device> {
    let mac: String = get(row, "mac")?;
    Ok(Device {
        id: DeviceId(get(row, "id")?),
        tenant_id: TenantId(get(row, "tenant_id")?),
        site_id: SiteId(get(row, "site_id")?),
        mac: mac.parse().map_err(|e| corrupt("mac", e))?,
        family: get(row, "family")?,
        model: get(row, "model")?,
        phone_id: get(row, "phone_id")?,
        admin_password: Secret::new(get(row, "admin_password")?),
        access: DeviceAccess {
            http_password: get::<Option<String>>(row, "http_password")?.map(Secret::new),
            http_password_prev: get::<Option<String>>(row, "http_password_prev")?.map(Secret::new),
            http_prev_until: get(row, "http_prev_until")?,
            first_contact_until: get(row, "first_contact_until")?,
        },
    })
}

/// The numbers logged in to a handset, by account slot, as a guarded write reads them.
#[derive(Clone, Debug)]
pub struct HandsetLines(pub Vec<E164>);

impl Fresh for HandsetLines {
    type Key = DeviceId;

    async fn read(
        conn: &mut sqlx::AnyConnection,
        _tenant: TenantId,
        id: DeviceId,
    ) -> Result<HandsetLines> {
        let numbers: Vec<String> = sqlx::query_scalar(
            "SELECT n.e164 FROM device_lines l JOIN numbers n ON n.id = l.number_id \
             WHERE l.device_id = $1 ORDER BY l.position",
        )
        .bind(id.0)
        .fetch_all(conn)
        .await?;
        let numbers = numbers
            .iter()
            .map(|n| n.parse().map_err(|e| corrupt("number", e)))
            .collect::<Result<_>>()?;
        Ok(HandsetLines(numbers))
    }
}

/// A line's account slot as stored.
pub(super) fn line_position(position: i64) -> Result<u16> {
    u16::try_from(position).map_err(|e| corrupt(format_args!("line position {position}"), e))
}

impl Store {
    /// A page of the tenant's devices, by MAC; a search looks in the MAC, Phone ID and model.
    pub async fn device_page(&self, tenant: TenantId, query: &ListQuery) -> Result<Listed<Device>> {
        self.list(
            &ListSql::new(
                COLUMNS,
                "FROM devices WHERE tenant_id = $1",
                &[tenant.0],
                "mac",
            )
            .search(&["mac", "phone_id", "model"]),
            query,
            device_from,
        )
        .await
    }
}
