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
//! - `sip` — SIP PnP discovery and check-sync NOTIFYs (codec, listener, resync watcher);
//! - `app` — `App`, the parts above opened once and shared.

pub mod admin;
pub mod app;
mod cache;
pub mod certs;
pub mod config;
pub mod error;
pub mod firmware;
pub mod http;
pub mod model;
mod private;
pub mod provision;
pub mod render;
pub mod sip;
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
    /// SIP PnP (off by default).
    pub pnp: Option<UdpSocket>,
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
        let pnp = match settings.pnp {
            Some(addr) => Some(bind_pnp(addr, settings.pnp_settings.multicast).await?),
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
            pnp,
            admin,
        })
    }
}

/// The PnP socket. For the multicast group itself (`224.0.1.75:5060`) it binds the port on every
/// address and joins the group (answers then leave from a unicast address); with `multicast`
/// it joins the group on a unicast address's port too.
async fn bind_pnp(addr: std::net::SocketAddr, multicast: bool) -> Result<UdpSocket> {
    let group = sip::PNP_GROUP;
    let is_group = addr.ip() == std::net::IpAddr::V4(group);
    let bind_to = if is_group {
        std::net::SocketAddr::from(([0, 0, 0, 0], addr.port()))
    } else {
        addr
    };
    let socket = UdpSocket::bind(bind_to)
        .await
        .map_err(|e| Error::Config(format!("listen.pnp: cannot bind {bind_to}: {e}")))?;
    if is_group || multicast {
        let interface = match bind_to.ip() {
            std::net::IpAddr::V4(ip) => ip,
            std::net::IpAddr::V6(_) => {
                return Err(Error::Config(format!(
                    "pnp.multicast: {group} is an IPv4 group; listen.pnp {addr} is IPv6"
                )))
            }
        };
        socket.join_multicast_v4(group, interface).map_err(|e| {
            Error::Config(format!(
                "listen.pnp: cannot join the multicast group {group} on {interface}: {e} \
                 (is there a route for multicast? e.g. `ip route add 224.0.0.0/4 dev eth0`)"
            ))
        })?;
    }
    Ok(socket)
}

/// Runs the server until `shutdown` is cancelled: the phones' HTTP, HTTPS and TFTP listeners,
/// the admin listener, the certificate reloader and the revision poller, under one
/// `TaskTracker`; then drains them (bounded) and closes the store.
pub async fn run(app: App, listeners: Listeners, shutdown: CancellationToken) -> Result<()> {
    // The server certificate comes first: a local CA that is not the one the store recorded
    // stops the start before anything serves.
    let tls = server_tls(&app, &listeners).await?;
    // The store's nonce keys before any challenge goes out, so every node signs alike.
    app.provisioner.refresh_nonce_keys().await?;
    let tracker = TaskTracker::new();
    tracker.spawn(poll_revisions(app.clone(), shutdown.clone()));
    let (store, stop) = (app.store.clone(), shutdown.clone());
    tracker.spawn(async move { store.listen_changes(stop).await });
    tracker.spawn(refresh_nonce_keys(app.clone(), shutdown.clone()));
    let spawn_http = |listener: TcpListener, router, tls, protocol: &'static str| -> Result<()> {
        let addr = listener.local_addr()?;
        tracing::info!(protocol, %addr, "listening");
        let serving = http::serve(listener, router, tls, shutdown.clone(), tracker.clone());
        tracker.spawn(serving);
        Ok(())
    };
    if let Some(listener) = listeners.http {
        spawn_http(listener, http::router(app.clone()), None, "http")?;
    }
    if let Some(listener) = listeners.admin {
        let admin_tls = tls.clone().filter(|_| !app.settings.admin_http);
        let protocol = match admin_tls {
            Some(_) => "admin https",
            None => "admin http",
        };
        spawn_http(
            listener,
            http::admin_router(app.clone()),
            admin_tls,
            protocol,
        )?;
    }
    if let (Some(listener), Some(tls)) = (listeners.https, tls) {
        spawn_http(
            listener,
            http::router(app.clone()),
            Some(tls.clone()),
            "https",
        )?;
        let every = app.settings.https_settings.reload;
        tracker.spawn(reload_certificates(tls, every, shutdown.clone()));
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

    if let Some(socket) = listeners.pnp {
        let addr = socket.local_addr()?;
        let multicast = app.settings.pnp.is_some_and(|a| a.ip().is_multicast())
            || app.settings.pnp_settings.multicast;
        tracing::info!(protocol = "pnp", %addr, multicast, "listening");
        let pnp = std::sync::Arc::new(sip::Pnp::new(
            app.provisioner.clone(),
            app.settings.pnp_settings.clone(),
            app.pnp_metrics.clone(),
        ));
        tracker.spawn(pnp.run(socket, shutdown.clone(), tracker.clone()));
    }
    if app.settings.resync.on_change {
        tracker.spawn(sip::resync::watch(
            app.store.clone(),
            app.provisioner.clone(),
            app.notifier.clone(),
            shutdown.clone(),
            tracker.clone(),
        ));
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

/// The TLS state for the phones' HTTPS listener and the admin listener, when either needs it.
async fn server_tls(
    app: &App,
    listeners: &Listeners,
) -> Result<Option<std::sync::Arc<http::tls::TlsState>>> {
    let admin_tls = listeners.admin.is_some() && !app.settings.admin_http;
    if listeners.https.is_none() && !admin_tls {
        return Ok(None);
    }
    let (cert, key) = app.server_files().await?;
    let state =
        http::tls::TlsState::load(cert, key, app.settings.https_settings.vendor_ca_dir.clone())?;
    Ok(Some(std::sync::Arc::new(state)))
}

/// Watches the store for changes made by other processes (on PostgreSQL only while the change
/// feed's LISTEN connection is down), and writes the queued last-seen records, every
/// `store.poll_ms`.
async fn poll_revisions(app: App, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(app.settings.revision_poll);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = ticks.tick() => {
                if app.store.listening() {
                    // The change feed delivers; nothing to poll.
                } else if let Err(e) = app.store.refresh_revisions().await {
                    tracing::warn!(error = %e, "cannot read store revisions");
                }
                app.provisioner.flush_seen().await;
            }
        }
    }
}

/// Reloads the Digest nonce keys (and rotates them when due) every `nonces::RELOAD`.
async fn refresh_nonce_keys(app: App, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(provision::nonces::RELOAD);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = ticks.tick() => {
                if let Err(e) = app.provisioner.refresh_nonce_keys().await {
                    tracing::warn!(error = %e, "cannot read the Digest nonce keys");
                }
            }
        }
    }
}

/// Swaps the certificates without a restart when their files change.
async fn reload_certificates(
    tls: std::sync::Arc<http::tls::TlsState>,
    every: std::time::Duration,
    stop: CancellationToken,
) {
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
}
