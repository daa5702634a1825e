//! Server configuration: defaults < TOML file < `AUTOPROV_*` environment < command-line flags,
//! merged as one TOML table and validated once into [`Settings`]. An unknown key in the file is
//! an error naming the key; an unknown `AUTOPROV_` variable is a warning naming the variable.
//! This is the only module that reads the environment.
//!
//! `raw.rs` holds the raw form and the layering, `validate.rs` the checks, one function per
//! section; this file the settings types and `load`.

mod raw;
#[cfg(test)]
mod tests;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use toml::{Table, Value};

use crate::error::{Error, Result};
use crate::model::SiteDefaults;
use raw::{env_key, merge, set, Raw, SetError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// TFTP limits (see `tftp`).
#[derive(Clone, Debug)]
pub struct TftpLimits {
    /// Largest block size agreed to (a client asking more gets this); 8–65464.
    pub max_blksize: usize,
    /// Largest window agreed to (RFC 7440).
    pub max_windowsize: u16,
    /// Wait for an ACK before the first resend (doubles on each resend).
    pub timeout: Duration,
    /// Resends before a transfer is given up.
    pub retries: u32,
    /// Resends before a transfer is given up while the peer has not acknowledged anything yet
    /// (its source may be forged); at most `retries`. The first wait is `timeout`, or the
    /// client's `timeout` option if shorter; it doubles after each resend.
    pub retries_before_ack: u32,
    /// Transfers at once; the next request gets a "busy" error.
    pub max_transfers: usize,
    /// Transfers at once from one network: an IPv4 /24 or an IPv6 /64.
    pub max_per_source: usize,
}

/// HTTPS settings.
#[derive(Clone, Debug)]
pub struct HttpsSettings {
    /// Operator certificate and key; `None` means the local CA's, made in the data dir.
    pub cert_and_key: Option<(PathBuf, PathBuf)>,
    pub hostnames: Vec<String>,
    pub vendor_ca_dir: PathBuf,
    pub reload: Duration,
}

/// SIP PnP settings (see `sip`).
#[derive(Clone, Debug)]
pub struct PnpSettings {
    /// Join 224.0.1.75 on the PnP socket (always, when `listen.pnp` is that group).
    pub multicast: bool,
    /// Answers a source address may get at once, and how many it earns back a minute.
    pub burst: u32,
    pub per_minute: u32,
}

/// Telling phones to fetch their files again (check-sync NOTIFY, or the PBX's hook).
#[derive(Clone, Debug)]
pub struct ResyncSettings {
    pub on_change: bool,
    pub debounce: Duration,
    pub notify: bool,
    pub phone_port: u16,
    /// Program and arguments run per phone; empty for none.
    pub hook: Vec<String>,
}

/// Device-trust settings.
#[derive(Clone, Debug)]
pub struct TrustSettings {
    /// Unproven requests over HTTP and TFTP get the bootstrap file (`true`) or the 404.
    pub bootstrap: bool,
    pub basic_over_tls: bool,
    /// The failure throttle's limits, as `provision::trust::Throttle` takes them.
    pub throttle: ThrottleLimits,
    pub nonce_lifetime: Duration,
}

/// When a portal session ends: unused for `idle`, or `absolute` after its login.
#[derive(Clone, Copy, Debug)]
pub struct SessionLimits {
    pub idle: Duration,
    pub absolute: Duration,
}

/// Limits for the failure throttle (see `provision::trust`).
#[derive(Clone, Debug)]
pub struct ThrottleLimits {
    /// Failures an address may have before it is slowed and then refused.
    pub burst: u32,
    /// Failures an address is forgiven per minute.
    pub per_minute: u32,
    /// Delay added to answers while an address has used most of its burst.
    pub slow: Duration,
    /// How long an address that used its whole burst is refused, and how long a vendor prefix's
    /// first-contact windows stay closed after its guesses ran out.
    pub ban: Duration,
    /// Guesses (requests for MACs nobody registered, wrong credentials) a vendor prefix (the
    /// MAC's first three bytes) may see over all addresses and transports before the
    /// first-contact windows of that prefix close; and how many are forgiven a minute.
    pub prefix_burst: u32,
    pub prefix_per_minute: u32,
    /// Nodes sharing the store (`store.nodes`): each node allows its share of the prefix
    /// budget, so the guesses of the whole cluster stay within `prefix_burst`.
    pub nodes: u32,
}

/// Validated settings, passed explicitly to whatever needs them.
#[derive(Clone, Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub log_format: LogFormat,
    /// `RUST_LOG`, when set: the tracing filter.
    pub log_filter: Option<String>,
    pub http: Option<SocketAddr>,
    pub https: Option<SocketAddr>,
    pub tftp: Option<SocketAddr>,
    pub pnp: Option<SocketAddr>,
    pub pnp_settings: PnpSettings,
    pub resync: ResyncSettings,
    /// The admin listener (REST API, portal): HTTPS with the server certificate unless
    /// `admin_http`, which is only allowed on a loopback address.
    pub admin: Option<SocketAddr>,
    pub admin_http: bool,
    /// Where phones come back to, ending in `/`.
    pub public_url: String,
    /// Whether `public_url` was derived from the HTTP address (and so follows the bound port).
    public_url_derived: bool,
    pub recheck_minutes: u32,
    /// Dialled before an extension to pick up a call ringing there (BLF keys).
    pub pickup_prefix: String,
    /// Dialled to pick up a call ringing anywhere in the caller's pickup group (group-pickup
    /// keys).
    pub group_pickup_code: String,
    pub templates_dir: PathBuf,
    /// The operator's overrides, laid over `templates_dir` family by family.
    pub templates_override: Option<PathBuf>,
    pub cache_max_bytes: u64,
    /// Memory for the tenants' directories (`cache.directory_max_mib`).
    pub directory_cache_max_bytes: u64,
    pub revision_poll: Duration,
    /// The portal's session expiry (`portal.idle_minutes`, `portal.absolute_hours`).
    pub portal_sessions: SessionLimits,
    /// Whether opening the store migrates its schema: always on SQLite (one node), on
    /// PostgreSQL only when told (`store.migrate`, `serve --migrate`).
    pub migrate_on_start: bool,
    pub tftp_limits: TftpLimits,
    /// The HTTPS URL phones with credentials are sent to (when HTTPS is on).
    pub https_url: Option<String>,
    https_url_derived: bool,
    pub https_settings: HttpsSettings,
    pub trust: TrustSettings,
    /// The firmware catalogue's folder.
    pub firmware_index: PathBuf,
    /// Where relative firmware files are downloaded from, ending in `/`.
    pub firmware_base_url: String,
    firmware_base_url_derived: bool,
    /// Where a static file `<data>/files/` does not hold is redirected (`firmware.redirect`:
    /// `firmware.base_url`, checked as a URL); `None` answers the 404.
    pub static_redirect: Option<String>,
    pub defaults: SiteDefaults,
}

/// Where settings come from, besides the defaults.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// `--config FILE`; without it, `AUTOPROV_CONFIG`.
    pub config_file: Option<PathBuf>,
    /// Whether to read `AUTOPROV_*` variables (tests pass `false` to stay hermetic).
    pub read_env: bool,
    /// Flags as (dotted key, value), highest precedence.
    pub flags: Vec<(&'static str, String)>,
}

/// Settings and the warnings met while loading them (printed once logging is up).
pub fn load(sources: &Sources) -> Result<(Settings, Vec<String>)> {
    let mut warnings = Vec::new();
    let mut table = match Value::try_from(Raw::default()) {
        Ok(Value::Table(t)) => t,
        _ => return Err(Error::Config("built-in defaults do not serialise".into())),
    };
    let env = if sources.read_env {
        autoprov_env()?
    } else {
        Vec::new()
    };
    let log_filter = if sources.read_env {
        std::env::var("RUST_LOG").ok()
    } else {
        None
    };
    let config_file = sources.config_file.clone().or_else(|| {
        env.iter()
            .find(|(k, _)| k == "AUTOPROV_CONFIG")
            .map(|(_, v)| PathBuf::from(v))
    });
    if let Some(path) = &config_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("reading {}: {e}", path.display())))?;
        let file: Table =
            toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        merge(&mut table, file, "", &path.display().to_string())?;
    }
    for (name, value) in &env {
        let Some(key) = env_key(name) else {
            continue;
        };
        match set(&mut table, &key, value) {
            Ok(()) => {}
            Err(SetError::Unknown) => warnings.push(format!(
                "ignoring unknown environment variable {name} (no setting {key})"
            )),
            Err(SetError::Type(expected)) => {
                return Err(Error::Config(format!(
                    "{name}: {value:?} is not {expected}"
                )))
            }
        }
    }
    for (key, value) in &sources.flags {
        match set(&mut table, key, value) {
            Ok(()) => {}
            Err(SetError::Unknown) => {
                return Err(Error::Config(format!("unknown setting {key}")));
            }
            Err(SetError::Type(expected)) => {
                return Err(Error::Config(format!("{key}: {value:?} is not {expected}")))
            }
        }
    }
    let raw: Raw = Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| Error::Config(e.message().to_owned()))?;
    let mut settings = validate::validate(raw)?;
    settings.log_filter = log_filter;
    Ok((settings, warnings))
}

/// The `AUTOPROV_*` variables. `vars_os`: a variable that is not UTF-8 must not panic here; ours
/// must be UTF-8.
fn autoprov_env() -> Result<Vec<(String, String)>> {
    let mut env = Vec::new();
    for (key, value) in std::env::vars_os() {
        let Some(key) = key.to_str().filter(|k| k.starts_with("AUTOPROV_")) else {
            continue;
        };
        let value = value
            .into_string()
            .map_err(|_| Error::Config(format!("{key} is not valid UTF-8")))?;
        env.push((key.to_owned(), value));
    }
    Ok(env)
}

/// `http://HOST:PORT/` for a listening address; an unspecified address becomes 127.0.0.1, which
/// only suits a trial on one machine (set `provisioning.public_url` for real phones).
fn derived_url(addr: SocketAddr) -> String {
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}/", addr.port())
}

/// The public URL's host with the HTTPS port.
fn derived_https_url(public_url: &str, port: u16) -> String {
    let host = public_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .map(|authority| match authority.rsplit_once(':') {
            Some((host, p)) if p.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => authority,
        })
        .unwrap_or("127.0.0.1");
    format!("https://{host}:{port}/")
}

impl Settings {
    /// Whether phones are told a URL that only works on this machine: derived from an
    /// unspecified listening address (0.0.0.0). `serve` warns about it.
    pub fn public_url_is_local_guess(&self) -> bool {
        self.public_url_derived && self.http.is_some_and(|a| a.ip().is_unspecified())
    }

    /// Settings once the listeners are bound: derived URLs follow the real ports (which differ
    /// from the configured ones when those were 0).
    pub fn with_bound(mut self, http: Option<SocketAddr>, https: Option<SocketAddr>) -> Settings {
        if let (true, Some(addr)) = (self.public_url_derived, http) {
            self.public_url = derived_url(addr);
            if self.firmware_base_url_derived {
                self.firmware_base_url = self.public_url.clone();
            }
        }
        if let (true, Some(addr)) = (self.https_url_derived, https) {
            self.https_url = Some(derived_https_url(&self.public_url, addr.port()));
        }
        self
    }
}

/// Who runs an admin command, for the audit trail: the login name from `USER` or `LOGNAME`.
pub fn operator_name() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}
