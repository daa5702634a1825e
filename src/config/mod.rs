//! Server configuration: defaults < TOML file < `AUTOPROV_*` environment < command-line flags,
//! merged as one TOML table and validated once into [`Settings`]. An unknown key in the file is
//! an error naming the key; an unknown `AUTOPROV_` variable is a warning naming the variable.
//! This is the only module that reads the environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::error::{Error, Result};
use crate::model::{parse_host, SiteDefaults};

/// The raw, layered form; every key has a default, so the defaults double as the list of keys.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    /// Data folder: the SQLite file, generated certificates, static files.
    data: String,
    /// `sqlite://PATH` or `postgres://…`; empty means `sqlite://<data>/autoprov.db`.
    database: String,
    /// `human` or `json`.
    log_format: String,
    listen: RawListen,
    provisioning: RawProvisioning,
    templates: RawTemplates,
    cache: RawCache,
    store: RawStore,
    tftp: RawTftp,
    https: RawHttps,
    trust: RawTrust,
    firmware: RawFirmware,
    defaults: RawDefaults,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFirmware {
    /// Folder of the firmware catalogue; empty means the shipped `firmware-index/`.
    index_dir: String,
    /// Where relative firmware files are downloaded from; empty means the public URL.
    base_url: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttps {
    /// Operator certificate chain and key (PEM); empty means the local CA's certificate.
    cert: String,
    key: String,
    /// Names and addresses the local certificate is made for.
    hostnames: Vec<String>,
    /// Folder of vendor CA bundles (`*.pem`) that phone client certificates chain to.
    vendor_ca_dir: String,
    /// How often certificate files are checked for changes.
    reload_secs: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrust {
    /// `bootstrap` or `not-found`: what an unproven request gets over HTTP and TFTP.
    unproven: String,
    basic_over_tls: bool,
    fail_burst: i64,
    fail_per_minute: i64,
    slow_ms: i64,
    ban_secs: i64,
    prefix_burst: i64,
    prefix_per_minute: i64,
    nonce_secs: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTftp {
    max_blksize: i64,
    max_windowsize: i64,
    timeout_ms: i64,
    retries: i64,
    retries_before_ack: i64,
    max_transfers: i64,
    max_per_source: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListen {
    http: String,
    https: String,
    tftp: String,
    pnp: String,
    /// The REST API (and the portal): never on a phone listener.
    admin: String,
    /// Serve the admin listener as plain HTTP: only on a loopback address.
    admin_http: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvisioning {
    /// The URL phones come back to; empty means derived from the HTTP address.
    public_url: String,
    /// The HTTPS URL phones with credentials are sent to; empty means derived.
    https_url: String,
    /// Dialled before an extension to pick up a call ringing there (BLF keys).
    pickup_prefix: String,
    recheck_minutes: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplates {
    /// Folder of `<family>/manifest.toml` and templates; empty means the shipped ones.
    dir: String,
    /// The operator's folder of `<family>/<file>` overrides; empty means none.
    override_dir: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    max_mib: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    /// How often the server looks for changes made by other processes.
    poll_ms: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    time_zone: String,
    ntp_server: String,
    sip_domain: String,
    sip_transport: String,
}

impl Default for Raw {
    fn default() -> Self {
        Raw {
            data: "./data".into(),
            database: String::new(),
            log_format: "human".into(),
            listen: RawListen {
                http: "0.0.0.0:8080".into(),
                https: "0.0.0.0:8443".into(),
                tftp: "0.0.0.0:6969".into(),
                pnp: "off".into(),
                admin: "127.0.0.1:9443".into(),
                admin_http: false,
            },
            provisioning: RawProvisioning {
                public_url: String::new(),
                https_url: String::new(),
                pickup_prefix: "**".into(),
                recheck_minutes: 1440,
            },
            templates: RawTemplates {
                dir: String::new(),
                override_dir: String::new(),
            },
            cache: RawCache { max_mib: 256 },
            store: RawStore { poll_ms: 250 },
            tftp: RawTftp {
                max_blksize: 65464,
                max_windowsize: 64,
                timeout_ms: 1000,
                retries: 5,
                retries_before_ack: 1,
                max_transfers: 512,
                max_per_source: 16,
            },
            https: RawHttps {
                cert: String::new(),
                key: String::new(),
                hostnames: vec!["localhost".into(), "127.0.0.1".into()],
                vendor_ca_dir: String::new(),
                reload_secs: 10,
            },
            firmware: RawFirmware {
                index_dir: String::new(),
                base_url: String::new(),
            },
            trust: RawTrust {
                unproven: "not-found".into(),
                basic_over_tls: false,
                fail_burst: 60,
                fail_per_minute: 60,
                slow_ms: 500,
                ban_secs: 600,
                prefix_burst: 100,
                prefix_per_minute: 1,
                nonce_secs: 300,
            },
            defaults: RawDefaults {
                time_zone: "UTC".into(),
                ntp_server: "pool.ntp.org".into(),
                sip_domain: String::new(),
                sip_transport: "udp".into(),
            },
        }
    }
}

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

/// Device-trust settings.
#[derive(Clone, Debug)]
pub struct TrustSettings {
    /// Unproven requests over HTTP and TFTP get the bootstrap file (`true`) or the 404.
    pub bootstrap: bool,
    pub basic_over_tls: bool,
    pub fail_burst: u32,
    pub fail_per_minute: u32,
    pub slow: Duration,
    pub ban: Duration,
    pub prefix_burst: u32,
    pub prefix_per_minute: u32,
    pub nonce_lifetime: Duration,
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
    pub templates_dir: PathBuf,
    /// The operator's overrides, laid over `templates_dir` family by family.
    pub templates_override: Option<PathBuf>,
    pub cache_max_bytes: u64,
    pub revision_poll: Duration,
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
    // vars_os: a variable that is not UTF-8 must not panic here; ours must be UTF-8.
    let env: Vec<(String, String)> = if sources.read_env {
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
        env
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
    let mut settings = validate(raw)?;
    settings.log_filter = log_filter;
    Ok((settings, warnings))
}

/// `AUTOPROV_HTTP` → `listen.http`; `AUTOPROV_CACHE__MAX_MIB` → `cache.max_mib`. `None` for
/// variables that are not settings (the config path itself, test-only variables).
fn env_key(name: &str) -> Option<String> {
    let rest = name.strip_prefix("AUTOPROV_")?;
    let key = match rest {
        "CONFIG" => return None,
        _ if rest.starts_with("TEST_") => return None,
        "DATA" => "data".to_owned(),
        "DATABASE_URL" => "database".to_owned(),
        "HTTP" | "HTTPS" | "TFTP" | "PNP" | "ADMIN" => {
            format!("listen.{}", rest.to_ascii_lowercase())
        }
        _ => rest.to_ascii_lowercase().replace("__", "."),
    };
    Some(key)
}

/// Merges a config file's table into the defaults, refusing keys the defaults do not have.
fn merge(into: &mut Table, from: Table, prefix: &str, file: &str) -> Result<()> {
    for (key, value) in from {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (into.get_mut(&key), value) {
            (None, _) => {
                return Err(Error::Config(format!("{file}: unknown key {path}")));
            }
            (Some(Value::Table(inner)), Value::Table(value)) => merge(inner, value, &path, file)?,
            (Some(Value::Table(_)), _) => {
                return Err(Error::Config(format!("{file}: {path} must be a table")));
            }
            (Some(slot), value) => {
                if slot.type_str() != value.type_str() {
                    return Err(Error::Config(format!(
                        "{file}: {path} must be of type {}, not {}",
                        slot.type_str(),
                        value.type_str()
                    )));
                }
                *slot = value;
            }
        }
    }
    Ok(())
}

enum SetError {
    Unknown,
    Type(&'static str),
}

/// Sets a dotted key from text, typed like its default.
fn set(table: &mut Table, key: &str, text: &str) -> Result<(), SetError> {
    let mut parts = key.split('.').peekable();
    let mut current = table;
    while let Some(part) = parts.next() {
        let slot = current.get_mut(part).ok_or(SetError::Unknown)?;
        if parts.peek().is_none() {
            *slot = match slot {
                Value::Integer(_) => Value::Integer(
                    text.trim()
                        .parse()
                        .map_err(|_| SetError::Type("a whole number"))?,
                ),
                Value::Boolean(_) => Value::Boolean(
                    text.trim()
                        .parse()
                        .map_err(|_| SetError::Type("true or false"))?,
                ),
                Value::String(_) => Value::String(text.to_owned()),
                Value::Array(_) => Value::Array(
                    text.split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(|t| Value::String(t.to_owned()))
                        .collect(),
                ),
                _ => return Err(SetError::Unknown),
            };
            return Ok(());
        }
        current = match slot {
            Value::Table(t) => t,
            _ => return Err(SetError::Unknown),
        };
    }
    Err(SetError::Unknown)
}

fn listen(key: &str, value: &str) -> Result<Option<SocketAddr>> {
    if value.eq_ignore_ascii_case("off") || value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        Error::Config(format!(
            "listen.{key}: {value:?} is not an address like 0.0.0.0:8080 (or off)"
        ))
    })
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

/// The shipped templates folder: `./device-templates` when it exists (a checkout or an install
/// next to the data), else the one this binary was built from.
fn default_templates_dir() -> PathBuf {
    let local = PathBuf::from("device-templates");
    if local.join("yealink").is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("device-templates")
    }
}

fn validate(raw: Raw) -> Result<Settings> {
    let data_dir = PathBuf::from(&raw.data);
    let database_url = if raw.database.is_empty() {
        format!("sqlite://{}", data_dir.join("autoprov.db").display())
    } else {
        raw.database.clone()
    };
    let log_format = match raw.log_format.as_str() {
        "human" => LogFormat::Human,
        "json" => LogFormat::Json,
        other => {
            return Err(Error::Config(format!(
                "log_format: {other:?} is not human or json"
            )))
        }
    };
    let http = listen("http", &raw.listen.http)?;
    let https = listen("https", &raw.listen.https)?;
    let tftp = listen("tftp", &raw.listen.tftp)?;
    let pnp = listen("pnp", &raw.listen.pnp)?;
    let admin = listen("admin", &raw.listen.admin)?;
    let admin_http = raw.listen.admin_http;
    if let (true, Some(addr)) = (admin_http, admin) {
        if !addr.ip().is_loopback() {
            return Err(Error::Config(format!(
                "listen.admin_http: the admin API travels in clear over plain HTTP, so it is only \
                 served on a loopback address; {addr} is not one (use HTTPS, or 127.0.0.1)"
            )));
        }
    }
    for (key, addr) in [("pnp", pnp)] {
        if addr.is_some() {
            return Err(Error::Config(format!(
                "listen.{key}: this version of autoprov has no {key} listener yet; set it to off"
            )));
        }
    }
    let public_url_derived = raw.provisioning.public_url.is_empty();
    let public_url = if public_url_derived {
        derived_url(http.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))))
    } else {
        let url = raw.provisioning.public_url.clone();
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::Config(format!(
                "provisioning.public_url: {url:?} is not an http:// or https:// URL"
            )));
        }
        if url.ends_with('/') {
            url
        } else {
            format!("{url}/")
        }
    };
    let recheck_minutes = u32::try_from(raw.provisioning.recheck_minutes)
        .ok()
        .filter(|m| (5..=43_200).contains(m))
        .ok_or_else(|| {
            Error::Config(format!(
                "provisioning.recheck_minutes: {} is not between 5 and 43200",
                raw.provisioning.recheck_minutes
            ))
        })?;
    let cache_max_bytes = u64::try_from(raw.cache.max_mib)
        .ok()
        .filter(|m| (1..=65_536).contains(m))
        .ok_or_else(|| {
            Error::Config(format!(
                "cache.max_mib: {} is not between 1 and 65536",
                raw.cache.max_mib
            ))
        })?
        * 1024
        * 1024;
    let poll_ms = u64::try_from(raw.store.poll_ms)
        .ok()
        .filter(|m| (10..=60_000).contains(m))
        .ok_or_else(|| {
            Error::Config(format!(
                "store.poll_ms: {} is not between 10 and 60000",
                raw.store.poll_ms
            ))
        })?;
    let ranged = |key: &str, value: i64, range: std::ops::RangeInclusive<i64>| {
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(Error::Config(format!(
                "{key}: {value} is not between {} and {}",
                range.start(),
                range.end()
            )))
        }
    };
    let t = &raw.tftp;
    let tftp_limits = TftpLimits {
        max_blksize: ranged("tftp.max_blksize", t.max_blksize, 512..=65464)? as usize,
        max_windowsize: ranged("tftp.max_windowsize", t.max_windowsize, 1..=65535)? as u16,
        timeout: Duration::from_millis(
            ranged("tftp.timeout_ms", t.timeout_ms, 10..=255_000)? as u64
        ),
        retries: ranged("tftp.retries", t.retries, 0..=20)? as u32,
        retries_before_ack: ranged("tftp.retries_before_ack", t.retries_before_ack, 0..=20)? as u32,
        max_transfers: ranged("tftp.max_transfers", t.max_transfers, 1..=100_000)? as usize,
        max_per_source: ranged("tftp.max_per_source", t.max_per_source, 1..=100_000)? as usize,
    };
    let h = &raw.https;
    let cert_and_key = match (h.cert.is_empty(), h.key.is_empty()) {
        (true, true) => None,
        (false, false) => Some((PathBuf::from(&h.cert), PathBuf::from(&h.key))),
        _ => {
            return Err(Error::Config(
                "https.cert and https.key go together: give both or neither".into(),
            ))
        }
    };
    if h.hostnames.is_empty() {
        return Err(Error::Config(
            "https.hostnames: name at least one host".into(),
        ));
    }
    let https_settings = HttpsSettings {
        cert_and_key,
        hostnames: h.hostnames.clone(),
        vendor_ca_dir: if h.vendor_ca_dir.is_empty() {
            data_dir.join("vendor-ca")
        } else {
            PathBuf::from(&h.vendor_ca_dir)
        },
        reload: Duration::from_secs(ranged("https.reload_secs", h.reload_secs, 1..=86_400)? as u64),
    };
    let https_url = match (https, raw.provisioning.https_url.is_empty()) {
        (None, _) => None,
        (Some(_), false) => {
            let url = raw.provisioning.https_url.clone();
            if !url.starts_with("https://")
                || url.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(Error::Config(format!(
                    "provisioning.https_url: {url:?} is not an https:// URL"
                )));
            }
            Some(if url.ends_with('/') {
                url
            } else {
                format!("{url}/")
            })
        }
        (Some(addr), true) => Some(derived_https_url(&public_url, addr.port())),
    };
    let https_url_derived = https.is_some() && raw.provisioning.https_url.is_empty();
    let t = &raw.trust;
    let trust = TrustSettings {
        bootstrap: match t.unproven.as_str() {
            "bootstrap" => true,
            "not-found" => false,
            other => {
                return Err(Error::Config(format!(
                    "trust.unproven: {other:?} is not bootstrap or not-found"
                )))
            }
        },
        basic_over_tls: t.basic_over_tls,
        fail_burst: ranged("trust.fail_burst", t.fail_burst, 1..=1_000_000)? as u32,
        fail_per_minute: ranged("trust.fail_per_minute", t.fail_per_minute, 0..=1_000_000)? as u32,
        slow: Duration::from_millis(ranged("trust.slow_ms", t.slow_ms, 0..=60_000)? as u64),
        ban: Duration::from_secs(ranged("trust.ban_secs", t.ban_secs, 1..=86_400)? as u64),
        prefix_burst: ranged("trust.prefix_burst", t.prefix_burst, 1..=100_000_000)? as u32,
        prefix_per_minute: ranged(
            "trust.prefix_per_minute",
            t.prefix_per_minute,
            0..=100_000_000,
        )? as u32,
        nonce_lifetime: Duration::from_secs(
            ranged("trust.nonce_secs", t.nonce_secs, 10..=86_400)? as u64
        ),
    };
    let templates_dir = if raw.templates.dir.is_empty() {
        default_templates_dir()
    } else {
        PathBuf::from(&raw.templates.dir)
    };
    if !Path::new(&templates_dir).is_dir() {
        return Err(Error::Config(format!(
            "templates.dir: {} is not a folder",
            templates_dir.display()
        )));
    }
    let firmware_index = if raw.firmware.index_dir.is_empty() {
        let local = PathBuf::from("firmware-index");
        if local.is_dir() {
            local
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware-index")
        }
    } else {
        PathBuf::from(&raw.firmware.index_dir)
    };
    let firmware_base_url = if raw.firmware.base_url.is_empty() {
        public_url.clone()
    } else if raw.firmware.base_url.ends_with('/') {
        raw.firmware.base_url.clone()
    } else {
        format!("{}/", raw.firmware.base_url)
    };
    let pickup_prefix = raw.provisioning.pickup_prefix.clone();
    if pickup_prefix.len() > 8
        || !pickup_prefix
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
    {
        return Err(Error::Config(format!(
            "provisioning.pickup_prefix: {pickup_prefix:?} is not up to 8 of 0-9 * #"
        )));
    }
    let templates_override = if raw.templates.override_dir.is_empty() {
        None
    } else {
        let dir = PathBuf::from(&raw.templates.override_dir);
        if !dir.is_dir() {
            return Err(Error::Config(format!(
                "templates.override_dir: {} is not a folder",
                dir.display()
            )));
        }
        Some(dir)
    };
    crate::model::TimeZoneFacts::new(&raw.defaults.time_zone, jiff::Timestamp::now())
        .map_err(|e| Error::Config(format!("defaults.{e}")))?;
    let sip_domain = if raw.defaults.sip_domain.is_empty() {
        None
    } else {
        Some(
            parse_host("sip_domain", &raw.defaults.sip_domain)
                .map_err(|e| Error::Config(format!("defaults.{e}")))?,
        )
    };
    let ntp_server = parse_host("ntp_server", &raw.defaults.ntp_server)
        .map_err(|e| Error::Config(format!("defaults.{e}")))?;
    let sip_transport = raw
        .defaults
        .sip_transport
        .parse()
        .map_err(|e| Error::Config(format!("defaults.sip_{e}")))?;
    Ok(Settings {
        data_dir,
        database_url,
        log_format,
        log_filter: None,
        http,
        https,
        tftp,
        pnp,
        admin,
        admin_http,
        public_url,
        public_url_derived,
        recheck_minutes,
        pickup_prefix,
        templates_dir,
        templates_override,
        cache_max_bytes,
        revision_poll: Duration::from_millis(poll_ms),
        tftp_limits,
        https_url,
        https_url_derived,
        https_settings,
        trust,
        firmware_index,
        firmware_base_url_derived: raw.firmware.base_url.is_empty(),
        firmware_base_url,
        defaults: SiteDefaults {
            time_zone: raw.defaults.time_zone,
            ntp_server,
            sip_domain,
            sip_transport,
        },
    })
}

/// Who runs an admin command, for the audit trail: the login name from `USER` or `LOGNAME`.
pub fn operator_name() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(list: &[(&'static str, &str)]) -> Sources {
        Sources {
            config_file: None,
            read_env: false,
            flags: list.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        }
    }

    #[test]
    fn defaults_validate() {
        let (s, warnings) = load(&flags(&[])).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(s.http, Some("0.0.0.0:8080".parse().unwrap()));
        assert_eq!(s.https, Some("0.0.0.0:8443".parse().unwrap()));
        assert_eq!(s.https_url.as_deref(), Some("https://127.0.0.1:8443/"));
        assert!(!s.trust.bootstrap);
        assert_eq!(s.tftp, Some("0.0.0.0:6969".parse().unwrap()));
        assert_eq!(s.tftp_limits.max_blksize, 65464);
        assert_eq!(s.tftp_limits.retries_before_ack, 1);
        assert_eq!(s.public_url, "http://127.0.0.1:8080/");
        assert_eq!(s.database_url, "sqlite://./data/autoprov.db");
        assert_eq!(s.revision_poll, Duration::from_millis(250));
    }

    #[test]
    fn file_then_flags_override() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("autoprov.toml");
        std::fs::write(
            &path,
            "data = \"/srv/ap\"\n[listen]\nhttp = \"127.0.0.1:9000\"\n[cache]\nmax_mib = 8\n",
        )
        .unwrap();
        let mut sources = flags(&[("listen.http", "127.0.0.1:9100")]);
        sources.config_file = Some(path);
        let (s, _) = load(&sources).unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/srv/ap"));
        assert_eq!(s.http, Some("127.0.0.1:9100".parse().unwrap()));
        assert_eq!(s.cache_max_bytes, 8 * 1024 * 1024);
        assert_eq!(s.public_url, "http://127.0.0.1:9100/");
    }

    #[test]
    fn unknown_and_mistyped_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[listen]\nhttps = \"off\"\nhtp = \"x\"\n").unwrap();
        let mut sources = flags(&[]);
        sources.config_file = Some(path.clone());
        let err = load(&sources).unwrap_err().to_string();
        assert!(err.contains("unknown key listen.htp"), "{err}");

        std::fs::write(&path, "[cache]\nmax_mib = \"big\"\n").unwrap();
        let err = load(&sources).unwrap_err().to_string();
        assert!(
            err.contains("cache.max_mib must be of type integer, not string"),
            "{err}"
        );

        let err = load(&flags(&[("listen.http", "nowhere")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("listen.http") && err.contains("nowhere"),
            "{err}"
        );
        let err = load(&flags(&[("store.poll_ms", "5")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("store.poll_ms"), "{err}");
    }

    #[test]
    fn derived_urls() {
        assert_eq!(
            derived_url("[::1]:8080".parse().unwrap()),
            "http://[::1]:8080/"
        );
        assert_eq!(
            derived_url("0.0.0.0:80".parse().unwrap()),
            "http://127.0.0.1:80/"
        );
        let (s, _) = load(&flags(&[])).unwrap();
        assert!(s.public_url_is_local_guess());
        let (s, _) = load(&flags(&[(
            "provisioning.public_url",
            "http://prov.example.com",
        )]))
        .unwrap();
        assert_eq!(s.public_url, "http://prov.example.com/");
        assert!(!s.public_url_is_local_guess());
    }

    #[test]
    fn env_names_map_to_keys() {
        assert_eq!(env_key("AUTOPROV_HTTP").as_deref(), Some("listen.http"));
        assert_eq!(
            env_key("AUTOPROV_DATABASE_URL").as_deref(),
            Some("database")
        );
        assert_eq!(
            env_key("AUTOPROV_CACHE__MAX_MIB").as_deref(),
            Some("cache.max_mib")
        );
        assert_eq!(env_key("AUTOPROV_TEST_PG_URL"), None);
        assert_eq!(env_key("AUTOPROV_CONFIG"), None);
        let mut table = match Value::try_from(Raw::default()).unwrap() {
            Value::Table(t) => t,
            _ => unreachable!(),
        };
        assert!(matches!(
            set(&mut table, "cache.max_mib", "x"),
            Err(SetError::Type(_))
        ));
        assert!(matches!(
            set(&mut table, "cache.nope", "1"),
            Err(SetError::Unknown)
        ));
        assert!(set(&mut table, "cache.max_mib", "12").is_ok());
    }
}
