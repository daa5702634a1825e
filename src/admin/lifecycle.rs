//! The end of things and changes of hardware: removing and replacing handsets, changing their
//! model, releasing numbers to the operator, changing and removing sites, removing tenants,
//! listing tokens; and the catalogue's models, with close matches for a model nobody knows.

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{
    parse_host, parse_label, Device, Mac, Number, Site, TenantId, TimeZoneFacts, Transport, E164,
};
use crate::render::ModelSpec;
use crate::store::{SiteContents, SitePatch, TenantContents, TokenInfo};

/// A handset that was removed, and the numbers that were logged out of it (they stay with the
/// tenant).
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RemovedDevice {
    pub device: Device,
    pub lines_logged_out: Vec<String>,
}

/// A handset's changes; what is absent stays.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceUpdate {
    /// A model from a family manifest, e.g. `T54W`.
    pub model: Option<String>,
    /// The site (id or name) to move the handset to; no number may be logged in to it.
    pub site: Option<String>,
}

/// A site's changes; what is absent stays (`sip_proxy: ""` clears the proxy).
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteUpdate {
    /// 1 to 64 characters, not all digits.
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub ntp_server: Option<String>,
    pub sip_domain: Option<String>,
    pub sip_proxy: Option<String>,
    #[schema(minimum = 1)]
    pub sip_port: Option<u16>,
    pub sip_transport: Option<String>,
}

/// A model of the catalogue.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ModelInfo {
    pub family: String,
    pub vendor: String,
    pub model: String,
    /// SIP accounts (lines) the model has.
    pub accounts: u16,
    pub line_keys: u16,
}

/// Most close matches an unknown model's error offers.
const SUGGESTIONS: usize = 3;

impl Admin {
    /// Removes a handset (by MAC or Phone ID): its lines are logged out, the audit trail keeps
    /// its record, and its MAC may be registered again.
    pub async fn device_remove(&self, tenant: TenantId, handset: &str) -> Result<RemovedDevice> {
        let device = self.handset(tenant, handset).await?;
        let lines_logged_out = self.store.device_remove(&device).await?;
        Ok(RemovedDevice {
            device,
            lines_logged_out,
        })
    }

    /// Gives a handset's lines, keys, Phone ID and settings to new hardware with `mac`: the old
    /// MAC's credentials stop working at once (the old MAC is unknown from now on), and a
    /// first-contact window of the site's length opens for the new one. The new MAC is refused
    /// with the one answer of `device add` when it is taken.
    pub async fn device_replace(
        &self,
        tenant: TenantId,
        handset: &str,
        mac: &str,
    ) -> Result<Device> {
        let device = self.handset(tenant, handset).await?;
        let new: Mac = mac.trim().parse()?;
        if new == device.mac {
            return Err(Error::invalid(
                "mac",
                format!("{new} is this handset's MAC already: give the new hardware's"),
            )
            .coded("replace_same_mac", [("mac", new.to_string())]));
        }
        let site = self.store.site_get(tenant, device.site_id).await?;
        let until = now() + i64::from(site.first_contact_hours) * 3600;
        self.store
            .device_replace(&device, new, until)
            .await?
            .ok_or_else(|| super::devices::mac_unavailable(new))?;
        self.handset(tenant, &new.to_string()).await
    }

    /// Changes a handset's model (it must be a known one; its family follows) and, with
    /// `site`, moves it (see [`Admin::device_move`]).
    pub async fn device_update(
        &self,
        tenant: TenantId,
        handset: &str,
        update: &DeviceUpdate,
    ) -> Result<Device> {
        let mut device = self.handset(tenant, handset).await?;
        if let Some(model) = &update.model {
            let (family, spec) = self.known_model(model)?;
            let lines = self.store.device_record(device.id).await?.lines.len();
            if lines > usize::from(spec.accounts) {
                let takes = match spec.accounts {
                    1 => "1 line".to_owned(),
                    n => format!("{n} lines"),
                };
                return Err(Error::conflict(format!(
                    "{} takes {takes} and {lines} numbers are logged in to handset {}: log \
                     some out first",
                    spec.name, device.phone_id
                ))
                .coded(
                    "model_too_few_lines",
                    [
                        ("model", spec.name.clone()),
                        ("accounts", spec.accounts.to_string()),
                        ("lines", lines.to_string()),
                        ("phone_id", device.phone_id.clone()),
                    ],
                ));
            }
            let family = self.catalog.family(family).manifest.family.clone();
            self.store
                .device_set_model(&device, &family, &spec.name)
                .await?;
        }
        if let Some(site) = &update.site {
            device = self
                .device_move(tenant, &device.mac.to_string(), site)
                .await?;
        }
        self.handset(tenant, &device.mac.to_string()).await
    }

    /// The model `input` names, case-insensitively, and its family; an unknown one is an error
    /// offering at most a few close matches ("did you mean T54W?").
    pub fn known_model(&self, input: &str) -> Result<(usize, &ModelSpec)> {
        let input = input.trim();
        self.catalog.find_model(input).ok_or_else(|| {
            let names = self
                .catalog
                .families()
                .iter()
                .flat_map(|f| f.manifest.models.iter().map(|m| m.name.as_str()));
            let close = close_matches(input, names);
            let hint = match close.as_slice() {
                [] => "`autoprov models` lists the known ones".to_owned(),
                [one] => format!("did you mean {one}?"),
                more => format!("did you mean one of {}?", more.join(", ")),
            };
            Error::invalid("model", format!("{input:?} is not a known model; {hint}"))
                .coded("model_unknown", [("value", format!("{input:?}"))])
        })
    }

    /// The family's and the model's names for `input` (see `known_model` for the error).
    pub(super) fn model_of(&self, input: &str) -> Result<(String, String)> {
        let (family, model) = self.known_model(input)?;
        let family = self.catalog.family(family).manifest.family.clone();
        Ok((family, model.name.clone()))
    }

    /// The catalogue's models, of one family when given (by family name), by family and name.
    pub fn models(&self, family: Option<&str>) -> Result<Vec<ModelInfo>> {
        let families = self.catalog.families();
        if let Some(f) = family {
            if !families
                .iter()
                .any(|x| x.manifest.family.eq_ignore_ascii_case(f))
            {
                let names: Vec<&str> = families
                    .iter()
                    .map(|x| x.manifest.family.as_str())
                    .collect();
                return Err(Error::invalid(
                    "family",
                    format!(
                        "{f:?} is not a family; the families are {}",
                        names.join(", ")
                    ),
                )
                .coded(
                    "family_unknown",
                    [("value", format!("{f:?}")), ("families", names.join(", "))],
                ));
            }
        }
        let mut list: Vec<ModelInfo> = families
            .iter()
            .filter(|x| family.is_none_or(|f| x.manifest.family.eq_ignore_ascii_case(f)))
            .flat_map(|x| {
                x.manifest.models.iter().map(|m| ModelInfo {
                    family: x.manifest.family.clone(),
                    vendor: x.manifest.vendor.clone(),
                    model: m.name.clone(),
                    accounts: m.accounts,
                    line_keys: m.line_keys,
                })
            })
            .collect();
        list.sort_by(|a, b| (&a.family, &a.model).cmp(&(&b.family, &b.model)));
        Ok(list)
    }

    /// Gives a number back to the operator: it leaves the tenant. Refused while anything uses
    /// it (a user, a handset, someone showing it to callers), saying what.
    pub async fn number_release(&self, tenant: TenantId, number: &Number) -> Result<()> {
        self.store
            .number_release(tenant, number.id, |(fresh, shown)| {
                let e164 = &fresh.number.e164;
                if let Some(user) = &fresh.holder {
                    return Err(in_use(e164, format!("assigned to {}", user.display_name()))
                        .coded(
                            "release_assigned",
                            [("number", e164.to_string()), ("name", user.display_name())],
                        ));
                }
                if let Some(handset) = &fresh.handset {
                    return Err(
                        in_use(e164, format!("logged in to handset {handset}")).coded(
                            "release_on_handset",
                            [("number", e164.to_string()), ("phone_id", handset.clone())],
                        ),
                    );
                }
                if let Some(owner) = &fresh.owner {
                    return Err(in_use(e164, format!("the number of {owner}")).coded(
                        "release_owned",
                        [
                            ("number", e164.to_string()),
                            ("kind", owner.owner.kind.as_str().to_owned()),
                            ("name", owner.owner.name.clone()),
                        ],
                    ));
                }
                if let Some(who) = &shown.0 {
                    return Err(in_use(e164, format!("shown to callers by {who}")).coded(
                        "release_shown",
                        [("number", e164.to_string()), ("name", who.clone())],
                    ));
                }
                Ok(())
            })
            .await
    }

    /// Changes a site's name, time zone, NTP server or SIP settings (the same checks as
    /// `site add`); its phones get the change at their next fetch.
    pub async fn site_update(
        &self,
        tenant: TenantId,
        site: &str,
        update: &SiteUpdate,
    ) -> Result<Site> {
        let site = self.site(tenant, Some(site)).await?;
        let name = update
            .name
            .as_deref()
            .map(|n| parse_label("name", n))
            .transpose()?;
        if let Some(zone) = &update.time_zone {
            TimeZoneFacts::new(zone, jiff::Timestamp::now())?;
        }
        let host =
            |field, v: &Option<String>| v.as_deref().map(|h| parse_host(field, h)).transpose();
        let sip_proxy = match update.sip_proxy.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(p) => Some(Some(parse_host("sip_proxy", p)?)),
        };
        let transport = update
            .sip_transport
            .as_deref()
            .map(str::parse::<Transport>)
            .transpose()?;
        if update.sip_port == Some(0) {
            return Err(Error::invalid("sip_port", "0 is not a port").coded("port_zero", []));
        }
        let patch = SitePatch {
            name,
            time_zone: update.time_zone.clone(),
            ntp_server: host("ntp_server", &update.ntp_server)?,
            sip_domain: host("sip_domain", &update.sip_domain)?,
            sip_proxy,
            sip_port: update.sip_port,
            sip_transport: transport.map(|t| t.as_str().to_owned()),
        };
        self.store.site_update(tenant, site.id, &patch).await?;
        self.store.site_get(tenant, site.id).await
    }

    /// Removes a site; refused while it holds numbers or devices (or users use its trunks),
    /// saying how many of what.
    pub async fn site_remove(&self, tenant: TenantId, site: &str) -> Result<()> {
        let site = self.site(tenant, Some(site)).await?;
        self.store
            .site_remove(tenant, site.id, |held: &SiteContents| {
                let what = counted(&[
                    (held.numbers, "number"),
                    (held.devices, "device"),
                    (held.trunk_users, "user on its trunks"),
                ]);
                match what {
                    None => Ok(()),
                    Some(what) => Err(Error::conflict(format!(
                        "site {:?} still holds {what}: move or remove them first",
                        site.name
                    ))
                    .coded(
                        "site_not_empty",
                        [
                            ("name", site.name.clone()),
                            ("numbers", held.numbers.to_string()),
                            ("devices", held.devices.to_string()),
                            ("trunk_users", held.trunk_users.to_string()),
                        ],
                    )),
                }
            })
            .await
    }

    /// Removes a tenant (the operator's); refused while it has sites, numbers, users or devices,
    /// saying how many of what.
    pub async fn tenant_remove(&self, tenant: &str) -> Result<()> {
        let tenant = self.tenant(tenant).await?;
        self.store
            .tenant_remove(tenant.id, &tenant.name, |held: &TenantContents| {
                let what = counted(&[
                    (held.sites, "site"),
                    (held.numbers, "number"),
                    (held.users, "user"),
                    (held.devices, "device"),
                ]);
                match what {
                    None => Ok(()),
                    Some(what) => Err(Error::conflict(format!(
                        "tenant {:?} still has {what}: remove them first",
                        tenant.name
                    ))
                    .coded(
                        "tenant_not_empty",
                        [
                            ("name", tenant.name.clone()),
                            ("sites", held.sites.to_string()),
                            ("numbers", held.numbers.to_string()),
                            ("users", held.users.to_string()),
                            ("devices", held.devices.to_string()),
                        ],
                    )),
                }
            })
            .await
    }

    /// The API tokens (of one tenant, when given), newest first: ids, roles and bindings, never
    /// a secret.
    pub async fn token_list(&self, tenant: Option<TenantId>) -> Result<Vec<TokenInfo>> {
        self.store.token_list(tenant).await
    }
}

fn in_use(number: &E164, how: String) -> Error {
    Error::conflict(format!(
        "{number} is {how}: it cannot go back to the operator while in use"
    ))
}

/// "2 numbers and 1 device" from the counts that are not 0; `None` when all are.
fn counted(counts: &[(i64, &str)]) -> Option<String> {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| match (n, what.split_once(' ')) {
            (1, _) => format!("1 {what}"),
            (_, Some((noun, rest))) => format!("{n} {noun}s {rest}"),
            (_, None) => format!("{n} {what}s"),
        })
        .collect();
    match parts.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        [init @ .., last] => Some(format!("{} and {last}", init.join(", "))),
    }
}

/// The names closest to `input`, ignoring case and separators (`VVX 450` is `VVX_450`): by
/// edit distance, at most a third of the input's length (at least 1), or names that contain
/// the input; the closest first, at most `SUGGESTIONS` (only the name itself when the input is
/// it written otherwise).
fn close_matches<'a>(input: &str, names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let plain = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    let wanted = plain(input);
    let limit = (wanted.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &str)> = names
        .filter_map(|name| {
            let upper = plain(name);
            let distance = strsim::levenshtein(&wanted, &upper);
            let contains = wanted.len() >= 2 && upper.contains(&wanted);
            (distance <= limit || contains).then_some((distance, name))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    // The same name written otherwise (`VVX 450`): that one alone.
    if scored.first().is_some_and(|(d, _)| *d == 0) {
        scored.retain(|(d, _)| *d == 0);
    }
    scored
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, n)| n)
        .collect()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    use super::{close_matches, counted};

    const NAMES: &[&str] = &[
        "T54W",
        "T54S",
        "T57W",
        "T46S",
        "VVX_450",
        "CP-8841-3PCC",
        "X4U",
    ];

    #[track_caller]
    fn check(input: &str, expected: &[&str]) {
        assert_eq!(
            close_matches(input, NAMES.iter().copied()),
            expected,
            "{input}"
        );
    }

    #[test]
    fn close_matches_are_few_and_close() {
        check("T54X", &["T54S", "T54W"]);
        check("t54w", &["T54W"]);
        check("T54", &["T54S", "T54W"]);
        check("VVX45", &["VVX_450"]);
        check("vvx 450", &["VVX_450"]);
        check("8841", &["CP-8841-3PCC"]);
        check("Z9", &[]);
        check("SPA504G", &[]);
    }

    #[test]
    fn counts_read_as_a_sentence() {
        assert_eq!(counted(&[(0, "site"), (0, "user")]), None);
        assert_eq!(
            counted(&[(1, "number"), (0, "device")]).unwrap(),
            "1 number"
        );
        assert_eq!(
            counted(&[(2, "number"), (1, "device"), (3, "user on its trunks")]).unwrap(),
            "2 numbers, 1 device and 3 users on its trunks"
        );
    }
}
