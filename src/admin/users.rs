//! Users: names within the portal's limits, a default extension from the number, and the
//! life cycle that starts at `pending`.

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{
    parse_email, parse_extension, FirstName, LastName, Number, NumberStatus, TenantId, User,
    UserId, UserState, E164,
};
use crate::store::{NewUser, UserPatch};

#[derive(Clone, Debug, Default)]
pub struct UserInput {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    /// An active, unassigned, non-main number of the tenant.
    pub number: Option<String>,
    /// Defaults to the last four digits of the number.
    pub extension: Option<String>,
}

/// Profile changes; `None` keeps the field. An empty e-mail clears it.
#[derive(Clone, Debug, Default)]
pub struct UserUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub extension: Option<String>,
}

impl Admin {
    /// Creates a user in the `pending` state (can call out, cannot be reached until activated).
    pub async fn user_add(&self, tenant: TenantId, input: &UserInput) -> Result<User> {
        let first_name = FirstName::parse(&input.first_name)?;
        let last_name = LastName::parse(&input.last_name)?;
        let email = input.email.as_deref().map(parse_email).transpose()?;
        let number = match &input.number {
            Some(n) => Some(self.assignable_number(tenant, n).await?),
            None => None,
        };
        let extension = match (&input.extension, &number) {
            (Some(ext), _) => Some(parse_extension(ext)?),
            (None, Some(n)) => Some(n.e164.default_extension()),
            (None, None) => None,
        };
        if let Some(ext) = &extension {
            self.check_extension_free(tenant, ext, None).await?;
        }
        self.store
            .user_create(&NewUser {
                tenant_id: tenant,
                first_name,
                last_name,
                email,
                number_id: number.map(|n| n.id),
                extension,
            })
            .await
    }

    pub async fn user_update(
        &self,
        tenant: TenantId,
        user: UserId,
        input: &UserUpdate,
    ) -> Result<User> {
        let patch = UserPatch {
            first_name: input
                .first_name
                .as_deref()
                .map(FirstName::parse)
                .transpose()?,
            last_name: input
                .last_name
                .as_deref()
                .map(LastName::parse)
                .transpose()?,
            email: match input.email.as_deref().map(str::trim) {
                None => None,
                Some("") => Some(None),
                Some(e) => Some(Some(parse_email(e)?)),
            },
            extension: input
                .extension
                .as_deref()
                .map(parse_extension)
                .transpose()?,
        };
        if let Some(ext) = &patch.extension {
            self.check_extension_free(tenant, ext, Some(user)).await?;
        }
        self.store.user_update(tenant, user, &patch).await
    }

    /// Moves a user to `active`: from `pending` or `failed` (the operator's activation) or from
    /// `deactivated` (reactivation).
    pub async fn user_activate(&self, tenant: TenantId, user: UserId) -> Result<User> {
        let current = self.store.user_get(tenant, user).await?;
        if current.state == UserState::Active {
            return Err(Error::Conflict(format!(
                "user {} is already active",
                current.display_name()
            )));
        }
        self.store
            .user_set_state(tenant, user, UserState::Active)
            .await
    }

    pub async fn user_list(&self, tenant: TenantId) -> Result<Vec<User>> {
        self.store.user_list(tenant).await
    }

    /// A number a user may be given: the tenant's, active, not the site's main number, and not
    /// someone else's already.
    async fn assignable_number(&self, tenant: TenantId, number: &str) -> Result<Number> {
        let e164: E164 = number.parse()?;
        let number = self.store.number_by_e164(tenant, &e164).await?;
        if number.status != NumberStatus::Active {
            return Err(Error::Conflict(format!(
                "{e164} is {}; only an active number can be assigned",
                number.status
            )));
        }
        if number.is_main {
            return Err(Error::Conflict(format!(
                "{e164} is its site's main number and cannot be assigned to a user"
            )));
        }
        if let Some(holder) = self.store.user_by_number(number.id).await? {
            return Err(Error::Conflict(format!(
                "{e164} is already assigned to {}",
                holder.display_name()
            )));
        }
        Ok(number)
    }

    async fn check_extension_free(
        &self,
        tenant: TenantId,
        ext: &str,
        except: Option<UserId>,
    ) -> Result<()> {
        match self.store.user_by_extension(tenant, ext).await? {
            Some(holder) if Some(holder.id) != except => Err(Error::Conflict(format!(
                "extension {ext} is already used by {}; choose another with --extension",
                holder.display_name()
            ))),
            _ => Ok(()),
        }
    }
}

impl Admin {
    /// Adds `watched` to `user`'s monitor list: the phone of `user` gets a BLF key for them.
    /// Both are the tenant's; a user does not watch themselves; the watched user needs an
    /// extension or number to be watched by.
    pub async fn monitor_add(&self, tenant: TenantId, user: UserId, watched: UserId) -> Result<()> {
        if user == watched {
            return Err(Error::invalid(
                "watched",
                "a user cannot monitor themselves",
            ));
        }
        self.store.user_get(tenant, user).await?;
        let target = self.store.user_get(tenant, watched).await?;
        if target.extension.is_none() && target.number.is_none() {
            return Err(Error::Conflict(format!(
                "{} has no extension or number to monitor",
                target.display_name()
            )));
        }
        self.store.monitor_add(tenant, user, watched).await
    }

    pub async fn monitor_remove(
        &self,
        tenant: TenantId,
        user: UserId,
        watched: UserId,
    ) -> Result<()> {
        self.store.monitor_remove(tenant, user, watched).await
    }

    pub async fn monitor_list(&self, tenant: TenantId, user: UserId) -> Result<Vec<User>> {
        self.store.user_get(tenant, user).await?;
        self.store.monitor_list(tenant, user).await
    }
}

/// Most speed dials a user keeps.
const MAX_SPEED_DIALS: usize = 100;

impl Admin {
    /// Replaces `user`'s speed dials: (label, what to dial) in key order. A label is 1–32
    /// characters without control characters; a target is a number (`+` and digits) or digits
    /// with `*` and `#` (an extension, a feature code).
    pub async fn speed_dials_set(
        &self,
        tenant: TenantId,
        user: UserId,
        dials: &[(String, String)],
    ) -> Result<()> {
        if dials.len() > MAX_SPEED_DIALS {
            return Err(Error::invalid(
                "speed_dials",
                format!("{} speed dials; at most {MAX_SPEED_DIALS}", dials.len()),
            ));
        }
        let mut clean = Vec::with_capacity(dials.len());
        for (label, target) in dials {
            let label = label.trim();
            let n = label.chars().count();
            if n == 0 || n > 32 || label.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "label",
                    format!("{label:?} must have 1 to 32 characters and no control characters"),
                ));
            }
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
            clean.push((label.to_owned(), target.to_owned()));
        }
        self.store.user_get(tenant, user).await?;
        self.store.speed_dials_set(tenant, user, &clean).await
    }

    pub async fn speed_dials(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<(String, String)>> {
        self.store.user_get(tenant, user).await?;
        self.store.speed_dials(tenant, user).await
    }
}

/// How a deactivated user's callers reach the transfer number.
const TRANSFER_MODES: &[&str] = &["announced", "key-press"];

impl Admin {
    /// Marks a pending user as failed (the operator could not activate them).
    pub async fn user_fail(&self, tenant: TenantId, user: UserId) -> Result<User> {
        let current = self.store.user_get(tenant, user).await?;
        if current.state != UserState::Pending {
            return Err(Error::Conflict(format!(
                "user {} is {}; only a pending user can fail activation",
                current.display_name(),
                current.state
            )));
        }
        self.store
            .user_set_state(tenant, user, UserState::Failed)
            .await
    }

    /// Deactivates an active user: callers hear `announcement` and are transferred to
    /// `transfer`, announced or on a key press. Group memberships and monitor lists stay.
    pub async fn user_deactivate(
        &self,
        tenant: TenantId,
        user: UserId,
        announcement: Option<&str>,
        transfer: Option<&str>,
        mode: Option<&str>,
    ) -> Result<User> {
        let current = self.store.user_get(tenant, user).await?;
        if current.state != UserState::Active {
            return Err(Error::Conflict(format!(
                "user {} is {}; only an active user can be deactivated",
                current.display_name(),
                current.state
            )));
        }
        let announcement = announcement.map(str::trim).filter(|a| !a.is_empty());
        if let Some(text) = announcement {
            if text.chars().count() > 200 || text.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "announcement",
                    "at most 200 characters, no control characters",
                ));
            }
        }
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
                announcement,
                transfer.as_ref().map(|t| t.as_str()),
                mode,
            )
            .await
    }

    /// Deletes an active or deactivated user: the number is free at once and logged out of its
    /// handset, the user leaves every monitor list. A pending (or failed) user cannot be deleted.
    pub async fn user_delete(&self, tenant: TenantId, user: UserId) -> Result<()> {
        let current = self.store.user_get(tenant, user).await?;
        if !matches!(current.state, UserState::Active | UserState::Deactivated) {
            return Err(Error::Conflict(format!(
                "user {} is {}: only active or deactivated users can be deleted",
                current.display_name(),
                current.state
            )));
        }
        self.store.user_delete(tenant, user).await
    }
}
