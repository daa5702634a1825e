//! A user's keys beyond their lines: BLF (the admin's grants of who may be monitored, each
//! user's monitor list of granted colleagues) and speed dials.

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{parse_text, ListQuery, Listed, TenantId, User, UserId};
use crate::store::BlfGrant;

impl Admin {
    /// Adds `target` to `user`'s monitor list: the phone of `user` gets a BLF key for them.
    /// Both are the tenant's; a user does not watch themselves; the watched user needs an
    /// extension or number to be watched by.
    pub async fn monitor_add(&self, tenant: TenantId, user: &User, target: &User) -> Result<()> {
        let (user, watched) = (user.id, target.id);
        if user == watched {
            return Err(Error::invalid(
                "watched",
                "a user cannot monitor themselves",
            ));
        }
        if target.extension.is_none() && target.number.is_none() {
            return Err(Error::conflict(format!(
                "{} has no extension or number to monitor",
                target.display_name()
            )));
        }
        self.store.monitor_add(tenant, user, watched).await
    }

    /// Grants that `watched` may be monitored by `watcher`, or by anyone with `None`.
    pub async fn blf_grant(
        &self,
        tenant: TenantId,
        watched: &User,
        watcher: Option<&User>,
    ) -> Result<BlfGrant> {
        let (watched, watcher) = (watched.id, watcher.map(|w| w.id));
        if watcher == Some(watched) {
            return Err(Error::invalid(
                "watcher",
                "a user cannot monitor themselves",
            ));
        }
        self.store.blf_grant(tenant, watched, watcher).await
    }

    pub async fn blf_revoke(&self, tenant: TenantId, grant: i64) -> Result<()> {
        self.store.blf_revoke(tenant, grant).await
    }

    pub async fn blf_grants(&self, tenant: TenantId) -> Result<Vec<BlfGrant>> {
        self.store.blf_grants(tenant).await
    }

    pub async fn blf_grant_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<BlfGrant>> {
        self.store.blf_grant_page(tenant, query).await
    }

    pub async fn monitor_remove(
        &self,
        tenant: TenantId,
        user: UserId,
        watched: UserId,
    ) -> Result<()> {
        self.store.monitor_remove(tenant, user, watched).await
    }

    pub async fn monitor_list(&self, tenant: TenantId, user: &User) -> Result<Vec<User>> {
        self.store.monitor_list(tenant, user.id).await
    }

    /// Whom `user` may still add to their monitor list: the colleagues an admin granted to be
    /// watched by them or by anyone, not on the list yet, by name.
    pub async fn monitor_choices(&self, tenant: TenantId, user: &User) -> Result<Vec<User>> {
        let watched = self.store.monitor_list(tenant, user.id).await?;
        let granted: std::collections::HashSet<UserId> = self
            .store
            .blf_grants(tenant)
            .await?
            .into_iter()
            .filter(|g| g.watcher.is_none() || g.watcher == Some(user.id))
            .map(|g| g.watched)
            .filter(|w| *w != user.id && !watched.iter().any(|u| u.id == *w))
            .collect();
        let mut users = self.store.user_list(tenant).await?;
        users.retain(|u| granted.contains(&u.id));
        Ok(users)
    }
}

/// Most speed dials a user keeps.
pub(super) const MAX_SPEED_DIALS: usize = 100;

/// A speed dial: a label of 1–32 characters of text (`model::parse_text`), and a number (`+`
/// and digits) or digits with `*` and `#` (an extension, a feature code) to dial.
pub(super) fn speed_dial(label: &str, target: &str) -> Result<(String, String)> {
    let label = parse_text("label", label, 32)?;
    let target = target.trim();
    let body = target.strip_prefix('+').unwrap_or(target);
    let ok = (1..=20).contains(&body.len())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#');
    if !ok {
        return Err(Error::invalid(
            "target",
            format!("{target:?} is not a number, extension or feature code"),
        ));
    }
    Ok((label, target.to_owned()))
}

impl Admin {
    /// Replaces `user`'s speed dials: (label, what to dial) in key order. A label is 1–32
    /// characters of text (`model::parse_text`); a target is a number (`+` and digits) or digits
    /// with `*` and `#` (an extension, a feature code).
    pub async fn speed_dials_set(
        &self,
        tenant: TenantId,
        user: &User,
        dials: &[(String, String)],
    ) -> Result<()> {
        let user = user.id;
        if dials.len() > MAX_SPEED_DIALS {
            return Err(Error::invalid(
                "speed_dials",
                format!("{} speed dials; at most {MAX_SPEED_DIALS}", dials.len()),
            ));
        }
        let clean = dials
            .iter()
            .map(|(label, target)| speed_dial(label, target))
            .collect::<Result<Vec<_>>>()?;
        self.store.speed_dials_set(tenant, user, &clean).await
    }

    pub async fn speed_dials(
        &self,
        tenant: TenantId,
        user: &User,
    ) -> Result<Vec<(String, String)>> {
        self.store.speed_dials(tenant, user.id).await
    }
}
