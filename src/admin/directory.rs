//! Finding tenants, sites, users and devices by what an admin types: an id or a name.

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{
    Device, Mac, Number, NumberId, Site, SiteId, Tenant, TenantId, User, UserId, E164,
};

/// What names an object on the command line or in a URL: all digits is an id, anything else a
/// name (tenant, site), or for users an e-mail, a number or "First Last". Names that are all
/// digits are refused when created, so the two cannot be confused.
fn as_id(key: &str) -> Option<i64> {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
        key.parse().ok()
    } else {
        None
    }
}

impl Admin {
    pub async fn tenant(&self, key: &str) -> Result<Tenant> {
        match as_id(key) {
            Some(id) => self.store.tenant_get(TenantId(id)).await,
            None => self
                .store
                .tenant_by_name(key.trim())
                .await?
                .ok_or_else(|| Error::not_found("tenant", key)),
        }
    }

    /// A site of `tenant` by id or name; with no key, the tenant's default site (the first
    /// alphabetically).
    pub async fn site(&self, tenant: TenantId, key: Option<&str>) -> Result<Site> {
        match key {
            None => self
                .store
                .site_list(tenant)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    Error::invalid(
                        "site",
                        "the tenant has no site yet: add one with `site add`",
                    )
                    .coded("tenant_no_site", [])
                }),
            Some(key) => match as_id(key) {
                Some(id) => self.store.site_get(tenant, SiteId(id)).await,
                None => self
                    .store
                    .site_by_name(tenant, key.trim())
                    .await?
                    .ok_or_else(|| Error::not_found("site", key)),
            },
        }
    }

    /// A user of `tenant` by id, e-mail, number or "First Last"; an ambiguous name is an error
    /// that says so.
    pub async fn user(&self, tenant: TenantId, key: &str) -> Result<User> {
        if let Some(id) = as_id(key) {
            return self.store.user_get(tenant, UserId(id)).await;
        }
        let mut found = self.store.user_search(tenant, key.trim()).await?;
        match found.len() {
            0 => Err(Error::not_found("user", key)),
            1 => Ok(found.remove(0)),
            n => Err(Error::conflict(format!(
                "{n} users match {key:?}; name the user by id or e-mail"
            ))
            .coded(
                "user_ambiguous",
                [("count", n.to_string()), ("value", format!("{key:?}"))],
            )),
        }
    }

    /// A number of `tenant` by id or E.164 form.
    pub async fn number(&self, tenant: TenantId, key: &str) -> Result<Number> {
        match as_id(key) {
            Some(id) => self.store.number_get(tenant, NumberId(id)).await,
            None => {
                let e164: E164 = key.trim().parse()?;
                self.store.number_by_e164(tenant, &e164).await
            }
        }
    }

    /// A device of `tenant` by MAC or Phone ID.
    pub async fn handset(&self, tenant: TenantId, key: &str) -> Result<Device> {
        let key = key.trim();
        if let Ok(mac) = key.parse::<Mac>() {
            if let Some(device) = self.store.device_by_mac(mac).await? {
                if device.tenant_id == tenant {
                    return Ok(device);
                }
            }
        }
        self.store
            .device_by_phone_id(tenant, &key.to_ascii_uppercase())
            .await?
            .ok_or_else(|| Error::not_found("handset", key))
    }

    /// A device of `tenant` by MAC (a device of another tenant is "not found").
    pub async fn device(&self, tenant: TenantId, mac: &str) -> Result<Device> {
        let mac: Mac = mac.parse()?;
        match self.store.device_by_mac(mac).await? {
            Some(device) if device.tenant_id == tenant => Ok(device),
            _ => Err(Error::not_found("device", mac)),
        }
    }
}
