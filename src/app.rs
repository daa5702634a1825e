//! `App`: the long-lived parts, opened once from `Settings` and shared (cheap to clone) by the
//! server and the CLI.

use std::sync::Arc;

use crate::admin::Admin;
use crate::config::Settings;
use crate::error::Result;
use crate::provision::trust::ThrottleLimits;
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
    /// `<data>/files/`: firmware, ring tones and the like, over HTTP and TFTP.
    pub files: StaticFiles,
    pub tftp_metrics: Arc<crate::tftp::Metrics>,
}

impl App {
    /// What the provisioning path needs from the settings.
    pub fn provision_settings(settings: &Settings) -> ProvisionSettings {
        ProvisionSettings {
            public_url: settings.public_url.clone(),
            recheck_minutes: settings.recheck_minutes,
            cache_max_bytes: settings.cache_max_bytes,
            https_url: settings.https_url.clone(),
            ca_url: crate::certs::ca_url(settings),
            pickup_prefix: settings.pickup_prefix.clone(),
            firmware: Arc::new(
                crate::firmware::Index::load(&settings.firmware_index).unwrap_or_else(|e| {
                    tracing::error!(error = %e, "firmware catalogue unreadable; no firmware URLs");
                    crate::firmware::Index::default()
                }),
            ),
            firmware_base_url: settings.firmware_base_url.clone(),
            unproven: if settings.trust.bootstrap {
                Unproven::Bootstrap
            } else {
                Unproven::NotFound
            },
            basic_over_tls: settings.trust.basic_over_tls,
            throttle: ThrottleLimits {
                burst: settings.trust.fail_burst,
                per_minute: settings.trust.fail_per_minute,
                slow: settings.trust.slow,
                ban: settings.trust.ban,
                prefix_burst: settings.trust.prefix_burst,
                prefix_per_minute: settings.trust.prefix_per_minute,
            },
            nonce_lifetime: settings.trust.nonce_lifetime,
        }
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
        let store = Store::connect(&settings.database_url).await?;
        let admin = Admin::new(store.clone(), catalog.clone(), settings.defaults.clone());
        let provisioner = Arc::new(Provisioner::new(
            store.clone(),
            catalog.clone(),
            provision_settings,
        ));
        let files = StaticFiles::new(settings.data_dir.join("files"));
        Ok(App {
            files,
            tftp_metrics: Arc::default(),
            settings: Arc::new(settings),
            store,
            catalog,
            admin,
            provisioner,
        })
    }
}
