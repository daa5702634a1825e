//! The third stage: the trust decision for a request for a device's file (the levels are
//! described in `trust`), and what it lets through — the device, whose file is then served, or
//! the answer for everyone else (a challenge, the bootstrap file or the uniform 404), counted as
//! a failure. This is the part of trust that needs the store: first-contact windows are used up
//! here.

use std::ops::ControlFlow;
use std::sync::Arc;

use super::admit::{Admitted, Known};
use super::identify::Asked;
use super::trust::{self, Decision};
use super::{FileRequest, Outcome, Protocol, Provisioner, Unproven};
use crate::error::Result;
use crate::model::{Mac, Secret};

/// The passwords a device's credentials may match now: the current one and, during a rotation's
/// overlap, the previous one. For an unknown MAC a stand-in, so the same work is done.
pub(super) struct Passwords<'a> {
    current: Option<&'a Secret>,
    previous: Option<&'a Secret>,
    stand_in: Secret,
    /// Whether any of them is the device's.
    pub(super) real: bool,
}

impl Passwords<'_> {
    pub(super) fn list(&self) -> Vec<&Secret> {
        match (self.current, self.previous) {
            (None, None) => vec![&self.stand_in],
            (current, previous) => current.into_iter().chain(previous).collect(),
        }
    }
}

pub(super) fn passwords(known: Option<&Known>, now: i64) -> Passwords<'_> {
    let access = known.map(|k| &k.device.access);
    let current = access.and_then(|a| a.http_password.as_ref());
    let previous = access.and_then(|a| match (&a.http_password_prev, a.http_prev_until) {
        (Some(prev), Some(until)) if until > now => Some(prev),
        _ => None,
    });
    Passwords {
        current,
        previous,
        stand_in: Secret::new("-".repeat(24)),
        real: current.is_some() || previous.is_some(),
    }
}

impl Provisioner {
    /// Classifies the request (a request the prefix's closed windows answered early is
    /// unproven).
    pub(super) async fn classify(
        &self,
        asked: &Asked<'_>,
        admitted: &Admitted,
        request: &FileRequest<'_>,
    ) -> Result<Decision> {
        if admitted.closed_early {
            return Ok(Decision::Unproven);
        }
        let known = admitted.known.as_deref();
        let family_file = |test: &dyn Fn(&crate::render::FileMatch) -> bool| {
            known.is_some_and(|k| {
                asked
                    .matches
                    .iter()
                    .any(|m| m.family == k.family && test(m))
            })
        };
        // Whether the file asked for may use a first-contact window (see `FileSpec`).
        let first_contact_file =
            family_file(&|m| self.catalog.family(m.family).file(m.file).first_contact);
        // The folders before the file, where a directory URL carries the device's URL token.
        let folders: Vec<&str> =
            if family_file(&|m| self.catalog.family(m.family).is_directory(m.file)) {
                request.path[..request.path.len() - asked.name.len()]
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .collect()
            } else {
                Vec::new()
            };
        self.trust_level(known, asked.mac, first_contact_file, &folders, request)
            .await
    }

    /// The trust level of a request for `mac`'s file (see `trust`). Unknown MACs take the same
    /// steps as known ones where a step costs time, so the two are hard to tell apart. Only a GET
    /// of one of the family's `first_contact` files uses up a first-contact window, and only from
    /// the site's first-contact networks when it has any, and only while the vendor prefix has
    /// not seen too many guesses; every other request inside a window is answered as if there
    /// were none, so nothing shows a window without using it.
    async fn trust_level(
        &self,
        known: Option<&Known>,
        mac: Mac,
        first_contact_file: bool,
        folders: &[&str],
        request: &FileRequest<'_>,
    ) -> Result<Decision> {
        let now = jiff::Timestamp::now().as_second();
        if let Some(cert_mac) = request.client_mac {
            if cert_mac == mac && known.is_some() {
                return Ok(Decision::ProvenCertificate);
            }
            // A certificate for another MAC: another device's file.
            return Ok(Decision::Refused);
        }
        if let Some(header) = request.authorization {
            return self.credentials(header, known, mac, now, request).await;
        }
        let Some(known) = known else {
            return Ok(Decision::Unproven);
        };
        if request.protocol == Protocol::Https && !folders.is_empty() {
            let passwords = passwords(Some(known), now);
            if passwords.real && trust::verify_url_token(folders, &passwords.list()) {
                return Ok(Decision::ProvenUrl);
            }
        }
        let window_request = first_contact_file && request.method == "GET";
        if window_request && self.first_contact(known, mac, now, request).await? {
            return Ok(Decision::FirstContact);
        }
        if known.allows(request.peer) {
            return Ok(Decision::AllowedNetwork);
        }
        Ok(Decision::Unproven)
    }

    /// The decision on a request with an `Authorization` header.
    async fn credentials(
        &self,
        header: &str,
        known: Option<&Known>,
        mac: Mac,
        now: i64,
        request: &FileRequest<'_>,
    ) -> Result<Decision> {
        let header = header.trim_start();
        let user = mac.to_string();
        // Credentials travel only inside TLS: over plain HTTP the file itself would not.
        let proven = if request.protocol != Protocol::Https {
            // Seen in clear, so spent: the same answer replayed over HTTPS is a replay.
            if header.starts_with("Digest") {
                if let Some(spent) = self.digest.spend(header) {
                    self.spend_cluster_wide(&spent).await?;
                }
            }
            None
        } else if header.starts_with("Digest") {
            // Decided on the nonce alone, before the device: the same for every MAC.
            if self.digest.nonce_state(header) == trust::NonceState::Stale {
                return Ok(Decision::Stale);
            }
            let passwords = passwords(known, now);
            let spent = self.digest.verify(
                header,
                request.method,
                request.target,
                &user,
                &passwords.list(),
            );
            // The per-process check came first (a replay here costs nothing); only an answer
            // that passed it is spent in the store, where another node's use of it shows.
            let ok = match spent {
                Some(spent) => self.spend_cluster_wide(&spent).await?,
                None => false,
            };
            (ok && passwords.real).then_some(Decision::ProvenDigest)
        } else if header.starts_with("Basic") && self.settings.basic_over_tls {
            let passwords = passwords(known, now);
            let ok = trust::verify_basic(header, &user, &passwords.list());
            (ok && passwords.real).then_some(Decision::ProvenBasic)
        } else {
            None
        };
        Ok(match (proven, known) {
            (Some(decision), _) => decision,
            // Stale credentials on the site's own network still get the file.
            (None, Some(k)) if k.allows(request.peer) => Decision::AllowedNetwork,
            (None, _) => Decision::Refused,
        })
    }

    /// Whether a GET of a first-contact file uses the device's first-contact window now.
    async fn first_contact(
        &self,
        known: &Known,
        mac: Mac,
        now: i64,
        request: &FileRequest<'_>,
    ) -> Result<bool> {
        // Just used its window over TFTP from this address: a retransmitted request (the phone
        // did not see our first answer) is served again for a short while. Over HTTP a second
        // request is a second request.
        if let (Protocol::Tftp, Some(ip), Some(grace_ip)) = (
            request.protocol,
            request.peer,
            self.grace.get(&known.device.id),
        ) {
            if ip == grace_ip {
                return Ok(true);
            }
        }
        let window_open = known
            .device
            .access
            .first_contact_until
            .is_some_and(|until| until > now);
        if !window_open {
            return Ok(false);
        }
        let b = mac.bytes();
        // With first-contact networks, a window is used from them only, and guessing from
        // elsewhere cannot close it; without, guessing closes the prefix's windows for a while.
        let refusal = if known.first_contact_networks.is_empty() {
            self.throttle
                .windows_closed([b[0], b[1], b[2]])
                .then_some("too many guesses for this vendor prefix")
        } else {
            let from_there = request
                .peer
                .is_some_and(|ip| known.first_contact_networks.iter().any(|n| n.contains(&ip)));
            (!from_there).then_some("not from the site's first-contact networks")
        };
        if let Some(reason) = refusal {
            tracing::info!(%mac, peer = ?request.peer, reason, "first-contact window not used");
            return Ok(false);
        }
        // Exactly one request wins the window; a loser goes on to the next checks.
        if !self
            .store
            .device_first_contact(&known.device, &Secret::generate(), now)
            .await?
        {
            return Ok(false);
        }
        if let (Protocol::Tftp, Some(ip)) = (request.protocol, request.peer) {
            self.grace.insert(known.device.id, ip);
        }
        tracing::info!(%mac, peer = ?request.peer, "first contact: device credentials issued");
        Ok(true)
    }

    /// What the decision lets through: a trusted request's device (its address given one failure
    /// back), or the answer for any other request, counted as a failure but for a stale nonce.
    pub(super) async fn verdict(
        &self,
        asked: &Asked<'_>,
        admitted: Admitted,
        decision: Decision,
        request: &FileRequest<'_>,
    ) -> ControlFlow<Outcome, Arc<Known>> {
        // A guess is a request for a MAC nobody registered, or credentials that do not fit: it
        // counts against the vendor prefix too, whatever the address and transport.
        let guess =
            (admitted.known.is_none() || decision == Decision::Refused).then_some(asked.prefix());
        if let (Some(known), Some(reason)) = (&admitted.known, refusal(decision, request)) {
            self.record_failure(known.device.id, request, reason);
        }
        let outcome = match (decision, admitted.known) {
            (Decision::Stale, _) => {
                return ControlFlow::Break(Outcome::Challenge(self.digest.challenge(true)))
            }
            (Decision::Refused, _) => Outcome::NotFound("credentials or certificate do not fit"),
            (Decision::Unproven, _) => self.unproven(asked, request),
            (_, Some(known)) => {
                if let Some(ip) = request.peer {
                    self.throttle
                        .succeed(ip, request.protocol == Protocol::Tftp);
                }
                return ControlFlow::Continue(known);
            }
            // Trusted decisions are only made for known devices.
            (_, None) => Outcome::NotFound("unknown MAC"),
        };
        self.count_failure(request, admitted.gate, guess).await;
        ControlFlow::Break(outcome)
    }

    /// What an unproven request gets: a challenge over HTTPS; else the family's bootstrap file
    /// (what a guess gets too) where configured and there is one, or the uniform 404.
    fn unproven(&self, asked: &Asked<'_>, request: &FileRequest<'_>) -> Outcome {
        if request.protocol == Protocol::Https {
            return Outcome::Challenge(self.digest.challenge(false));
        }
        if self.settings.unproven == Unproven::Bootstrap {
            if let Some(outcome) = asked
                .matches
                .first()
                .and_then(|first| self.bootstrap(first, asked.name))
            {
                return outcome;
            }
        }
        Outcome::NotFound("unproven")
    }
}

/// Why a registered device's request counts as failing in the rollout views, if it does: a
/// challenge over HTTPS is the normal first step, not a failure.
fn refusal(decision: Decision, request: &FileRequest<'_>) -> Option<&'static str> {
    match decision {
        Decision::Refused if request.client_mac.is_some() => Some("wrong-certificate"),
        Decision::Refused => Some("wrong-credentials"),
        Decision::Unproven if request.protocol != Protocol::Https => Some("no-credentials"),
        _ => None,
    }
}
