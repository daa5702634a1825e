//! Telling one phone to fetch its files again: a SIP NOTIFY with its family's event
//! (`check-sync`, Cisco MPP's `resync`) to its last-seen address on `resync.phone_port`, resent
//! (500 ms, doubling; three sends) until the phone answers; and, when configured, the PBX's hook
//! (`resync.hook`), a command run with the device in its arguments and environment — for PBXs
//! that must send the NOTIFY themselves (e.g. Asterisk's `pjsip send notify`).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;

use super::message::{self, StartLine};
use super::server::{local_addr, token};
use crate::config::ResyncSettings;
use crate::provision::ResyncTarget;

const T1: Duration = Duration::from_millis(500);
const SENDS: u32 = 3;
/// A hook that has not finished by then is killed.
const HOOK_TIMEOUT: Duration = Duration::from_secs(30);

/// What became of one resync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Told {
    /// A NOTIFY was sent (the phone has an address and its family an event).
    pub notify_sent: bool,
    /// The phone answered it (any final response).
    pub answered: bool,
    /// The hook ran and exited with success.
    pub hook_ok: bool,
}

#[derive(Debug, Default)]
pub struct Metrics {
    pub sent: AtomicU64,
    pub answered: AtomicU64,
    pub hooks: AtomicU64,
    pub hook_failures: AtomicU64,
}

pub struct Notifier {
    settings: ResyncSettings,
    pub metrics: Metrics,
}

impl Notifier {
    pub fn new(settings: ResyncSettings) -> Notifier {
        Notifier {
            settings,
            metrics: Metrics::default(),
        }
    }

    pub fn settings(&self) -> &ResyncSettings {
        &self.settings
    }

    /// Tells `target` to fetch its files again: the NOTIFY (unless `resync.notify` is off), and
    /// the hook (when set), one after the other.
    pub async fn resync(&self, target: &ResyncTarget) -> Told {
        let mut told = Told::default();
        if let (true, Some(ip), Some(event)) = (self.settings.notify, target.address, &target.event)
        {
            let to = SocketAddr::new(ip, self.settings.phone_port);
            told.notify_sent = true;
            told.answered = self.notify(to, target, event).await;
        }
        if !self.settings.hook.is_empty() {
            told.hook_ok = self.hook(target).await;
        }
        tracing::info!(mac = %target.mac, address = ?target.address, event = target.event.as_deref().unwrap_or(""), sent = told.notify_sent, answered = told.answered, "resync");
        told
    }

    async fn notify(&self, to: SocketAddr, target: &ResyncTarget, event: &str) -> bool {
        let unspecified: SocketAddr = match to.ip() {
            IpAddr::V4(_) => ([0, 0, 0, 0], 0).into(),
            IpAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = match UdpSocket::bind(unspecified).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open a socket for the resync NOTIFY");
                return false;
            }
        };
        let local = local_addr(&socket, to).await;
        let user = target
            .line_users
            .first()
            .cloned()
            .unwrap_or_else(|| target.mac.to_string());
        let bytes = check_sync(to, local, &user, event, &token());
        self.metrics.sent.fetch_add(1, Ordering::Relaxed);
        let answered = send_and_wait(&socket, to, &bytes).await;
        if answered {
            self.metrics.answered.fetch_add(1, Ordering::Relaxed);
        }
        answered
    }

    /// Runs the hook; `{mac}`, `{line_user}`, `{line_users}`, `{event}` and `{address}` in its
    /// arguments are replaced, and the same are in `AUTOPROV_MAC`, `AUTOPROV_LINE_USER`, … .
    async fn hook(&self, target: &ResyncTarget) -> bool {
        self.metrics.hooks.fetch_add(1, Ordering::Relaxed);
        let vars = hook_vars(target);
        let fill = |arg: &str| {
            vars.iter().fold(arg.to_owned(), |a, (name, value)| {
                a.replace(&format!("{{{name}}}"), value)
            })
        };
        let mut command = tokio::process::Command::new(&self.settings.hook[0]);
        command.args(self.settings.hook[1..].iter().map(|a| fill(a)));
        for (name, value) in &vars {
            command.env(format!("AUTOPROV_{}", name.to_ascii_uppercase()), value);
        }
        command
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        let ok = match tokio::time::timeout(HOOK_TIMEOUT, command.status()).await {
            Ok(Ok(status)) if status.success() => true,
            Ok(Ok(status)) => {
                tracing::warn!(mac = %target.mac, %status, "resync hook failed");
                false
            }
            Ok(Err(e)) => {
                tracing::warn!(mac = %target.mac, program = %self.settings.hook[0], error = %e, "resync hook could not run");
                false
            }
            Err(_) => {
                tracing::warn!(mac = %target.mac, "resync hook took longer than 30 s and was stopped");
                false
            }
        };
        if !ok {
            self.metrics.hook_failures.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }
}

fn hook_vars(target: &ResyncTarget) -> [(&'static str, String); 5] {
    [
        ("mac", target.mac.to_string()),
        (
            "line_user",
            target.line_users.first().cloned().unwrap_or_default(),
        ),
        ("line_users", target.line_users.join(",")),
        ("event", target.event.clone().unwrap_or_default()),
        (
            "address",
            target.address.map(|a| a.to_string()).unwrap_or_default(),
        ),
    ]
}

/// The NOTIFY: out of dialog, `Subscription-State: terminated`, no body.
pub fn check_sync(
    to: SocketAddr,
    local: SocketAddr,
    user: &str,
    event: &str,
    token: &str,
) -> Vec<u8> {
    let uri = format!("sip:{user}@{to}");
    let via = format!("SIP/2.0/UDP {local};branch=z9hG4bK{token};rport");
    let from = format!("<sip:autoprov@{}>;tag={token}", local.ip());
    let to_header = format!("<{uri}>");
    let call_id = format!("{token}@autoprov");
    let contact = format!("<sip:autoprov@{local}>");
    let headers = [
        ("Via", via.as_str()),
        ("Max-Forwards", "70"),
        ("From", from.as_str()),
        ("To", to_header.as_str()),
        ("Call-ID", call_id.as_str()),
        ("CSeq", "1 NOTIFY"),
        ("Contact", contact.as_str()),
        ("Event", event),
        ("Subscription-State", "terminated"),
        ("User-Agent", "autoprov"),
    ];
    message::write(&format!("NOTIFY {uri} SIP/2.0"), &headers, b"")
}

/// Sends `bytes` from `socket` to `to` until a final response comes back from there, at most
/// `SENDS` times.
async fn send_and_wait(socket: &UdpSocket, to: SocketAddr, bytes: &[u8]) -> bool {
    let mut wait = T1;
    let mut buf = vec![0u8; message::MAX_DATAGRAM + 1];
    for _ in 0..SENDS {
        if let Err(e) = socket.send_to(bytes, to).await {
            tracing::debug!(%to, error = %e, "resync notify not sent");
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let received = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await;
            match received {
                Err(_) => break,
                // An ICMP "port unreachable" surfaces as an error: the phone is not listening.
                Ok(Err(_)) => break,
                Ok(Ok((n, from))) if from.ip() == to.ip() => {
                    if let Ok(m) = message::parse(&buf[..n]) {
                        if matches!(m.start, StartLine::Response { code, .. } if code >= 200) {
                            return true;
                        }
                    }
                }
                Ok(Ok(_)) => {}
            }
        }
        wait *= 2;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_sync_is_a_notify_with_the_event() {
        let to: SocketAddr = "10.0.0.7:5060".parse().unwrap();
        let local: SocketAddr = "10.0.0.1:40000".parse().unwrap();
        let bytes = check_sync(to, local, "4930123456", "check-sync;reboot=false", "abc");
        let m = message::parse(&bytes).expect("parses");
        assert_eq!(
            m.start,
            StartLine::Request {
                method: "NOTIFY".into(),
                uri: "sip:4930123456@10.0.0.7:5060".into()
            }
        );
        assert_eq!(m.header("Event"), Some("check-sync;reboot=false"));
        assert_eq!(
            m.header("Via"),
            Some("SIP/2.0/UDP 10.0.0.1:40000;branch=z9hG4bKabc;rport")
        );
        assert_eq!(m.cseq_method(), Some("NOTIFY"));
    }
}
