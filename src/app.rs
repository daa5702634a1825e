//! `App`: the long-lived parts, opened once from `Settings` and shared (cheap to clone) by the
//! server and the CLI.

use std::sync::Arc;

use crate::admin::Admin;
use crate::config::Settings;
use crate::error::Result;
use crate::provision::{ProvisionSettings, Provisioner};
use crate::render::Catalog;
use crate::store::Store;

#[derive(Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub catalog: Arc<Catalog>,
    pub admin: Admin,
    pub provisioner: Arc<Provisioner>,
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
        Ok(App {
            settings: Arc::new(settings),
            store,
            catalog,
            admin,
            provisioner,
        })
    }
}
