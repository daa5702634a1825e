//! Handsets: registering a device by MAC and model, and logging numbers in to it; the
//! operator's reservations of MACs for a tenant and moves between tenants.

use rand::Rng;

use super::{Admin, LoginDetails, LoginTarget};
use crate::error::{Error, Result};
use crate::model::{Device, ListQuery, Listed, Mac, Secret, TenantId, E164};
use crate::store::{HandsetLines, LineLogin, MacHolder, NewDevice, Reservation};

/// A handset to register.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewDevice)]
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
    pub view: super::DeviceView,
    /// The numbers logged in, by account slot.
    pub lines: Vec<crate::model::DeviceLine>,
}

impl Admin {
    /// A handset by MAC or Phone ID: its state, lines, last sighting and last refusal.
    pub async fn device_detail(&self, tenant: TenantId, handset: &str) -> Result<DeviceDetail> {
        let device = self.handset(tenant, handset).await?;
        let activity = self.store.device_activity(device.id).await?;
        let lines = self.store.device_record(device.id).await?.lines;
        Ok(DeviceDetail {
            view: super::DeviceView::new(device, activity, now(), super::rollout::STALE_DAYS),
            lines,
        })
    }

    /// Registers a handset for `tenant`. A MAC registered in any tenant (this one included), or
    /// reserved by the operator for another tenant, is refused with the same answer, which
    /// names no tenant: nobody learns from it where a MAC is.
    pub async fn device_add(&self, tenant: TenantId, input: &DeviceInput) -> Result<Device> {
        let mac: Mac = input.mac.parse()?;
        let (family, model) = self.model_of(&input.model)?;
        let site = self.site(tenant, input.site.as_deref()).await?;
        let mut new = NewDevice {
            tenant_id: tenant,
            site_id: site.id,
            mac,
            family,
            model,
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
        // A MAC registered anywhere, or reserved for another tenant, gets the one answer. A
        // site removed since it was read above is a conflict with that removal.
        self.store
            .device_create(&new)
            .await
            .map_err(|e| match e {
                Error::NotFound { what: "site", .. } => Error::conflict(format!(
                    "site {:?} was removed while the device was being added: add it to another site",
                    site.name
                ))
                .coded("site_removed_meanwhile", [("site", site.name.clone())]),
                e => e,
            })?
            .ok_or_else(|| mac_unavailable(mac))
    }

    pub async fn device_list(&self, tenant: TenantId) -> Result<Vec<Device>> {
        self.store.device_list(tenant).await
    }

    /// The tenant's logged-in lines (which number sits in which handset's slot), by number.
    pub async fn handset_lines(&self, tenant: TenantId) -> Result<Vec<LineLogin>> {
        self.store.line_logins(tenant).await
    }

    pub async fn device_page(&self, tenant: TenantId, query: &ListQuery) -> Result<Listed<Device>> {
        self.store.device_page(tenant, query).await
    }

    /// Moves a handset (by MAC or Phone ID) to another site of the tenant — only while no number
    /// is logged in to it, since numbers log in at their own site.
    pub async fn device_move(&self, tenant: TenantId, handset: &str, site: &str) -> Result<Device> {
        let device = self.handset(tenant, handset).await?;
        let site = self.site(tenant, Some(site)).await?;
        let rule = |lines: &HandsetLines| match lines.0.first() {
            Some(number) => Err(Error::conflict(format!(
                "{number} is logged in to handset {}: log it out before moving the handset",
                device.phone_id
            ))
            .coded(
                "handset_move_logged_in",
                [
                    ("number", number.to_string()),
                    ("phone_id", device.phone_id.clone()),
                ],
            )),
            None => Ok(()),
        };
        self.store.device_set_site(&device, site.id, rule).await?;
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
            )
            .coded("first_contact_hours", [("hours", hours.to_string())]));
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
            return Err(Error::conflict(format!(
                "device {} has no credentials yet: it gets them at first contact (see `device arm`)",
                device.mac
            ))
            .coded("device_no_credentials", [("mac", device.mac.to_string())]));
        }
        if overlap_hours > 24 * 90 {
            return Err(Error::invalid(
                "overlap_hours",
                format!("{overlap_hours} is more than 2160 (90 days)"),
            )
            .coded("overlap_hours", [("hours", overlap_hours.to_string())]));
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
        let number = self.number(tenant, number).await?;
        self.number_login(tenant, &number, &target).await
    }
}

/// Most MACs reserved in one call.
const MAX_RESERVE: usize = 1000;

/// A handset moved to another tenant, and the numbers that were logged out of it (they stay
/// with their tenant).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TenantMove {
    pub device: Device,
    pub lines_logged_out: Vec<E164>,
}

impl Admin {
    /// Reserves MACs for `tenant` (the operator's: "devices bought from us are already
    /// registered"), all or none: from now on only `tenant` can register them. A MAC registered
    /// in, or reserved for, another tenant is refused, naming it (the operator sees every
    /// tenant); one already reserved for `tenant`, or registered there, is kept as it is.
    pub async fn device_reserve(
        &self,
        tenant: TenantId,
        macs: &[String],
    ) -> Result<Vec<Reservation>> {
        if macs.is_empty() || macs.len() > MAX_RESERVE {
            return Err(Error::invalid(
                "macs",
                format!("{} MACs: give 1 to {MAX_RESERVE}", macs.len()),
            )
            .coded(
                "reserve_count",
                [
                    ("count", macs.len().to_string()),
                    ("max", MAX_RESERVE.to_string()),
                ],
            ));
        }
        let mut parsed: Vec<Mac> = macs
            .iter()
            .map(|m| m.trim().parse())
            .collect::<Result<_>>()?;
        parsed.sort();
        parsed.dedup();
        if let Err((mac, holder)) = self.store.reservations_add(tenant, &parsed).await? {
            let (other, registered) = match holder {
                MacHolder::Registered(t) => (t, true),
                MacHolder::Reserved(t) => (t, false),
            };
            let name = self.store.tenant_get(other).await?.name;
            let args = [("mac", mac.to_string()), ("tenant", name.clone())];
            return Err(match registered {
                true => Error::conflict(format!(
                    "MAC {mac} is registered in tenant {name:?}: move the device \
                     (`device move-tenant`) first; nothing was reserved"
                ))
                .coded("reserve_registered", args),
                false => Error::conflict(format!(
                    "MAC {mac} is reserved for tenant {name:?}: release it there first; \
                     nothing was reserved"
                ))
                .coded("reserve_reserved", args),
            });
        }
        let all = self.store.reservations(tenant).await?;
        Ok(all
            .into_iter()
            .filter(|r| parsed.contains(&r.mac))
            .collect())
    }

    /// The MACs reserved for `tenant`.
    pub async fn device_reservations(&self, tenant: TenantId) -> Result<Vec<Reservation>> {
        self.store.reservations(tenant).await
    }

    pub async fn reservation_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<Reservation>> {
        self.store.reservation_page(tenant, query).await
    }

    /// Releases a MAC reserved for `tenant`: anyone may register it again.
    pub async fn device_release(&self, tenant: TenantId, mac: &str) -> Result<()> {
        let mac: Mac = mac.trim().parse()?;
        if !self.store.reservation_release(tenant, mac).await? {
            return Err(Error::not_found("reservation", mac));
        }
        Ok(())
    }

    /// Moves a registered handset to another tenant, at `site` of it (its default site when
    /// absent) — the operator's way to undo a wrongful claim. Numbers logged in to it are its
    /// old tenant's: they are logged out in the same write and listed in the answer. The
    /// handset keeps its Phone ID and credentials (they are the phone's); `device
    /// rotate-credentials` or `device arm` renew them if the claimant may have fetched its
    /// files. A MAC reserved for a third tenant is refused: release it first.
    pub async fn device_move_tenant(
        &self,
        mac: &str,
        to: TenantId,
        site: Option<&str>,
    ) -> Result<TenantMove> {
        let mac: Mac = mac.trim().parse()?;
        let device = self
            .store
            .device_by_mac(mac)
            .await?
            .ok_or_else(|| Error::not_found("device", mac))?;
        let target = self.store.tenant_get(to).await?;
        if device.tenant_id == to {
            return Err(Error::conflict(format!(
                "device {mac} is already in tenant {:?}",
                target.name
            ))
            .coded(
                "device_in_tenant",
                [("mac", mac.to_string()), ("tenant", target.name.clone())],
            ));
        }
        if let Some(holder) = self.store.reservation_of(mac).await? {
            if holder != to {
                let name = self.store.tenant_get(holder).await?.name;
                return Err(Error::conflict(format!(
                    "MAC {mac} is reserved for tenant {name:?}: release it there first"
                ))
                .coded(
                    "mac_reserved_elsewhere",
                    [("mac", mac.to_string()), ("tenant", name.clone())],
                ));
            }
        }
        let site = self.site(to, site).await?;
        let lines_logged_out = self.store.device_move_tenant(&device, to, site.id).await?;
        let device = self
            .store
            .device_by_mac(mac)
            .await?
            .ok_or_else(|| Error::not_found("device", mac))?;
        Ok(TenantMove {
            device,
            lines_logged_out,
        })
    }
}

/// The one answer to a registration that cannot be made — the MAC is registered here, or in
/// another tenant, or reserved for another —, so that it tells nobody which.
pub(super) fn mac_unavailable(mac: Mac) -> Error {
    Error::conflict(format!("a device with MAC {mac} is already registered"))
        .coded("mac_registered", [("mac", mac.to_string())])
}

/// A Phone ID: six characters a phone can show and a person can read out without confusing
/// 0/O, 1/I/L, 2/Z, 5/S or 8/B.
pub(super) fn phone_id() -> String {
    const ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTUVWXY34679";
    let mut rng = rand::rng();
    (0..6)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

pub(super) fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}
