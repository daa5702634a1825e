//! Handsets: registering a device by MAC and model, and logging numbers in to it.

use rand::Rng;

use super::{Admin, LoginDetails, LoginTarget};
use crate::error::{Error, Result};
use crate::model::{Device, Mac, Secret, TenantId};
use crate::store::NewDevice;

#[derive(Clone, Debug, Default)]
pub struct DeviceInput {
    pub mac: String,
    /// A model from a family manifest, e.g. `T54W`.
    pub model: String,
    /// Site id or name; the tenant's default site when absent.
    pub site: Option<String>,
}

/// A handset with what an admin looks it up for.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DeviceDetail {
    #[serde(flatten)]
    pub device: Device,
    /// `awaiting-first-contact` (window open, no credentials yet), `provisioned` (has its
    /// credentials), or `registered` (window closed without credentials: re-arm it).
    pub state: &'static str,
    /// The numbers logged in, by account slot.
    pub lines: Vec<crate::model::DeviceLine>,
    pub last_seen: Option<crate::store::LastSeen>,
}

impl Admin {
    /// A handset by MAC or Phone ID: its state, lines and last sighting.
    pub async fn device_detail(&self, tenant: TenantId, handset: &str) -> Result<DeviceDetail> {
        let device = self.handset(tenant, handset).await?;
        let last_seen = self.store.device_last_seen(device.id).await?;
        let lines = self.store.device_record(device.id).await?.lines;
        let state = match (
            &device.access.http_password,
            device.access.first_contact_until,
        ) {
            (Some(_), _) => "provisioned",
            (None, Some(until)) if until > now() => "awaiting-first-contact",
            (None, _) => "registered",
        };
        Ok(DeviceDetail {
            device,
            state,
            lines,
            last_seen,
        })
    }

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
        let mut new = NewDevice {
            tenant_id: tenant,
            site_id: site.id,
            mac,
            family: self.catalog.family(family).manifest.family.clone(),
            model: model.name.clone(),
            phone_id: phone_id(),
            admin_password: Secret::generate(),
            first_contact_until: Some(now() + i64::from(site.first_contact_hours) * 3600),
        };
        // A Phone ID is one of 25^6; on the rare collision, draw again.
        for _ in 0..4 {
            if self
                .store
                .device_by_phone_id_any(&new.phone_id)
                .await?
                .is_none()
            {
                break;
            }
            new.phone_id = phone_id();
        }
        self.store.device_create(&new).await
    }

    pub async fn device_list(&self, tenant: TenantId) -> Result<Vec<Device>> {
        self.store.device_list(tenant).await
    }

    /// Moves a handset (by MAC or Phone ID) to another site of the tenant — only while no number
    /// is logged in to it, since numbers log in at their own site.
    pub async fn device_move(&self, tenant: TenantId, handset: &str, site: &str) -> Result<Device> {
        let device = self.handset(tenant, handset).await?;
        let site = self.site(tenant, Some(site)).await?;
        let record = self.store.device_record(device.id).await?;
        if let Some(line) = record.lines.first() {
            return Err(Error::Conflict(format!(
                "{} is logged in to handset {}: log it out before moving the handset",
                line.number, device.phone_id
            )));
        }
        self.store.device_set_site(&device, site.id).await?;
        self.handset(tenant, handset).await
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

    /// Logs `number` in to the handset with `mac` (one number per handset, as the portal):
    /// see [`Admin::number_login`].
    pub async fn device_login(
        &self,
        tenant: TenantId,
        mac: &str,
        number: &str,
    ) -> Result<LoginDetails> {
        let target = LoginTarget {
            handset: mac.to_owned(),
            additional_line: false,
        };
        self.number_login(tenant, number, &target).await
    }
}

/// A Phone ID: six characters a phone can show and a person can read out without confusing
/// 0/O, 1/I/L, 2/Z, 5/S or 8/B.
fn phone_id() -> String {
    const ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTUVWXY34679";
    let mut rng = rand::rng();
    (0..6)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}
