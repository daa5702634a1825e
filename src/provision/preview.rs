//! What a device would receive, for `autoprov render`: the admin's view, through the same
//! rendering as a phone's request but without touching trust state (no first contact is used
//! up) or the device-file cache, and with the device's secrets masked unless asked for.

use super::{Outcome, Provisioner, RenderedFile};
use crate::error::{Error, Result};
use crate::model::{DeviceRecord, Mac};
use crate::render::FileMatch;

/// A file as `autoprov render` shows it.
#[derive(Debug, serde::Serialize)]
pub struct Preview {
    pub body: String,
    pub content_type: String,
    pub etag: String,
}

impl Provisioner {
    /// What `mac` would receive for `file` (default: its family's main file), as a proven phone
    /// gets it. Unless `reveal`, every secret of the device (SIP and web-admin passwords) is
    /// replaced by `********`.
    pub async fn preview(&self, mac: Mac, file: Option<&str>, reveal: bool) -> Result<Preview> {
        let device = self
            .store
            .device_by_mac(mac)
            .await?
            .ok_or_else(|| Error::not_found("device", mac))?;
        let family = self
            .catalog
            .family_by_name(&device.family)
            .ok_or_else(|| Error::not_found("device family", &device.family))?;
        let name = match file {
            Some(file) => file.to_owned(),
            None => self.device_file_name(family, mac),
        };
        let matched = self.preview_match(family, mac, &name)?;
        // The record is read once: for the device's file and for the secrets to mask.
        let mut record = None;
        let file = if matched.mac.is_some() {
            let as_of = self.as_of(device.tenant_id);
            let loaded = self.store.device_record(device.id).await?;
            let directory = self.directory_for(&matched, &loaded, as_of).await?;
            let spec = self.catalog.family(family);
            let mut context =
                super::FileContext::for_device(spec, &loaded, &directory, &self.settings)?;
            context.directory_group = matched.group;
            let body = self.catalog.render(family, matched.file, &context)?;
            record = Some(loaded);
            RenderedFile::new(body, &spec.file(matched.file).content_type)
        } else {
            match self.shared_file(&matched, &name, Some(device.model.clone()), Some(mac)) {
                Outcome::Found(file) => file,
                _ => return Err(Error::not_found("file", &name)),
            }
        };
        let mut body = String::from_utf8_lossy(&file.body).into_owned();
        if !reveal {
            let record = match record {
                Some(record) => record,
                None => self.store.device_record(device.id).await?,
            };
            body = masked(body, &record);
        }
        Ok(Preview {
            body,
            content_type: file.content_type.clone(),
            etag: file.etag.clone(),
        })
    }

    /// The family's match for `name`, which must be `mac`'s file or a file with no device in it.
    fn preview_match(&self, family: usize, mac: Mac, name: &str) -> Result<FileMatch> {
        let matched = self
            .catalog
            .match_file(name)
            .iter()
            .find(|m| m.family == family)
            .cloned()
            .ok_or_else(|| {
                Error::not_found("file", format!("{name} (no such file for this family)"))
            })?;
        match matched.mac {
            Some(file_mac) if file_mac != mac => Err(Error::invalid(
                "file",
                format!("{name} is another device's file"),
            )),
            _ => Ok(matched),
        }
    }

    /// The family's main device file for `mac` (manifest `device_file`).
    pub(super) fn device_file_name(&self, family: usize, mac: Mac) -> String {
        self.catalog
            .family(family)
            .manifest
            .device_file
            .replace("{mac}", &mac.to_string())
            .replace("{MAC}", &mac.upper())
    }
}

/// `body` with every secret of the device replaced by `********`.
fn masked(mut body: String, record: &DeviceRecord) -> String {
    let secrets = std::iter::once(&record.device.admin_password)
        .chain(record.device.access.http_password.iter())
        .chain(record.lines.iter().map(|l| &l.sip_password));
    for secret in secrets {
        if !secret.expose().is_empty() {
            body = body.replace(secret.expose(), "********");
        }
    }
    body
}
