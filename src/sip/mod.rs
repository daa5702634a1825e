//! SIP, as far as provisioning needs it: PnP discovery (a phone's multicast `SUBSCRIBE` with
//! `Event: ua-profile` answered with its provisioning URL) and resync (a `NOTIFY` with the
//! family's check-sync event, after an admin change or on request, so a change reaches a phone
//! now, not at its next daily check).
//!
//! `message` is the pure codec and `pnp` the pure PnP exchange; `server` is the PnP listener,
//! `notify` sends a check-sync NOTIFY (or runs the PBX's hook), `resync` watches revisions and
//! tells the phones whose files changed. What to tell whom is `provision`'s (manifest data: no
//! vendor is named here).

pub mod message;
pub mod notify;
pub mod pnp;
pub mod resync;
pub mod server;

pub use notify::Notifier;
pub use server::Pnp;

/// The PnP multicast group (RFC 6080 §8, IANA "SIP").
pub const PNP_GROUP: std::net::Ipv4Addr = std::net::Ipv4Addr::new(224, 0, 1, 75);
