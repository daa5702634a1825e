//! `App`: the long-lived parts, opened once from `Settings` and shared (cheap to clone) by the
//! server and the CLI.

use std::path::PathBuf;
use std::sync::Arc;

use crate::admin::Admin;
use crate::certs::{self, Renew};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::provision::{ProvisionSettings, Provisioner, StaticFiles, Unproven};
use crate::render::Catalog;
use crate::store::Store;

#[derive(Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub catalog: Arc<Catalog>,
    pub admin: Admin,
    pub provisioner: Arc<Provisioner>,
    pub tftp_metrics: Arc<crate::tftp::Metrics>,
    pub pnp_metrics: Arc<crate::sip::server::Metrics>,
    /// Sends check-sync NOTIFYs (and runs the PBX's hook): for the resync watcher and
    /// `device resync`.
    pub notifier: Arc<crate::sip::Notifier>,
    /// Where the phone path's access lines go (`tracing` unless `serve` hands them a writer).
    pub access: crate::http::access::AccessLog,
}

impl App {
    /// What the provisioning path needs from the settings.
    pub fn provision_settings(settings: &Settings) -> ProvisionSettings {
        ProvisionSettings {
            public_url: settings.public_url.clone(),
            recheck_minutes: settings.recheck_minutes,
            cache_max_bytes: settings.cache_max_bytes,
            directory_cache_max_bytes: settings.directory_cache_max_bytes,
            https_url: settings.https_url.clone(),
            ca_url: crate::certs::ca_url(settings),
            pickup_prefix: settings.pickup_prefix.clone(),
            group_pickup_code: settings.group_pickup_code.clone(),
            firmware: Arc::new(crate::firmware::Index::load_or_empty(
                &settings.firmware_index,
            )),
            firmware_base_url: settings.firmware_base_url.clone(),
            static_redirect: settings.static_redirect.clone(),
            unproven: if settings.trust.bootstrap {
                Unproven::Bootstrap
            } else {
                Unproven::NotFound
            },
            basic_over_tls: settings.trust.basic_over_tls,
            throttle: settings.trust.throttle.clone(),
            nonce_lifetime: settings.trust.nonce_lifetime,
        }
    }

    /// Makes the data folder its owner's only (created 0700, or tightened with a warning).
    pub fn open_data_dir(settings: &Settings) -> Result<()> {
        crate::private::dir(&settings.data_dir, "data folder")
    }

    /// Opens the store, after making the data folder its owner's only (it holds the database
    /// and the CA key): created 0700, or tightened to 0700 with a warning.
    pub async fn open_store(settings: &Settings) -> Result<Store> {
        Self::open_data_dir(settings)?;
        let schema = if settings.migrate_on_start {
            crate::store::Schema::Migrate
        } else {
            crate::store::Schema::Check
        };
        Store::open(&settings.database_url, schema).await
    }

    /// The certificate and key of the HTTPS and admin listeners: the operator's (`https.cert`,
    /// `https.key`), or the local ones, made if there are none and refused if the local CA is
    /// not the one the store recorded.
    pub async fn server_files(&self) -> Result<(PathBuf, PathBuf)> {
        if let Some((cert, key)) = &self.settings.https_settings.cert_and_key {
            return Ok((cert.clone(), key.clone()));
        }
        let local = local_certs(&self.store, &self.settings, Renew::Missing).await?;
        Ok((local.paths.cert, local.paths.key))
    }

    /// Loads the device templates, with the operator's overrides (a broken override is logged
    /// and its family served from the shipped templates; broken shipped templates are an error),
    /// and opens the store.
    pub async fn open(settings: Settings) -> Result<App> {
        let provision_settings = Self::provision_settings(&settings);
        let (catalog, problems) = crate::provision::check::load_checked(
            &settings.templates_dir,
            settings.templates_override.as_deref(),
            &provision_settings,
        )?;
        for problem in &problems {
            tracing::error!(%problem, "template override broken; serving the shipped templates of this family");
        }
        let store = Self::open_store(&settings).await?;
        let admin = Admin::new(store.clone(), catalog.clone(), settings.defaults.clone());
        let provisioner = Arc::new(Provisioner::new(
            store.clone(),
            catalog.clone(),
            provision_settings,
            StaticFiles::new(settings.data_dir.join("files")),
        ));
        Ok(App {
            access: Default::default(),
            tftp_metrics: Arc::default(),
            pnp_metrics: Arc::default(),
            notifier: Arc::new(crate::sip::Notifier::new(settings.resync.clone())),
            settings: Arc::new(settings),
            store,
            catalog,
            admin,
            provisioner,
        })
    }
}

/// The fact under which the store keeps the local CA's fingerprint (SHA-256 of its certificate's
/// DER, lowercase hex): what every phone provisioned over HTTPS trusts.
pub const LOCAL_CA_FACT: &str = "local_ca_sha256";

/// Makes or checks the local CA and server certificate (`certs::init`) against the fingerprint
/// the store recorded, and records the fingerprint: on first start (no CA yet: a new one), on the
/// first start after an upgrade (the CA there), and after `renew` replaced the CA on purpose.
pub async fn local_certs(store: &Store, settings: &Settings, renew: Renew) -> Result<certs::Local> {
    let recorded = store.fact(LOCAL_CA_FACT).await?;
    let local = certs::init(settings, recorded.as_deref(), renew)?;
    match recorded {
        Some(old) if old == local.ca_sha256 => {}
        Some(old) => {
            // Only `Renew::Ca` gets here: `init` refuses any other CA than the recorded one.
            store.set_fact(LOCAL_CA_FACT, &local.ca_sha256).await?;
            tracing::warn!(
                dir = %local.paths.dir.display(),
                old = %old,
                new = %local.ca_sha256,
                "replaced the local CA: every phone provisioned over HTTPS trusts the old one and must be provisioned again (first contact, or an allowed network)"
            );
        }
        None => {
            let now = store.record_fact(LOCAL_CA_FACT, &local.ca_sha256).await?;
            if now != local.ca_sha256 {
                // Another process (a node on the same PostgreSQL) recorded its CA first.
                return Err(Error::conflict(format!(
                    "local CA in {dir}: the store recorded the CA with SHA-256 {now} meanwhile \
                     (another node?), but this one is {ours}. Copy that node's {dir} here, or \
                     run `autoprov certs init --replace` to make a new CA on purpose (phones \
                     that trust the old one must then be provisioned again)",
                    dir = local.paths.dir.display(),
                    ours = local.ca_sha256
                )));
            }
            tracing::info!(
                dir = %local.paths.dir.display(),
                sha256 = %local.ca_sha256,
                "recorded the local CA's fingerprint in the store"
            );
        }
    }
    Ok(local)
}
