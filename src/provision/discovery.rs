//! What SIP tells phones, decided here so that the SIP transport renders nothing itself: the
//! PnP answer (the family's provisioning URL for a SUBSCRIBE), and which phones a change must be
//! told of (resync).
//!
//! PnP answers every phone of a family that has a `pnp_url`, registered or not, with the same
//! URL (the asking MAC aside): the URL is public and holds no secret, and an answer that depended
//! on registration would tell anyone on the LAN which MACs are registered. What the phone then
//! fetches goes through the usual trust stages.
//!
//! A change is told to a phone when its main file, rendered now, differs from the one it was
//! last served (or told of). The render goes into the same cache the phone's fetch will hit.

use std::net::IpAddr;

use super::output::{lock, FileKey};
use super::{DeviceNote, FileContext, Outcome, Provisioner};
use crate::error::{Error, Result};
use crate::model::{Device, Mac};
use crate::store::Changed;

/// What a PnP SUBSCRIBE gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PnpAnswer {
    pub family: String,
    pub url: String,
}

/// A phone to tell to fetch its files again.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ResyncTarget {
    #[serde(serialize_with = "as_text")]
    #[schema(value_type = String)]
    pub mac: Mac,
    pub family: String,
    /// The family's NOTIFY event (`check-sync`, `resync`); none for a family that has none.
    pub event: Option<String>,
    /// Where it was last seen; none for a phone never seen (nothing to send a NOTIFY to).
    #[schema(value_type = Option<String>)]
    pub address: Option<IpAddr>,
    /// The SIP users of its lines, in slot order (for the PBX's hook).
    pub line_users: Vec<String>,
}

fn as_text<S: serde::Serializer>(mac: &Mac, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(mac)
}

impl Provisioner {
    /// The answer to a PnP SUBSCRIBE from `mac`: the family its User-Agent, its `vendor` or
    /// else its MAC's vendor prefix names, when that family has a `pnp_url`.
    pub fn pnp_answer(
        &self,
        vendor: Option<&str>,
        user_agent: Option<&str>,
        mac: Mac,
    ) -> Option<PnpAnswer> {
        let by_agent = user_agent
            .and_then(|ua| self.catalog.identify_user_agent(ua))
            .map(|info| info.family);
        let by_vendor = || {
            let vendor = vendor?;
            self.catalog.families().iter().position(|f| {
                f.manifest
                    .sip
                    .pnp_vendors
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(vendor))
            })
        };
        let by_prefix = || {
            let prefix = &mac.to_string()[..6];
            self.catalog.families().iter().position(|f| {
                f.manifest
                    .sip
                    .pnp_ouis
                    .iter()
                    .any(|o| o.eq_ignore_ascii_case(prefix))
            })
        };
        let family = self
            .catalog
            .family(by_agent.or_else(by_vendor).or_else(by_prefix)?);
        let url = family.manifest.sip.pnp_url.as_ref()?;
        Some(PnpAnswer {
            family: family.manifest.family.clone(),
            url: url
                .replace("{url}", &self.settings.public_url)
                .replace("{mac}", &mac.to_string())
                .replace("{MAC}", &mac.upper()),
        })
    }

    /// The phones that writes after global revision `since` gave another main file than the one
    /// they were last served or told of; each is told once (its new file is remembered).
    pub async fn resync_changed(&self, since: i64) -> Result<Vec<ResyncTarget>> {
        let mut targets = Vec::new();
        for changed in self.store.devices_changed_since(since).await? {
            match self.changed_target(&changed).await {
                Ok(Some(target)) => targets.push(target),
                Ok(None) => {}
                // Removed meanwhile: nothing to tell.
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(targets)
    }

    async fn changed_target(&self, changed: &Changed) -> Result<Option<ResyncTarget>> {
        let device = &changed.device;
        let Some(etag) = self.current_etag(device, changed.revision).await? else {
            return Ok(None);
        };
        {
            let note = self.note(device.id);
            let mut note = lock(&note);
            if note.served.as_deref() == Some(etag.as_str()) {
                return Ok(None);
            }
            note.served = Some(etag.into());
        }
        self.resync_target(device, changed.addr.as_deref())
            .await
            .map(Some)
    }

    /// Remembers `device`'s main file as it is now (at its own revision `device_revision`) as
    /// told of: a phone told to resync by hand is not told again by the watcher for the same
    /// file.
    pub async fn note_told(&self, device: &Device, device_revision: i64) -> Result<()> {
        if let Some(etag) = self.current_etag(device, device_revision).await? {
            lock(&self.note(device.id)).served = Some(etag.into());
        }
        Ok(())
    }

    /// The phone to tell about `device` (`addr` its last-seen address as stored).
    pub async fn resync_target(&self, device: &Device, addr: Option<&str>) -> Result<ResyncTarget> {
        let record = self.store.device_record(device.id).await?;
        let event = self
            .catalog
            .family_by_name(&device.family)
            .and_then(|f| self.catalog.family(f).manifest.sip.resync_event.clone());
        Ok(ResyncTarget {
            mac: device.mac,
            family: device.family.clone(),
            event,
            address: addr.and_then(|a| a.parse().ok()),
            line_users: record.lines.iter().map(|l| l.sip_user.clone()).collect(),
        })
    }

    /// The ETag of `device`'s main file as a proven phone would get it now, rendered into the
    /// device-file cache on a miss; `None` for a family or file the catalogue does not know.
    async fn current_etag(&self, device: &Device, device_revision: i64) -> Result<Option<String>> {
        let Some(family) = self.catalog.family_by_name(&device.family) else {
            return Ok(None);
        };
        let name = self.device_file_name(family, device.mac);
        let Some(matched) = self
            .catalog
            .match_file(&name)
            .iter()
            .find(|m| m.family == family)
            .cloned()
        else {
            return Ok(None);
        };
        let as_of = self.as_of(device.tenant_id);
        let key = FileKey::device(device.id, &matched, as_of.tenant, device_revision);
        if let Some(hit) = self.files.get(&key) {
            return Ok(Some(hit.etag.clone()));
        }
        let record = self.store.device_record(device.id).await?;
        let directory = self.directory_for(&matched, &record, as_of).await?;
        let context = FileContext::for_device(
            self.catalog.family(family),
            &record,
            &directory,
            &self.settings,
        )?;
        Ok(match self.render(key, &matched, &context) {
            Outcome::Found(file) => Some(file.etag.clone()),
            _ => None,
        })
    }

    /// Remembers in the device's `note` what it was served of `name`, when that is its main
    /// file: a change that leaves the file as it is then tells the phone nothing.
    pub(super) fn note_served(
        &self,
        note: &std::sync::Mutex<DeviceNote>,
        family: usize,
        mac: Mac,
        name: &str,
        etag: &str,
    ) {
        let mut note = lock(note);
        // A cache hit repeats what is recorded: nothing to change (and no name built).
        if note.served.as_deref() == Some(etag) {
            return;
        }
        if name.eq_ignore_ascii_case(&self.device_file_name(family, mac)) {
            note.served = Some(etag.into());
        }
    }
}
