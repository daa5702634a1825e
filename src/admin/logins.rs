//! A number's line on a handset (seeds 002 and 004): logging in by Phone ID or MAC, logging
//! out, new login details, bulk new device passwords with their CSV, and the rules a login
//! checks (the handset's site, a free account, the holder's state).

use serde::Serialize;

use super::numbers::pending_config_locked;
use super::Admin;
use crate::error::{Error, Result};
use crate::model::{Device, Mac, Number, Secret, SiteId, TenantId, UserId, UserState, E164};
use crate::store::NumberUse;

/// A line's credentials as the admin sees them once: for a handset that is not provisioned
/// (logged in by hand), and for the records of the installer.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LoginDetails {
    pub number: E164,
    pub phone_id: String,
    pub mac: Mac,
    /// The account slot on the phone.
    pub position: u16,
    pub sip_user: String,
    /// Shown once, in the answer to the action that made it.
    pub sip_password: String,
}

/// One line of a bulk password change: whose it is and its new login details.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UserLogin {
    pub user_id: UserId,
    pub first_name: String,
    pub last_name: String,
    #[serde(flatten)]
    pub details: LoginDetails,
}

/// Where to log a number in: a handset by Phone ID or MAC.
#[derive(Clone, Debug)]
pub struct LoginTarget {
    pub handset: String,
    /// Multi-account phones: add the number as a further line instead of refusing a handset
    /// that already has one (the portal's rule is one number per handset).
    pub additional_line: bool,
}

impl Admin {
    /// Logs a number in to a handset (by Phone ID or MAC): the phone gets the line at its next
    /// fetch; the answer holds the line's login details, shown this once.
    pub async fn number_login(
        &self,
        tenant: TenantId,
        number: &Number,
        target: &LoginTarget,
    ) -> Result<LoginDetails> {
        self.login_under(tenant, number, target, line_change).await
    }

    /// `number_login` under `rule`, judged on the number's use before and inside the write.
    async fn login_under(
        &self,
        tenant: TenantId,
        number: &Number,
        target: &LoginTarget,
        rule: fn(&NumberUse) -> Result<()>,
    ) -> Result<LoginDetails> {
        rule(&self.store.number_use(tenant, number.id).await?)?;
        let device = self.handset_takes(tenant, number, target).await?;
        let sip_user = number.e164.digits().to_owned();
        let password = Secret::generate();
        let position = self
            .store
            .device_login(
                &device,
                number.id,
                &sip_user,
                &password,
                !target.additional_line,
                rule,
            )
            .await?;
        Ok(LoginDetails {
            number: number.e164.clone(),
            phone_id: device.phone_id,
            mac: device.mac,
            position,
            sip_user,
            sip_password: password.expose().to_owned(),
        })
    }

    /// Whether the handset `target` names takes `number`: the tenant's, at the number's
    /// site, the number not on it yet, nobody logged in unless as an additional line, an
    /// account free. Judged by the login itself, and before a new user is added with it
    /// (`user_add_with_desk_phone`), so a refused handset adds nobody.
    pub(super) async fn handset_takes(
        &self,
        tenant: TenantId,
        number: &Number,
        target: &LoginTarget,
    ) -> Result<Device> {
        let device = self.handset(tenant, &target.handset).await?;
        same_site(number, device.site_id, &device.phone_id)?;
        let record = self.store.device_record(device.id).await?;
        if record.lines.iter().any(|l| l.number_id == number.id) {
            return Err(Error::conflict(format!(
                "{} is already logged in to this handset",
                number.e164
            ))
            .coded("number_on_handset", [("number", number.e164.to_string())]));
        }
        if let Some(line) = record.lines.first() {
            if !target.additional_line {
                return Err(Error::conflict(format!(
                    "someone is already logged in to handset {} ({}); log them out first",
                    device.phone_id, line.number
                ))
                .coded(
                    "handset_taken",
                    [
                        ("phone_id", device.phone_id.clone()),
                        ("number", line.number.to_string()),
                    ],
                ));
            }
        }
        let accounts = self.accounts(&device.family, &device.model);
        let next = record.lines.iter().map(|l| l.position).max().unwrap_or(0) + 1;
        account_free(next, accounts, &device.model)?;
        Ok(device)
    }

    /// Logs a number out of its handset.
    pub async fn number_logout(&self, tenant: TenantId, number: &Number) -> Result<Number> {
        if !self
            .store
            .number_logout(tenant, number.id, line_change)
            .await?
        {
            return Err(
                Error::conflict(format!("{} is not logged in to a handset", number.e164)).coded(
                    "number_not_logged_in",
                    [("number", number.e164.to_string())],
                ),
            );
        }
        self.store.number_get(tenant, number.id).await
    }

    /// "New login details": new credentials for the number's line, shown this once; the phone
    /// gets them at its next fetch.
    pub async fn number_new_login_details(
        &self,
        tenant: TenantId,
        number: &Number,
    ) -> Result<LoginDetails> {
        Self::actionable(number)?;
        let mut details = self
            .device_passwords(tenant, std::slice::from_ref(&number.e164), None)
            .await?;
        details.pop().ok_or_else(|| {
            Error::conflict(format!(
                "{} is not logged in to a handset: there are no login details to renew",
                number.e164
            ))
            .coded("no_login_details", [("number", number.e164.to_string())])
        })
    }

    /// New desk-phone passwords for many users at once: those `keys` name (id, e-mail, number
    /// or "First Last"), or with `None` every user with a number who is not pending; random per
    /// line, or `password` for all (8–64 printable characters, no spaces). Users without a
    /// logged-in number are skipped.
    pub async fn users_device_passwords(
        &self,
        tenant: TenantId,
        keys: Option<&[String]>,
        password: Option<&str>,
    ) -> Result<Vec<UserLogin>> {
        let users = match keys {
            Some(keys) => {
                let mut users = Vec::with_capacity(keys.len());
                for key in keys {
                    users.push(self.user(tenant, key).await?);
                }
                users
            }
            None => self
                .store
                .user_list(tenant)
                .await?
                .into_iter()
                .filter(|u| u.number.is_some() && u.state != UserState::Pending)
                .collect(),
        };
        let mut numbers = Vec::new();
        for user in &users {
            pending_config_locked(&user.display_name(), user.state)?;
            numbers.extend(user.number.clone());
        }
        let details = self.device_passwords(tenant, &numbers, password).await?;
        Ok(details
            .into_iter()
            .filter_map(|details| {
                let user = users
                    .iter()
                    .find(|u| u.number.as_ref() == Some(&details.number))?;
                Some(UserLogin {
                    user_id: user.id,
                    first_name: user.first_name.to_string(),
                    last_name: user.last_name.to_string(),
                    details,
                })
            })
            .collect())
    }

    async fn device_passwords(
        &self,
        tenant: TenantId,
        numbers: &[E164],
        password: Option<&str>,
    ) -> Result<Vec<LoginDetails>> {
        if let Some(p) = password {
            let ok =
                (8..=64).contains(&p.chars().count()) && p.chars().all(|c| c.is_ascii_graphic());
            if !ok {
                return Err(Error::invalid(
                    "password",
                    "8 to 64 printable characters without spaces",
                )
                .coded("line_password_rule", []));
            }
        }
        let mut lines = Vec::new();
        let mut details = Vec::new();
        for login in self.store.line_logins(tenant).await? {
            if !numbers.contains(&login.number) {
                continue;
            }
            let secret = match password {
                Some(p) => Secret::new(p.to_owned()),
                None => Secret::generate(),
            };
            lines.push((login.number_id, secret.clone()));
            details.push(LoginDetails {
                number: login.number,
                phone_id: login.phone_id,
                mac: login.mac,
                position: login.position,
                sip_user: login.sip_user,
                sip_password: secret.expose().to_owned(),
            });
        }
        if !lines.is_empty() {
            self.store.line_passwords_set(tenant, &lines).await?;
        }
        Ok(details)
    }

    /// How many accounts a model has (the family's default for an unknown model).
    pub(super) fn accounts(&self, family: &str, model: &str) -> u16 {
        self.catalog
            .family_by_name(family)
            .map(|f| self.catalog.family(f))
            .map(|f| {
                f.model(model)
                    .map(|m| m.accounts)
                    .unwrap_or(f.manifest.defaults.accounts)
            })
            .unwrap_or(1)
    }
}

/// Login details as CSV, for the admin's records: one row per line.
pub fn login_details_csv(rows: &[UserLogin]) -> Result<String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::Csv(e.into());
    out.write_record([
        "first_name",
        "last_name",
        "number",
        "phone_id",
        "mac",
        "position",
        "sip_user",
        "sip_password",
    ])
    .map_err(err)?;
    for row in rows {
        let (first, last, d) = (&row.first_name, &row.last_name, &row.details);
        out.write_record([
            &spreadsheet_safe(first),
            &spreadsheet_safe(last),
            d.number.as_str(),
            &d.phone_id,
            &d.mac.to_string(),
            &d.position.to_string(),
            &d.sip_user,
            &d.sip_password,
        ])
        .map_err(err)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Csv(e.into_error().into()))?;
    String::from_utf8(bytes).map_err(|e| Error::Csv(e.into()))
}

/// A name as a CSV cell that a spreadsheet will not run as a formula: a leading `=`, `+`, `-`,
/// `@`, tab or carriage return gets a `'` before it.
pub(super) fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A number logs in to handsets at its own site.
pub(super) fn same_site(number: &Number, site: SiteId, phone_id: &str) -> Result<()> {
    if number.site_id != site {
        return Err(Error::conflict(format!(
            "{} is at another site than handset {phone_id}: log numbers in to handsets at their own site",
            number.e164
        ))
        .coded(
            "handset_other_site",
            [
                ("number", number.e164.to_string()),
                ("phone_id", phone_id.to_owned()),
            ],
        ));
    }
    Ok(())
}

/// Slot `next` of a handset with `accounts` accounts.
pub(super) fn account_free(next: u16, accounts: u16, model: &str) -> Result<()> {
    if next > accounts {
        return Err(Error::conflict(format!(
            "all {accounts} accounts of this {model} are in use"
        ))
        .coded(
            "accounts_in_use",
            [
                ("accounts", accounts.to_string()),
                ("model", model.to_owned()),
            ],
        ));
    }
    Ok(())
}

/// Whether a number's line may be logged in or out: an actionable number whose user, if any,
/// is not pending.
pub(super) fn line_change(number: &NumberUse) -> Result<()> {
    Admin::actionable(&number.number)?;
    match &number.holder {
        Some(user) => pending_config_locked(&user.display_name(), user.state),
        None => Ok(()),
    }
}

/// A new user's first desk phone: a pending holder's number may go into its first handset;
/// otherwise as `line_change`.
pub(super) fn first_line(number: &NumberUse) -> Result<()> {
    match &number.holder {
        Some(user) if user.state == UserState::Pending && number.handset.is_none() => {
            Admin::actionable(&number.number)
        }
        _ => line_change(number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_names_cannot_be_formulas() {
        assert_eq!(spreadsheet_safe("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(spreadsheet_safe("@cmd"), "'@cmd");
        assert_eq!(spreadsheet_safe("Ada"), "Ada");
    }
}
