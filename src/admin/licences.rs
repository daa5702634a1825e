//! Licence pools (bought by the tenant, set by the operator), sites' trunks, and the audit
//! trail as admins read it.

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{parse_label, LicenceKind, ListQuery, Listed, TenantId};
use crate::store::{AuditEntry, AuditFilter, LicencePool, Trunk};

/// Most audit entries one page holds.
pub(super) const AUDIT_PAGE_MAX: i64 = 500;

impl Admin {
    pub async fn licence_pools(&self, tenant: TenantId) -> Result<Vec<LicencePool>> {
        self.store.licence_pools(tenant).await
    }

    /// Sets the size of a pool; it cannot fall below what is assigned.
    pub async fn licence_pool_set(
        &self,
        tenant: TenantId,
        kind: &str,
        total: i64,
    ) -> Result<Vec<LicencePool>> {
        let kind: LicenceKind = kind.parse()?;
        if !(0..=100_000).contains(&total) {
            return Err(
                Error::invalid("total", format!("{total} is not between 0 and 100000"))
                    .coded("licence_total_range", [("total", total.to_string())]),
            );
        }
        self.store.licence_pool_set(tenant, kind, total).await?;
        self.store.licence_pools(tenant).await
    }

    pub async fn trunk_add(&self, tenant: TenantId, site: &str, name: &str) -> Result<Trunk> {
        let site = self.site(tenant, Some(site)).await?;
        let name = parse_label("name", name)?;
        self.store.trunk_add(tenant, site.id, &name).await
    }

    pub async fn trunks(&self, tenant: TenantId, site: &str) -> Result<Vec<Trunk>> {
        let site = self.site(tenant, Some(site)).await?;
        self.store.trunks(tenant, site.id).await
    }

    /// A page of the trunks of a site (id or name).
    pub async fn trunk_page(
        &self,
        tenant: TenantId,
        site: &str,
        query: &ListQuery,
    ) -> Result<Listed<Trunk>> {
        let site = self.site(tenant, Some(site)).await?;
        self.store.trunk_page(tenant, site.id, query).await
    }

    /// The tenant's audit trail, newest first, and how many entries match in all.
    /// With `None`: the whole platform's trail (every tenant's and the platform's own entries).
    pub async fn audit(
        &self,
        tenant: Option<TenantId>,
        filter: &AuditFilter,
    ) -> Result<(Vec<AuditEntry>, i64)> {
        if !(1..=AUDIT_PAGE_MAX).contains(&filter.limit) || filter.offset < 0 {
            return Err(Error::invalid(
                "limit",
                format!("limit is 1 to {AUDIT_PAGE_MAX}, offset at least 0"),
            ));
        }
        self.store.audit(tenant, filter).await
    }
}
