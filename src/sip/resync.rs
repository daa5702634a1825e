//! Changes reach phones now: after writes are published (here or, through the poller, by another
//! process), wait `resync.debounce_ms` so a burst of writes is one batch, ask `provision` which
//! phones' files changed since the last batch, and tell each of them once (`Notifier`), a bounded
//! number at a time.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Notifier;
use crate::provision::Provisioner;
use crate::store::Store;

/// Resyncs in flight at once.
const AT_ONCE: usize = 64;

/// Runs until `stop`.
pub async fn watch(
    store: Store,
    provisioner: Arc<Provisioner>,
    notifier: Arc<Notifier>,
    stop: CancellationToken,
    tracker: TaskTracker,
) {
    let revisions = store.revisions().clone();
    let mut changes = revisions.subscribe();
    let mut since = revisions.global();
    let slots = Arc::new(Semaphore::new(AT_ONCE));
    let debounce = notifier.settings().debounce;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            changed = changes.changed() => if changed.is_err() { break },
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(debounce) => {}
        }
        changes.borrow_and_update();
        let now = revisions.global();
        let targets = match provisioner.resync_changed(since).await {
            Ok(targets) => targets,
            Err(e) => {
                // Kept for the next change: the same writes are looked at again then.
                tracing::warn!(error = %e, "cannot find the phones a change concerns");
                continue;
            }
        };
        since = now;
        if !targets.is_empty() {
            tracing::info!(phones = targets.len(), "telling phones their files changed");
        }
        for target in targets {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                break;
            };
            let notifier = notifier.clone();
            tracker.spawn(async move {
                notifier.resync(&target).await;
                drop(slot);
            });
        }
    }
}

/// A resync asked for by hand (`device resync`, `POST …/devices/{d}/resync`).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Resynced {
    #[serde(flatten)]
    pub target: crate::provision::ResyncTarget,
    #[serde(flatten)]
    pub told: super::notify::Told,
}

/// Tells `device` to fetch its files again now, whether or not anything changed: the NOTIFY
/// to where it was last seen (nothing when it was never seen), and the hook. Its file as it is
/// now counts as told of, so the watcher does not tell it again for the same change.
pub async fn device(app: &crate::App, device: &crate::model::Device) -> crate::Result<Resynced> {
    let (revision, addr) = app.store.device_resync_facts(device).await?;
    app.provisioner.note_told(device, revision).await?;
    let target = app
        .provisioner
        .resync_target(device, addr.as_deref())
        .await?;
    let told = app.notifier.resync(&target).await;
    Ok(Resynced { target, told })
}
