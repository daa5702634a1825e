//! Device records: everything one phone's files are made from (the device, its tenant and site,
//! its lines with their numbers and users, and the first line user's monitor list, speed dials,
//! pickup group and park groups), for one device or for many at once. A batch costs the same
//! eight or nine statements as one device, each with an `IN` list, on one connection: after a
//! tenant-wide change every phone's file is rendered again, and the cost of a render is its
//! trips to the database, not its template (see `provision::records`).

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::devices::{device_from, line_position, COLUMNS};
use super::import::placeholders;
use super::lists::by_bytes;
use super::tenants::{site_from, tenant_from, SITE_COLUMNS};
use super::users::{user_columns, user_from};
use super::{corrupt, get, Backend, Store};
use crate::error::{Error, Result};
use crate::model::{
    join_label, Device, DeviceId, DeviceLine, DeviceRecord, KeyGroup, NumberId, Secret, Site,
    Tenant, User,
};

/// Most ids in one statement's `IN` list (SQLite allows 32,766 values, PostgreSQL 65,535).
const MAX_BATCH: usize = 512;

impl Store {
    /// One device's record.
    pub async fn device_record(&self, id: DeviceId) -> Result<DeviceRecord> {
        self.device_records(&[id])
            .await?
            .remove(&id)
            .ok_or_else(|| Error::not_found("device", id))
    }

    /// The records of the devices of `ids` that exist (a device deleted meanwhile is not in
    /// the map), read on one connection in statements of up to `MAX_BATCH` ids each.
    pub async fn device_records(
        &self,
        ids: &[DeviceId],
    ) -> Result<HashMap<DeviceId, DeviceRecord>> {
        let mut records = HashMap::with_capacity(ids.len());
        if ids.is_empty() {
            return Ok(records);
        }
        let mut conn = self.pool.acquire().await?;
        for chunk in ids.chunks(MAX_BATCH) {
            let ids: Vec<i64> = chunk.iter().map(|id| id.0).collect();
            read_batch(&mut conn, self.backend, &ids, &mut records).await?;
        }
        Ok(records)
    }
}

/// The records of `ids` into `records`.
async fn read_batch(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[i64],
    records: &mut HashMap<DeviceId, DeviceRecord>,
) -> Result<()> {
    let devices: Vec<Device> = select(
        conn,
        &format!("SELECT {COLUMNS} FROM devices WHERE"),
        "id",
        "",
        ids,
    )
    .await?
    .iter()
    .map(device_from)
    .collect::<Result<_>>()?;
    if devices.is_empty() {
        return Ok(());
    }
    let tenant_ids = distinct(devices.iter().map(|d| d.tenant_id.0));
    let tenants: HashMap<i64, Tenant> = select(
        conn,
        "SELECT id, name, revision FROM tenants WHERE",
        "id",
        "",
        &tenant_ids,
    )
    .await?
    .iter()
    .map(|row| tenant_from(row).map(|t| (t.id.0, t)))
    .collect::<Result<_>>()?;
    let site_ids = distinct(devices.iter().map(|d| d.site_id.0));
    let sites: HashMap<i64, Site> = select(
        conn,
        &format!("SELECT {SITE_COLUMNS} FROM sites WHERE"),
        "id",
        "",
        &site_ids,
    )
    .await?
    .iter()
    .map(|row| site_from(row).map(|s| (s.id.0, s)))
    .collect::<Result<_>>()?;
    let mut lines = device_lines(conn, ids).await?;
    // The user on each device's first line with one: whose keys the phone gets.
    let key_users: HashMap<i64, i64> = devices
        .iter()
        .filter_map(|d| {
            let user = lines.get(&d.id.0)?.iter().find_map(|l| l.user.as_ref())?;
            Some((d.id.0, user.id.0))
        })
        .collect();
    let users = distinct(key_users.values().copied());
    let mut keys = UserKeys::read(conn, backend, &users).await?;
    for device in devices {
        let tenant = tenants
            .get(&device.tenant_id.0)
            .cloned()
            .ok_or_else(|| Error::not_found("tenant", device.tenant_id))?;
        let site = sites
            .get(&device.site_id.0)
            .cloned()
            .ok_or_else(|| Error::not_found("site", device.site_id))?;
        let user = key_users.get(&device.id.0);
        let monitors = take(&mut keys.monitors, user);
        let speed_dials = take(&mut keys.speed_dials, user);
        let park_groups = take(&mut keys.park, user);
        let pickup_group = user.and_then(|u| keys.pickup.remove(u));
        records.insert(
            device.id,
            DeviceRecord {
                tenant,
                site,
                lines: lines.remove(&device.id.0).unwrap_or_default(),
                device,
                monitors,
                speed_dials,
                pickup_group,
                park_groups,
            },
        );
    }
    Ok(())
}

/// The lines of the devices `ids`, by device, in account order.
async fn device_lines(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<DeviceLine>>> {
    let rows = select(
        conn,
        concat!(
            "SELECT l.device_id AS line_device_id, l.position, l.number_id AS line_number_id, \
             l.sip_user, l.sip_password, n.e164 AS line_e164, n.label_first, n.label_last, ",
            user_columns!(),
            " FROM device_lines l JOIN numbers n ON n.id = l.number_id \
             LEFT JOIN users u ON u.number_id = l.number_id WHERE"
        ),
        "l.device_id",
        "ORDER BY l.device_id, l.position",
        ids,
    )
    .await?;
    let mut lines: HashMap<i64, Vec<DeviceLine>> = HashMap::new();
    for row in &rows {
        let position: i64 = get(row, "position")?;
        let e164: String = get(row, "line_e164")?;
        let user_id: Option<i64> = get(row, "id")?;
        lines
            .entry(get(row, "line_device_id")?)
            .or_default()
            .push(DeviceLine {
                position: line_position(position)?,
                number_id: NumberId(get(row, "line_number_id")?),
                number: e164.parse().map_err(|e| corrupt("number", e))?,
                sip_user: get(row, "sip_user")?,
                sip_password: Secret::new(get(row, "sip_password")?),
                label: join_label(
                    get::<Option<String>>(row, "label_first")?.as_deref(),
                    get::<Option<String>>(row, "label_last")?.as_deref(),
                ),
                user: user_id.map(|_| user_from(row)).transpose()?,
            });
    }
    Ok(lines)
}

/// What the keys of the given users' phones are made from, by user id.
#[derive(Default)]
struct UserKeys {
    monitors: HashMap<i64, Vec<User>>,
    speed_dials: HashMap<i64, Vec<(String, String)>>,
    pickup: HashMap<i64, KeyGroup>,
    park: HashMap<i64, Vec<KeyGroup>>,
}

impl UserKeys {
    async fn read(conn: &mut AnyConnection, backend: Backend, users: &[i64]) -> Result<UserKeys> {
        let mut keys = UserKeys::default();
        if users.is_empty() {
            return Ok(keys);
        }
        // A monitor list shows only users of the watcher's own tenant.
        let rows = select(
            conn,
            concat!(
                "SELECT m.user_id AS watcher_id, ",
                user_columns!(),
                " FROM users u LEFT JOIN numbers n ON n.id = u.number_id \
                 JOIN monitors m ON m.monitored_user_id = u.id AND m.tenant_id = u.tenant_id \
                 WHERE"
            ),
            "m.user_id",
            "ORDER BY m.user_id, m.position",
            users,
        )
        .await?;
        for row in &rows {
            let watcher: i64 = get(row, "watcher_id")?;
            keys.monitors
                .entry(watcher)
                .or_default()
                .push(user_from(row)?);
        }
        let rows = select(
            conn,
            "SELECT user_id, label, target FROM speed_dials WHERE",
            "user_id",
            "ORDER BY user_id, position",
            users,
        )
        .await?;
        for row in &rows {
            let user: i64 = get(row, "user_id")?;
            let dial = (get(row, "label")?, get(row, "target")?);
            keys.speed_dials.entry(user).or_default().push(dial);
        }
        let rows = select(
            conn,
            "SELECT m.user_id, g.name FROM pickup_members m \
             JOIN pickup_groups g ON g.id = m.group_id AND g.tenant_id = m.tenant_id WHERE",
            "m.user_id",
            "",
            users,
        )
        .await?;
        for row in &rows {
            let group = KeyGroup {
                name: get(row, "name")?,
                slots: Vec::new(),
            };
            keys.pickup.insert(get(row, "user_id")?, group);
        }
        let rows = select(
            conn,
            "SELECT m.user_id, g.id AS group_id, g.name FROM park_members m \
             JOIN park_groups g ON g.id = m.group_id AND g.tenant_id = m.tenant_id WHERE",
            "m.user_id",
            &format!("ORDER BY m.user_id, {}, g.id", by_bytes(backend, "g.name")),
            users,
        )
        .await?;
        let groups = distinct(
            rows.iter()
                .map(|row| get::<i64>(row, "group_id"))
                .collect::<Result<Vec<_>>>()?,
        );
        let mut slots: HashMap<i64, Vec<String>> = HashMap::new();
        if !groups.is_empty() {
            let slot_rows = select(
                conn,
                "SELECT group_id, extension FROM park_slots WHERE",
                "group_id",
                "ORDER BY group_id, position",
                &groups,
            )
            .await?;
            for row in &slot_rows {
                let group: i64 = get(row, "group_id")?;
                slots.entry(group).or_default().push(get(row, "extension")?);
            }
        }
        for row in &rows {
            let user: i64 = get(row, "user_id")?;
            let group: i64 = get(row, "group_id")?;
            keys.park.entry(user).or_default().push(KeyGroup {
                name: get(row, "name")?,
                slots: slots.get(&group).cloned().unwrap_or_default(),
            });
        }
        Ok(keys)
    }
}

/// `{head} {column} IN (…) {tail}` for `ids`. The list is padded to a power of two by repeating
/// its last id (which changes nothing in an `IN` list), so batches of any size share a handful
/// of prepared statements.
async fn select(
    conn: &mut AnyConnection,
    head: &str,
    column: &str,
    tail: &str,
    ids: &[i64],
) -> Result<Vec<AnyRow>> {
    let Some(last) = ids.last() else {
        return Ok(Vec::new());
    };
    let n = ids.len().next_power_of_two();
    let sql = format!("{head} {column} IN ({}) {tail}", placeholders(n, 1));
    let mut query = sqlx::query(&sql);
    for id in ids.iter().chain(std::iter::repeat_n(last, n - ids.len())) {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(&mut *conn).await?)
}

/// `user`'s list from `map` (empty for no user, or none there).
fn take<T>(map: &mut HashMap<i64, Vec<T>>, user: Option<&i64>) -> Vec<T> {
    user.and_then(|u| map.remove(u)).unwrap_or_default()
}

/// The values of `values`, each once, in first-seen order.
fn distinct(values: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut seen = std::collections::HashSet::new();
    values.into_iter().filter(|v| seen.insert(*v)).collect()
}

#[cfg(test)]
mod tests {
    use super::distinct;

    #[test]
    fn distinct_keeps_the_first_of_each() {
        assert_eq!(distinct([3, 1, 3, 2, 1]), vec![3, 1, 2]);
        assert!(distinct([]).is_empty());
    }
}
