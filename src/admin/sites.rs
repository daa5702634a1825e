//! Tenants, sites and the numbers allocated to them.

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{
    parse_host, parse_label, ListQuery, Listed, Number, NumberStatus, Principal, Role, SipSettings,
    Site, Tenant, TenantId, TimeZoneFacts, Transport, E164,
};
use crate::store::{NewNumber, NewSite};

/// A new site as typed; anything left out comes from the configured defaults.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewSite)]
pub struct SiteInput {
    /// 1 to 64 characters, not all digits.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    pub time_zone: Option<String>,
    pub ntp_server: Option<String>,
    pub sip_domain: Option<String>,
    pub sip_proxy: Option<String>,
    #[schema(minimum = 1)]
    pub sip_port: Option<u16>,
    pub sip_transport: Option<String>,
    /// CIDRs (or single addresses) whose phones need no credentials.
    #[serde(default)]
    pub allowed_networks: Vec<String>,
    /// Length of a new device's first-contact window [default: 24].
    #[schema(minimum = 1, maximum = 2160)]
    pub first_contact_hours: Option<u32>,
}

/// A number allocated to a tenant.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewNumber)]
pub struct NumberInput {
    pub number: String,
    /// Site id or name; the tenant's default site when absent.
    pub site: Option<String>,
    /// `reserved` (default), `active` or `pending`.
    pub status: Option<String>,
    #[serde(default)]
    pub main: bool,
}

impl Admin {
    pub async fn tenant_add(&self, name: &str) -> Result<Tenant> {
        let name = parse_label("name", name)?;
        if self.store.tenant_by_name(&name).await?.is_some() {
            return Err(Error::conflict_on(
                "name",
                format!("a tenant named {name:?} already exists"),
            )
            .coded("tenant_taken", [("name", name.to_string())]));
        }
        self.store.tenant_create(&name).await
    }

    pub async fn tenant_list(&self) -> Result<Vec<Tenant>> {
        self.store.tenant_list().await
    }

    /// A page of the tenants `caller` sees: every tenant for the operator, their own for
    /// anyone else.
    pub async fn tenant_page(
        &self,
        caller: &Principal,
        query: &ListQuery,
    ) -> Result<Listed<Tenant>> {
        let only = match (caller.role, caller.tenant) {
            (Role::PlatformAdmin, _) => None,
            (_, Some(tenant)) => Some(tenant),
            (_, None) => {
                query.limit()?;
                return Ok(Listed {
                    items: Vec::new(),
                    total: 0,
                });
            }
        };
        self.store.tenant_page(only, query).await
    }

    pub async fn site_add(&self, tenant: TenantId, input: &SiteInput) -> Result<Site> {
        let name = parse_label("name", &input.name)?;
        let time_zone = input
            .time_zone
            .clone()
            .unwrap_or_else(|| self.defaults.time_zone.clone());
        // Refuses names the tz database does not know.
        TimeZoneFacts::new(&time_zone, jiff::Timestamp::now())?;
        let ntp_server = match &input.ntp_server {
            Some(host) => parse_host("ntp_server", host)?,
            None => self.defaults.ntp_server.clone(),
        };
        let domain =
            match (&input.sip_domain, &self.defaults.sip_domain) {
                (Some(host), _) => parse_host("sip_domain", host)?,
                (None, Some(host)) => host.clone(),
                (None, None) => return Err(Error::invalid(
                    "sip_domain",
                    "the site needs a SIP registrar: give --sip-domain, or set defaults.sip_domain",
                )
                .coded("site_needs_registrar", [])),
            };
        let proxy = input
            .sip_proxy
            .as_deref()
            .map(|p| parse_host("sip_proxy", p))
            .transpose()?;
        let transport: Transport = match &input.sip_transport {
            Some(t) => t.parse()?,
            None => self.defaults.sip_transport,
        };
        let port = match input.sip_port {
            Some(0) => {
                return Err(Error::invalid("sip_port", "0 is not a port").coded("port_zero", []))
            }
            Some(port) => port,
            None => transport.default_port(),
        };
        let allowed_networks = parse_networks(&input.allowed_networks)?;
        let first_contact_hours = check_hours(input.first_contact_hours.unwrap_or(24))?;
        if self.store.site_by_name(tenant, &name).await?.is_some() {
            return Err(Error::conflict_on(
                "name",
                format!("this tenant already has a site named {name:?}"),
            )
            .coded("site_taken", [("name", name.to_string())]));
        }
        self.store
            .site_create(&NewSite {
                tenant_id: tenant,
                name,
                time_zone,
                ntp_server,
                sip: SipSettings {
                    domain,
                    proxy,
                    port,
                    transport,
                },
                allowed_networks,
                first_contact_hours,
            })
            .await
    }

    /// Sets who at a site may fetch without credentials, and its first-contact window length.
    pub async fn site_trust(
        &self,
        tenant: TenantId,
        site: Option<&str>,
        allowed_networks: &[String],
        first_contact_networks: &[String],
        first_contact_hours: Option<u32>,
    ) -> Result<Site> {
        let site = self.site(tenant, site).await?;
        let networks = parse_networks(allowed_networks)?;
        let first_contact = parse_networks(first_contact_networks)?;
        let hours = check_hours(first_contact_hours.unwrap_or(site.first_contact_hours))?;
        self.store
            .site_set_trust(tenant, site.id, &networks, &first_contact, hours)
            .await
    }

    pub async fn site_list(&self, tenant: TenantId) -> Result<Vec<Site>> {
        self.store.site_list(tenant).await
    }

    pub async fn site_page(&self, tenant: TenantId, query: &ListQuery) -> Result<Listed<Site>> {
        self.store.site_page(tenant, query).await
    }

    /// Allocates a number to a tenant's site. A site has at most one main number.
    pub async fn number_add(&self, tenant: TenantId, input: &NumberInput) -> Result<Number> {
        let e164 = tenant_number(&input.number)?;
        let status = number_status(input.status.as_deref())?;
        let site = self.site(tenant, input.site.as_deref()).await?;
        if input.main && self.store.site_has_main_number(site.id).await? {
            return Err(main_number_taken(&site.name));
        }
        self.store
            .number_create(&NewNumber {
                tenant_id: tenant,
                site_id: site.id,
                e164,
                status,
                is_main: input.main,
                default_pin: super::numbers::default_pin(),
            })
            .await
    }
}

/// A number to allocate to a tenant.
pub(super) fn tenant_number(text: &str) -> Result<E164> {
    let e164: E164 = text.parse()?;
    // A tenant's numbers are shown to callers: TKG §66k applies to them too.
    e164.check_tkg_66k("number")?;
    Ok(e164)
}

/// A new number's status; `reserved` unless given.
pub(super) fn number_status(text: Option<&str>) -> Result<NumberStatus> {
    text.map_or(Ok(NumberStatus::Reserved), str::parse)
}

/// A site has one main number.
pub(super) fn main_number_taken(site: &str) -> Error {
    Error::conflict(format!("site {site:?} already has a main number"))
        .coded("site_has_main_number", [("site", site.to_owned())])
}

/// `10.1.0.0/16`, `2001:db8::/48`, or a single address (a /32 or /128).
fn parse_networks(list: &[String]) -> Result<Vec<ipnet::IpNet>> {
    list.iter()
        .map(|text| {
            let text = text.trim();
            text.parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|n| n.trunc())
                .map_err(|_| {
                    Error::invalid(
                        "allowed_networks",
                        format!("{text:?} is not a network like 192.0.2.0/24 or an address"),
                    )
                    .coded("network_invalid", [("value", format!("{text:?}"))])
                })
        })
        .collect()
}

fn check_hours(hours: u32) -> Result<u32> {
    if (1..=24 * 90).contains(&hours) {
        Ok(hours)
    } else {
        Err(Error::invalid(
            "first_contact_hours",
            format!("{hours} is not between 1 and 2160 (90 days)"),
        )
        .coded("first_contact_hours", [("hours", hours.to_string())]))
    }
}
