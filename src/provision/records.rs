//! Device records for renders, loaded together: a render that misses the cache asks for its
//! device's record here, and every request that asks while a load is under way waits for the
//! next one, which reads all their records in one batch (`Store::device_records`). One phone
//! alone waits for one load, as before; ten thousand phones asking after a tenant-wide change
//! (the resync watcher tells them all at once) share a few hundred loads instead of each
//! making its own eight trips to the database.
//!
//! The load runs in a task of its own, so a request that goes away (its phone hung up) stops
//! nobody else's. A load that fails, or a task that dies, answers each of its requests with a
//! store error, and the next request starts a new load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::model::{DeviceId, DeviceRecord};
use crate::store::Store;

type Reply = oneshot::Sender<Result<DeviceRecord>>;

/// Requests waiting for the next load, and whether a load is under way.
#[derive(Default)]
struct Queue {
    waiting: Vec<(DeviceId, Reply)>,
    loading: bool,
}

pub(super) struct Records {
    store: Store,
    queue: Arc<Mutex<Queue>>,
    /// Batches loaded (`Metrics::record_loads`).
    loads: Arc<AtomicU64>,
}

impl Records {
    pub(super) fn new(store: Store, loads: Arc<AtomicU64>) -> Records {
        Records {
            store,
            queue: Arc::default(),
            loads,
        }
    }

    /// The record of `device`, or `NotFound` when it was deleted.
    pub(super) async fn get(&self, device: DeviceId) -> Result<DeviceRecord> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut queue = lock(&self.queue);
            queue.waiting.push((device, reply));
            !std::mem::replace(&mut queue.loading, true)
        };
        if start {
            tokio::spawn(load(
                self.store.clone(),
                self.queue.clone(),
                self.loads.clone(),
            ));
        }
        answer.await.unwrap_or_else(|_| {
            Err(Error::store(
                "loading device records",
                "the loading task ended without an answer",
            ))
        })
    }
}

/// Loads batches until no request waits. The last look at the queue and the end of `loading`
/// happen under one lock, so a request queued after it starts a load of its own.
async fn load(store: Store, queue: Arc<Mutex<Queue>>, loads: Arc<AtomicU64>) {
    let mut guard = Loading(Some(queue.clone()));
    loop {
        let batch = {
            let mut q = lock(&queue);
            if q.waiting.is_empty() {
                q.loading = false;
                guard.0 = None;
                return;
            }
            std::mem::take(&mut q.waiting)
        };
        loads.fetch_add(1, Ordering::Relaxed);
        answer(&store, batch).await;
    }
}

/// Reads one batch's records and answers each request (a device asked for twice gets a copy).
async fn answer(store: &Store, batch: Vec<(DeviceId, Reply)>) {
    let ids: Vec<DeviceId> = {
        let mut seen = std::collections::HashSet::new();
        batch
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| seen.insert(*id))
            .collect()
    };
    match store.device_records(&ids).await {
        Ok(mut records) => {
            let mut left: HashMap<DeviceId, usize> = HashMap::new();
            for (id, _) in &batch {
                *left.entry(*id).or_default() += 1;
            }
            for (id, reply) in batch {
                let count = left.get_mut(&id).map(|n| {
                    *n -= 1;
                    *n
                });
                let record = match count {
                    Some(0) => records.remove(&id),
                    _ => records.get(&id).cloned(),
                };
                // A request that went away no longer listens: nothing to do.
                let _ = reply.send(record.ok_or_else(|| Error::not_found("device", id)));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, devices = ids.len(), "loading device records failed");
            for (_, reply) in batch {
                let _ = reply.send(Err(Error::store("loading device records", e.to_string())));
            }
        }
    }
}

/// Ends the load's turn if its task dies (a panic, or the runtime shutting down): the requests
/// it held get their answer (an error) by their replies being dropped, and the next request
/// starts a new load.
struct Loading(Option<Arc<Mutex<Queue>>>);

impl Drop for Loading {
    fn drop(&mut self) {
        if let Some(queue) = self.0.take() {
            let mut q = lock(&queue);
            q.loading = false;
            q.waiting.clear();
        }
    }
}

fn lock(queue: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(|e| e.into_inner())
}
