//! The last stage: the file itself. A device's file comes from the cache, keyed by device, file,
//! the tenant's revision and the device's own (moved by writes that change only it, such as its
//! first contact), or is rendered from one `DeviceRecord` on a miss; files with no
//! device in them (shared and bootstrap files) are cached per family, file and model. A request
//! no phone file answers gets the static file of its path (`StaticFiles`). Where devices were
//! seen is written here too, in batches.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::admit::Known;
use super::identify::Asked;
use super::trust::Gate;
use super::{
    DeviceNote, FileContext, FileRequest, Outcome, Provisioner, RenderedFile, SharedDirectory,
    StaticFile,
};
use crate::error::{Error, Result};
use crate::model::{Device, DeviceId, DeviceRecord, Mac, PhoneDirectory, SiteId, TenantId};
use crate::render::FileMatch;

/// A tenant's directory as of one directory revision, and the view of it each site's phones
/// get, built on first use and shared by every render after.
pub(super) struct TenantDirectory {
    pub(super) data: PhoneDirectory,
    sites: std::sync::Mutex<std::collections::HashMap<SiteId, SharedDirectory>>,
}

impl TenantDirectory {
    fn for_site(&self, site: SiteId) -> SharedDirectory {
        let mut sites = self.sites.lock().unwrap_or_else(|e| e.into_inner());
        sites
            .entry(site)
            .or_insert_with(|| SharedDirectory::build(&self.data, site))
            .clone()
    }
}

/// The revisions a device's file is read at, taken before anything is loaded (see the module
/// docs of `provision`).
#[derive(Clone, Copy)]
pub(super) struct AsOf {
    /// The tenant's revision: what the file's cache key carries.
    pub(super) tenant: i64,
    /// The tenant's directory revision: what the shared directory is cached by.
    pub(super) directory: i64,
}

#[derive(Clone, Hash, PartialEq, Eq)]
pub(super) enum FileKey {
    /// A device's file by what its render reads of the request: which of the family's files
    /// it is, and for a grouped directory which group (the name's letter case, and which of
    /// a file's names was asked for, change nothing rendered). No text: a hit allocates nothing.
    Device {
        device: DeviceId,
        family: usize,
        file: usize,
        group: Option<u16>,
        /// The tenant's revision: any write in the tenant but one that changes only a device.
        revision: i64,
        /// The device's own revision: a write that changes only this device.
        device_revision: i64,
    },
    /// Files with no device in them, which depend only on the templates, the model and (for
    /// files declared `requester_mac`) the MAC the User-Agent gave.
    Shared {
        family: usize,
        file: String,
        model: Option<String>,
        requester: Option<Mac>,
    },
}

impl FileKey {
    /// The key of `device`'s file `matched` at the tenant's `revision` and its own.
    pub(super) fn device(
        device: DeviceId,
        matched: &FileMatch,
        revision: i64,
        device_revision: i64,
    ) -> FileKey {
        FileKey::Device {
            device,
            family: matched.family,
            file: matched.file,
            group: matched.group,
            revision,
            device_revision,
        }
    }
}

impl Provisioner {
    /// The file a trusted request for `known`'s file gets.
    pub(super) async fn device_file(
        &self,
        asked: &Asked<'_>,
        known: &Known,
        gate: Gate,
        proven: bool,
        request: &FileRequest<'_>,
    ) -> Result<Outcome> {
        let Some(matched) = asked.matches.iter().find(|m| m.family == known.family) else {
            self.count_failure(request, gate, None).await;
            return Ok(Outcome::NotFound("file of another family"));
        };
        let device = &known.device;
        let note = self.note(device.id);
        self.record_seen(&note, device, request, asked.firmware.clone(), proven);
        // Read the revisions before loading (see the module docs): the device's was read with
        // `known`, which is loaded again once any write is seen.
        let as_of = self.as_of(device.tenant_id);
        let key = FileKey::device(device.id, matched, as_of.tenant, known.revision);
        if let Some(hit) = self.files.get(&key) {
            self.note_served(&note, known.family, device.mac, asked.name, &hit.etag);
            return Ok(Outcome::Found(hit));
        }
        let record = match self.records.get(device.id).await {
            Ok(record) => record,
            // Deleted between lookup and load: as unknown as any other MAC.
            Err(Error::NotFound { .. }) => {
                self.count_failure(request, gate, None).await;
                return Ok(Outcome::NotFound("unknown MAC"));
            }
            Err(e) => return Err(e),
        };
        self.warn_unknown_model(known.family, &record.device.model);
        let directory = self.directory_for(matched, &record, as_of).await?;
        let family = self.catalog.family(known.family);
        let mut context = FileContext::for_device(family, &record, &directory, &self.settings)?;
        context.directory_group = matched.group;
        let outcome = self.render(key, matched, &context);
        if let Outcome::Found(file) = &outcome {
            self.note_served(&note, known.family, device.mac, asked.name, &file.etag);
        }
        Ok(outcome)
    }

    /// The tenant's revisions now, read before anything of the tenant is loaded: the directory
    /// revision after the tenant's, so neither can be newer than what is then loaded.
    pub(super) fn as_of(&self, tenant: TenantId) -> AsOf {
        let (tenant, directory) = self.store.revisions().tenant_and_directory(tenant);
        AsOf { tenant, directory }
    }

    /// The shared directory of `record`'s site if the file `matched` names shows one, else an
    /// empty one: a file that does not show it costs nothing more in a bigger tenant.
    pub(super) async fn directory_for(
        &self,
        matched: &FileMatch,
        record: &DeviceRecord,
        as_of: AsOf,
    ) -> Result<SharedDirectory> {
        if !self.catalog.uses_directory(matched.family, matched.file) {
            return Ok(SharedDirectory::empty());
        }
        let tenant = self.directory(record.tenant.id, as_of.directory).await?;
        Ok(tenant.for_site(record.site.id))
    }

    /// Logs, once per family and model, a model the family's manifest does not list.
    fn warn_unknown_model(&self, family: usize, model: &str) {
        let family_spec = self.catalog.family(family);
        if family_spec.model(model).is_some() {
            return;
        }
        let new = self
            .unknown_models
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((family, model.to_owned()));
        if new {
            tracing::warn!(
                family = %family_spec.manifest.family,
                model = %model,
                "model not in the family's manifest: using the family's defaults"
            );
        }
    }

    /// The bootstrap version of a device file: the same for every MAC of the family.
    pub(super) fn bootstrap(&self, matched: &FileMatch, file: &str) -> Option<Outcome> {
        let family = self.catalog.family(matched.family);
        family.file(matched.file).bootstrap.as_ref()?;
        let key = FileKey::Shared {
            family: matched.family,
            file: format!("bootstrap:{}", family.file(matched.file).template),
            model: None,
            requester: None,
        };
        if let Some(hit) = self.files.get(&key) {
            return Some(Outcome::Found(hit));
        }
        let context = FileContext::shared(family, None, &self.settings);
        let spec = family.file(matched.file);
        match self
            .catalog
            .render_bootstrap(matched.family, matched.file, &context)?
        {
            Ok(body) => {
                let rendered = RenderedFile::new(body, &spec.content_type);
                self.files.insert(key, rendered.clone());
                Some(Outcome::Found(rendered))
            }
            Err(e) => {
                self.metrics.render_errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(file, error = %e, "rendering a bootstrap file failed");
                None
            }
        }
    }

    /// A file with no device in it. Its model comes from the file name's model code or else the
    /// User-Agent, and only a model the manifest lists counts: an unknown code is an unknown file,
    /// and an unknown User-Agent model adds no cache entry of its own.
    pub(super) fn shared_file(
        &self,
        matched: &FileMatch,
        file: &str,
        ua_model: Option<String>,
        ua_mac: Option<Mac>,
    ) -> Outcome {
        let family = self.catalog.family(matched.family);
        let model = match matched.model_code {
            Some(code) => match family.model_by_code(code) {
                Some(m) => Some(m.name.clone()),
                None => return Outcome::NotFound("unknown model code"),
            },
            None => ua_model.and_then(|name| family.model(&name).map(|m| m.name.clone())),
        };
        let requester = ua_mac.filter(|_| family.file(matched.file).requester_mac);
        let key = FileKey::Shared {
            family: matched.family,
            file: file.to_ascii_lowercase(),
            model: model.clone(),
            requester,
        };
        if let Some(hit) = self.files.get(&key) {
            return Outcome::Found(hit);
        }
        let mut context = FileContext::shared(family, model.as_deref(), &self.settings);
        context.requester_mac = requester.map(|m| m.to_string());
        self.render(key, matched, &context)
    }

    pub(super) fn render(
        &self,
        key: FileKey,
        matched: &FileMatch,
        context: &FileContext,
    ) -> Outcome {
        self.metrics.renders.fetch_add(1, Ordering::Relaxed);
        let spec = self.catalog.family(matched.family).file(matched.file);
        match self.catalog.render(matched.family, matched.file, context) {
            Ok(body) => {
                let file = RenderedFile::new(body, &spec.content_type);
                self.files.insert(key, file.clone());
                Outcome::Found(file)
            }
            Err(e) => {
                self.metrics.render_errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "rendering failed");
                Outcome::NotFound("template failed to render")
            }
        }
    }

    /// `<data>/files/<path>`, opened (and a small file read) in one trip to the blocking pool.
    pub(super) async fn static_file(&self, path: &str) -> Option<StaticFile> {
        let files = self.static_files.clone();
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || files.open(&path))
            .await
            .ok()
            .flatten()
    }

    /// This node's note of `device` (made empty on first use).
    pub(super) fn note(&self, device: DeviceId) -> Arc<std::sync::Mutex<DeviceNote>> {
        self.notes.get_with(device, Default::default)
    }

    /// Records the device's address (and the firmware its User-Agent reports, and whether it
    /// proved itself) in the background, unless its `note` has the same sighting queued less
    /// than `SEEN_EVERY` ago.
    fn record_seen(
        &self,
        note: &std::sync::Mutex<DeviceNote>,
        device: &Device,
        request: &FileRequest<'_>,
        firmware: Option<Arc<str>>,
        proven: bool,
    ) {
        let Some(peer) = request.peer else {
            return;
        };
        let sighting = (device.mac, peer, request.protocol, firmware.clone(), proven);
        if !lock(note).sighting_is_new(sighting, std::time::Instant::now()) {
            return;
        }
        let device = device.id;
        // Queued, and written in batches by `flush_seen`: a boot storm of ten thousand phones
        // becomes a few transactions, not ten thousand, and no request waits for one.
        let order = self.queued.fetch_add(1, Ordering::Relaxed);
        lock(&self.seen_queue).insert(
            device,
            (
                order,
                (
                    peer.to_string(),
                    request.protocol.as_str(),
                    firmware.map(|f| f.to_string()),
                    proven,
                ),
            ),
        );
    }

    /// Records, in the background, that a registered device's request was refused and why. The
    /// next successful fetch is written again (not skipped as a repeat), so it clears the
    /// refusal in the rollout views.
    pub(super) fn record_failure(
        &self,
        device: DeviceId,
        request: &FileRequest<'_>,
        reason: &'static str,
    ) {
        let Some(peer) = request.peer else {
            return;
        };
        if let Some(note) = self.notes.get(&device) {
            lock(&note).seen = None;
        }
        let order = self.queued.fetch_add(1, Ordering::Relaxed);
        lock(&self.failed_queue).insert(device, (order, (peer.to_string(), reason)));
    }

    /// Writes the queued sightings and refusals; `run` calls it periodically (every
    /// `store.poll_ms`), so they reach the rollout views within a second. A sighting clears the
    /// device's refusal, so of one device's two the later is written last: refusals queued
    /// before the device's sighting go first, then the sightings, then the later refusals.
    pub async fn flush_seen(&self) {
        let seen = std::mem::take(&mut *lock(&self.seen_queue));
        let failed = std::mem::take(&mut *lock(&self.failed_queue));
        let (before, after): (Vec<_>, Vec<_>) = failed.into_iter().partition(|(id, (order, _))| {
            seen.get(id)
                .is_none_or(|(seen_order, _)| order < seen_order)
        });
        let strip = |list: Vec<(DeviceId, (u64, crate::store::Refusal))>| -> Vec<_> {
            list.into_iter().map(|(id, (_, r))| (id, r)).collect()
        };
        self.write_failed(&strip(before)).await;
        let batch: Vec<_> = seen.into_iter().map(|(id, (_, s))| (id, s)).collect();
        if !batch.is_empty() {
            if let Err(e) = self.store.devices_seen(&batch).await {
                tracing::warn!(error = %e, devices = batch.len(), "cannot record where devices were seen");
            }
        }
        self.write_failed(&strip(after)).await;
    }

    async fn write_failed(&self, batch: &[(DeviceId, crate::store::Refusal)]) {
        if batch.is_empty() {
            return;
        }
        if let Err(e) = self.store.devices_failed(batch).await {
            tracing::warn!(error = %e, devices = batch.len(), "cannot record refused requests");
        }
    }

    /// The tenant's directory, loaded once per directory revision and shared by all its
    /// devices: only a write that changes what the directory shows moves that revision (not a
    /// device added, nor a phone's first contact).
    async fn directory(&self, tenant: TenantId, revision: i64) -> Result<Arc<TenantDirectory>> {
        if let Some(hit) = self.directories.get(&(tenant, revision)) {
            return Ok(hit);
        }
        self.metrics.directory_loads.fetch_add(1, Ordering::Relaxed);
        let loaded = Arc::new(TenantDirectory {
            data: self.store.phone_directory(tenant).await?,
            sites: Default::default(),
        });
        self.directories.insert((tenant, revision), loaded.clone());
        Ok(loaded)
    }
}

/// A queue's or a note's lock; a panic elsewhere while it was held leaves nothing half-done.
pub(super) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
