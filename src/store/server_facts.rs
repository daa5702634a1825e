//! Facts about the installation that every process and node must agree on (`server_facts`), such
//! as the fingerprint of the local CA that phones trust. Not configuration: no phone file depends
//! on them, so writing one moves no revision and is not in the tenants' audit trail.

use super::Store;
use crate::error::{Error, Result};

impl Store {
    /// The fact `name`, if one was recorded.
    pub async fn fact(&self, name: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT value FROM server_facts WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(Error::from)
    }

    /// Records `value` as the fact `name` unless one is recorded already, and returns the value
    /// that is recorded now: when two processes race, the first one's stays, and the second
    /// learns it here.
    pub async fn record_fact(&self, name: &str, value: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO server_facts (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        sqlx::query_scalar("SELECT value FROM server_facts WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(Error::from)
    }

    /// Sets the fact `name` to `value`, replacing what was recorded: for a change made on purpose.
    pub async fn set_fact(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO server_facts (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
