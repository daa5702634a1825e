//! The change feed: how a process learns of the writes other processes (the CLI, other nodes)
//! commit. On PostgreSQL every write's transaction sends a NOTIFY on [`CHANNEL`] (delivered at
//! its commit), and [`Store::listen_changes`] holds a LISTEN connection of its own: each
//! notification reads the revisions past what this process has seen. While that connection is
//! down the poller reads them every `store.poll_ms` instead, and a new connection first catches
//! up from the revision table, so a lost notification delays a change but never hides it. On
//! SQLite the poller is the feed.

use std::sync::atomic::Ordering;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio_util::sync::CancellationToken;

use super::{Backend, Store};

/// The NOTIFY channel writes announce their commit on (payload: the global revision).
pub(super) const CHANNEL: &str = "autoprov_changes";

/// The `application_name` of the LISTEN connection (visible in `pg_stat_activity`).
pub const LISTEN_APPLICATION: &str = "autoprov listen";

impl Store {
    /// Whether changes arrive by LISTEN now; when not, the poller must read them.
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Follows the NOTIFYs of other processes' writes until `stop` (PostgreSQL only; returns at
    /// once on SQLite). Reconnects with a backoff up to 5 s after a lost connection.
    pub async fn listen_changes(&self, stop: CancellationToken) {
        if self.backend != Backend::Postgres {
            return;
        }
        let mut backoff = Duration::from_millis(100);
        loop {
            let connected = tokio::select! {
                _ = stop.cancelled() => return,
                c = self.listener() => c,
            };
            let mut listener = match connected {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "change feed: cannot LISTEN; polling meanwhile");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            backoff = Duration::from_millis(100);
            // Listening first, then catching up: a write that commits in between is seen by
            // one or both, never by neither.
            self.listening.store(true, Ordering::Release);
            if let Err(e) = self.refresh_revisions().await {
                tracing::warn!(error = %e, "change feed: cannot read store revisions");
            }
            tracing::debug!("change feed: listening");
            loop {
                let next = tokio::select! {
                    _ = stop.cancelled() => return,
                    n = listener.try_recv() => n,
                };
                match next {
                    Ok(Some(_)) => {
                        if let Err(e) = self.refresh_revisions().await {
                            tracing::warn!(error = %e, "change feed: cannot read store revisions");
                        }
                    }
                    Ok(None) | Err(_) => {
                        self.listening.store(false, Ordering::Release);
                        tracing::warn!(
                            "change feed: LISTEN connection lost; polling until it is back"
                        );
                        break;
                    }
                }
            }
        }
    }

    async fn listener(&self) -> Result<PgListener, sqlx::Error> {
        let options = self
            .url
            .parse::<PgConnectOptions>()?
            .application_name(LISTEN_APPLICATION);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options);
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }
}
