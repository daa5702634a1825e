//! The second stage: the failure throttle (`trust::Throttle`), then the registered device. An
//! address that keeps failing is slowed, then refused before any look-up or credential parsing
//! (unless it is on a site's networks); while guessing keeps a vendor prefix's first-contact
//! windows closed, a request without credentials is answered without a look-up. Failures are
//! counted here too (`count_failure`), and a closing of windows written to the audit trail.

use std::net::IpAddr;
use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::identify::Asked;
use super::trust::Gate;
use super::{FileRequest, Outcome, Protocol, Provisioner};
use crate::error::Result;
use crate::model::{Device, Mac};

/// What the throttle let through.
pub(super) struct Admitted {
    pub(super) gate: Gate,
    /// The registered device of the file's family; `None` also when `closed_early`.
    pub(super) known: Option<Arc<Known>>,
    /// The prefix's windows are closed and the request has no credentials: it was answered
    /// without a look-up, and is unproven.
    pub(super) closed_early: bool,
}

/// A registered device as the trust decision needs it.
#[derive(Debug)]
pub(super) struct Known {
    pub(super) device: Device,
    pub(super) family: usize,
    pub(super) allowed_networks: Vec<ipnet::IpNet>,
    /// Where a first-contact window may be used from; empty: anywhere.
    pub(super) first_contact_networks: Vec<ipnet::IpNet>,
    /// The revision of the last write that changed only this device, read with it.
    pub(super) revision: i64,
}

impl Known {
    /// Whether `peer` is on the site's allowed networks.
    pub(super) fn allows(&self, peer: Option<IpAddr>) -> bool {
        peer.is_some_and(|ip| self.allowed_networks.iter().any(|n| n.contains(&ip)))
    }
}

/// A MAC resolved against the store, valid while the global revision is unchanged (any write,
/// including adding or moving a device, moves it).
#[derive(Clone, Debug)]
pub(super) struct Lookup {
    global: i64,
    device: Option<Arc<Known>>,
}

impl Provisioner {
    /// Passes the request through the throttle and looks its device up; `Break` with the answer
    /// when the throttle refuses it.
    pub(super) async fn admit(
        &self,
        asked: &Asked<'_>,
        request: &FileRequest<'_>,
    ) -> Result<ControlFlow<Outcome, Admitted>> {
        let gate = self.gate(request).await?;
        match gate {
            Gate::Open => {}
            Gate::Slow => tokio::time::sleep(self.settings.throttle.slow).await,
            Gate::Refused => {
                let checked = request.client_mac.is_some()
                    || (request.protocol == Protocol::Https
                        && request.authorization.is_some()
                        && request.peer.is_some_and(|ip| self.throttle.offer(ip)));
                if !checked {
                    self.metrics.throttled.fetch_add(1, Ordering::Relaxed);
                    // Over HTTPS a challenge is still given (it costs no look-up, stores nothing
                    // and tells nothing): a real phone behind the same address can then prove
                    // itself.
                    return Ok(ControlFlow::Break(if request.protocol == Protocol::Https {
                        Outcome::Challenge(self.digest.challenge(false))
                    } else {
                        Outcome::NotFound("throttled")
                    }));
                }
            }
        }
        let plain = request.client_mac.is_none() && request.authorization.is_none();
        // Without credentials, only a first-contact window or an allowed network can serve a
        // device's file. While guessing keeps the prefix's windows closed, such a request from
        // no allowed network is answered without a look-up: a flood costs no database work.
        let closed_early = plain
            && self.throttle.windows_closed(asked.prefix())
            && match request.peer {
                Some(ip) => !self.on_allowed_network(ip).await?,
                None => true,
            };
        let known = if closed_early {
            self.metrics.throttled.fetch_add(1, Ordering::Relaxed);
            None
        } else {
            self.known(asked).await?
        };
        Ok(ControlFlow::Continue(Admitted {
            gate,
            known,
            closed_early,
        }))
    }

    /// What the throttle says about the request's address. The gate is passed before any
    /// credential is parsed: a refused address gets a look-up only for a client certificate
    /// (which the TLS layer verified) or, a few times a minute, for credentials over HTTPS (so a
    /// phone behind the same NAT can still prove itself).
    pub(super) async fn gate(&self, request: &FileRequest<'_>) -> Result<Gate> {
        let Some(ip) = request.peer else {
            return Ok(Gate::Open);
        };
        Ok(
            match self.throttle.gate(ip, request.protocol == Protocol::Tftp) {
                Gate::Open => Gate::Open,
                _ if self.on_allowed_network(ip).await? => Gate::Open,
                gate => gate,
            },
        )
    }

    /// Counts a failed request against its address (unless the gate had refused it already)
    /// and, for a `guess`, against its vendor prefix; records a closing of the prefix's windows.
    pub(super) async fn count_failure(
        &self,
        request: &FileRequest<'_>,
        gate: Gate,
        guess: Option<[u8; 3]>,
    ) {
        let (Some(ip), false) = (request.peer, gate == Gate::Refused) else {
            return;
        };
        let counted = self
            .throttle
            .fail(ip, request.protocol == Protocol::Tftp, guess);
        if let (true, Some(prefix)) = (counted.windows_closed, guess) {
            self.windows_closed(prefix).await;
        }
    }

    /// Whether `ip` is on any site's allowed or first-contact networks (loaded again when the global revision
    /// moves: one small query, only for addresses the throttle holds back).
    async fn on_allowed_network(&self, ip: IpAddr) -> Result<bool> {
        let global = self.store.revisions().global();
        let cached = {
            let guard = self.allowed.lock().unwrap_or_else(|e| e.into_inner());
            (guard.0 == global).then(|| guard.1.clone())
        };
        let networks = match cached {
            Some(networks) => networks,
            None => {
                let networks = Arc::new(self.store.trusted_networks_all().await?);
                *self.allowed.lock().unwrap_or_else(|e| e.into_inner()) =
                    (global, networks.clone());
                networks
            }
        };
        Ok(networks.iter().any(|n| n.contains(&ip)))
    }

    /// Records that guessing closed the first-contact windows of vendor `prefix`, where the
    /// admins of the tenants with an open window there (and the operator) see it.
    async fn windows_closed(&self, prefix: [u8; 3]) {
        let prefix = hex::encode(prefix);
        tracing::warn!(%prefix, "too many guesses for one vendor prefix: its first-contact windows are closed for a while");
        self.metrics.windows_closed.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self
            .store
            .first_contact_suspended(&prefix, self.settings.throttle.ban.as_secs())
            .await
        {
            tracing::warn!(error = %e, "cannot record that first-contact windows were closed");
        }
    }

    /// The registered device of the file's family behind the asked MAC.
    async fn known(&self, asked: &Asked<'_>) -> Result<Option<Arc<Known>>> {
        Ok(self
            .lookup(asked.mac)
            .await?
            .filter(|k| asked.matches.iter().any(|m| m.family == k.family)))
    }

    /// Looks the device up again after a write of its own (its first contact), so its file is
    /// cached under the device revision that write gave it, not the one before.
    pub(super) async fn look_again(
        &self,
        asked: &Asked<'_>,
        admitted: &mut Admitted,
    ) -> Result<()> {
        if let Some(fresh) = self.known(asked).await? {
            admitted.known = Some(fresh);
        }
        Ok(())
    }

    /// The registered device behind a MAC as the look-up cache last saw it, without a look-up
    /// (for recording a refusal that was decided before one).
    pub(super) fn cached_device(&self, mac: Mac) -> Option<crate::model::DeviceId> {
        self.devices
            .get(&mac)
            .and_then(|hit| hit.device)
            .map(|known| known.device.id)
    }

    /// The registered device behind a MAC, with its site's allowed networks.
    pub(super) async fn lookup(&self, mac: Mac) -> Result<Option<Arc<Known>>> {
        let global = self.store.revisions().global();
        if let Some(hit) = self.devices.get(&mac) {
            if hit.global == global {
                return Ok(hit.device);
            }
        }
        let known = match self.store.device_access_by_mac(mac).await? {
            Some(access) => self
                .catalog
                .family_by_name(&access.device.family)
                .map(|family| {
                    Arc::new(Known {
                        device: access.device,
                        family,
                        allowed_networks: access.allowed_networks,
                        first_contact_networks: access.first_contact_networks,
                        revision: access.revision,
                    })
                }),
            None => None,
        };
        self.devices.insert(
            mac,
            Lookup {
                global,
                device: known.clone(),
            },
        );
        Ok(known)
    }
}
