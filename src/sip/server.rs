//! The PnP listener (`serve --pnp ADDR`): reads datagrams, answers a phone's ua-profile
//! SUBSCRIBE with `200 OK` and a NOTIFY carrying its family's provisioning URL, and resends the
//! NOTIFY (RFC 3261 timer E: 500 ms, doubling) until the phone's `200` or three sends.
//!
//! UDP sources can be forged, so answers are bounded: per source address a token bucket
//! (`pnp.burst`, `pnp.per_minute`), and answers go only to the packet's source address (the
//! Contact's port when its host is that address), never to a third host the packet names. A
//! malformed or foreign packet is dropped with a debug line; nothing stops the listener.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::message::{self, StartLine, Uri};
use super::pnp;
use crate::config::PnpSettings;
use crate::provision::Provisioner;

/// At most this many sources are tracked; past it, new sources are not answered until old
/// buckets fill up again (a flood of forged sources must not grow memory).
const MAX_SOURCES: usize = 65_536;
/// RFC 3261 T1.
const T1: Duration = Duration::from_millis(500);
const NOTIFY_SENDS: u32 = 3;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub answered: AtomicU64,
    pub dropped: AtomicU64,
    pub limited: AtomicU64,
}

pub struct Pnp {
    provisioner: Arc<Provisioner>,
    limits: PnpSettings,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
    /// NOTIFYs waiting for the phone's answer, by Call-ID.
    pending: Mutex<HashMap<String, oneshot::Sender<()>>>,
    metrics: Arc<Metrics>,
}

impl Pnp {
    pub fn new(provisioner: Arc<Provisioner>, limits: PnpSettings, metrics: Arc<Metrics>) -> Pnp {
        Pnp {
            provisioner,
            limits,
            buckets: Mutex::default(),
            pending: Mutex::default(),
            metrics,
        }
    }

    /// Serves `socket` until `shutdown`; NOTIFY resends run on `tracker`.
    pub async fn run(
        self: Arc<Self>,
        socket: UdpSocket,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) {
        let socket = Arc::new(socket);
        let mut buf = vec![0u8; message::MAX_DATAGRAM + 1];
        loop {
            let (n, peer) = tokio::select! {
                _ = shutdown.cancelled() => break,
                received = socket.recv_from(&mut buf) => match received {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::debug!(error = %e, "pnp receive failed");
                        continue;
                    }
                },
            };
            self.handle(&socket, &buf[..n], peer, &tracker, &shutdown)
                .await;
        }
    }

    async fn handle(
        self: &Arc<Self>,
        socket: &Arc<UdpSocket>,
        datagram: &[u8],
        peer: SocketAddr,
        tracker: &TaskTracker,
        shutdown: &CancellationToken,
    ) {
        let drop = |why: &dyn std::fmt::Display| {
            self.metrics.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, reason = %why, "pnp packet dropped");
        };
        let m = match message::parse(datagram) {
            Ok(m) => m,
            Err(e) => return drop(&e),
        };
        if let StartLine::Response { code, .. } = m.start {
            if code >= 200 && m.cseq_method() == Some("NOTIFY") {
                self.answered(m.header("Call-ID").unwrap_or_default());
            }
            return;
        }
        let sub = match pnp::subscribe(&m) {
            Ok(sub) => sub,
            Err(why) => return drop(&why),
        };
        let Some(answer) =
            self.provisioner
                .pnp_answer(sub.vendor.as_deref(), sub.user_agent.as_deref(), sub.mac)
        else {
            return drop(&"no family answers this vendor");
        };
        if !self.admit(peer.ip()) {
            self.metrics.limited.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, mac = %sub.mac, "pnp answer rate-limited");
            return;
        }
        let tag = token();
        if let Err(e) = socket.send_to(&pnp::ok(&m, &tag), peer).await {
            tracing::debug!(%peer, error = %e, "pnp 200 not sent");
            return;
        }
        let target = notify_target(&sub, peer);
        let local = local_addr(socket, target).await;
        let notify = pnp::notify(&m, &sub, &tag, &token(), local, &answer.url);
        self.metrics.answered.fetch_add(1, Ordering::Relaxed);
        tracing::info!(%peer, mac = %sub.mac, family = %answer.family, model = sub.model.as_deref().unwrap_or(""), url = %answer.url, "pnp answered");
        let (done, answered) = oneshot::channel();
        let call_id = m.header("Call-ID").unwrap_or_default().to_owned();
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if pending.contains_key(&call_id) {
                // A resent SUBSCRIBE: it got its 200 again; its NOTIFY is on its way already.
                return;
            }
            pending.insert(call_id.clone(), done);
        }
        let (this, socket, stop) = (self.clone(), socket.clone(), shutdown.clone());
        tracker.spawn(async move {
            send_until_answered(&socket, target, &notify, answered, &stop).await;
            this.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&call_id);
        });
    }

    fn answered(&self, call_id: &str) {
        if let Some(done) = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(call_id)
        {
            let _ = done.send(());
        }
    }

    /// Takes a token from `ip`'s bucket; `false` when it has none.
    fn admit(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let burst = f64::from(self.limits.burst);
        let rate = f64::from(self.limits.per_minute) / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_SOURCES && !buckets.contains_key(&ip) {
            buckets.retain(|_, (tokens, at)| {
                *tokens + rate * now.duration_since(*at).as_secs_f64() < burst
            });
            if buckets.len() >= MAX_SOURCES {
                return false;
            }
        }
        let (tokens, at) = buckets.entry(ip).or_insert((burst, now));
        *tokens = (*tokens + rate * now.duration_since(*at).as_secs_f64()).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Sends `bytes` to `target` at 0, T1, 3·T1 … until `answered`, `NOTIFY_SENDS` sends, or shutdown.
pub(super) async fn send_until_answered(
    socket: &UdpSocket,
    target: SocketAddr,
    bytes: &[u8],
    mut answered: oneshot::Receiver<()>,
    stop: &CancellationToken,
) -> bool {
    let mut wait = T1;
    for _ in 0..NOTIFY_SENDS {
        if let Err(e) = socket.send_to(bytes, target).await {
            tracing::debug!(%target, error = %e, "sip notify not sent");
        }
        tokio::select! {
            _ = stop.cancelled() => return false,
            r = &mut answered => return r.is_ok(),
            _ = tokio::time::sleep(wait) => {}
        }
        wait *= 2;
    }
    false
}

/// The packet's source address, with the Contact's port when the Contact names that address (a
/// phone sending from another port than it listens on); never another host.
fn notify_target(sub: &pnp::Subscribe, peer: SocketAddr) -> SocketAddr {
    let same_host = Uri::find(&sub.contact)
        .and_then(|u| u.host.parse::<IpAddr>().ok())
        .is_some_and(|ip| ip == peer.ip());
    match (same_host, sub.contact_port) {
        (true, Some(port)) => SocketAddr::new(peer.ip(), port),
        _ => peer,
    }
}

/// The address the phone sees us at: the socket's own, or (bound to 0.0.0.0 or a group) the
/// one the route to `target` leaves from.
pub(super) async fn local_addr(socket: &UdpSocket, target: SocketAddr) -> SocketAddr {
    let bound = socket.local_addr().unwrap_or(target);
    if !bound.ip().is_unspecified() && !bound.ip().is_multicast() {
        return bound;
    }
    let unspecified: SocketAddr = match target {
        SocketAddr::V4(_) => ([0, 0, 0, 0], 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    match UdpSocket::bind(unspecified).await {
        Ok(probe) if probe.connect(target).await.is_ok() => probe
            .local_addr()
            .map(|a| SocketAddr::new(a.ip(), bound.port()))
            .unwrap_or(bound),
        _ => bound,
    }
}

/// A random token for tags, branches and Call-IDs.
pub(super) fn token() -> String {
    use rand::Rng;
    let bytes: [u8; 8] = rand::rng().random();
    hex::encode(bytes)
}
