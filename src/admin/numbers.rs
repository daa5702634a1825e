//! Numbers as the portal's telephony page has them (seed 002): the list per site with search,
//! and the actions on an active, non-main number — assign, label, features, PIN, handset login.

use rand::Rng;

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{
    merge_settings, parse_label, ListQuery, Listed, Number, NumberFeatures, NumberId, NumberStatus,
    NumberView, SiteId, TenantId, User, UserId, UserState, E164,
};
use crate::store::{NumberPatch, NumberUse, PinCheck, ShownBy};

/// Which numbers to list: a site (id or name; the first alphabetically when absent, every site
/// with `all`). A list's search (`ListQuery::q`) looks in the number and in "assigned to".
#[derive(Clone, Debug, Default)]
pub struct NumberQuery {
    pub site: Option<String>,
}

/// Who chooses a number shown to callers, which decides what they may choose.
#[derive(Clone, Copy, Debug)]
pub(super) enum Chooser {
    /// An admin: any of the tenant's active numbers; at `site` when given (a CLI is a number of
    /// the same site).
    Admin { site: Option<SiteId> },
    /// A user for themselves: their own number `own`, or the main number of `site`, their
    /// number's site — never a colleague's number.
    User { own: NumberId, site: SiteId },
}

impl Admin {
    /// The tenant's available numbers, by number: active, not a site's main number, and
    /// nobody's (no user's line or e-fax, no group's, no bridge's) — what a group, a bridge or
    /// an e-fax licence may take.
    pub async fn numbers_available(&self, tenant: TenantId) -> Result<Vec<Number>> {
        self.store.available_numbers(tenant).await
    }

    /// A page of the numbers at a site, as the portal lists them.
    pub async fn number_views(
        &self,
        tenant: TenantId,
        numbers: &NumberQuery,
        query: &ListQuery,
    ) -> Result<Listed<NumberView>> {
        let site = match numbers.site.as_deref() {
            Some("all") | Some("*") => None,
            key => Some(self.site(tenant, key).await?.id),
        };
        self.store.number_view_page(tenant, site, query).await
    }

    /// The portal allows actions only on an active number that is not its site's main number.
    pub(super) fn actionable(number: &Number) -> Result<()> {
        if number.is_main {
            return Err(Error::conflict(format!(
                "{} is its site's main number: it is read-only",
                number.e164
            ))
            .coded(
                "number_main_read_only",
                [("number", number.e164.to_string())],
            ));
        }
        if number.status != NumberStatus::Active {
            return Err(Error::conflict(format!(
                "{} is {}: actions need an active number",
                number.e164, number.status
            ))
            .coded(
                "number_actions_need_active",
                [
                    ("number", number.e164.to_string()),
                    ("status", number.status.as_str().to_owned()),
                ],
            ));
        }
        Ok(())
    }

    /// Moves a number to `status` (the operator's: activating a reserved number).
    pub async fn number_set_status(
        &self,
        tenant: TenantId,
        number: &Number,
        status: &str,
    ) -> Result<Number> {
        let status: NumberStatus = status.parse()?;
        self.store
            .number_set_status(tenant, number.id, status, |(fresh, shown)| {
                status_change(fresh, shown, status)
            })
            .await
    }

    /// Assigns a number to a user that has none; the user must not be pending (their
    /// configuration is fixed until the operator activates them).
    pub async fn number_assign(
        &self,
        tenant: TenantId,
        number: &Number,
        user: &User,
    ) -> Result<Number> {
        let extension = match user.extension {
            Some(_) => None,
            None => {
                let ext = number.e164.default_extension();
                // The default extension only when it is free; else the user keeps none.
                self.store
                    .extension_owner(tenant, &ext)
                    .await?
                    .is_none()
                    .then_some(ext)
            }
        };
        let trunks = self.store.trunks(tenant, number.site_id).await?;
        let me = Some((crate::model::OwnerKind::User, user.id.0));
        self.store
            .user_assign_number(
                tenant,
                user.id,
                number.id,
                extension,
                |((fresh, to), ext)| {
                    assignable(fresh, to)?;
                    super::users::owned_elsewhere(fresh)?;
                    super::extensions::free_if(me)(ext)?;
                    super::users::trunk_rule(&fresh.number, to.trunk_id, &trunks)
                },
            )
            .await?;
        self.store.number_get(tenant, number.id).await
    }

    /// Takes a number back from its user, with the user's PIN and call features (it stays
    /// logged in to its handset, as a shared line).
    pub async fn number_unassign(&self, tenant: TenantId, number: &Number) -> Result<Number> {
        self.store
            .user_unassign_number(tenant, number.id, &default_pin(), |fresh| {
                Self::actionable(&fresh.number)?;
                let user = fresh.holder.as_ref().ok_or_else(|| {
                    Error::conflict(format!("{} is not assigned", fresh.number.e164)).coded(
                        "number_not_assigned",
                        [("number", fresh.number.e164.to_string())],
                    )
                })?;
                pending_config_locked(&user.display_name(), user.state)
            })
            .await?;
        self.store.number_get(tenant, number.id).await
    }

    /// Sets (or with both `None`, clears) the two-part display name.
    pub async fn number_label(
        &self,
        tenant: TenantId,
        number: &Number,
        first: Option<&str>,
        last: Option<&str>,
    ) -> Result<Number> {
        Self::actionable(number)?;
        let part = |field, v: Option<&str>| -> Result<Option<String>> {
            match v.map(str::trim) {
                None | Some("") => Ok(None),
                Some(v) => parse_label(field, v).map(Some),
            }
        };
        let patch = NumberPatch {
            label_first: Some(part("label_first", first)?),
            label_last: Some(part("label_last", last)?),
            ..Default::default()
        };
        let action = crate::model::AuditAction::Label;
        self.store
            .number_update(tenant, number.id, &patch, action, Self::actionable)
            .await
    }

    /// Changes call features with a JSON merge patch, as an admin; the whole result is
    /// checked: forwarding targets, busy forwarding vs call waiting, voicemail e-mail, and a new
    /// CLI number, which must be one of the tenant's active numbers at the same site and allowed
    /// by TKG §66k.
    pub async fn number_features(
        &self,
        tenant: TenantId,
        number: &Number,
        changes: &serde_json::Value,
    ) -> Result<Number> {
        Self::actionable(number)?;
        let chooser = Chooser::Admin {
            site: Some(number.site_id),
        };
        self.features_change(tenant, number, changes, chooser).await
    }

    /// The same change by the number's user (self-service): a new CLI number may only be their
    /// own number or the main number of its site, never a colleague's.
    pub async fn number_features_by_user(
        &self,
        tenant: TenantId,
        user: UserId,
        number: &Number,
        changes: &serde_json::Value,
    ) -> Result<Number> {
        Self::actionable(number)?;
        let user = self.store.user_get(tenant, user).await?;
        if user.number_id != Some(number.id) {
            return Err(Error::not_found("number", number.id));
        }
        let chooser = Chooser::User {
            own: number.id,
            site: number.site_id,
        };
        self.features_change(tenant, number, changes, chooser).await
    }

    async fn features_change(
        &self,
        tenant: TenantId,
        number: &Number,
        changes: &serde_json::Value,
        chooser: Chooser,
    ) -> Result<Number> {
        let features: NumberFeatures = merge_settings(&number.features, changes)?;
        features.validate()?;
        if let Some(cli) = &features.cli_number {
            // Checked when set: a CLI an admin chose stays while its user changes the rest.
            if features.cli_number != number.features.cli_number {
                self.shown_number(tenant, "cli_number", cli, chooser)
                    .await?;
            }
        }
        let patch = NumberPatch {
            features: Some(features),
            ..Default::default()
        };
        let action = crate::model::AuditAction::Features;
        self.store
            .number_update(tenant, number.id, &patch, action, Self::actionable)
            .await
    }

    /// The one rule for a number shown to callers (a CLI, a displayed number): one of the
    /// tenant's own active numbers — its right to use it (TKG §66k) —, and of those, what the
    /// chooser may pick (see [`Chooser`]).
    pub(super) async fn shown_number(
        &self,
        tenant: TenantId,
        field: &'static str,
        number: &E164,
        chooser: Chooser,
    ) -> Result<Number> {
        let shown = self
            .store
            .number_by_e164(tenant, number)
            .await
            .map_err(|_| {
                Error::invalid(
                    field,
                    format!("{number} is not one of the tenant's numbers"),
                )
                .coded("number_not_tenants", [("number", number.to_string())])
            })?;
        if shown.status != NumberStatus::Active {
            return Err(Error::invalid(
                field,
                format!(
                    "{number} is {}: a number shown to callers must be active",
                    shown.status
                ),
            )
            .coded(
                "shown_number_not_active",
                [
                    ("number", number.to_string()),
                    ("status", shown.status.as_str().to_owned()),
                ],
            ));
        }
        match chooser {
            Chooser::Admin { site: Some(site) } if shown.site_id != site => Err(Error::invalid(
                field,
                format!("{number} must be at the same site as the number that shows it"),
            )
            .coded("shown_number_other_site", [("number", number.to_string())])),
            Chooser::Admin { .. } => Ok(shown),
            Chooser::User { own, site } => {
                if shown.id == own || (shown.is_main && shown.site_id == site) {
                    Ok(shown)
                } else {
                    Err(Error::invalid(
                        field,
                        format!(
                            "{number} is neither your own number nor your site's main number: only an admin may show another number"
                        ),
                    )
                    .coded("shown_number_not_yours", [("number", number.to_string())]))
                }
            }
        }
    }

    /// Back to the default PIN, and unlocked.
    pub async fn number_reset_pin(&self, tenant: TenantId, number: &Number) -> Result<Number> {
        Self::actionable(number)?;
        let action = crate::model::AuditAction::ResetPin;
        self.store
            .number_set_pin(tenant, number.id, None, action, Self::actionable)
            .await
    }

    /// The user's own PIN: 4–8 digits, not the default, not one digit repeated, not a plain
    /// run (1234, 9876). Stored as an argon2 hash; never shown.
    pub async fn number_set_pin(
        &self,
        tenant: TenantId,
        number: &Number,
        pin: &str,
    ) -> Result<Number> {
        pin_settable(number)?;
        let pin = pin.trim();
        check_pin(pin, &number.default_pin)?;
        let hash = self.hasher.hash("PIN", pin.to_owned()).await?;
        let action = crate::model::AuditAction::SetPin;
        self.store
            .number_set_pin(tenant, number.id, Some(&hash), action, pin_settable)
            .await
    }

    /// Checks a PIN (the voice portal's and the handset's sign-in): the custom PIN if set, else
    /// the default. Three wrong in a row lock it (`Locked`, 423) until a reset.
    pub async fn number_verify_pin(&self, number: &Number, pin: &str) -> Result<()> {
        Self::actionable(number)?;
        if number.pin_locked {
            return Err(locked(&number.e164));
        }
        let right = match self.store.number_pin_hash(number.id).await? {
            Some(hash) => {
                self.hasher
                    .verify("PIN", pin.trim().to_owned(), hash)
                    .await?
            }
            None => {
                crate::model::constant_time_eq(pin.trim().as_bytes(), number.default_pin.as_bytes())
            }
        };
        match self.store.number_pin_attempt(number.id, right).await? {
            PinCheck::Ok => Ok(()),
            PinCheck::Wrong(left) => Err(Error::invalid(
                "pin",
                format!("wrong PIN; {left} attempt(s) left before it locks"),
            )
            .coded("pin_wrong", [("left", left.to_string())])),
            PinCheck::Locked => Err(locked(&number.e164)),
        }
    }
}

/// Whether a number may move to `status`: not to the status it has; out of `active` only once
/// no user holds it, nothing shows it to callers and no handset has it logged in.
fn status_change(fresh: &NumberUse, shown: &ShownBy, status: NumberStatus) -> Result<()> {
    let number = &fresh.number;
    if number.status == status {
        return Err(
            Error::conflict(format!("{} is already {status}", number.e164)).coded(
                "number_already_status",
                [
                    ("number", number.e164.to_string()),
                    ("status", status.as_str().to_owned()),
                ],
            ),
        );
    }
    if status == NumberStatus::Active {
        return Ok(());
    }
    if let Some(user) = &fresh.holder {
        return Err(Error::conflict(format!(
            "{} is assigned to {}: unassign it first",
            number.e164,
            user.display_name()
        ))
        .coded(
            "number_assigned_unassign",
            [
                ("number", number.e164.to_string()),
                ("name", user.display_name()),
            ],
        ));
    }
    if let Some(owner) = &fresh.owner {
        return Err(Error::conflict(format!(
            "{} is the number of {owner}: give it another number first",
            number.e164
        ))
        .coded(
            "number_owned_change",
            [
                ("number", number.e164.to_string()),
                ("kind", owner.owner.kind.as_str().to_owned()),
                ("name", owner.owner.name.clone()),
            ],
        ));
    }
    if let Some(who) = &shown.0 {
        return Err(Error::conflict(format!(
            "{} is shown to callers by {who}: change that first",
            number.e164
        ))
        .coded(
            "number_shown_by",
            [
                ("number", number.e164.to_string()),
                ("name", who.to_string()),
            ],
        ));
    }
    match &fresh.handset {
        Some(handset) => Err(Error::conflict(format!(
            "{} is logged in to handset {handset}: log it out first",
            number.e164
        ))
        .coded(
            "number_on_handset_logout",
            [
                ("number", number.e164.to_string()),
                ("phone_id", handset.to_string()),
            ],
        )),
        None => Ok(()),
    }
}

/// Whether `number` may go to `user`: an actionable number nobody holds, a user without a
/// number who is not pending.
fn assignable(number: &NumberUse, user: &User) -> Result<()> {
    Admin::actionable(&number.number)?;
    if let Some(holder) = &number.holder {
        return Err(Error::conflict(format!(
            "{} is already assigned to {}",
            number.number.e164,
            holder.display_name()
        ))
        .coded(
            "number_assigned",
            [
                ("number", number.number.e164.to_string()),
                ("name", holder.display_name()),
            ],
        ));
    }
    if let Some(has) = &user.number {
        return Err(Error::conflict(format!(
            "{} already has a number ({has}); unassign it first",
            user.display_name()
        ))
        .coded(
            "user_has_number",
            [("name", user.display_name()), ("number", has.to_string())],
        ));
    }
    pending_config_locked(&user.display_name(), user.state)
}

/// Whether a user may set their own PIN: an actionable number whose PIN is not locked
/// (setting a new PIN would open the lock: that is the admin's reset).
fn pin_settable(number: &Number) -> Result<()> {
    Admin::actionable(number)?;
    if number.pin_locked {
        return Err(locked(&number.e164));
    }
    Ok(())
}

/// A pending user's configuration (number, handset, licences, mobile) is fixed until the
/// operator activates them; profile and call features may change.
pub(super) fn pending_config_locked(name: &str, state: UserState) -> Result<()> {
    if state == UserState::Pending {
        return Err(Error::conflict(format!(
            "{name} is pending: their configuration (number, handset, licences, mobile) cannot change until the operator activates them"
        ))
        .coded("pending_config_locked", [("name", name.to_owned())]));
    }
    Ok(())
}

fn locked(number: &E164) -> Error {
    Error::locked(format!(
        "the PIN of {number} is locked after 3 wrong attempts; an admin must reset it"
    ))
    .coded("pin_locked", [("number", number.to_string())])
}

fn check_pin(pin: &str, default: &str) -> Result<()> {
    let digits: Vec<u8> = pin.bytes().map(|b| b.wrapping_sub(b'0')).collect();
    if !(4..=8).contains(&pin.len()) || digits.iter().any(|d| *d > 9) {
        return Err(Error::invalid("pin", "a PIN is 4 to 8 digits").coded("pin_digits", []));
    }
    if pin == default {
        return Err(
            Error::invalid("pin", "the new PIN must differ from the default PIN")
                .coded("pin_is_default", []),
        );
    }
    let same = digits.windows(2).all(|w| w[0] == w[1]);
    let up = digits.windows(2).all(|w| w[1] == w[0] + 1);
    let down = digits.windows(2).all(|w| w[0] == w[1] + 1);
    if same || up || down {
        return Err(Error::invalid(
            "pin",
            "too easy to guess: not one digit repeated or a plain run like 1234",
        )
        .coded("pin_too_easy", []));
    }
    Ok(())
}

/// A new number's default PIN: six random digits.
pub(super) fn default_pin() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_must_be_digits_and_not_trivial() {
        assert!(check_pin("4711", "000000").is_ok());
        for bad in ["123", "123456789", "12a4", "1111", "1234", "9876", "000000"] {
            let err = check_pin(bad, "000000").unwrap_err().to_string();
            assert!(err.starts_with("pin"), "{bad}: {err}");
        }
    }
}
