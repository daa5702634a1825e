//! `App`: the long-lived parts, opened once from `Settings` and shared (cheap to clone) by the
//! server and the CLI.

use std::sync::Arc;

use crate::admin::Admin;
use crate::config::Settings;
use crate::error::Result;
use crate::provision::{ProvisionSettings, Provisioner, StaticFiles};
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
    /// Loads the device templates (failing on any broken one) and opens the store.
    pub async fn open(settings: Settings) -> Result<App> {
        let catalog = Arc::new(Catalog::load(&settings.templates_dir)?);
        let store = Store::connect(&settings.database_url).await?;
        let admin = Admin::new(store.clone(), catalog.clone(), settings.defaults.clone());
        let provisioner = Arc::new(Provisioner::new(
            store.clone(),
            catalog.clone(),
            ProvisionSettings {
                public_url: settings.public_url.clone(),
                recheck_minutes: settings.recheck_minutes,
                cache_max_bytes: settings.cache_max_bytes,
            },
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
