//! autoprov: a provisioning and auto-configuration server for SIP desk phones.
//!
//! Layout (see ARCHITECTURE.md for the map and its invariants):
//!
//! - `config` — `Settings` from defaults, TOML, `AUTOPROV_*` environment and flags;
//! - `model` — domain types (`Mac`, `E164`, names, states, typed ids) and records;
//! - `store` — every SQL statement, SQLite or PostgreSQL, revisions and change log;
//! - `admin` — the portal rules, used alike by the CLI and the API;
//! - `render` — device-template manifests and the minijinja environment;
//! - `provision` — the phone-facing entry point shared by all transports, and its cache;
//! - `http` — the HTTP listener;
//! - `tftp` — the TFTP listener (packet codec, transfers);
//! - `app` — `App`, the parts above opened once and shared.

pub mod admin;
pub mod app;
pub mod certs;
pub mod config;
pub mod error;
pub mod firmware;
pub mod http;
pub mod model;
mod private;
pub mod provision;
pub mod render;
pub mod store;
pub mod tftp;

use tokio::net::{TcpListener, UdpSocket};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use app::App;
pub use error::{Error, Result};

/// Sockets bound by the caller (so tests can bind port 0 and read the address back).
#[derive(Debug, Default)]
pub struct Listeners {
    pub http: Option<TcpListener>,
    pub https: Option<TcpListener>,
    pub tftp: Option<UdpSocket>,
    /// The REST API's listener: never a phone listener.
    pub admin: Option<TcpListener>,
}

impl Listeners {
    /// Binds every listener `settings` asks for.
    pub async fn bind(settings: &config::Settings) -> Result<Listeners> {
        let http = match settings.http {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|e| Error::Config(format!("listen.http: cannot bind {addr}: {e}")))?,
            ),
            None => None,
        };
        let https =
            match settings.https {
                Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
                    Error::Config(format!("listen.https: cannot bind {addr}: {e}"))
                })?),
                None => None,
            };
        let tftp = match settings.tftp {
            Some(addr) => Some(
                UdpSocket::bind(addr)
                    .await
                    .map_err(|e| Error::Config(format!("listen.tftp: cannot bind {addr}: {e}")))?,
            ),
            None => None,
        };
        let admin =
            match settings.admin {
                Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
                    Error::Config(format!("listen.admin: cannot bind {addr}: {e}"))
                })?),
                None => None,
            };
        Ok(Listeners {
            http,
            https,
            tftp,
            admin,
        })
    }
}

/// Runs the server until `shutdown` is cancelled: the HTTP listener, and the task that watches
/// the store for changes made by other processes.
pub async fn run(app: App, listeners: Listeners, shutdown: CancellationToken) -> Result<()> {
    // The server certificate, for the phones' HTTPS listener and the admin listener. It comes
    // first: a local CA that is not the one the store recorded stops the start before anything
    // serves.
    let tls =
        if listeners.https.is_some() || (listeners.admin.is_some() && !app.settings.admin_http) {
            let (cert, key) = app.server_files().await?;
            Some(std::sync::Arc::new(http::tls::TlsState::load(
                cert,
                key,
                app.settings.https_settings.vendor_ca_dir.clone(),
            )?))
        } else {
            None
        };

    let tracker = TaskTracker::new();

    let poll_store = app.store.clone();
    let poll_provisioner = app.provisioner.clone();
    let poll_every = app.settings.revision_poll;
    let poll_stop = shutdown.clone();
    tracker.spawn(async move {
        let mut ticks = tokio::time::interval(poll_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = poll_stop.cancelled() => break,
                _ = ticks.tick() => {
                    if let Err(e) = poll_store.refresh_revisions().await {
                        tracing::warn!(error = %e, "cannot read store revisions");
                    }
                    poll_provisioner.flush_seen().await;
                }
            }
        }
    });

    if let Some(listener) = listeners.http {
        let addr = listener.local_addr()?;
        tracing::info!(protocol = "http", %addr, "listening");
        tracker.spawn(http::serve(
            listener,
            http::router(app.clone()),
            None,
            shutdown.clone(),
            tracker.clone(),
        ));
    }

    if let Some(listener) = listeners.admin {
        let addr = listener.local_addr()?;
        let admin_tls = if app.settings.admin_http {
            None
        } else {
            tls.clone()
        };
        let protocol = if admin_tls.is_some() {
            "admin https"
        } else {
            "admin http"
        };
        tracing::info!(protocol, %addr, "listening");
        tracker.spawn(http::serve(
            listener,
            http::admin_router(app.clone()),
            admin_tls,
            shutdown.clone(),
            tracker.clone(),
        ));
    }

    if let (Some(listener), Some(tls)) = (listeners.https, tls) {
        let addr = listener.local_addr()?;
        tracing::info!(protocol = "https", %addr, "listening");
        tracker.spawn(http::serve(
            listener,
            http::router(app.clone()),
            Some(tls.clone()),
            shutdown.clone(),
            tracker.clone(),
        ));
        // Certificates are swapped without a restart when their files change.
        let every = app.settings.https_settings.reload;
        let stop = shutdown.clone();
        tracker.spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = ticks.tick() => {
                        let tls = tls.clone();
                        let _ = tokio::task::spawn_blocking(move || tls.reload_if_changed()).await;
                    }
                }
            }
        });
    }

    if let Some(socket) = listeners.tftp {
        let addr = socket.local_addr()?;
        tracing::info!(protocol = "tftp", %addr, "listening");
        let server = std::sync::Arc::new(tftp::Server::new(
            app.provisioner.clone(),
            app.settings.tftp_limits.clone(),
            app.tftp_metrics.clone(),
        ));
        tracker.spawn(server.run(socket, shutdown.clone(), tracker.clone()));
    }

    tracker.close();
    shutdown.cancelled().await;
    app.provisioner.flush_seen().await;
    // Open keep-alive connections may hold the HTTP task; draining is bounded.
    if tokio::time::timeout(std::time::Duration::from_secs(5), tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after 5 s; closing anyway");
    }
    app.store.close().await;
    Ok(())
}
