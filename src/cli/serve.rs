//! `autoprov serve`: run the server until SIGINT or SIGTERM.

use autoprov::config::Settings;
use autoprov::{App, Listeners};
use clap::Args;
use tokio_util::sync::CancellationToken;

use super::wait_for_signal;

#[derive(Args, Debug)]
pub(super) struct ServeArgs {
    /// HTTP address [default: 0.0.0.0:8080]; off to disable
    #[arg(long, value_name = "ADDR")]
    pub(super) http: Option<String>,
    /// HTTPS address for phones [default: 0.0.0.0:8443]; off to disable
    #[arg(long, value_name = "ADDR")]
    pub(super) https: Option<String>,
    /// TFTP address [default: 0.0.0.0:6969; 0.0.0.0:69 in production]; off to disable
    #[arg(long, value_name = "ADDR")]
    pub(super) tftp: Option<String>,
    /// Admin address: the REST API over HTTPS [default: 127.0.0.1:9443]; off to disable
    #[arg(long, value_name = "ADDR")]
    pub(super) admin: Option<String>,
    /// SIP PnP address, e.g. 224.0.1.75:5060 (joins the multicast group) [default: off]
    #[arg(long, value_name = "ADDR")]
    pub(super) pnp: Option<String>,
    /// Migrate a PostgreSQL schema on start (SQLite always does): only when no other node runs
    /// an older build [setting: store.migrate]
    #[arg(long)]
    pub(super) migrate: bool,
}

/// `autoprov migrate`: the schema brought up to date, with the versions before and after.
pub(super) async fn migrate(settings: &Settings, out: &super::Output) -> anyhow::Result<()> {
    use autoprov::store::{Schema, Store};
    autoprov::App::open_data_dir(settings)?;
    let store = Store::open(&settings.database_url, Schema::AsItIs).await?;
    let before = store.schema_versions().await?;
    store.migrate().await?;
    let after = store.schema_versions().await?;
    store.close().await;
    let text = if before.database == after.database {
        format!("schema at version {}: up to date", after.database)
    } else {
        format!(
            "schema migrated from version {} to {}",
            before.database, after.database
        )
    };
    out.one(
        &serde_json::json!({ "before": before.database, "after": after.database }),
        text,
    );
    Ok(())
}

pub(super) async fn run(
    settings: Settings,
    access: autoprov::http::access::AccessLog,
) -> anyhow::Result<()> {
    let listeners = Listeners::bind(&settings).await?;
    let bound = |l: &Option<tokio::net::TcpListener>| l.as_ref().and_then(|l| l.local_addr().ok());
    let settings = settings.with_bound(bound(&listeners.http), bound(&listeners.https));
    if settings.public_url_is_local_guess() {
        tracing::warn!(
            url = %settings.public_url,
            "phones are told to come back to a loopback URL; set provisioning.public_url to an address they can reach"
        );
    }
    let app = App {
        access,
        ..App::open(settings).await?
    };
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        on_signal.cancel();
    });
    autoprov::run(app, listeners, shutdown).await?;
    Ok(())
}
