//! The raw, layered form of the configuration: one serde struct per section whose defaults double
//! as the list of keys, and the layering itself (a file's table merged over the defaults, an
//! `AUTOPROV_*` variable or a flag set by its dotted key, typed like its default).

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::error::{Error, Result};

/// The raw, layered form; every key has a default, so the defaults double as the list of keys.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Raw {
    /// Data folder: the SQLite file, generated certificates, static files.
    pub(super) data: String,
    /// `sqlite://PATH` or `postgres://…`; empty means `sqlite://<data>/autoprov.db`.
    pub(super) database: String,
    /// `human` or `json`.
    pub(super) log_format: String,
    pub(super) listen: RawListen,
    pub(super) provisioning: RawProvisioning,
    pub(super) templates: RawTemplates,
    pub(super) cache: RawCache,
    pub(super) store: RawStore,
    pub(super) tftp: RawTftp,
    pub(super) https: RawHttps,
    pub(super) trust: RawTrust,
    pub(super) firmware: RawFirmware,
    pub(super) defaults: RawDefaults,
    pub(super) pnp: RawPnp,
    pub(super) resync: RawResync,
    pub(super) portal: RawPortal,
}

/// The web portal's sessions.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPortal {
    /// A session unused this long ends (minutes).
    pub(super) idle_minutes: i64,
    /// A session ends this long after its login however much it is used (hours).
    pub(super) absolute_hours: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPnp {
    /// Join the PnP multicast group 224.0.1.75 also when `listen.pnp` is not that group.
    pub(super) multicast: bool,
    /// Answers one source address may get at once, and how many it earns back a minute.
    pub(super) burst: i64,
    pub(super) per_minute: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawResync {
    /// Tell phones to fetch their files again after an admin change that alters them.
    pub(super) on_change: bool,
    /// Changes are gathered this long before phones are told (one NOTIFY for a burst of writes).
    pub(super) debounce_ms: i64,
    /// Send the SIP NOTIFY ourselves (off when the PBX's hook does it).
    pub(super) notify: bool,
    /// The phones' SIP port, where the NOTIFY goes (their last-seen address, this port).
    pub(super) phone_port: i64,
    /// A command run per phone to resync (program and arguments), with the device in its
    /// environment: for a PBX that must send the NOTIFY itself.
    pub(super) hook: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFirmware {
    /// Folder of the firmware catalogue; empty means the shipped `firmware-index/`.
    pub(super) index_dir: String,
    /// Where relative firmware files are downloaded from; empty means the public URL.
    pub(super) base_url: String,
    /// Redirect a request for a file `<data>/files/` does not hold to `base_url` + its path
    /// (a CDN or object store shared by every node), instead of the 404.
    pub(super) redirect: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttps {
    /// Operator certificate chain and key (PEM); empty means the local CA's certificate.
    pub(super) cert: String,
    pub(super) key: String,
    /// Names and addresses the local certificate is made for.
    pub(super) hostnames: Vec<String>,
    /// Folder of vendor CA bundles (`*.pem`) that phone client certificates chain to.
    pub(super) vendor_ca_dir: String,
    /// How often certificate files are checked for changes.
    pub(super) reload_secs: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrust {
    /// `bootstrap` or `not-found`: what an unproven request gets over HTTP and TFTP.
    pub(super) unproven: String,
    pub(super) basic_over_tls: bool,
    pub(super) fail_burst: i64,
    pub(super) fail_per_minute: i64,
    pub(super) slow_ms: i64,
    pub(super) ban_secs: i64,
    pub(super) prefix_burst: i64,
    pub(super) prefix_per_minute: i64,
    pub(super) nonce_secs: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTftp {
    pub(super) max_blksize: i64,
    pub(super) max_windowsize: i64,
    pub(super) timeout_ms: i64,
    pub(super) retries: i64,
    pub(super) retries_before_ack: i64,
    pub(super) max_transfers: i64,
    pub(super) max_per_source: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawListen {
    pub(super) http: String,
    pub(super) https: String,
    pub(super) tftp: String,
    pub(super) pnp: String,
    /// The REST API (and the portal): never on a phone listener.
    pub(super) admin: String,
    /// Serve the admin listener as plain HTTP: only on a loopback address.
    pub(super) admin_http: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProvisioning {
    /// The URL phones come back to; empty means derived from the HTTP address.
    pub(super) public_url: String,
    /// The HTTPS URL phones with credentials are sent to; empty means derived.
    pub(super) https_url: String,
    /// Dialled before an extension to pick up a call ringing there (BLF keys).
    pub(super) pickup_prefix: String,
    /// Dialled to pick up a call ringing in the caller's pickup group (group-pickup keys).
    pub(super) group_pickup_code: String,
    pub(super) recheck_minutes: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTemplates {
    /// Folder of `<family>/manifest.toml` and templates; empty means the shipped ones.
    pub(super) dir: String,
    /// The operator's folder of `<family>/<file>` overrides; empty means none.
    pub(super) override_dir: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCache {
    pub(super) max_mib: i64,
    pub(super) directory_max_mib: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    /// How often the server looks for changes made by other processes (on PostgreSQL, only
    /// while the LISTEN connection is down).
    pub(super) poll_ms: i64,
    /// Migrate a PostgreSQL schema on start (SQLite always migrates): only when no other node
    /// runs an older build.
    pub(super) migrate: bool,
    /// Nodes that serve phones from this store: the prefix guess budget is shared among them.
    pub(super) nodes: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub(super) time_zone: String,
    pub(super) ntp_server: String,
    pub(super) sip_domain: String,
    pub(super) sip_transport: String,
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
                group_pickup_code: "*8".into(),
                recheck_minutes: 1440,
            },
            templates: RawTemplates {
                dir: String::new(),
                override_dir: String::new(),
            },
            cache: RawCache {
                max_mib: 256,
                directory_max_mib: 64,
            },
            store: RawStore {
                poll_ms: 250,
                migrate: false,
                nodes: 1,
            },
            portal: RawPortal {
                idle_minutes: 30,
                absolute_hours: 12,
            },
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
                redirect: false,
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
            pnp: RawPnp {
                multicast: false,
                burst: 10,
                per_minute: 10,
            },
            resync: RawResync {
                on_change: true,
                debounce_ms: 500,
                notify: true,
                phone_port: 5060,
                hook: Vec::new(),
            },
        }
    }
}

/// `AUTOPROV_HTTP` → `listen.http`; `AUTOPROV_CACHE__MAX_MIB` → `cache.max_mib`. `None` for
/// variables that are not settings (the config path itself, test-only variables).
pub(super) fn env_key(name: &str) -> Option<String> {
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
pub(super) fn merge(into: &mut Table, from: Table, prefix: &str, file: &str) -> Result<()> {
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

pub(super) enum SetError {
    Unknown,
    Type(&'static str),
}

/// Sets a dotted key from text, typed like its default.
pub(super) fn set(table: &mut Table, key: &str, text: &str) -> Result<(), SetError> {
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
