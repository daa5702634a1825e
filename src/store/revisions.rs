//! The in-memory view of store revisions, read on every phone request to build cache keys.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::RwLock;

use tokio::sync::watch;

use crate::model::TenantId;

/// Revisions only move forward: `observe` keeps the larger value, so a late poll result never
/// takes a revision back.
#[derive(Debug)]
pub struct Revisions {
    global: AtomicI64,
    /// The global revision the poller last read from the database. Kept apart from `global`,
    /// which this process's own commits also move: a commit here must not make the poller skip
    /// another process's earlier, lower revision.
    polled: AtomicI64,
    /// Each tenant's revision and directory revision (see `WriteTx::leaves_directory`).
    tenants: RwLock<HashMap<TenantId, (i64, i64)>>,
    /// Announces each new global revision, for whoever wants to await a change.
    changes: watch::Sender<i64>,
}

impl Default for Revisions {
    fn default() -> Self {
        Revisions {
            global: AtomicI64::new(0),
            polled: AtomicI64::new(0),
            tenants: RwLock::default(),
            changes: watch::Sender::new(0),
        }
    }
}

impl Revisions {
    pub fn global(&self) -> i64 {
        self.global.load(Ordering::Acquire)
    }

    /// The tenant's revision as this process knows it; 0 for a tenant it has not seen yet.
    pub fn tenant(&self, tenant: TenantId) -> i64 {
        // A poisoned lock only means a panic elsewhere while holding it; the map is still valid.
        let map = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        map.get(&tenant).map(|r| r.0).unwrap_or(0)
    }

    /// The revision of the tenant's last write that changed what its phone directory shows; 0
    /// for a tenant this process has not seen yet. Never above [`Revisions::tenant`].
    pub fn directory(&self, tenant: TenantId) -> i64 {
        let map = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        map.get(&tenant).map(|r| r.1).unwrap_or(0)
    }

    /// [`Revisions::tenant`] and [`Revisions::directory`] as one reading (one lock: a phone's
    /// request reads both).
    pub fn tenant_and_directory(&self, tenant: TenantId) -> (i64, i64) {
        let map = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        map.get(&tenant).copied().unwrap_or((0, 0))
    }

    /// Observes a tenant's revision and, when the write moved it, its directory revision.
    pub(super) fn observe(&self, tenant: TenantId, revision: i64, directory: Option<i64>) {
        let mut map = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        let entry = map
            .entry(tenant)
            .or_insert((revision, directory.unwrap_or(revision)));
        entry.0 = entry.0.max(revision);
        entry.1 = entry.1.max(directory.unwrap_or(0));
    }

    /// Observes a global revision. Called after the tenant revisions it covers are in place.
    pub(super) fn observe_global(&self, revision: i64) {
        let before = self.global.fetch_max(revision, Ordering::AcqRel);
        if revision > before {
            self.changes.send_replace(revision);
        }
    }

    pub(super) fn polled(&self) -> i64 {
        self.polled.load(Ordering::Acquire)
    }

    pub(super) fn set_polled(&self, revision: i64) {
        self.polled.fetch_max(revision, Ordering::AcqRel);
    }

    /// A receiver that sees each new global revision this process learns of.
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.changes.subscribe()
    }
}
