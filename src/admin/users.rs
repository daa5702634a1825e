//! Users: names within the portal's limits, a default extension from the number, and the
//! life cycle that starts at `pending`.

use super::extensions;
use super::{Admin, LoginDetails, LoginTarget};
use crate::error::{Error, Result};
use crate::model::{
    merge_settings, parse_email, parse_label, FirstName, LastName, LicenceKind, ListQuery, Listed,
    Number, NumberStatus, OwnerKind, PbxOptions, Principal, Role, TenantId, User, E164,
};
use crate::store::{
    ExtensionUse, FirstLine, LicenceFacts, NewUser, NumberUse, Trunk, UserClaim, UserPatch,
};

/// A new user, as the API takes it (`NewUser`) and the CLI fills it.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewUser)]
pub struct UserInput {
    /// At most 23 characters (`model::FIRST_NAME_MAX`).
    #[schema(min_length = 1, max_length = 23)]
    pub first_name: String,
    /// At most 30 characters (`model::LAST_NAME_MAX`).
    #[schema(min_length = 1, max_length = 30)]
    pub last_name: String,
    pub email: Option<String>,
    /// An active, unassigned, non-main number of the tenant.
    pub number: Option<String>,
    /// Defaults to the last four digits of the number; 2 to 8 digits.
    #[schema(min_length = 2, max_length = 8)]
    pub extension: Option<String>,
    /// Mobile integration: the user's mobile number (E.164) and its contract number.
    pub mobile: Option<String>,
    pub contract_number: Option<String>,
    /// Licences from the tenant's pools: `app`, `conference-room`, `e-fax`.
    #[serde(default)]
    pub licences: Vec<String>,
    /// The preferred trunk (id or name), needed when the number's site has several.
    pub trunk: Option<String>,
    /// With the e-fax licence: the fax number (E.164) from the available numbers; default the
    /// first available.
    pub fax_number: Option<String>,
    /// The new user's desk phone: a handset (Phone ID or MAC) of their number's site that
    /// nobody is logged in to. Their number is logged in to it and the answer's `desk_phone`
    /// holds the line's login details, shown this once; a handset refused adds nobody.
    pub handset: Option<String>,
}

/// A user just added, with their desk phone's login details when a handset was chosen.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct UserAdded {
    #[serde(flatten)]
    pub user: User,
    /// The line's login details on the chosen handset, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desk_phone: Option<LoginDetails>,
}

/// Changes to a user; `None` keeps a field, an empty text clears it. Profile fields (names,
/// e-mail, extension, app e-mail, options) may change while the user is pending; configuration
/// (number, mobile, contract, trunk) may not.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UserChanges)]
pub struct UserUpdate {
    #[schema(max_length = 23)]
    pub first_name: Option<String>,
    #[schema(max_length = 30)]
    pub last_name: Option<String>,
    /// Empty text clears.
    pub email: Option<String>,
    #[schema(max_length = 8)]
    pub extension: Option<String>,
    pub mobile: Option<String>,
    pub contract_number: Option<String>,
    /// The app registration e-mail: changeable until the user registers; each change
    /// re-issues the invitation.
    pub app_email: Option<String>,
    pub trunk: Option<String>,
    /// A JSON merge patch of the PBX options.
    #[schema(value_type = Option<crate::model::PbxOptions>)]
    pub options: Option<serde_json::Value>,
}

/// The PBX options a user may change for themselves (notifications and call waiting); the
/// rest — CTI, recording, TLS, dial-plan groups, displayed numbers — are the admin's.
pub const SELF_SERVICE_OPTIONS: &[&str] = &[
    "busy_when_active",
    "busy_when_ringing",
    "missed_call_email",
    "push_incoming",
    "push_missed",
    "hidden_from_directory",
    "conference_pin",
];

impl UserUpdate {
    /// Whether `caller` may make this change to `user`: an admin anything; a user only to
    /// themselves, and only their names, e-mail, app e-mail and the `SELF_SERVICE_OPTIONS`.
    pub fn allowed_for(&self, caller: &Principal, user: &User) -> bool {
        if is_admin(caller) {
            return true;
        }
        let admin_fields = self.extension.is_some()
            || self.mobile.is_some()
            || self.contract_number.is_some()
            || self.trunk.is_some();
        let admin_options = self.options.as_ref().is_some_and(|o| {
            o.as_object().is_none_or(|m| {
                m.keys()
                    .any(|k| !SELF_SERVICE_OPTIONS.contains(&k.as_str()))
            })
        });
        caller.user == Some(user.id) && !admin_fields && !admin_options
    }
}

pub(super) fn is_admin(caller: &Principal) -> bool {
    matches!(caller.role, Role::PlatformAdmin | Role::TenantAdmin)
}

/// `None` keeps, `Some("")` clears, `Some(text)` sets (parsed by `parse`).
fn change<T>(
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T>,
) -> Result<Option<Option<T>>> {
    match value.map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(v) => parse(v).map(|v| Some(Some(v))),
    }
}

pub(super) fn parse_mobile(v: &str) -> Result<E164> {
    let n: E164 = v.parse().map_err(|_| {
        Error::invalid("mobile", format!("{v:?} is not an E.164 number"))
            .coded("not_e164", [("value", format!("{v:?}"))])
    })?;
    n.check_tkg_66k("mobile")?;
    Ok(n)
}

pub(super) fn parse_contract(v: &str) -> Result<String> {
    let ok = (1..=32).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/');
    if ok {
        Ok(v.to_owned())
    } else {
        Err(Error::invalid(
            "contract_number",
            format!("{v:?} must be 1 to 32 letters, digits, - or /"),
        ))
    }
}

fn parse_app_email(v: &str) -> Result<String> {
    parse_email(v)
        .map_err(|_| Error::invalid("app_email", format!("{v:?} is not an e-mail address")))
}

impl Admin {
    /// `user_add`, and the new user's number logged in to `input.handset` as their first
    /// desk phone (001: the add form's desk phone; the rule `logins::first_line`: choosing
    /// it is part of adding the user, so a pending user may get it), in the add's own
    /// transaction: the handset
    /// is judged before (another site's handset, someone logged in to it) and again inside
    /// the write, so a refusal — also a login that took the handset in between — adds nobody.
    pub async fn user_add_with_desk_phone(
        &self,
        tenant: TenantId,
        input: &UserInput,
    ) -> Result<UserAdded> {
        let Some(handset) = input
            .handset
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
        else {
            let user = self.user_add(tenant, input).await?;
            return Ok(UserAdded {
                user,
                desk_phone: None,
            });
        };
        let Some(number) = &input.number else {
            return Err(Error::invalid(
                "handset",
                "a desk phone needs the user's number: give a number too",
            ));
        };
        let number = self.assignable_number(tenant, number).await?;
        let target = LoginTarget {
            handset: handset.to_owned(),
            additional_line: false,
        };
        // A refusal is the handset field's: the form shows it there.
        let device = match self.handset_takes(tenant, &number, &target).await {
            Err(Error::NotFound { .. }) => {
                return Err(Error::invalid(
                    "handset",
                    format!("no handset {handset} in this tenant"),
                )
                .coded("handset_unknown", [("handset", handset.to_owned())]))
            }
            other => other.map_err(|e| e.about("handset"))?,
        };
        let sip_user = number.e164.digits().to_owned();
        let password = crate::model::Secret::generate();
        let line = FirstLine {
            device: &device,
            sip_user: &sip_user,
            sip_password: &password,
            rule: super::logins::first_line,
        };
        let (user, position) = self.user_create(tenant, input, Some(line)).await?;
        // The input names a number, so the write logged it in or failed.
        let position =
            position.ok_or_else(|| Error::conflict("the desk phone was not logged in"))?;
        Ok(UserAdded {
            user,
            desk_phone: Some(LoginDetails {
                number: number.e164.clone(),
                phone_id: device.phone_id.clone(),
                mac: device.mac,
                position,
                sip_user,
                sip_password: password.expose().to_owned(),
            }),
        })
    }

    /// Creates a user in the `pending` state (can call out, cannot be reached until activated).
    /// `input.handset` is not this one's: `user_add_with_desk_phone` takes it.
    pub async fn user_add(&self, tenant: TenantId, input: &UserInput) -> Result<User> {
        self.user_create(tenant, input, None)
            .await
            .map(|(user, _)| user)
    }

    /// `user_add`, with `line` logged in in the same write (its slot in the answer).
    async fn user_create(
        &self,
        tenant: TenantId,
        input: &UserInput,
        line: Option<FirstLine<'_>>,
    ) -> Result<(User, Option<u16>)> {
        let first_name = FirstName::parse(&input.first_name)?;
        let last_name = LastName::parse(&input.last_name)?;
        let email = input.email.as_deref().map(parse_email).transpose()?;
        let mobile = input.mobile.as_deref().map(parse_mobile).transpose()?;
        let contract = input
            .contract_number
            .as_deref()
            .map(parse_contract)
            .transpose()?;
        let mut licences: Vec<LicenceKind> = input
            .licences
            .iter()
            .map(|k| k.parse())
            .collect::<Result<_>>()?;
        licences.sort_by_key(|k| k.as_str());
        licences.dedup();
        let number = match &input.number {
            Some(n) => Some(self.assignable_number(tenant, n).await?),
            None => None,
        };
        let trunk = match &input.trunk {
            Some(t) => Some(self.trunk_id(tenant, t).await?),
            None => None,
        };
        if let Some(n) = &number {
            trunk_rule(n, trunk, &self.store.trunks(tenant, n.site_id).await?)?;
        }
        let extension = match (&input.extension, &number) {
            (Some(ext), _) => Some(extensions::parse(OwnerKind::User, ext)?),
            (None, Some(n)) => Some(n.e164.default_extension()),
            (None, None) => None,
        };
        // One transaction: the user with their configuration and licences, or nothing; the
        // number and the extension checked inside it.
        let fax = self
            .fax_number(tenant, None, &licences, input.fax_number.as_deref())
            .await?;
        let rule = |((number, ext), facts): &UserClaim| {
            number.as_ref().map_or(Ok(()), new_users_number)?;
            extensions::free_if(None)(ext)?;
            super::bridges::licences_fit(&licences, None, facts)
        };
        self.store
            .user_create_with_line(
                &NewUser {
                    tenant_id: tenant,
                    first_name,
                    last_name,
                    email,
                    number_id: number.map(|n| n.id),
                    extension,
                    mobile,
                    contract_number: contract,
                    trunk_id: trunk,
                    licences: licences.clone(),
                    fax,
                },
                rule,
                line,
            )
            .await
    }

    /// Changes `current`, the user as the caller found them.
    pub async fn user_update(
        &self,
        tenant: TenantId,
        current: &User,
        input: &UserUpdate,
    ) -> Result<User> {
        let user = current.id;
        let mut patch = UserPatch {
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
            email: change(input.email.as_deref(), parse_email)?,
            extension: change(input.extension.as_deref(), |e| {
                extensions::parse(OwnerKind::User, e)
            })?,
            mobile: change(input.mobile.as_deref(), parse_mobile)?,
            contract_number: change(input.contract_number.as_deref(), parse_contract)?,
            app_email: change(input.app_email.as_deref(), parse_app_email)?,
            ..Default::default()
        };
        let rule = UpdateRule {
            config: patch.mobile.is_some()
                || patch.contract_number.is_some()
                || input.trunk.is_some(),
            app_email: patch.app_email.is_some(),
        };
        rule.config(current)?;
        if let Some(app_email) = &patch.app_email {
            rule.app_email(current)?;
            if *app_email == current.app_email {
                patch.app_email = None;
            }
        }
        if let Some(t) = input.trunk.as_deref() {
            patch.trunk_id = Some(self.trunk_change(current, t).await?);
        }
        if matches!(patch.email, Some(None))
            && current.options.missed_call_email
            && input.options.is_none()
        {
            return Err(Error::invalid(
                "email",
                "missed-call e-mails go to this address: turn the option off first",
            ));
        }
        if let Some(changes) = &input.options {
            let email = match &patch.email {
                Some(e) => e.is_some(),
                None => current.email.is_some(),
            };
            patch.options = Some(self.options_change(current, changes, email).await?);
        }
        // Checked again on the user and the extension as the write reads them.
        let me = Some((OwnerKind::User, user.0));
        let check = |(u, ext): &(User, Option<ExtensionUse>)| {
            rule.config(u)?;
            rule.app_email(u)?;
            extensions::free_if(me)(ext)
        };
        self.store.user_update(tenant, user, &patch, check).await
    }

    /// The trunk `key` names for `current` (none for an empty text), checked against the
    /// site of their number.
    async fn trunk_change(&self, current: &User, key: &str) -> Result<Option<i64>> {
        let tenant = current.tenant_id;
        let trunk = match key.trim() {
            "" => None,
            t => Some(self.trunk_id(tenant, t).await?),
        };
        if let Some(n) = current.number_id {
            let number = self.store.number_get(tenant, n).await?;
            let trunks = self.store.trunks(tenant, number.site_id).await?;
            trunk_rule(&number, trunk, &trunks)?;
        }
        Ok(trunk)
    }

    /// `current`'s PBX options with `changes` merged in, checked whole (`email`: whether the
    /// user will have an e-mail address).
    async fn options_change(
        &self,
        current: &User,
        changes: &serde_json::Value,
        email: bool,
    ) -> Result<PbxOptions> {
        let options: PbxOptions = merge_settings(&current.options, changes)?;
        if let Some(shown) = &options.displayed_number {
            if options.displayed_number != current.options.displayed_number {
                let chooser = super::numbers::Chooser::Admin { site: None };
                self.shown_number(current.tenant_id, "displayed_number", shown, chooser)
                    .await?;
            }
        }
        options.validate(email)?;
        if options.personal_conference_room && !current.options.personal_conference_room {
            let held = self
                .store
                .user_licences(current.tenant_id, current.id)
                .await?;
            if !held.contains(&LicenceKind::ConferenceRoom) {
                return Err(Error::invalid(
                    "personal_conference_room",
                    "needs a conference-room licence assigned to the user",
                ));
            }
        }
        Ok(options)
    }

    /// The app reports that the user registered with `login`: from now on the registration
    /// e-mail is fixed and the login name is shown.
    pub async fn user_app_registered(
        &self,
        tenant: TenantId,
        current: &User,
        login: &str,
    ) -> Result<User> {
        let user = current.id;
        registrable(current)?;
        let login = parse_label("login", login)?;
        let patch = UserPatch {
            app_login: Some(Some(login)),
            ..Default::default()
        };
        self.store
            .user_update(tenant, user, &patch, |(u, _)| registrable(u))
            .await
    }

    /// Sets exactly which licences the user holds; new ones come from the tenant's pools.
    pub async fn user_licences_set(
        &self,
        tenant: TenantId,
        current: &User,
        kinds: &[String],
        fax_number: Option<&str>,
    ) -> Result<Vec<LicenceKind>> {
        let user = current.id;
        super::numbers::pending_config_locked(&current.display_name(), current.state)?;
        let mut kinds: Vec<LicenceKind> = kinds.iter().map(|k| k.parse()).collect::<Result<_>>()?;
        kinds.sort_by_key(|k| k.as_str());
        kinds.dedup();
        let fax = self
            .fax_number(tenant, Some(current), &kinds, fax_number)
            .await?;
        let rule = |(u, facts): &(User, LicenceFacts)| {
            super::numbers::pending_config_locked(&u.display_name(), u.state)?;
            super::bridges::licences_fit(&kinds, Some(u), facts)?;
            if u.options.personal_conference_room && !kinds.contains(&LicenceKind::ConferenceRoom) {
                return Err(Error::conflict(format!(
                    "{} has a personal conference room: turn that option off before taking the conference-room licence",
                    u.display_name()
                )));
            }
            Ok(())
        };
        self.store
            .user_licences_set(tenant, user, &kinds, fax, rule)
            .await?;
        self.store.user_licences(tenant, user).await
    }

    pub async fn user_licences(&self, tenant: TenantId, user: &User) -> Result<Vec<LicenceKind>> {
        self.store.user_licences(tenant, user.id).await
    }

    /// A trunk of the tenant by id or name.
    async fn trunk_id(&self, tenant: TenantId, key: &str) -> Result<i64> {
        for site in self.store.site_list(tenant).await? {
            for t in self.store.trunks(tenant, site.id).await? {
                if t.id.to_string() == key.trim() || t.name == key.trim() {
                    return Ok(t.id);
                }
            }
        }
        Err(Error::invalid(
            "trunk",
            format!("{key:?} is not a trunk of this tenant"),
        ))
    }

    pub async fn user_list(&self, tenant: TenantId) -> Result<Vec<User>> {
        self.store.user_list(tenant).await
    }

    /// The operator's activation queue: pending users of every tenant, by tenant and name, the
    /// first `limit`.
    pub async fn activation_queue(&self, limit: u32) -> Result<Vec<User>> {
        self.store.pending_users(limit).await
    }

    pub async fn user_page(&self, tenant: TenantId, query: &ListQuery) -> Result<Listed<User>> {
        self.store.user_page(tenant, query).await
    }

    /// A number a user may be given: the tenant's, active, not the site's main number, and not
    /// someone else's already.
    async fn assignable_number(&self, tenant: TenantId, number: &str) -> Result<Number> {
        let e164: E164 = number.parse()?;
        let number = self.store.number_by_e164(tenant, &e164).await?;
        new_users_number(&self.store.number_use(tenant, number.id).await?)?;
        Ok(number)
    }
}

/// A number a new user may be given: active, not the site's main number, and not someone
/// else's already. Each refusal names the input field `number`.
pub(super) fn new_users_number(fresh: &NumberUse) -> Result<()> {
    let number = &fresh.number;
    let e164 = &number.e164;
    if number.status != NumberStatus::Active {
        return Err(Error::conflict_on(
            "number",
            format!(
                "{e164} is {}; only an active number can be assigned",
                number.status
            ),
        )
        .coded(
            "number_not_active",
            [
                ("number", e164.to_string()),
                ("status", number.status.to_string()),
            ],
        ));
    }
    if number.is_main {
        return Err(Error::conflict_on(
            "number",
            format!("{e164} is its site's main number and cannot be assigned to a user"),
        )
        .coded("number_is_main", [("number", e164.to_string())]));
    }
    if let Some(holder) = &fresh.holder {
        return Err(Error::conflict_on(
            "number",
            format!("{e164} is already assigned to {}", holder.display_name()),
        )
        .coded(
            "number_assigned",
            [
                ("number", e164.to_string()),
                ("name", holder.display_name()),
            ],
        ));
    }
    owned_elsewhere(fresh)
}

/// A number a group, a bridge or someone's e-fax has is nobody's line.
pub(super) fn owned_elsewhere(fresh: &NumberUse) -> Result<()> {
    match &fresh.owner {
        Some(owner) => Err(Error::conflict_on(
            "number",
            format!(
                "{} is the number of {owner}: it cannot be assigned to a user",
                fresh.number.e164
            ),
        )),
        None => Ok(()),
    }
}

/// What a user update changes that a rule guards: their configuration (fixed while pending),
/// their app registration e-mail (fixed once registered).
struct UpdateRule {
    config: bool,
    app_email: bool,
}

impl UpdateRule {
    fn config(&self, user: &User) -> Result<()> {
        match self.config {
            true => super::numbers::pending_config_locked(&user.display_name(), user.state),
            false => Ok(()),
        }
    }

    fn app_email(&self, user: &User) -> Result<()> {
        match self.app_email {
            true => app_email_open(user),
            false => Ok(()),
        }
    }
}

/// The app registration e-mail can change until the user registers.
fn app_email_open(user: &User) -> Result<()> {
    match &user.app_login {
        Some(login) => Err(Error::conflict(format!(
            "{} has registered for the app (login {login}): the registration e-mail is fixed",
            user.display_name()
        ))),
        None => Ok(()),
    }
}

/// The app may report a registration once, for a user it invited.
fn registrable(user: &User) -> Result<()> {
    if user.app_email.is_none() {
        return Err(Error::conflict(format!(
            "{} has no app registration e-mail, so no invitation to register",
            user.display_name()
        )));
    }
    if user.app_login.is_some() {
        return Err(Error::conflict(format!(
            "{} has already registered",
            user.display_name()
        )));
    }
    Ok(())
}

/// With several trunks at the number's site (`trunks`), a preferred trunk of that site must
/// be chosen.
pub(super) fn trunk_rule(number: &Number, trunk: Option<i64>, trunks: &[Trunk]) -> Result<()> {
    match trunk {
        Some(t) if !trunks.iter().any(|x| x.id == t) => Err(Error::invalid(
            "trunk",
            format!("trunk {t} is not at the site of {}", number.e164),
        )),
        None if trunks.len() > 1 => Err(Error::invalid(
            "trunk",
            format!(
                "the site of {} has {} trunks: choose a preferred trunk ({})",
                number.e164,
                trunks.len(),
                trunks
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .coded(
            "trunk_choose",
            [
                ("number", number.e164.to_string()),
                ("count", trunks.len().to_string()),
                (
                    "trunks",
                    trunks
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ],
        )),
        _ => Ok(()),
    }
}
