//! Read-only TFTP server (RFC 1350, options 2347/2348/2349/7440) on tokio UDP.
//!
//! `packet` is the pure codec; `transfer` runs one transfer from a socket of its own; this file
//! holds the listener: it parses requests, admits them (a global cap and a per-network cap), asks
//! `provision` for the file — the same entry point as HTTP, so the bytes are the same — and
//! spawns one task per transfer. A malformed packet is ignored (an answer to a forged source
//! would make us a reflector), a write request or mail mode gets an ERROR; neither stops the
//! listener. It renders nothing itself.

pub mod packet;
pub mod transfer;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use crate::config::TftpLimits as Limits;
use crate::provision::{FileRequest, Outcome, Protocol, Provisioner, StaticContent};
use packet::{ErrorCode, Mode, Packet};
use transfer::{negotiate, Source, Transfer};

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub started: AtomicU64,
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    /// Requests refused before a transfer: not found, busy, write requests, malformed.
    pub refused: AtomicU64,
    pub bytes: AtomicU64,
    /// Sum of the durations of finished transfers, in microseconds.
    pub duration_us: AtomicU64,
}

/// The longest a transfer may take.
const MAX_TRANSFER: std::time::Duration = std::time::Duration::from_secs(15 * 60);

pub struct Server {
    provisioner: Arc<Provisioner>,
    limits: Limits,
    metrics: Arc<Metrics>,
    slots: Arc<Semaphore>,
    per_source: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// Holds one per-network slot; gives it back when the transfer ends, however it ends.
struct SourceSlot {
    map: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

impl Server {
    pub fn new(provisioner: Arc<Provisioner>, limits: Limits, metrics: Arc<Metrics>) -> Server {
        Server {
            provisioner,
            slots: Arc::new(Semaphore::new(limits.max_transfers)),
            limits,
            metrics,
            per_source: Arc::default(),
        }
    }

    /// Serves requests arriving on `socket` until `shutdown`; transfers run on `tracker`.
    pub async fn run(
        self: Arc<Self>,
        socket: UdpSocket,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) {
        let socket = Arc::new(socket);
        let mut buf = vec![0u8; 65536];
        loop {
            let (n, peer) = tokio::select! {
                _ = shutdown.cancelled() => break,
                received = socket.recv_from(&mut buf) => match received {
                    Ok(r) => r,
                    Err(e) => {
                        // E.g. an ICMP port-unreachable surfacing as an error: keep serving.
                        tracing::debug!(error = %e, "tftp receive failed");
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
        let refuse = |code: ErrorCode, message: &'static str| {
            self.metrics.refused.fetch_add(1, Ordering::Relaxed);
            send_error(socket, peer, code, message)
        };
        let request = match packet::parse(datagram) {
            Ok(Packet::Rrq(request)) => request,
            Ok(Packet::Wrq(request)) => {
                tracing::info!(%peer, file = %request.filename, "tftp write request refused");
                return refuse(
                    ErrorCode::AccessViolation,
                    "write requests are not accepted",
                )
                .await;
            }
            // DATA, ACK, ERROR or OACK on the listening port belong to no transfer.
            Ok(_) => return,
            Err(e) => {
                // No answer: a reply to a forged source would make us a reflector.
                self.metrics.refused.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%peer, error = %e, "malformed tftp request ignored");
                return;
            }
        };
        if request.mode == Mode::Mail {
            return refuse(ErrorCode::IllegalOperation, "mail mode is not supported").await;
        }
        let Ok(permit) = self.slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "tftp busy: transfer limit reached");
            return refuse(ErrorCode::NotDefined, "server busy, try again later").await;
        };
        let network = network_key(peer.ip());
        let slot = {
            let mut map = self.per_source.lock().unwrap_or_else(|e| e.into_inner());
            let n = map.entry(network).or_insert(0);
            if *n >= self.limits.max_per_source {
                None
            } else {
                *n += 1;
                Some(SourceSlot {
                    map: self.per_source.clone(),
                    ip: network,
                })
            }
        };
        let Some(slot) = slot else {
            tracing::warn!(%peer, "tftp busy: per-network limit reached");
            return refuse(
                ErrorCode::NotDefined,
                "too many transfers from your network",
            )
            .await;
        };
        let server = self.clone();
        let local_ip = socket.local_addr().map(|a| a.ip()).ok();
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            let _held = (permit, slot);
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = server.transfer(local_ip, peer, request) => {}
            }
        });
    }

    async fn transfer(&self, local_ip: Option<IpAddr>, peer: SocketAddr, request: packet::Request) {
        let started = Instant::now();
        let bind_ip = local_ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        // A new port for each transfer: its transfer ID.
        let socket = match UdpSocket::bind(SocketAddr::new(bind_ip, 0)).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot open a tftp transfer socket");
                return;
            }
        };
        let error =
            |code: ErrorCode, message: &'static str| send_error(&socket, peer, code, message);
        let file_request = FileRequest::plain(&request.filename, Protocol::Tftp, Some(peer.ip()));
        let served = self.provisioner.serve(&file_request).await;
        let mac = served.mac;
        let source = match served.outcome {
            Outcome::Found(file) => Some(Source::Memory(file.body.clone())),
            Outcome::Static(found) => Some(match found.content {
                StaticContent::Bytes(bytes) => Source::Memory(bytes),
                StaticContent::File(file) => Source::File {
                    len: found.len,
                    file: Arc::new(file),
                },
            }),
            Outcome::Unavailable => {
                self.metrics.refused.fetch_add(1, Ordering::Relaxed);
                return error(ErrorCode::NotDefined, "temporarily unavailable").await;
            }
            // TFTP carries no credentials, so nothing is ever challenged here.
            // TFTP cannot redirect: the files a node does not hold are not found here.
            Outcome::NotFound(_) | Outcome::Challenge(_) | Outcome::Elsewhere(_) => None,
        };
        let Some(source) = source else {
            self.metrics.refused.fetch_add(1, Ordering::Relaxed);
            tracing::info!(%peer, file = %request.filename, "tftp file not found");
            return error(ErrorCode::FileNotFound, "file not found").await;
        };
        // netascii is converted while it is sent, so its length on the wire is not known
        // before the end: `tsize` is left unanswered (RFC 2349 allows it).
        let netascii = request.mode == Mode::Netascii;
        let size = (!netascii).then(|| source.len());
        let agreed = negotiate(&request.options, size, &self.limits);
        self.metrics.started.fetch_add(1, Ordering::Relaxed);
        let transfer = Transfer {
            socket: &socket,
            peer,
            source,
            agreed,
            netascii,
            retries: self.limits.retries,
            retries_before_ack: self.limits.retries_before_ack,
        };
        // However slow the peer, a transfer ends: a slot is never held for good.
        let result = tokio::time::timeout(MAX_TRANSFER, transfer.run())
            .await
            .unwrap_or(Err(transfer::Failure::TimedOut));
        let elapsed = started.elapsed();
        self.metrics
            .duration_us
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        let mac = mac.map(|m| m.to_string()).unwrap_or_default();
        match result {
            Ok(bytes) => {
                self.metrics.completed.fetch_add(1, Ordering::Relaxed);
                self.metrics.bytes.fetch_add(bytes, Ordering::Relaxed);
                tracing::info!(%peer, mac, file = %request.filename, bytes, ms = crate::model::millis(elapsed), "tftp transfer completed");
            }
            Err(e) => {
                self.metrics.failed.fetch_add(1, Ordering::Relaxed);
                tracing::info!(%peer, mac, file = %request.filename, reason = %e, ms = crate::model::millis(elapsed), "tftp transfer failed");
            }
        }
    }
}

/// The key of `tftp.max_per_source`: the peer's IPv4 /24 or IPv6 /64 (a host that has one
/// address of a network usually can use others), an IPv4-mapped IPv6 address counted as IPv4.
fn network_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::from([a, b, c, 0])
        }
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::from(octets)
        }
    }
}

async fn send_error(socket: &UdpSocket, peer: SocketAddr, code: ErrorCode, message: &str) {
    let bytes = Packet::Error {
        code,
        message: message.to_owned(),
    }
    .to_bytes();
    let _ = socket.send_to(&bytes, peer).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_10_per_source_slots_are_counted_per_network() {
        let key = |s: &str| network_key(s.parse().unwrap());
        assert_eq!(key("192.0.2.1"), key("192.0.2.254"));
        assert_ne!(key("192.0.2.1"), key("192.0.3.1"));
        assert_eq!(
            key("192.0.2.7"),
            key("::ffff:192.0.2.9"),
            "IPv4-mapped is IPv4"
        );
        assert_ne!(key("::ffff:192.0.2.9"), key("::ffff:198.51.100.9"));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }
}
