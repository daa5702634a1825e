//! From the raw form to [`Settings`], one function per section, with the checks every section
//! shares: [`ranged`] numbers, [`url`]s and [`dir_or`] folders with a default. Each message names
//! the key and shows what was given.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{
    Raw, RawDefaults, RawFirmware, RawHttps, RawListen, RawPnp, RawProvisioning, RawResync,
    RawTemplates, RawTftp, RawTrust,
};
use super::{
    derived_https_url, derived_url, HttpsSettings, LogFormat, PnpSettings, ResyncSettings,
    Settings, TftpLimits, ThrottleLimits, TrustSettings,
};
use crate::error::{Error, Result};
use crate::model::{parse_host, SiteDefaults, TimeZoneFacts};

pub(super) fn validate(raw: Raw) -> Result<Settings> {
    let data_dir = PathBuf::from(&raw.data);
    let database_url = if raw.database.is_empty() {
        format!("sqlite://{}", data_dir.join("autoprov.db").display())
    } else {
        raw.database.clone()
    };
    let log_format = choice(
        "log_format",
        &raw.log_format,
        &[("human", LogFormat::Human), ("json", LogFormat::Json)],
    )?;
    let listen = listeners(&raw.listen)?;
    let provisioning = provisioning(&raw.provisioning, listen.http, listen.https)?;
    let cache_max_mib: u64 = ranged("cache.max_mib", raw.cache.max_mib, 1..=65_536)?;
    let directory_max_mib: u64 = ranged(
        "cache.directory_max_mib",
        raw.cache.directory_max_mib,
        1..=65_536,
    )?;
    let poll_ms = ranged("store.poll_ms", raw.store.poll_ms, 10..=60_000)?;
    let portal_idle: u64 = ranged("portal.idle_minutes", raw.portal.idle_minutes, 1..=1440)?;
    let portal_absolute: u64 = ranged("portal.absolute_hours", raw.portal.absolute_hours, 1..=720)?;
    let tftp_limits = tftp(&raw.tftp)?;
    let https_settings = https(&raw.https, &data_dir)?;
    let nodes = ranged("store.nodes", raw.store.nodes, 1..=1000)?;
    let trust = trust(&raw.trust, nodes)?;
    let migrate_on_start = raw.store.migrate || database_url.starts_with("sqlite:");
    let (templates_dir, templates_override) = templates(&raw.templates)?;
    let firmware = firmware(&raw.firmware, &provisioning.public_url)?;
    Ok(Settings {
        data_dir,
        database_url,
        log_format,
        log_filter: None,
        http: listen.http,
        https: listen.https,
        tftp: listen.tftp,
        pnp: listen.pnp,
        pnp_settings: pnp(&raw.pnp)?,
        resync: resync(&raw.resync)?,
        admin: listen.admin,
        admin_http: listen.admin_http,
        public_url: provisioning.public_url,
        public_url_derived: provisioning.public_url_derived,
        recheck_minutes: provisioning.recheck_minutes,
        pickup_prefix: provisioning.pickup_prefix,
        group_pickup_code: provisioning.group_pickup_code,
        templates_dir,
        templates_override,
        cache_max_bytes: cache_max_mib * 1024 * 1024,
        directory_cache_max_bytes: directory_max_mib * 1024 * 1024,
        revision_poll: Duration::from_millis(poll_ms),
        portal_sessions: crate::config::SessionLimits {
            idle: Duration::from_secs(portal_idle * 60),
            absolute: Duration::from_secs(portal_absolute * 3600),
        },
        migrate_on_start,
        tftp_limits,
        https_url: provisioning.https_url,
        https_url_derived: provisioning.https_url_derived,
        https_settings,
        trust,
        firmware_index: firmware.index,
        firmware_base_url: firmware.base_url,
        firmware_base_url_derived: firmware.base_url_derived,
        static_redirect: firmware.redirect,
        defaults: defaults(raw.defaults)?,
    })
}

/// `value` as a `T` when it lies in `range`: "KEY: VALUE is not between A and B" otherwise.
fn ranged<T: TryFrom<i64>>(key: &str, value: i64, range: RangeInclusive<i64>) -> Result<T> {
    range
        .contains(&value)
        .then(|| T::try_from(value).ok())
        .flatten()
        .ok_or_else(|| {
            Error::Config(format!(
                "{key}: {value} is not between {} and {}",
                range.start(),
                range.end()
            ))
        })
}

/// A URL of one of `schemes` (with `://`), without spaces or control characters, ending in `/`.
fn url(key: &str, value: &str, schemes: &[&str]) -> Result<String> {
    if !schemes.iter().any(|s| value.starts_with(s))
        || value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::Config(format!(
            "{key}: {value:?} is not an {} URL",
            schemes.join(" or ")
        )));
    }
    Ok(with_slash(value))
}

fn with_slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_owned()
    } else {
        format!("{url}/")
    }
}

/// The folder `value` names, or `default()` when it is empty.
fn dir_or(value: &str, default: impl FnOnce() -> PathBuf) -> PathBuf {
    if value.is_empty() {
        default()
    } else {
        PathBuf::from(value)
    }
}

/// `dir`, which must be a folder.
fn folder(key: &str, dir: PathBuf) -> Result<PathBuf> {
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(Error::Config(format!(
            "{key}: {} is not a folder",
            dir.display()
        )))
    }
}

/// A folder shipped with autoprov: `./NAME` when it holds `marker` (a checkout, or an install
/// next to the data), else the one this binary was built from.
fn shipped(name: &str, marker: &str) -> PathBuf {
    let local = PathBuf::from(name);
    if local.join(marker).is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
    }
}

/// The value `text` names among `choices`: "KEY: TEXT is not A or B" otherwise.
fn choice<T: Copy>(key: &str, text: &str, choices: &[(&str, T)]) -> Result<T> {
    choices
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            Error::Config(format!("{key}: {text:?} is not {}", names.join(" or ")))
        })
}

/// The listening addresses.
struct Listeners {
    http: Option<SocketAddr>,
    https: Option<SocketAddr>,
    tftp: Option<SocketAddr>,
    pnp: Option<SocketAddr>,
    admin: Option<SocketAddr>,
    admin_http: bool,
}

fn listeners(raw: &RawListen) -> Result<Listeners> {
    let listen = Listeners {
        http: listen("http", &raw.http)?,
        https: listen("https", &raw.https)?,
        tftp: listen("tftp", &raw.tftp)?,
        pnp: listen("pnp", &raw.pnp)?,
        admin: listen("admin", &raw.admin)?,
        admin_http: raw.admin_http,
    };
    if let (true, Some(addr)) = (listen.admin_http, listen.admin) {
        if !addr.ip().is_loopback() {
            return Err(Error::Config(format!(
                "listen.admin_http: the admin API travels in clear over plain HTTP, so it is only \
                 served on a loopback address; {addr} is not one (use HTTPS, or 127.0.0.1)"
            )));
        }
    }
    Ok(listen)
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

/// What phones are told, and when they come back.
struct Provisioning {
    public_url: String,
    public_url_derived: bool,
    https_url: Option<String>,
    https_url_derived: bool,
    recheck_minutes: u32,
    pickup_prefix: String,
    group_pickup_code: String,
}

fn provisioning(
    raw: &RawProvisioning,
    http: Option<SocketAddr>,
    https: Option<SocketAddr>,
) -> Result<Provisioning> {
    let public_url_derived = raw.public_url.is_empty();
    let public_url = if public_url_derived {
        derived_url(http.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))))
    } else {
        url(
            "provisioning.public_url",
            &raw.public_url,
            &["http://", "https://"],
        )?
    };
    let https_url = match (https, raw.https_url.is_empty()) {
        (None, _) => None,
        (Some(_), false) => Some(url(
            "provisioning.https_url",
            &raw.https_url,
            &["https://"],
        )?),
        (Some(addr), true) => Some(derived_https_url(&public_url, addr.port())),
    };
    let recheck_minutes = ranged(
        "provisioning.recheck_minutes",
        raw.recheck_minutes,
        5..=43_200,
    )?;
    let dial_code = |key: &str, code: &str| {
        if code.len() > 8
            || !code
                .chars()
                .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
        {
            return Err(Error::Config(format!(
                "provisioning.{key}: {code:?} is not up to 8 of 0-9 * #"
            )));
        }
        Ok(code.to_owned())
    };
    let pickup_prefix = dial_code("pickup_prefix", &raw.pickup_prefix)?;
    let group_pickup_code = dial_code("group_pickup_code", &raw.group_pickup_code)?;
    Ok(Provisioning {
        public_url,
        public_url_derived,
        https_url_derived: https.is_some() && raw.https_url.is_empty(),
        https_url,
        recheck_minutes,
        pickup_prefix,
        group_pickup_code,
    })
}

fn pnp(p: &RawPnp) -> Result<PnpSettings> {
    Ok(PnpSettings {
        multicast: p.multicast,
        burst: ranged("pnp.burst", p.burst, 1..=10_000)?,
        per_minute: ranged("pnp.per_minute", p.per_minute, 0..=100_000)?,
    })
}

fn resync(r: &RawResync) -> Result<ResyncSettings> {
    if r.hook
        .first()
        .is_some_and(|program| program.trim().is_empty())
    {
        return Err(Error::Config(
            "resync.hook: the first word is the program to run, and it is empty".into(),
        ));
    }
    Ok(ResyncSettings {
        on_change: r.on_change,
        debounce: Duration::from_millis(ranged("resync.debounce_ms", r.debounce_ms, 0..=600_000)?),
        notify: r.notify,
        phone_port: ranged("resync.phone_port", r.phone_port, 1..=65_535)?,
        hook: r.hook.clone(),
    })
}

fn tftp(t: &RawTftp) -> Result<TftpLimits> {
    Ok(TftpLimits {
        max_blksize: ranged("tftp.max_blksize", t.max_blksize, 512..=65464)?,
        max_windowsize: ranged("tftp.max_windowsize", t.max_windowsize, 1..=65535)?,
        timeout: Duration::from_millis(ranged("tftp.timeout_ms", t.timeout_ms, 10..=255_000)?),
        retries: ranged("tftp.retries", t.retries, 0..=20)?,
        retries_before_ack: ranged("tftp.retries_before_ack", t.retries_before_ack, 0..=20)?,
        max_transfers: ranged("tftp.max_transfers", t.max_transfers, 1..=100_000)?,
        max_per_source: ranged("tftp.max_per_source", t.max_per_source, 1..=100_000)?,
    })
}

fn https(h: &RawHttps, data_dir: &Path) -> Result<HttpsSettings> {
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
    Ok(HttpsSettings {
        cert_and_key,
        hostnames: h.hostnames.clone(),
        vendor_ca_dir: dir_or(&h.vendor_ca_dir, || data_dir.join("vendor-ca")),
        reload: Duration::from_secs(ranged("https.reload_secs", h.reload_secs, 1..=86_400)?),
    })
}

fn trust(t: &RawTrust, nodes: u32) -> Result<TrustSettings> {
    Ok(TrustSettings {
        bootstrap: choice(
            "trust.unproven",
            &t.unproven,
            &[("bootstrap", true), ("not-found", false)],
        )?,
        basic_over_tls: t.basic_over_tls,
        throttle: ThrottleLimits {
            burst: ranged("trust.fail_burst", t.fail_burst, 1..=1_000_000)?,
            per_minute: ranged("trust.fail_per_minute", t.fail_per_minute, 0..=1_000_000)?,
            slow: Duration::from_millis(ranged("trust.slow_ms", t.slow_ms, 0..=60_000)?),
            ban: Duration::from_secs(ranged("trust.ban_secs", t.ban_secs, 1..=86_400)?),
            prefix_burst: ranged("trust.prefix_burst", t.prefix_burst, 1..=100_000_000)?,
            prefix_per_minute: ranged(
                "trust.prefix_per_minute",
                t.prefix_per_minute,
                0..=100_000_000,
            )?,
            nodes,
        },
        nonce_lifetime: Duration::from_secs(ranged("trust.nonce_secs", t.nonce_secs, 10..=86_400)?),
    })
}

/// The templates folder and the operator's overrides, both checked to be folders.
fn templates(raw: &RawTemplates) -> Result<(PathBuf, Option<PathBuf>)> {
    let dir = folder(
        "templates.dir",
        dir_or(&raw.dir, || shipped("device-templates", "yealink")),
    )?;
    let overrides = if raw.override_dir.is_empty() {
        None
    } else {
        Some(folder(
            "templates.override_dir",
            PathBuf::from(&raw.override_dir),
        )?)
    };
    Ok((dir, overrides))
}

/// Where the firmware catalogue is, and where its relative files are downloaded from.
struct Firmware {
    index: PathBuf,
    base_url: String,
    base_url_derived: bool,
    /// `firmware.base_url` for static files this node does not hold, when redirecting.
    redirect: Option<String>,
}

fn firmware(raw: &RawFirmware, public_url: &str) -> Result<Firmware> {
    let base_url_derived = raw.base_url.is_empty();
    // Checked as a URL only when files are redirected there: a configuration that starts must
    // keep starting, and before `firmware.redirect` a bad base URL only made bad firmware URLs.
    let redirect = match (raw.redirect, base_url_derived) {
        (false, _) => None,
        (true, true) => {
            return Err(Error::Config(
                "firmware.redirect: needs firmware.base_url (the shared store the files are \
                 redirected to)"
                    .into(),
            ))
        }
        (true, false) => Some(url(
            "firmware.base_url",
            &with_slash(&raw.base_url),
            &["http://", "https://"],
        )?),
    };
    Ok(Firmware {
        index: dir_or(&raw.index_dir, || shipped("firmware-index", "")),
        // Not checked as a URL: it never was, and a configuration that starts must keep starting.
        base_url: if base_url_derived {
            public_url.to_owned()
        } else {
            with_slash(&raw.base_url)
        },
        base_url_derived,
        redirect,
    })
}

fn defaults(raw: RawDefaults) -> Result<SiteDefaults> {
    let in_defaults = |e: Error| Error::Config(format!("defaults.{e}"));
    TimeZoneFacts::new(&raw.time_zone, jiff::Timestamp::now()).map_err(in_defaults)?;
    let sip_domain = if raw.sip_domain.is_empty() {
        None
    } else {
        Some(parse_host("sip_domain", &raw.sip_domain).map_err(in_defaults)?)
    };
    let ntp_server = parse_host("ntp_server", &raw.ntp_server).map_err(in_defaults)?;
    let sip_transport = raw
        .sip_transport
        .parse()
        .map_err(|e| Error::Config(format!("defaults.sip_{e}")))?;
    Ok(SiteDefaults {
        time_zone: raw.time_zone,
        ntp_server,
        sip_domain,
        sip_transport,
    })
}
