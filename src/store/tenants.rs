//! Tenants and their sites.

use sqlx::any::AnyRow;

use super::lists::{by_bytes, ListSql};
use super::{corrupt, get, now, unique_on, Store};
use crate::error::{Error, Result};
use crate::model::{
    AuditAction, AuditEntity, ListQuery, Listed, SipSettings, Site, SiteId, Tenant, TenantId,
    Transport,
};

/// A validated site, ready to insert.
#[derive(Clone, Debug)]
pub struct NewSite {
    pub tenant_id: TenantId,
    pub name: String,
    pub time_zone: String,
    pub ntp_server: String,
    pub sip: SipSettings,
    pub allowed_networks: Vec<ipnet::IpNet>,
    pub first_contact_hours: u32,
}

pub(super) const SITE_COLUMNS: &str = "id, tenant_id, name, time_zone, ntp_server, sip_domain, \
     sip_proxy, sip_port, sip_transport, allowed_networks, first_contact_hours, \
     first_contact_networks";

/// Networks as stored: comma-separated CIDRs.
pub(super) fn parse_networks(text: &str) -> Result<Vec<ipnet::IpNet>> {
    text.split(',')
        .filter(|n| !n.is_empty())
        .map(|n| {
            n.parse()
                .map_err(|e| corrupt(format_args!("network {n:?}"), e))
        })
        .collect()
}

fn networks_text(list: &[ipnet::IpNet]) -> String {
    list.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    pub async fn tenant_create(&self, name: &str) -> Result<Tenant> {
        let mut tx = self.begin_write().await?;
        let revision = tx.revision;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tenants (name, revision, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(revision)
        .bind(now())
        .fetch_one(tx.conn())
        .await
        .map_err(|e| {
            unique_on(e, "name", || {
                format!("a tenant named {name:?} already exists")
            })
            .coded("tenant_taken", [("name", name.to_owned())])
        })?;
        let id = TenantId(id);
        tx.commit(id, AuditEntity::Tenant, id.0, AuditAction::Create)
            .await?;
        Ok(Tenant {
            id,
            name: name.to_owned(),
            revision,
        })
    }

    pub async fn tenant_get(&self, id: TenantId) -> Result<Tenant> {
        let row = sqlx::query("SELECT id, name, revision FROM tenants WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::not_found("tenant", id))?;
        tenant_from(&row)
    }

    pub async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>> {
        let row = sqlx::query("SELECT id, name, revision FROM tenants WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(tenant_from).transpose()
    }

    pub async fn tenant_list(&self) -> Result<Vec<Tenant>> {
        let rows = sqlx::query("SELECT id, name, revision FROM tenants")
            .fetch_all(&self.pool)
            .await?;
        let mut tenants = rows.iter().map(tenant_from).collect::<Result<Vec<_>>>()?;
        tenants.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(tenants)
    }

    pub async fn site_create(&self, site: &NewSite) -> Result<Site> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sites (tenant_id, name, time_zone, ntp_server, sip_domain, sip_proxy, \
             sip_port, sip_transport, created_at, allowed_networks, first_contact_hours) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(site.tenant_id.0)
        .bind(&site.name)
        .bind(&site.time_zone)
        .bind(&site.ntp_server)
        .bind(&site.sip.domain)
        .bind(site.sip.proxy.as_deref())
        .bind(i64::from(site.sip.port))
        .bind(site.sip.transport.as_str())
        .bind(now())
        .bind(networks_text(&site.allowed_networks))
        .bind(i64::from(site.first_contact_hours))
        .fetch_one(tx.conn())
        .await
        .map_err(|e| {
            unique_on(e, "name", || {
                format!("this tenant already has a site named {:?}", site.name)
            })
            .coded("site_taken", [("name", site.name.clone())])
        })?;
        tx.commit(site.tenant_id, AuditEntity::Site, id, AuditAction::Create)
            .await?;
        Ok(Site {
            id: SiteId(id),
            tenant_id: site.tenant_id,
            name: site.name.clone(),
            time_zone: site.time_zone.clone(),
            ntp_server: site.ntp_server.clone(),
            sip: site.sip.clone(),
            allowed_networks: site.allowed_networks.clone(),
            first_contact_networks: Vec::new(),
            first_contact_hours: site.first_contact_hours,
        })
    }

    /// A site of `tenant` (a site of another tenant is "not found").
    pub async fn site_get(&self, tenant: TenantId, id: SiteId) -> Result<Site> {
        let row = sqlx::query(&format!(
            "SELECT {SITE_COLUMNS} FROM sites WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id.0)
        .bind(tenant.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| Error::not_found("site", id))?;
        site_from(&row)
    }

    pub async fn site_by_name(&self, tenant: TenantId, name: &str) -> Result<Option<Site>> {
        let row = sqlx::query(&format!(
            "SELECT {SITE_COLUMNS} FROM sites WHERE name = $1 AND tenant_id = $2"
        ))
        .bind(name)
        .bind(tenant.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(site_from).transpose()
    }

    /// Every site's allowed and first-contact networks together, for the throttle: an address
    /// on one of them is never refused before its device is looked at.
    pub async fn trusted_networks_all(&self) -> Result<Vec<ipnet::IpNet>> {
        let rows = sqlx::query(
            "SELECT allowed_networks, first_contact_networks FROM sites \
             WHERE allowed_networks <> '' OR first_contact_networks <> ''",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut all = Vec::new();
        for row in &rows {
            all.extend(parse_networks(&get::<String>(row, "allowed_networks")?)?);
            all.extend(parse_networks(&get::<String>(
                row,
                "first_contact_networks",
            )?)?);
        }
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// Changes who may fetch without credentials, and the first-contact window length.
    pub async fn site_set_trust(
        &self,
        tenant: TenantId,
        id: SiteId,
        allowed_networks: &[ipnet::IpNet],
        first_contact_networks: &[ipnet::IpNet],
        first_contact_hours: u32,
    ) -> Result<Site> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE sites SET allowed_networks = $1, first_contact_hours = $2, \
             first_contact_networks = $5 WHERE id = $3 AND tenant_id = $4",
        )
        .bind(networks_text(allowed_networks))
        .bind(i64::from(first_contact_hours))
        .bind(id.0)
        .bind(tenant.0)
        .bind(networks_text(first_contact_networks))
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("site", id));
        }
        tx.leaves_directory();
        tx.commit(tenant, AuditEntity::Site, id.0, AuditAction::Trust)
            .await?;
        self.site_get(tenant, id).await
    }

    /// The tenant's sites, alphabetically (the first is the default site). Sorted here, by
    /// bytes, because the backends' collations differ (PostgreSQL's follows the locale).
    pub async fn site_list(&self, tenant: TenantId) -> Result<Vec<Site>> {
        let rows = sqlx::query(&format!(
            "SELECT {SITE_COLUMNS} FROM sites WHERE tenant_id = $1"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        let mut sites = rows.iter().map(site_from).collect::<Result<Vec<_>>>()?;
        sites.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(sites)
    }
}

pub(super) fn tenant_from(row: &AnyRow) -> Result<Tenant> {
    Ok(Tenant {
        id: TenantId(get(row, "id")?),
        name: get(row, "name")?,
        revision: get(row, "revision")?,
    })
}

pub(super) fn site_from(row: &AnyRow) -> Result<Site> {
    let transport: String = get(row, "sip_transport")?;
    let port: i64 = get(row, "sip_port")?;
    let networks: String = get(row, "allowed_networks")?;
    let first_contact_networks: String = get(row, "first_contact_networks")?;
    let hours: i64 = get(row, "first_contact_hours")?;
    Ok(Site {
        id: SiteId(get(row, "id")?),
        tenant_id: TenantId(get(row, "tenant_id")?),
        name: get(row, "name")?,
        time_zone: get(row, "time_zone")?,
        ntp_server: get(row, "ntp_server")?,
        sip: SipSettings {
            domain: get(row, "sip_domain")?,
            proxy: get(row, "sip_proxy")?,
            port: u16::try_from(port).map_err(|e| corrupt(format_args!("sip_port {port}"), e))?,
            transport: transport
                .parse::<Transport>()
                .map_err(|e| corrupt("sip_transport", e))?,
        },
        allowed_networks: parse_networks(&networks)?,
        first_contact_networks: parse_networks(&first_contact_networks)?,
        first_contact_hours: u32::try_from(hours)
            .map_err(|e| corrupt(format_args!("first_contact_hours {hours}"), e))?,
    })
}

impl Store {
    /// A page of the tenants (only `only`, when given), by name as `tenant_list` sorts them; a
    /// search looks in the name.
    pub async fn tenant_page(
        &self,
        only: Option<TenantId>,
        query: &ListQuery,
    ) -> Result<Listed<Tenant>> {
        self.list(
            &ListSql::new(
                "id, name, revision",
                "FROM tenants WHERE ($1 = 0 OR id = $1)",
                &[only.map(|t| t.0).unwrap_or(0)],
                &format!("{}, id", by_bytes(self.backend, "name")),
            )
            .search(&["name"]),
            query,
            tenant_from,
        )
        .await
    }

    /// A page of the tenant's sites, by name as `site_list` sorts them; a search looks in the
    /// name.
    pub async fn site_page(&self, tenant: TenantId, query: &ListQuery) -> Result<Listed<Site>> {
        self.list(
            &ListSql::new(
                SITE_COLUMNS,
                "FROM sites WHERE tenant_id = $1",
                &[tenant.0],
                &format!("{}, id", by_bytes(self.backend, "name")),
            )
            .search(&["name"]),
            query,
            site_from,
        )
        .await
    }
}
