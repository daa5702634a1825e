//! The `devices` kind: handsets by MAC and model at a site, an optional Phone ID, and the
//! numbers to log in to them (or a user, by e-mail or extension, whose number logs in first) —
//! `device add` and `number login`'s rules, row by row, and each MAC, Phone ID and number once
//! in the file.

use std::collections::{HashMap, HashSet};

use super::numbers::Sites;
use super::{as_field, list, seen_before, twice, Column, Kind, Row, RowError};
use crate::admin::devices::{mac_unavailable, now, phone_id};
use crate::admin::logins::{account_free, line_change, same_site};
use crate::admin::Admin;
use crate::error::{Error, FieldError, Result};
use crate::model::{Mac, Secret, TenantId, E164};
use crate::store::{Import, ImportDevice, ImportLine, NewDevice};

pub(super) struct Devices {
    tenant: TenantId,
    sites: Sites,
    /// Open first-contact windows: each site's hours.
    admin: Admin,
    macs: HashMap<Mac, u64>,
    phone_ids: HashMap<String, u64>,
    numbers: HashMap<E164, u64>,
    /// The tenant's users' numbers by e-mail and by extension, read at the first `user` cell.
    users: Option<HashMap<String, Option<E164>>>,
}

/// A row on its way in: the handset, and the numbers to log in, checked by `check`.
pub(super) struct Pending {
    device: ImportDevice,
    numbers: Vec<E164>,
    user: Option<String>,
    accounts: u16,
}

/// 1 to 16 letters and digits, kept in capitals (`device add` draws six).
fn parse_phone_id(text: &str) -> Result<String, FieldError> {
    if (1..=16).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(text.to_ascii_uppercase())
    } else {
        Err(FieldError {
            code: None,
            field: "phone_id".into(),
            message: format!("{text:?} is not 1 to 16 letters and digits"),
        })
    }
}

impl Kind for Devices {
    const COLUMNS: &'static [Column] = &[
        Column::required("mac"),
        Column::required("model"),
        Column::optional("site"),
        Column::optional("phone_id"),
        Column::optional("numbers"),
        Column::optional("user"),
    ];
    type Item = Pending;

    async fn prepare(admin: &Admin, tx: &mut Import<'_>) -> Result<Devices> {
        Ok(Devices {
            tenant: tx.tenant(),
            sites: Sites(tx.sites().await?),
            admin: admin.clone(),
            macs: HashMap::new(),
            phone_ids: HashMap::new(),
            numbers: HashMap::new(),
            users: None,
        })
    }

    fn parse(&mut self, row: &Row) -> Result<Pending, FieldError> {
        let mac: Mac = row
            .required("mac")?
            .parse()
            .map_err(|e| as_field("mac", e))?;
        let (family, model) = self
            .admin
            .model_of(row.required("model")?)
            .map_err(|e| as_field("model", e))?;
        let site = self.sites.find(row.get("site"))?;
        let given = row.get("phone_id").map(parse_phone_id).transpose()?;
        let mut numbers = Vec::new();
        for text in list(row.get("numbers")) {
            let e164: E164 = text.parse().map_err(|e| as_field("numbers", e))?;
            if let Some(first) = seen_before(&mut self.numbers, e164.clone(), row.line) {
                return Err(twice("numbers", e164.as_str(), first));
            }
            numbers.push(e164);
        }
        if let Some(first) = seen_before(&mut self.macs, mac, row.line) {
            return Err(twice("mac", &mac.to_string(), first));
        }
        if let Some(id) = &given {
            if let Some(first) = seen_before(&mut self.phone_ids, id.clone(), row.line) {
                return Err(twice("phone_id", id, first));
            }
        }
        let accounts = self.admin.accounts(&family, &model);
        let device = NewDevice {
            tenant_id: self.tenant,
            site_id: site.id,
            mac,
            family,
            model,
            phone_id: given.unwrap_or_default(),
            admin_password: Secret::generate(),
            first_contact_until: Some(now() + i64::from(site.first_contact_hours) * 3600),
        };
        Ok(Pending {
            device: ImportDevice {
                device,
                lines: Vec::new(),
            },
            numbers,
            user: row.get("user").map(str::to_owned),
            accounts,
        })
    }

    async fn check(
        &mut self,
        tx: &mut Import<'_>,
        batch: &mut [(u64, Pending)],
    ) -> Result<Vec<RowError>> {
        let mut errors = Vec::new();
        self.resolve_users(batch, &mut errors).await?;
        let macs: Vec<String> = batch
            .iter()
            .map(|(_, p)| p.device.device.mac.to_string())
            .collect();
        let macs: Vec<&str> = macs.iter().map(String::as_str).collect();
        let taken: HashSet<String> = tx.macs_taken(&macs).await?.into_iter().collect();
        let given: Vec<&str> = batch
            .iter()
            .map(|(_, p)| p.device.device.phone_id.as_str())
            .filter(|id| !id.is_empty())
            .collect();
        let ids_taken: HashSet<String> = tx.phone_ids_taken(&given).await?.into_iter().collect();
        let e164s: Vec<&str> = batch
            .iter()
            .flat_map(|(_, p)| p.numbers.iter().map(E164::as_str))
            .collect();
        let uses = tx.number_uses(&e164s).await?;
        for (line, pending) in batch.iter_mut() {
            let device = &pending.device.device;
            if taken.contains(&device.mac.to_string()) {
                errors.push(RowError::from_field(
                    *line,
                    as_field("mac", mac_unavailable(device.mac)),
                ));
                continue;
            }
            if ids_taken.contains(&device.phone_id) {
                let message = format!("Phone ID {} is taken", device.phone_id);
                errors.push(RowError::new(*line, "phone_id", message));
                continue;
            }
            if let Err(e) = lines(pending, &uses) {
                errors.push(RowError::from_field(*line, e));
            }
        }
        self.draw_phone_ids(tx, batch).await?;
        Ok(errors)
    }

    async fn write(&mut self, tx: &mut Import<'_>, batch: Vec<Pending>) -> Result<()> {
        let devices: Vec<ImportDevice> = batch.into_iter().map(|p| p.device).collect();
        tx.devices_insert(&devices).await
    }

    async fn export(admin: &Admin, tenant: TenantId) -> Result<Vec<Vec<String>>> {
        let sites = Sites(admin.store.site_list(tenant).await?);
        let mut lines: HashMap<String, Vec<(u16, String)>> = HashMap::new();
        for login in admin.store.line_logins(tenant).await? {
            let numbers = lines.entry(login.phone_id).or_default();
            numbers.push((login.position, login.number.to_string()));
        }
        let mut devices = admin.store.device_list(tenant).await?;
        devices.sort_by_key(|d| d.mac.to_string());
        Ok(devices
            .into_iter()
            .map(|d| {
                let mut numbers = lines.remove(&d.phone_id).unwrap_or_default();
                numbers.sort();
                let numbers: Vec<String> = numbers.into_iter().map(|(_, n)| n).collect();
                vec![
                    d.mac.to_string(),
                    d.model,
                    sites.name(d.site_id),
                    d.phone_id,
                    numbers.join(" "),
                    String::new(),
                ]
            })
            .collect())
    }
}

/// The handset's lines from its numbers: each of the tenant, at the handset's site, free to
/// change (active, not a main number, its user not pending) and in no handset yet, within the
/// model's accounts.
fn lines(
    pending: &mut Pending,
    uses: &HashMap<String, crate::store::NumberUse>,
) -> Result<(), FieldError> {
    let device = &pending.device.device;
    let shown = if device.phone_id.is_empty() {
        device.mac.to_string()
    } else {
        device.phone_id.clone()
    };
    let mut lines = Vec::with_capacity(pending.numbers.len());
    for (i, e164) in pending.numbers.iter().enumerate() {
        let field = "numbers";
        let fail = |e: Error| as_field(field, e);
        let number_use = uses
            .get(e164.as_str())
            .ok_or_else(|| fail(Error::not_found("number", e164)))?;
        line_change(number_use).map_err(fail)?;
        if let Some(handset) = &number_use.handset {
            return Err(fail(Error::conflict(format!(
                "{e164} is already logged in to handset {handset}"
            ))));
        }
        same_site(&number_use.number, device.site_id, &shown).map_err(fail)?;
        account_free(i as u16 + 1, pending.accounts, &device.model).map_err(fail)?;
        lines.push(ImportLine {
            number_id: number_use.number.id,
            sip_user: e164.digits().to_owned(),
            sip_password: Secret::generate(),
        });
    }
    pending.device.lines = lines;
    Ok(())
}

impl Devices {
    /// Puts the number of each row's `user` (by e-mail or extension) first in its numbers.
    async fn resolve_users(
        &mut self,
        batch: &mut [(u64, Pending)],
        errors: &mut Vec<RowError>,
    ) -> Result<()> {
        if batch.iter().all(|(_, p)| p.user.is_none()) {
            return Ok(());
        }
        if self.users.is_none() {
            let mut users = HashMap::new();
            for u in self.admin.store.user_list(self.tenant).await? {
                if let Some(email) = &u.email {
                    users.insert(email.to_ascii_lowercase(), u.number.clone());
                }
                if let Some(ext) = &u.extension {
                    users.insert(ext.clone(), u.number.clone());
                }
            }
            self.users = Some(users);
        }
        let empty = HashMap::new();
        let users = self.users.as_ref().unwrap_or(&empty);
        for (line, pending) in batch.iter_mut() {
            let Some(key) = pending.user.take() else {
                continue;
            };
            match users.get(&key.to_ascii_lowercase()) {
                None => errors.push(RowError::new(
                    *line,
                    "user",
                    format!("no user has the e-mail or extension {key:?}"),
                )),
                Some(None) => errors.push(RowError::new(
                    *line,
                    "user",
                    format!("{key} has no number to log in"),
                )),
                Some(Some(number)) if pending.numbers.contains(number) => {}
                Some(Some(number)) => match seen_before(&mut self.numbers, number.clone(), *line) {
                    Some(first) => errors.push(RowError::from_field(
                        *line,
                        twice("user", number.as_str(), first),
                    )),
                    None => pending.numbers.insert(0, number.clone()),
                },
            }
        }
        Ok(())
    }

    /// A Phone ID for each row without one, free in the store and in the file.
    async fn draw_phone_ids(
        &mut self,
        tx: &mut Import<'_>,
        batch: &mut [(u64, Pending)],
    ) -> Result<()> {
        let mut open: Vec<usize> = (0..batch.len())
            .filter(|&i| batch[i].1.device.device.phone_id.is_empty())
            .collect();
        for _ in 0..8 {
            if open.is_empty() {
                return Ok(());
            }
            let drawn: Vec<String> = open.iter().map(|_| phone_id()).collect();
            let refs: Vec<&str> = drawn.iter().map(String::as_str).collect();
            let taken: HashSet<String> = tx.phone_ids_taken(&refs).await?.into_iter().collect();
            let mut left = Vec::new();
            for (i, id) in open.into_iter().zip(drawn) {
                if taken.contains(&id) || self.phone_ids.contains_key(&id) {
                    left.push(i);
                } else {
                    self.phone_ids.insert(id.clone(), batch[i].0);
                    batch[i].1.device.device.phone_id = id;
                }
            }
            open = left;
        }
        Err(Error::conflict(
            "could not draw free Phone IDs: give them in a phone_id column",
        ))
    }
}
