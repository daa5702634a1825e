//! A user's states: `pending` until the operator activates them (or marks them `failed`),
//! `active`, `deactivated` with an announcement and a transfer number, and deleted.

use super::users::is_admin;
use super::Admin;
use crate::error::{Error, Result};
use crate::model::{parse_text, Principal, Role, TenantId, User, UserState, E164};

/// Whether `caller` may activate `user`: activating a pending or failed user is the
/// operator's; reactivating a deactivated one is the tenant admin's too.
pub fn may_activate(caller: &Principal, user: &User) -> bool {
    match user.state {
        UserState::Deactivated => is_admin(caller),
        _ => caller.role == Role::PlatformAdmin,
    }
}

/// How a deactivated user's callers reach the transfer number.
const TRANSFER_MODES: &[&str] = &["announced", "key-press"];

impl Admin {
    /// Moves a user to `active`: from `pending` or `failed` (the operator's activation) or from
    /// `deactivated` (reactivation).
    pub async fn user_activate(&self, tenant: TenantId, current: &User) -> Result<User> {
        let user = current.id;
        self.store
            .user_set_state(tenant, user, UserState::Active, activatable)
            .await
    }

    /// Marks a pending user as failed (the operator could not activate them).
    pub async fn user_fail(&self, tenant: TenantId, current: &User) -> Result<User> {
        let user = current.id;
        self.store
            .user_set_state(tenant, user, UserState::Failed, failable)
            .await
    }

    /// Deactivates an active user: callers hear `announcement` and are transferred to
    /// `transfer`, announced or on a key press. Group memberships and monitor lists stay.
    pub async fn user_deactivate(
        &self,
        tenant: TenantId,
        current: &User,
        announcement: Option<&str>,
        transfer: Option<&str>,
        mode: Option<&str>,
    ) -> Result<User> {
        let user = current.id;
        deactivatable(current)?;
        let announcement = announcement
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| parse_text("announcement", a, 200))
            .transpose()?;
        let transfer = transfer.map(|t| t.parse::<E164>()).transpose()?;
        let mode = mode.unwrap_or("announced");
        if !TRANSFER_MODES.contains(&mode) {
            return Err(Error::invalid(
                "transfer_mode",
                format!("{mode:?} is not one of: {}", TRANSFER_MODES.join(", ")),
            ));
        }
        self.store
            .user_deactivate(
                tenant,
                user,
                announcement.as_deref(),
                transfer.as_ref().map(|t| t.as_str()),
                mode,
                deactivatable,
            )
            .await
    }

    /// Deletes an active or deactivated user: the number is free at once and logged out of its
    /// handset, the user leaves every monitor list. A pending (or failed) user cannot be deleted.
    pub async fn user_delete(&self, tenant: TenantId, current: &User) -> Result<()> {
        let user = current.id;
        let pin = super::numbers::default_pin();
        self.store.user_delete(tenant, user, &pin, deletable).await
    }
}

// The life-cycle rules, checked on the user as the write reads them.

fn activatable(user: &User) -> Result<()> {
    refuse_unless(user, user.state != UserState::Active, "already active")
}

fn failable(user: &User) -> Result<()> {
    let why = format!("{}; only a pending user can fail activation", user.state);
    refuse_unless(user, user.state == UserState::Pending, &why)
}

fn deactivatable(user: &User) -> Result<()> {
    let why = format!("{}; only an active user can be deactivated", user.state);
    refuse_unless(user, user.state == UserState::Active, &why)
}

fn deletable(user: &User) -> Result<()> {
    let why = format!(
        "{}: only active or deactivated users can be deleted",
        user.state
    );
    let ok = matches!(user.state, UserState::Active | UserState::Deactivated);
    refuse_unless(user, ok, &why)
}

/// `Ok` when `ok`, else the conflict "user NAME is WHY".
fn refuse_unless(user: &User, ok: bool, why: &str) -> Result<()> {
    match ok {
        true => Ok(()),
        false => Err(Error::conflict(format!(
            "user {} is {why}",
            user.display_name()
        ))),
    }
}
