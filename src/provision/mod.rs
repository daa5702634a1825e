//! The phone-facing entry point shared by every transport: a [`FileRequest`] goes in, the file's
//! bytes (or a uniform "not found") come out.
//!
//! `Provisioner::serve` runs a request through named stages, each in a file of its own:
//! `identify` (file name and User-Agent → family, file and MAC), `admit` (the failure throttle,
//! then the registered device), `classify` (the trust decision, see `trust`) and `output` (the
//! device's file from the cache keyed by device, file, the tenant's revision and the device's
//! own, or rendered on a miss from one `DeviceRecord`, loaded together with those of the other
//! misses of the moment, see `records`). A request no phone file answers gets the static file of its
//! path (`files`), so every transport serves the same files in the same order. `preview` shows
//! an admin what a device would get, through the same rendering.
//!
//! Before anything of a device is rendered, the request is classified (`trust`): only a proven
//! device, one in its first-contact window, or one on its site's allowed networks gets the full
//! file; everyone else gets a Digest challenge (HTTPS), the credential-free bootstrap file, or the
//! uniform 404 — the same whether the MAC is registered or not.
//!
//! The tenant and device revisions are read *before* the record is loaded: if a write lands in between, the
//! newer content is cached under the older key and the next request misses and re-renders, so a
//! stale file is never cached under a current revision. This module knows no sockets and no SQL.

mod admit;
pub mod check;
mod classify;
mod context;
mod discovery;
mod files;
mod identify;
pub mod nonces;
mod output;
mod preview;
mod records;
mod service;
pub mod trust;

use std::net::IpAddr;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::cache::{Cache, Hasher};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::model::{DeviceId, Mac, TenantId};
use crate::render::Catalog;
use crate::store::Store;

use admit::Lookup;
pub use context::{DirectoryGroup, DirectoryItem, FileContext, SharedDirectory};
pub use discovery::{PnpAnswer, ResyncTarget};
pub use files::{StaticContent, StaticFile, StaticFiles};
use identify::{Asked, Identified};
use output::FileKey;
pub use preview::Preview;
pub use service::{ScreenContext, ServiceScreen};
use trust::{Decision, Throttle, ThrottleLimits};

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
    /// `etag` and `content_type` as HTTP header values, made once (none for a content type a
    /// header cannot carry).
    pub etag_header: http::HeaderValue,
    pub content_type_header: Option<http::HeaderValue>,
}

impl RenderedFile {
    fn new(mut body: String, content_type: &str) -> Arc<RenderedFile> {
        // A render's text grows in a buffer sized by the template (minijinja starts from its
        // source's length: 8 KB for a 2 KB Yealink file). Kept as it is, every cached file
        // would hold four times its bytes, unseen by the cache's weigher, which counts the
        // body's length.
        body.shrink_to_fit();
        let etag = etag(body.as_bytes());
        Arc::new(RenderedFile {
            // Quoted hex: always a valid header value.
            etag_header: http::HeaderValue::from_str(&etag)
                .unwrap_or_else(|_| http::HeaderValue::from_static("\"\"")),
            content_type_header: http::HeaderValue::from_str(content_type).ok(),
            etag,
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
    /// No phone file, but a file of that path in `<data>/files/`.
    Static(StaticFile),
    NotFound(&'static str),
    /// HTTPS without credentials: a Digest challenge (`WWW-Authenticate` values), the same for
    /// every MAC.
    Challenge(Vec<String>),
    /// The store failed; the transport answers with a bare server error.
    Unavailable,
    /// A static file this node does not hold, at the shared base URL (`firmware.redirect`):
    /// HTTP redirects there; TFTP, which cannot, answers "file not found".
    Elsewhere(String),
}

#[derive(Debug)]
pub struct Served<'a> {
    pub outcome: Outcome,
    pub mac: Option<Mac>,
    /// How a request for a device's file was classified.
    pub decision: Option<Decision>,
    /// The file name as requested (without prefix; at most `MAX_NAME` characters), for the log.
    pub file: &'a str,
}

/// Settings the provisioning path needs, taken from `Settings` at start.
#[derive(Clone, Debug)]
pub struct ProvisionSettings {
    /// Where phones come back to, e.g. `http://prov.example.com:8080/`.
    pub public_url: String,
    pub recheck_minutes: u32,
    pub cache_max_bytes: u64,
    /// Memory for the tenants' directories the renders share.
    pub directory_cache_max_bytes: u64,
    /// The HTTPS URL phones are sent to once they have credentials, when HTTPS is on.
    pub https_url: Option<String>,
    /// Where phones fetch the local CA certificate, when there is one.
    pub ca_url: Option<String>,
    /// Dialled before an extension to pick up a call ringing there (BLF keys).
    pub pickup_prefix: String,
    /// Dialled to pick up a call ringing in the caller's pickup group (group-pickup keys).
    pub group_pickup_code: String,
    /// The firmware catalogue, and where its relative files are downloaded from.
    pub firmware: Arc<crate::firmware::Index>,
    pub firmware_base_url: String,
    /// Where static files this node does not hold are (see `Outcome::Elsewhere`).
    pub static_redirect: Option<String>,
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

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub found: AtomicU64,
    pub not_found: AtomicU64,
    pub unavailable: AtomicU64,
    pub renders: AtomicU64,
    /// Tenant directories loaded from the store (a miss of the directory cache, keyed by the
    /// directory revision).
    pub directory_loads: AtomicU64,
    pub render_errors: AtomicU64,
    /// Batches of device records loaded for renders (see `records`): with many phones asking
    /// at once, far fewer than renders.
    pub record_loads: Arc<AtomicU64>,
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
    /// Device records for cache misses, loaded in batches (see `records`).
    records: records::Records,
    catalog: Arc<Catalog>,
    settings: ProvisionSettings,
    files: Cache<FileKey, Arc<RenderedFile>>,
    devices: Cache<Mac, Lookup>,
    /// What this node last did for each device (`DeviceNote`): one entry per device, so a
    /// cached request looks one up for both its sighting and its served file.
    notes: Cache<DeviceId, Arc<std::sync::Mutex<DeviceNote>>>,
    /// Tenant directories by (tenant, directory revision), each with the views built of it per
    /// site (see `output::TenantDirectory`).
    directories: Cache<(TenantId, i64), Arc<output::TenantDirectory>>,
    /// Last-seen records waiting to be written (see `flush_seen`).
    seen_queue:
        std::sync::Mutex<std::collections::HashMap<DeviceId, (u64, crate::store::Sighting)>>,
    /// Refused requests of registered devices waiting to be written (see `flush_seen`); one per
    /// device, so it holds at most one entry per registered device.
    failed_queue:
        std::sync::Mutex<std::collections::HashMap<DeviceId, (u64, crate::store::Refusal)>>,
    /// Orders the queued sightings and refusals of one device (see `flush_seen`).
    queued: std::sync::atomic::AtomicU64,
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
    /// `<data>/files/`: firmware, ring tones and the like, for requests no phone file answers.
    static_files: StaticFiles,
    pub metrics: Metrics,
}

/// What this node last did for a device.
#[derive(Default)]
struct DeviceNote {
    /// The sighting last queued for writing, and when: a request that repeats it within
    /// `SEEN_EVERY` queues nothing, so a boot storm does not become a write storm. The MAC is
    /// part of it: a replaced handset's new hardware is recorded at once.
    seen: Option<(Sighting, std::time::Instant)>,
    /// The ETag of the main file the device was last served or told of (see `discovery`).
    served: Option<Arc<str>>,
}

impl DeviceNote {
    /// Whether `sighting` at `now` is to be written: it differs from the one last queued, or
    /// that was `SEEN_EVERY` ago or longer. If so it becomes the one last queued.
    fn sighting_is_new(&mut self, sighting: Sighting, now: std::time::Instant) -> bool {
        let repeat = self.seen.as_ref().is_some_and(|(seen, at)| {
            *seen == sighting && now.saturating_duration_since(*at) < SEEN_EVERY
        });
        if !repeat {
            self.seen = Some((sighting, now));
        }
        !repeat
    }
}

/// Where and how a device was seen: its MAC, address, protocol, the firmware its User-Agent
/// reports, and whether it proved itself.
type Sighting = (Mac, IpAddr, Protocol, Option<Arc<str>>, bool);

/// A device's unchanged sighting is written again after this long (its last-seen time).
const SEEN_EVERY: Duration = Duration::from_secs(60);

/// Longest file name we look at; anything longer is nobody's file.
const MAX_NAME: usize = 128;

impl Provisioner {
    pub fn new(
        store: Store,
        catalog: Arc<Catalog>,
        settings: ProvisionSettings,
        static_files: StaticFiles,
    ) -> Provisioner {
        let files = moka::sync::Cache::builder()
            .max_capacity(settings.cache_max_bytes)
            .weigher(|_key: &FileKey, file: &Arc<RenderedFile>| {
                u32::try_from(file.body.len() + 64).unwrap_or(u32::MAX)
            })
            .time_to_idle(Duration::from_secs(24 * 3600))
            .build_with_hasher(Hasher::default());
        let directories = moka::sync::Cache::builder()
            .max_capacity(settings.directory_cache_max_bytes)
            .weigher(|_key: &(TenantId, i64), d: &Arc<output::TenantDirectory>| {
                // The data, and about as much again for the views built of it.
                u32::try_from(2 * d.data.weight()).unwrap_or(u32::MAX)
            })
            .time_to_idle(Duration::from_secs(3600))
            .build_with_hasher(Hasher::default());
        let devices = moka::sync::Cache::builder()
            .max_capacity(200_000)
            .build_with_hasher(Hasher::default());
        let metrics = Metrics::default();
        Provisioner {
            records: records::Records::new(store.clone(), metrics.record_loads.clone()),
            store,
            catalog,
            digest: trust::Digest::new(settings.nonce_lifetime),
            throttle: Throttle::new(settings.throttle.clone()),
            unknown_models: std::sync::Mutex::default(),
            grace: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(30))
                .build_with_hasher(Hasher::default()),
            allowed: std::sync::Mutex::new((-1, Arc::default())),
            settings,
            files,
            devices,
            notes: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .build_with_hasher(Hasher::default()),
            seen_queue: std::sync::Mutex::default(),
            failed_queue: std::sync::Mutex::default(),
            queued: std::sync::atomic::AtomicU64::new(0),
            directories,
            static_files,
            metrics,
        }
    }

    /// Serves one request. Never fails: every refusal is `NotFound` with its reason; a request
    /// no phone file answers gets the static file of its path, where there is one.
    pub async fn serve<'a>(&self, request: &FileRequest<'a>) -> Served<'a> {
        let file = request.path.rsplit('/').next().unwrap_or_default();
        let (result, mac, decision) = match self.identify(file, request) {
            Identified::Settled(outcome, mac) => (Ok(outcome), mac, None),
            Identified::Shared(shared) => {
                let outcome =
                    self.shared_file(&shared.matched, shared.name, shared.model, shared.requester);
                (Ok(outcome), None, None)
            }
            Identified::Device(asked) => {
                let (result, decision) = self.device_request(&asked, request).await;
                (result, Some(asked.mac), decision)
            }
        };
        let (outcome, mac) = match result {
            Ok(outcome) => (outcome, mac),
            Err(e) => {
                tracing::error!(file, error = %e, "provisioning failed");
                (Outcome::Unavailable, None)
            }
        };
        self.count(&outcome, decision);
        let outcome = match outcome {
            Outcome::NotFound(reason) => match self.static_file(request.path).await {
                Some(found) => Outcome::Static(found),
                // Only a path no phone file name matched: a refused or unknown device's file
                // keeps the uniform 404.
                None => match (&self.settings.static_redirect, mac, decision) {
                    (Some(base), None, None) => match StaticFiles::relative(request.path) {
                        Some(relative) => Outcome::Elsewhere(format!(
                            "{base}{}",
                            relative
                                .iter()
                                .map(|s| s.to_string_lossy())
                                .collect::<Vec<_>>()
                                .join("/")
                        )),
                        None => Outcome::NotFound(reason),
                    },
                    _ => Outcome::NotFound(reason),
                },
            },
            outcome => outcome,
        };
        Served {
            outcome,
            mac,
            decision,
            file: match file.char_indices().nth(MAX_NAME) {
                Some((end, _)) => &file[..end],
                None => file,
            },
        }
    }

    /// A request for a device's file through the stages after `identify`: `admit`, `classify`,
    /// `verdict`, `device_file`. The decision is kept when a later stage fails.
    async fn device_request(
        &self,
        asked: &Asked<'_>,
        request: &FileRequest<'_>,
    ) -> (Result<Outcome>, Option<Decision>) {
        let mut admitted = match self.admit(asked, request).await {
            Ok(ControlFlow::Continue(admitted)) => admitted,
            Ok(ControlFlow::Break(outcome)) => return (Ok(outcome), None),
            Err(e) => return (Err(e), None),
        };
        let decision = match self.classify(asked, &admitted, request).await {
            Ok(decision) => decision,
            Err(e) => return (Err(e), None),
        };
        if decision == Decision::FirstContact {
            if let Err(e) = self.look_again(asked, &mut admitted).await {
                return (Err(e), Some(decision));
            }
        }
        let gate = admitted.gate;
        let outcome = match self.verdict(asked, admitted, decision, request).await {
            ControlFlow::Continue(known) => {
                self.device_file(asked, &known, gate, decision.is_proven(), request)
                    .await
            }
            ControlFlow::Break(outcome) => Ok(outcome),
        };
        (outcome, Some(decision))
    }

    /// Counts a phone file's outcome and decision for `/metrics` (a static file is counted as
    /// the phone file it is not, before it is looked for).
    fn count(&self, outcome: &Outcome, decision: Option<Decision>) {
        let counter = match outcome {
            Outcome::Found(_) => &self.metrics.found,
            Outcome::NotFound(_) | Outcome::Static(_) | Outcome::Elsewhere(_) => {
                &self.metrics.not_found
            }
            Outcome::Challenge(_) => &self.metrics.challenges,
            Outcome::Unavailable => &self.metrics.unavailable,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(d) = decision {
            if let Some(i) = Decision::ALL.iter().position(|x| *x == d) {
                self.metrics.decisions[i].fetch_add(1, Ordering::Relaxed);
            }
        }
    }
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
    fn a_cached_file_holds_only_its_bytes() {
        let mut body = String::with_capacity(8192);
        body.push_str("account.1.enable = 1\n");
        let file = RenderedFile::new(body, "text/plain");
        let held = Arc::try_unwrap(file)
            .expect("one owner")
            .body
            .try_into_mut()
            .expect("the only reference")
            .capacity();
        assert_eq!(held, "account.1.enable = 1\n".len());
    }

    /// A boot storm is not a write storm: a device's unchanged sighting is written once a
    /// minute; a new address, protocol, firmware or proof, or new hardware, at once.
    #[test]
    fn a_repeated_sighting_is_written_once_a_minute() {
        let mac: Mac = "001565a1b2c3".parse().unwrap();
        let ip: IpAddr = "192.0.2.10".parse().unwrap();
        let seen = |mac, ip| {
            (
                mac,
                ip,
                Protocol::Http,
                Some(Arc::<str>::from("66.86.0.15")),
                false,
            )
        };
        let t0 = std::time::Instant::now();
        let mut note = DeviceNote::default();
        assert!(note.sighting_is_new(seen(mac, ip), t0));
        assert!(!note.sighting_is_new(seen(mac, ip), t0 + Duration::from_secs(59)));
        assert!(note.sighting_is_new(seen(mac, ip), t0 + SEEN_EVERY));
        let later = t0 + SEEN_EVERY + Duration::from_secs(1);
        assert!(note.sighting_is_new(seen(mac, "192.0.2.11".parse().unwrap()), later));
        assert!(note.sighting_is_new(seen("001565a1b2c4".parse().unwrap(), ip), later));
        let mut https = seen("001565a1b2c4".parse().unwrap(), ip);
        https.2 = Protocol::Https;
        assert!(note.sighting_is_new(https.clone(), later));
        assert!(!note.sighting_is_new(https, later));
    }

    #[test]
    fn etag_is_quoted_and_content_based() {
        assert_eq!(etag(b"a"), etag(b"a"));
        assert_ne!(etag(b"a"), etag(b"b"));
        assert!(etag(b"a").starts_with('"') && etag(b"a").ends_with('"'));
    }
}
