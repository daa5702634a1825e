//! Handsets: registering a device by MAC and model, and logging numbers in to it.

use serde::Serialize;

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{Device, Mac, NumberStatus, Secret, TenantId, UserState, E164};
use crate::store::NewDevice;

#[derive(Clone, Debug, Default)]
pub struct DeviceInput {
    pub mac: String,
    /// A model from a family manifest, e.g. `T54W`.
    pub model: String,
    /// Site id or name; the tenant's default site when absent.
    pub site: Option<String>,
}

/// What a login created. The SIP password is not part of it: it goes to the phone only.
#[derive(Clone, Debug, Serialize)]
pub struct LoginResult {
    pub mac: Mac,
    pub number: E164,
    /// The account slot on the phone.
    pub position: u16,
    pub sip_user: String,
}

impl Admin {
    pub async fn device_add(&self, tenant: TenantId, input: &DeviceInput) -> Result<Device> {
        let mac: Mac = input.mac.parse()?;
        let (family, model) = self.catalog.find_model(input.model.trim()).ok_or_else(|| {
            let known: Vec<&str> = self
                .catalog
                .families()
                .iter()
                .flat_map(|f| f.manifest.models.iter().map(|m| m.name.as_str()))
                .collect();
            Error::invalid(
                "model",
                format!(
                    "{:?} is not a known model (known: {})",
                    input.model,
                    known.join(", ")
                ),
            )
        })?;
        let site = self.site(tenant, input.site.as_deref()).await?;
        if self.store.device_by_mac(mac).await?.is_some() {
            return Err(Error::Conflict(format!(
                "a device with MAC {mac} is already registered"
            )));
        }
        self.store
            .device_create(&NewDevice {
                tenant_id: tenant,
                site_id: site.id,
                mac,
                family: self.catalog.family(family).manifest.family.clone(),
                model: model.name.clone(),
                admin_password: Secret::generate(),
                first_contact_until: Some(now() + i64::from(site.first_contact_hours) * 3600),
            })
            .await
    }

    pub async fn device_list(&self, tenant: TenantId) -> Result<Vec<Device>> {
        self.store.device_list(tenant).await
    }

    /// Re-opens the device's first-contact window, for `hours` or the site's default: the next
    /// fetch without credentials gets the full file and new HTTP credentials.
    pub async fn device_arm(&self, tenant: TenantId, mac: &str, hours: Option<u32>) -> Result<i64> {
        let device = self.device(tenant, mac).await?;
        let site = self.store.site_get(tenant, device.site_id).await?;
        let hours = hours.unwrap_or(site.first_contact_hours);
        if !(1..=24 * 90).contains(&hours) {
            return Err(Error::invalid(
                "hours",
                format!("{hours} is not between 1 and 2160 (90 days)"),
            ));
        }
        let until = now() + i64::from(hours) * 3600;
        self.store.device_arm(&device, until).await?;
        Ok(until)
    }

    /// Issues new HTTP credentials to a device that has some; the old password keeps working for
    /// `overlap_hours`, so the phone can fetch the new one with the old.
    pub async fn device_rotate_credentials(
        &self,
        tenant: TenantId,
        mac: &str,
        overlap_hours: u32,
    ) -> Result<i64> {
        let device = self.device(tenant, mac).await?;
        if device.access.http_password.is_none() {
            return Err(Error::Conflict(format!(
                "device {} has no credentials yet: it gets them at first contact (see `device arm`)",
                device.mac
            )));
        }
        if overlap_hours > 24 * 90 {
            return Err(Error::invalid(
                "overlap_hours",
                format!("{overlap_hours} is more than 2160 (90 days)"),
            ));
        }
        let until = now() + i64::from(overlap_hours) * 3600;
        self.store
            .device_rotate(&device, &Secret::generate(), until)
            .await?;
        Ok(until)
    }

    /// Logs `number` in to the handset with `mac`: the next free account slot gets the number
    /// with a new SIP user and a random password, which the phone receives at its next fetch.
    pub async fn device_login(
        &self,
        tenant: TenantId,
        mac: &str,
        number: &str,
    ) -> Result<LoginResult> {
        let device = self.device(tenant, mac).await?;
        let e164: E164 = number.parse()?;
        let number = self.store.number_by_e164(tenant, &e164).await?;
        if number.status != NumberStatus::Active {
            return Err(Error::Conflict(format!(
                "{e164} is {}; only an active number can be logged in to a handset",
                number.status
            )));
        }
        if number.is_main {
            return Err(Error::Conflict(format!(
                "{e164} is its site's main number and cannot be logged in to a handset"
            )));
        }
        if let Some(user) = self.store.user_by_number(number.id).await? {
            if user.state == UserState::Pending {
                return Err(Error::Conflict(format!(
                    "{e164} belongs to {}, who is pending: a pending user's handset cannot change until the user is active",
                    user.display_name()
                )));
            }
        }
        let record = self.store.device_record(device.id).await?;
        if record.lines.iter().any(|l| l.number_id == number.id) {
            return Err(Error::Conflict(format!(
                "{e164} is already logged in to this handset"
            )));
        }
        let family = &self
            .catalog
            .family_by_name(&device.family)
            .map(|f| self.catalog.family(f));
        let accounts = family
            .and_then(|f| {
                f.model(&device.model)
                    .map(|m| m.accounts)
                    .or(Some(f.manifest.defaults.accounts))
            })
            .unwrap_or(1);
        let next = record.lines.iter().map(|l| l.position).max().unwrap_or(0) + 1;
        if next > accounts {
            return Err(Error::Conflict(format!(
                "all {accounts} accounts of this {} are in use",
                device.model
            )));
        }
        let sip_user = e164.digits().to_owned();
        let position = self
            .store
            .device_login(&device, number.id, &sip_user, &Secret::generate())
            .await?;
        Ok(LoginResult {
            mac: device.mac,
            number: e164,
            position,
            sip_user,
        })
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}
