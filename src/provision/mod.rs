//! The phone-facing entry point shared by every transport: a [`FileRequest`] goes in, the file's
//! bytes (or a uniform "not found") come out.
//!
//! One request walks: file name → family, model and MAC (file-name patterns, User-Agent) → the
//! registered device → cache lookup keyed by device, file and the tenant's revision → on a miss,
//! one [`DeviceRecord`] from the store rendered through the family's template.
//!
//! Before anything of a device is rendered, the request is classified (`trust`): only a proven
//! device, one in its first-contact window, or one on its site's allowed networks gets the full
//! file; everyone else gets a Digest challenge (HTTPS), the credential-free bootstrap file, or the
//! uniform 404 — the same whether the MAC is registered or not.
//!
//! The tenant revision is read *before* the record is loaded: if a write lands in between, the
//! newer content is cached under the older key and the next request misses and re-renders, so a
//! stale file is never cached under a current revision. This module knows no sockets and no SQL.

pub mod check;
mod context;
mod files;
pub mod trust;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use moka::sync::Cache;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{Device, DeviceId, Mac, Secret, TenantId};
use crate::render::{Catalog, FileMatch};
use crate::store::Store;

pub use context::FileContext;
pub use files::{StaticFile, StaticFiles};
use trust::{Decision, Gate, Throttle, ThrottleLimits};

/// How the request arrived; transports pass it, trust decisions (later) depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Https,
    Tftp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Tftp => "tftp",
        }
    }
}

/// A phone asking for a file. Its `Debug` leaves out the `Authorization` header.
#[derive(Clone)]
pub struct FileRequest<'a> {
    /// The path as requested; any prefix before the last `/` is ignored.
    pub path: &'a str,
    pub user_agent: Option<&'a str>,
    pub protocol: Protocol,
    pub peer: Option<IpAddr>,
    /// The HTTP method and request target (path and query, as sent): Digest signs both.
    pub method: &'a str,
    pub target: &'a str,
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
    /// The MAC in a client certificate the TLS layer verified against the vendor CAs.
    pub client_mac: Option<Mac>,
}

impl std::fmt::Debug for FileRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileRequest")
            .field("path", &self.path)
            .field("user_agent", &self.user_agent)
            .field("protocol", &self.protocol)
            .field("peer", &self.peer)
            .field("authorization", &self.authorization.map(|_| "***"))
            .field("client_mac", &self.client_mac)
            .finish()
    }
}

impl<'a> FileRequest<'a> {
    /// A request with no credentials (TFTP, or a preview).
    pub fn plain(path: &'a str, protocol: Protocol, peer: Option<IpAddr>) -> FileRequest<'a> {
        FileRequest {
            path,
            user_agent: None,
            protocol,
            peer,
            method: "GET",
            target: path,
            authorization: None,
            client_mac: None,
        }
    }
}

/// A rendered file, shared by every request that hits the same cache entry. Its `Debug` shows
/// the size, not the body (which holds secrets).
pub struct RenderedFile {
    /// Reference-counted, so serving a cached file copies no bytes.
    pub body: Bytes,
    /// Strong validator: a hash of the body, so an unrelated change elsewhere in the tenant does
    /// not make phones download the same bytes again.
    pub etag: String,
    pub content_type: String,
}

impl RenderedFile {
    fn new(body: String, content_type: &str) -> Arc<RenderedFile> {
        Arc::new(RenderedFile {
            etag: etag(body.as_bytes()),
            body: Bytes::from(body),
            content_type: content_type.to_owned(),
        })
    }
}

impl std::fmt::Debug for RenderedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderedFile")
            .field("bytes", &self.body.len())
            .field("etag", &self.etag)
            .field("content_type", &self.content_type)
            .finish()
    }
}

/// What became of a request. `NotFound` covers every refusal alike: the transport answers all of
/// them with the same bytes, and only the log tells the reason.
#[derive(Debug)]
pub enum Outcome {
    Found(Arc<RenderedFile>),
    NotFound(&'static str),
    /// HTTPS without credentials: a Digest challenge (`WWW-Authenticate` values), the same for
    /// every MAC.
    Challenge(Vec<String>),
    /// The store failed; the transport answers with a bare server error.
    Unavailable,
}

#[derive(Debug)]
pub struct Served {
    pub outcome: Outcome,
    pub mac: Option<Mac>,
    /// How a request for a device's file was classified.
    pub decision: Option<Decision>,
    /// The file name as requested (without prefix), for the log.
    pub file: String,
}

/// Settings the provisioning path needs, taken from `Settings` at start.
#[derive(Clone, Debug)]
pub struct ProvisionSettings {
    /// Where phones come back to, e.g. `http://prov.example.com:8080/`.
    pub public_url: String,
    pub recheck_minutes: u32,
    pub cache_max_bytes: u64,
    /// The HTTPS URL phones are sent to once they have credentials, when HTTPS is on.
    pub https_url: Option<String>,
    /// Where phones fetch the local CA certificate, when there is one.
    pub ca_url: Option<String>,
    /// Dialled before an extension to pick up a call ringing there (BLF keys).
    pub pickup_prefix: String,
    /// The firmware catalogue, and where its relative files are downloaded from.
    pub firmware: Arc<crate::firmware::Index>,
    pub firmware_base_url: String,
    /// What an unproven request for a device's file gets over HTTP and TFTP.
    pub unproven: Unproven,
    /// Accept HTTP Basic credentials over TLS.
    pub basic_over_tls: bool,
    pub throttle: ThrottleLimits,
    /// How long a Digest nonce stays valid.
    pub nonce_lifetime: Duration,
}

/// What an unproven request for a device's file gets (over HTTPS it is always challenged).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unproven {
    /// The family's credential-free bootstrap file, where it has one, else the uniform 404.
    Bootstrap,
    NotFound,
}

#[derive(Clone, Hash, PartialEq, Eq)]
enum FileKey {
    Device {
        device: DeviceId,
        file: String,
        revision: i64,
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

/// A MAC resolved against the store, valid while the global revision is unchanged (any write,
/// including adding or moving a device, moves it).
#[derive(Clone, Debug)]
struct Lookup {
    global: i64,
    device: Option<Arc<Known>>,
}

/// The passwords a device's credentials may match now: the current one and, during a rotation's
/// overlap, the previous one. For an unknown MAC a stand-in, so the same work is done.
struct Passwords<'a> {
    current: Option<&'a Secret>,
    previous: Option<&'a Secret>,
    stand_in: Secret,
    /// Whether any of them is the device's.
    real: bool,
}

impl Passwords<'_> {
    fn list(&self) -> Vec<&Secret> {
        match (self.current, self.previous) {
            (None, None) => vec![&self.stand_in],
            (current, previous) => current.into_iter().chain(previous).collect(),
        }
    }
}

fn passwords(known: Option<&Known>, now: i64) -> Passwords<'_> {
    let access = known.map(|k| &k.device.access);
    let current = access.and_then(|a| a.http_password.as_ref());
    let previous = access.and_then(|a| match (&a.http_password_prev, a.http_prev_until) {
        (Some(prev), Some(until)) if until > now => Some(prev),
        _ => None,
    });
    Passwords {
        current,
        previous,
        stand_in: Secret::new("-".repeat(24)),
        real: current.is_some() || previous.is_some(),
    }
}

/// A registered device as the trust decision needs it.
#[derive(Debug)]
struct Known {
    device: Device,
    family: usize,
    allowed_networks: Vec<ipnet::IpNet>,
    /// Where a first-contact window may be used from; empty: anywhere.
    first_contact_networks: Vec<ipnet::IpNet>,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub found: AtomicU64,
    pub not_found: AtomicU64,
    pub unavailable: AtomicU64,
    pub renders: AtomicU64,
    pub render_errors: AtomicU64,
    pub challenges: AtomicU64,
    /// Requests refused by the throttle before anything was looked up.
    pub throttled: AtomicU64,
    /// Times a vendor prefix's first-contact windows were closed by guessing.
    pub windows_closed: AtomicU64,
    /// Trust decisions, in the order of `Decision::ALL`.
    pub decisions: [AtomicU64; 9],
}

pub struct Provisioner {
    store: Store,
    catalog: Arc<Catalog>,
    settings: ProvisionSettings,
    files: Cache<FileKey, Arc<RenderedFile>>,
    devices: Cache<Mac, Lookup>,
    /// Devices whose last-seen record was written lately, with the address written: at most one
    /// write a minute per device (unless it moves), so a boot storm does not become a write storm.
    seen: Cache<DeviceId, (IpAddr, Protocol, Option<String>)>,
    /// Tenant directories by (tenant, revision).
    directories: Cache<(TenantId, i64), Arc<Vec<crate::model::User>>>,
    /// Last-seen records waiting to be written (see `flush_seen`).
    #[allow(clippy::type_complexity)]
    seen_queue: std::sync::Mutex<
        std::collections::HashMap<DeviceId, (String, &'static str, Option<String>)>,
    >,
    digest: trust::Digest,
    throttle: Throttle,
    /// Models a registered device has that its family's manifest does not list: logged once each.
    unknown_models: std::sync::Mutex<std::collections::HashSet<(usize, String)>>,
    /// Devices that just used their first-contact window over TFTP, with the address that used
    /// it (see `classify`).
    grace: Cache<DeviceId, IpAddr>,
    /// Every site's allowed and first-contact networks, as of a global revision: the throttle
    /// never refuses an address on one of them before its device is looked at, so a trust
    /// change takes effect on the next request even for an address that failed before.
    allowed: std::sync::Mutex<(i64, Arc<Vec<ipnet::IpNet>>)>,
    pub metrics: Metrics,
}

/// Longest file name we look at; anything longer is nobody's file.
const MAX_NAME: usize = 128;

impl Provisioner {
    pub fn new(store: Store, catalog: Arc<Catalog>, settings: ProvisionSettings) -> Provisioner {
        let files = Cache::builder()
            .max_capacity(settings.cache_max_bytes)
            .weigher(|_key: &FileKey, file: &Arc<RenderedFile>| {
                u32::try_from(file.body.len() + 64).unwrap_or(u32::MAX)
            })
            .time_to_idle(Duration::from_secs(24 * 3600))
            .build();
        let devices = Cache::builder().max_capacity(200_000).build();
        let seen = Cache::builder()
            .max_capacity(200_000)
            .time_to_live(Duration::from_secs(60))
            .build();
        Provisioner {
            store,
            catalog,
            digest: trust::Digest::new(settings.nonce_lifetime),
            throttle: Throttle::new(settings.throttle.clone()),
            unknown_models: std::sync::Mutex::default(),
            grace: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(30))
                .build(),
            allowed: std::sync::Mutex::new((-1, Arc::default())),
            settings,
            files,
            devices,
            seen,
            seen_queue: std::sync::Mutex::default(),
            directories: Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
            metrics: Metrics::default(),
        }
    }

    /// Serves one request. Never fails: every refusal is `NotFound` with its reason.
    pub async fn serve(&self, request: &FileRequest<'_>) -> Served {
        let file = request.path.rsplit('/').next().unwrap_or_default();
        let mut decision = None;
        let (outcome, mac) = match self.find(file, request, &mut decision).await {
            Ok((outcome, mac)) => (outcome, mac),
            Err(e) => {
                tracing::error!(file, error = %e, "provisioning failed");
                (Outcome::Unavailable, None)
            }
        };
        let counter = match &outcome {
            Outcome::Found(_) => &self.metrics.found,
            Outcome::NotFound(_) => &self.metrics.not_found,
            Outcome::Challenge(_) => &self.metrics.challenges,
            Outcome::Unavailable => &self.metrics.unavailable,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(d) = decision {
            if let Some(i) = Decision::ALL.iter().position(|x| *x == d) {
                self.metrics.decisions[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        Served {
            outcome,
            mac,
            decision,
            file: file.chars().take(MAX_NAME).collect(),
        }
    }

    async fn find(
        &self,
        file: &str,
        request: &FileRequest<'_>,
        decision: &mut Option<Decision>,
    ) -> Result<(Outcome, Option<Mac>)> {
        if !valid_name(file) {
            return Ok((Outcome::NotFound("invalid file name"), None));
        }
        let ua = request
            .user_agent
            .and_then(|ua| self.catalog.identify_user_agent(ua));
        let mut matches = self.catalog.match_file(file);
        // A file is named by the last part of the path; a family may name one by its folder
        // too (Grandstream's `<mac>/phonebook.xml`), so the last two parts are looked at when
        // the last alone is nobody's.
        let mut file = file;
        if matches.is_empty() {
            let mut parts = request.path.rsplit('/').skip(1);
            if let Some(folder) = parts.next().filter(|f| valid_name(f)) {
                let len = folder.len() + 1 + file.len();
                file = &request.path[request.path.len() - len..];
                matches = self.catalog.match_file(file);
            }
        }
        if let Some(ua) = &ua {
            matches.retain(|m| m.family == ua.family);
        }
        // A shared file wins over a device pattern that happens to match too (Poly's
        // `000000000000.cfg` also looks like a `<mac>.cfg` of MAC 00:00:00:00:00:00).
        matches.sort_by_key(|m| m.mac.is_some());
        let Some(first) = matches.first().cloned() else {
            return Ok((Outcome::NotFound("no family has this file"), None));
        };
        let Some(mac) = first.mac else {
            let requester = ua.as_ref().and_then(|ua| ua.mac);
            let model = ua.map(|ua| ua.model);
            return Ok((self.shared_file(&first, file, model, requester)?, None));
        };
        if let Some(ua_mac) = ua.as_ref().and_then(|ua| ua.mac) {
            if ua_mac != mac {
                tracing::warn!(%mac, %ua_mac, file, peer = ?request.peer, "user-agent MAC differs from the file's MAC; refused");
                return Ok((
                    Outcome::NotFound("user-agent MAC differs from file MAC"),
                    Some(mac),
                ));
            }
        }
        let prefix = {
            let b = mac.bytes();
            [b[0], b[1], b[2]]
        };
        let tftp = request.protocol == Protocol::Tftp;
        // An address that keeps failing is slowed, then refused without a look-up. The gate is
        // passed before any credential is parsed: a refused address gets a look-up only for a
        // client certificate (which the TLS layer verified) or, a few times a minute, for
        // credentials over HTTPS (so a phone behind the same NAT can still prove itself).
        let gate = match request.peer {
            Some(ip) => match self.throttle.gate(ip, tftp) {
                Gate::Open => Gate::Open,
                _ if self.on_allowed_network(ip).await? => Gate::Open,
                gate => gate,
            },
            None => Gate::Open,
        };
        match gate {
            Gate::Open => {}
            Gate::Slow => tokio::time::sleep(self.settings.throttle.slow).await,
            Gate::Refused => {
                let checked = request.client_mac.is_some()
                    || (request.protocol == Protocol::Https
                        && request.authorization.is_some()
                        && request.peer.is_some_and(|ip| self.throttle.offer(ip)));
                if !checked {
                    self.metrics.throttled.fetch_add(1, Ordering::Relaxed);
                    // Over HTTPS a challenge is still given (it costs no look-up, stores nothing
                    // and tells nothing): a real phone behind the same address can then prove
                    // itself.
                    if request.protocol == Protocol::Https {
                        return Ok((Outcome::Challenge(self.digest.challenge(false)), Some(mac)));
                    }
                    return Ok((Outcome::NotFound("throttled"), Some(mac)));
                }
            }
        }
        let plain = request.client_mac.is_none() && request.authorization.is_none();
        // Without credentials, only a first-contact window or an allowed network can serve a
        // device's file. While guessing keeps the prefix's windows closed, such a request from
        // no allowed network is answered without a look-up: a flood costs no database work.
        let closed_early = plain
            && self.throttle.windows_closed(prefix)
            && match request.peer {
                Some(ip) => !self.on_allowed_network(ip).await?,
                None => true,
            };
        let known = if closed_early {
            self.metrics.throttled.fetch_add(1, Ordering::Relaxed);
            None
        } else {
            self.lookup(mac)
                .await?
                .filter(|k| matches.iter().any(|m| m.family == k.family))
        };
        // Whether the file asked for may use a first-contact window (see `FileSpec`).
        let first_contact_file = known.as_ref().is_some_and(|k| {
            matches.iter().any(|m| {
                m.family == k.family && self.catalog.family(m.family).file(m.file).first_contact
            })
        });
        // The folders before the file, where a directory URL carries the device's URL token.
        let directory_file = known.as_ref().is_some_and(|k| {
            matches.iter().any(|m| {
                m.family == k.family && self.catalog.family(m.family).directory == Some(m.file)
            })
        });
        let folders: Vec<&str> = if directory_file {
            request.path[..request.path.len() - file.len()]
                .split('/')
                .filter(|s| !s.is_empty())
                .collect()
        } else {
            Vec::new()
        };
        let verdict = if closed_early {
            Decision::Unproven
        } else {
            self.classify(known.as_deref(), mac, first_contact_file, &folders, request)
                .await?
        };
        *decision = Some(verdict);
        // A guess is a request for a MAC nobody registered, or credentials that do not fit: it
        // counts against the vendor prefix too, whatever the address and transport.
        let guess = (known.is_none() || verdict == Decision::Refused).then_some(prefix);
        let count = || async move {
            if let (Some(ip), false) = (request.peer, gate == Gate::Refused) {
                if self.throttle.fail(ip, tftp, guess).windows_closed {
                    self.windows_closed(prefix).await;
                }
            }
        };
        let fail = |reason: &'static str| async move {
            count().await;
            Ok((Outcome::NotFound(reason), Some(mac)))
        };
        let known = match (verdict, known) {
            (Decision::Refused, _) => return fail("credentials or certificate do not fit").await,
            (Decision::Stale, _) => {
                return Ok((Outcome::Challenge(self.digest.challenge(true)), Some(mac)))
            }
            (Decision::Unproven, _) => {
                if request.protocol == Protocol::Https {
                    count().await;
                    return Ok((Outcome::Challenge(self.digest.challenge(false)), Some(mac)));
                }
                if self.settings.unproven == Unproven::Bootstrap {
                    if let Some(outcome) = self.bootstrap(&first, file) {
                        // Counted like a 404: the bootstrap file is what a guess gets.
                        count().await;
                        return Ok((outcome, Some(mac)));
                    }
                }
                return fail("unproven").await;
            }
            (_, Some(known)) => known,
            // Trusted decisions are only made for known devices.
            (_, None) => return fail("unknown MAC").await,
        };
        if let Some(ip) = request.peer {
            self.throttle.succeed(ip, tftp);
        }
        let Some(matched) = matches.into_iter().find(|m| m.family == known.family) else {
            return fail("file of another family").await;
        };
        let device = known.device.id;
        let tenant = known.device.tenant_id;
        let firmware = ua.as_ref().and_then(|ua| ua.version.clone());
        self.record_seen(device, request, firmware);
        // Read the revision before loading (see the module docs).
        let revision = self.store.revisions().tenant(tenant);
        let key = FileKey::Device {
            device,
            file: file.to_ascii_lowercase(),
            revision,
        };
        if let Some(hit) = self.files.get(&key) {
            return Ok((Outcome::Found(hit), Some(mac)));
        }
        let mut record = match self.store.device_record(device).await {
            Ok(record) => record,
            // Deleted between lookup and load: as unknown as any other MAC.
            Err(Error::NotFound { .. }) => return fail("unknown MAC").await,
            Err(e) => return Err(e),
        };
        record.directory = self.directory(tenant, revision).await?;
        let family_spec = self.catalog.family(known.family);
        if family_spec.model(&record.device.model).is_none() {
            let new = self
                .unknown_models
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((known.family, record.device.model.clone()));
            if new {
                tracing::warn!(
                    family = %family_spec.manifest.family,
                    model = %record.device.model,
                    "model not in the family's manifest: using the family's defaults"
                );
            }
        }
        let context = FileContext::for_device(family_spec, &record, &self.settings)?;
        Ok((self.render(key, &matched, &context), Some(mac)))
    }

    /// The trust level of a request for `mac`'s file (see `trust`). Unknown MACs take the same
    /// steps as known ones where a step costs time, so the two are hard to tell apart. Only a GET
    /// of one of the family's `first_contact` files uses up a first-contact window, and only from
    /// the site's first-contact networks when it has any, and only while the vendor prefix has
    /// not seen too many guesses; every other request inside a window is answered as if there
    /// were none, so nothing shows a window without using it.
    async fn classify(
        &self,
        known: Option<&Known>,
        mac: Mac,
        first_contact_file: bool,
        folders: &[&str],
        request: &FileRequest<'_>,
    ) -> Result<Decision> {
        let now = jiff::Timestamp::now().as_second();
        let user = mac.to_string();
        let in_network = |k: &Known| {
            request
                .peer
                .is_some_and(|ip| k.allowed_networks.iter().any(|n| n.contains(&ip)))
        };
        if let Some(cert_mac) = request.client_mac {
            if cert_mac == mac && known.is_some() {
                return Ok(Decision::ProvenCertificate);
            }
            // A certificate for another MAC: another device's file.
            return Ok(Decision::Refused);
        }
        if let Some(header) = request.authorization {
            let header = header.trim_start();
            // Credentials travel only inside TLS: over plain HTTP the file itself would not.
            let proven = if request.protocol != Protocol::Https {
                // Seen in clear, so spent: the same answer replayed over HTTPS is a replay.
                if header.starts_with("Digest") {
                    self.digest.spend(header);
                }
                None
            } else if header.starts_with("Digest") {
                // Decided on the nonce alone, before the device: the same for every MAC.
                if self.digest.nonce_state(header) == trust::NonceState::Stale {
                    return Ok(Decision::Stale);
                }
                let passwords = passwords(known, now);
                let ok = self.digest.verify(
                    header,
                    request.method,
                    request.target,
                    &user,
                    &passwords.list(),
                );
                (ok && passwords.real).then_some(Decision::ProvenDigest)
            } else if header.starts_with("Basic") && self.settings.basic_over_tls {
                let passwords = passwords(known, now);
                let ok = trust::verify_basic(header, &user, &passwords.list());
                (ok && passwords.real).then_some(Decision::ProvenBasic)
            } else {
                None
            };
            return Ok(match (proven, known) {
                (Some(decision), _) => decision,
                // Stale credentials on the site's own network still get the file.
                (None, Some(k)) if in_network(k) => Decision::AllowedNetwork,
                (None, _) => Decision::Refused,
            });
        }
        let Some(known) = known else {
            return Ok(Decision::Unproven);
        };
        if request.protocol == Protocol::Https && !folders.is_empty() {
            let passwords = passwords(Some(known), now);
            if passwords.real && trust::verify_url_token(folders, &passwords.list()) {
                return Ok(Decision::ProvenUrl);
            }
        }
        let window_request = first_contact_file && request.method == "GET";
        // Just used its window over TFTP from this address: a retransmitted request (the phone
        // did not see our first answer) is served again for a short while. Over HTTP a second
        // request is a second request.
        if let (Protocol::Tftp, true, Some(ip), Some(grace_ip)) = (
            request.protocol,
            window_request,
            request.peer,
            self.grace.get(&known.device.id),
        ) {
            if ip == grace_ip {
                return Ok(Decision::FirstContact);
            }
        }
        let window_open = known
            .device
            .access
            .first_contact_until
            .is_some_and(|until| until > now);
        if window_open && window_request {
            let b = mac.bytes();
            // With first-contact networks, a window is used from them only, and guessing from
            // elsewhere cannot close it; without, guessing closes the prefix's windows for a while.
            let refusal = if known.first_contact_networks.is_empty() {
                self.throttle
                    .windows_closed([b[0], b[1], b[2]])
                    .then_some("too many guesses for this vendor prefix")
            } else {
                let from_there = request
                    .peer
                    .is_some_and(|ip| known.first_contact_networks.iter().any(|n| n.contains(&ip)));
                (!from_there).then_some("not from the site's first-contact networks")
            };
            if let Some(reason) = refusal {
                tracing::info!(%mac, peer = ?request.peer, reason, "first-contact window not used");
            } else if self
                .store
                .device_first_contact(&known.device, &Secret::generate(), now)
                .await?
            {
                // Exactly one request wins the window; a loser goes on to the next checks.
                if let (Protocol::Tftp, Some(ip)) = (request.protocol, request.peer) {
                    self.grace.insert(known.device.id, ip);
                }
                tracing::info!(%mac, peer = ?request.peer, "first contact: device credentials issued");
                return Ok(Decision::FirstContact);
            }
        }
        if in_network(known) {
            return Ok(Decision::AllowedNetwork);
        }
        Ok(Decision::Unproven)
    }

    /// Whether `ip` is on any site's allowed or first-contact networks (loaded again when the global revision
    /// moves: one small query, only for addresses the throttle holds back).
    async fn on_allowed_network(&self, ip: IpAddr) -> Result<bool> {
        let global = self.store.revisions().global();
        let cached = {
            let guard = self.allowed.lock().unwrap_or_else(|e| e.into_inner());
            (guard.0 == global).then(|| guard.1.clone())
        };
        let networks = match cached {
            Some(networks) => networks,
            None => {
                let networks = Arc::new(self.store.trusted_networks_all().await?);
                *self.allowed.lock().unwrap_or_else(|e| e.into_inner()) =
                    (global, networks.clone());
                networks
            }
        };
        Ok(networks.iter().any(|n| n.contains(&ip)))
    }

    /// Records that guessing closed the first-contact windows of vendor `prefix`, where the
    /// admins of the tenants with an open window there (and the operator) see it.
    async fn windows_closed(&self, prefix: [u8; 3]) {
        let prefix = hex::encode(prefix);
        tracing::warn!(%prefix, "too many guesses for one vendor prefix: its first-contact windows are closed for a while");
        self.metrics.windows_closed.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self
            .store
            .first_contact_suspended(&prefix, self.settings.throttle.ban.as_secs())
            .await
        {
            tracing::warn!(error = %e, "cannot record that first-contact windows were closed");
        }
    }

    /// The bootstrap version of a device file: the same for every MAC of the family.
    fn bootstrap(&self, matched: &FileMatch, file: &str) -> Option<Outcome> {
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
    fn shared_file(
        &self,
        matched: &FileMatch,
        file: &str,
        ua_model: Option<String>,
        ua_mac: Option<Mac>,
    ) -> Result<Outcome> {
        let family = self.catalog.family(matched.family);
        let model = match matched.model_code {
            Some(code) => match family.model_by_code(code) {
                Some(m) => Some(m.name.clone()),
                None => return Ok(Outcome::NotFound("unknown model code")),
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
            return Ok(Outcome::Found(hit));
        }
        let mut context = FileContext::shared(family, model.as_deref(), &self.settings);
        context.requester_mac = requester.map(|m| m.to_string());
        Ok(self.render(key, matched, &context))
    }

    fn render(&self, key: FileKey, matched: &FileMatch, context: &FileContext) -> Outcome {
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

    /// Records the device's address (and the firmware its User-Agent reports) in the background
    /// (see `seen`).
    fn record_seen(&self, device: DeviceId, request: &FileRequest<'_>, firmware: Option<String>) {
        let Some(peer) = request.peer else {
            return;
        };
        let now = (peer, request.protocol, firmware.clone());
        if self.seen.get(&device) == Some(now.clone()) {
            return;
        }
        self.seen.insert(device, now);
        // Queued, and written in batches by `flush_seen`: a boot storm of ten thousand phones
        // becomes a few transactions, not ten thousand, and no request waits for one.
        self.seen_queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                device,
                (peer.to_string(), request.protocol.as_str(), firmware),
            );
    }

    /// Writes the queued last-seen records in one transaction; `run` calls it periodically.
    pub async fn flush_seen(&self) {
        let batch: Vec<_> =
            std::mem::take(&mut *self.seen_queue.lock().unwrap_or_else(|e| e.into_inner()))
                .into_iter()
                .collect();
        if batch.is_empty() {
            return;
        }
        if let Err(e) = self.store.devices_seen(&batch).await {
            tracing::warn!(error = %e, devices = batch.len(), "cannot record where devices were seen");
        }
    }

    /// The family's main device file for `mac` (manifest `device_file`).
    fn device_file_name(&self, family: usize, mac: Mac) -> String {
        self.catalog
            .family(family)
            .manifest
            .device_file
            .replace("{mac}", &mac.to_string())
            .replace("{MAC}", &mac.upper())
    }

    /// The tenant's directory, loaded once per tenant revision and shared by all its devices.
    async fn directory(
        &self,
        tenant: TenantId,
        revision: i64,
    ) -> Result<Arc<Vec<crate::model::User>>> {
        if let Some(hit) = self.directories.get(&(tenant, revision)) {
            return Ok(hit);
        }
        let list = Arc::new(self.store.directory(tenant).await?);
        self.directories.insert((tenant, revision), list.clone());
        Ok(list)
    }

    /// The registered device behind a MAC, with its site's allowed networks.
    async fn lookup(&self, mac: Mac) -> Result<Option<Arc<Known>>> {
        let global = self.store.revisions().global();
        if let Some(hit) = self.devices.get(&mac) {
            if hit.global == global {
                return Ok(hit.device);
            }
        }
        let known = match self.store.device_access_by_mac(mac).await? {
            Some(access) => self
                .catalog
                .family_by_name(&access.device.family)
                .map(|family| {
                    Arc::new(Known {
                        device: access.device,
                        family,
                        allowed_networks: access.allowed_networks,
                        first_contact_networks: access.first_contact_networks,
                    })
                }),
            None => None,
        };
        self.devices.insert(
            mac,
            Lookup {
                global,
                device: known.clone(),
            },
        );
        Ok(known)
    }

    /// What `mac` would receive for `file` (default: its family's main file), through the same
    /// path as a phone's request; for `autoprov render`. Unless `reveal`, every secret of the
    /// device (SIP and web-admin passwords) is replaced by `********`.
    pub async fn preview(&self, mac: Mac, file: Option<&str>, reveal: bool) -> Result<Preview> {
        let device = self
            .store
            .device_by_mac(mac)
            .await?
            .ok_or_else(|| Error::not_found("device", mac))?;
        let name = match file {
            Some(file) => file.to_owned(),
            None => {
                let family = self
                    .catalog
                    .family_by_name(&device.family)
                    .ok_or_else(|| Error::not_found("device family", &device.family))?;
                self.device_file_name(family, mac)
            }
        };
        // The admin's view: the full file as a proven phone gets it, without touching trust
        // state (no first contact is used up) or the cache.
        let family = self
            .catalog
            .family_by_name(&device.family)
            .ok_or_else(|| Error::not_found("device family", &device.family))?;
        let matched = self
            .catalog
            .match_file(&name)
            .into_iter()
            .find(|m| m.family == family)
            .ok_or_else(|| {
                Error::not_found("file", format!("{name} (no such file for this family)"))
            })?;
        let file = match matched.mac {
            Some(file_mac) if file_mac != mac => {
                return Err(Error::invalid(
                    "file",
                    format!("{name} is another device's file"),
                ))
            }
            Some(_) => {
                let mut record = self.store.device_record(device.id).await?;
                let revision = self.store.revisions().tenant(device.tenant_id);
                record.directory = self.directory(device.tenant_id, revision).await?;
                let context =
                    FileContext::for_device(self.catalog.family(family), &record, &self.settings)?;
                let body = self.catalog.render(family, matched.file, &context)?;
                RenderedFile::new(
                    body,
                    &self.catalog.family(family).file(matched.file).content_type,
                )
            }
            None => {
                match self.shared_file(&matched, &name, Some(device.model.clone()), Some(mac))? {
                    Outcome::Found(file) => file,
                    _ => return Err(Error::not_found("file", &name)),
                }
            }
        };
        let mut body = String::from_utf8_lossy(&file.body).into_owned();
        if !reveal {
            let record = self.store.device_record(device.id).await?;
            let secrets = std::iter::once(&record.device.admin_password)
                .chain(record.device.access.http_password.iter())
                .chain(record.lines.iter().map(|l| &l.sip_password));
            for secret in secrets {
                if !secret.expose().is_empty() {
                    body = body.replace(secret.expose(), "********");
                }
            }
        }
        Ok(Preview {
            body,
            content_type: file.content_type.clone(),
            etag: file.etag.clone(),
        })
    }
}

/// A file as `autoprov render` shows it.
#[derive(Debug, serde::Serialize)]
pub struct Preview {
    pub body: String,
    pub content_type: String,
    pub etag: String,
}

/// Vendor file names use letters, digits, `.`, `-` and `_`, and never start with a dot.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("001565a1b2c3.cfg"));
        assert!(valid_name("y000000000000.boot"));
        for bad in [
            "",
            ".hidden",
            "..",
            "a/b",
            "a\0b",
            "a b",
            "%2e%2e",
            &"a".repeat(129),
        ] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn etag_is_quoted_and_content_based() {
        assert_eq!(etag(b"a"), etag(b"a"));
        assert_ne!(etag(b"a"), etag(b"b"));
        assert!(etag(b"a").starts_with('"') && etag(b"a").ends_with('"'));
    }
}
