//! Licence pools and who holds a licence; sites' trunks.

use sqlx::any::AnyRow;

use super::lists::ListSql;
use super::{get, now, unique_or_store, LicenceFacts, Store};
use crate::error::{Error, Result};
use crate::model::{
    AuditAction, AuditEntity, LicenceKind, ListQuery, Listed, NumberId, SiteId, TenantId, User,
    UserId,
};

/// A tenant's pool of one kind of licence.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LicencePool {
    pub kind: LicenceKind,
    pub total: i64,
    pub assigned: i64,
    pub available: i64,
}

/// A trunk (Amtsleitung) of a site.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Trunk {
    pub id: i64,
    pub site_id: SiteId,
    pub name: String,
}

impl Store {
    /// Every kind's pool of the tenant (a kind never bought has a total of 0).
    pub async fn licence_pools(&self, tenant: TenantId) -> Result<Vec<LicencePool>> {
        let mut pools = Vec::new();
        for kind in LicenceKind::ALL {
            let total: Option<i64> = sqlx::query_scalar(
                "SELECT total FROM licence_pools WHERE tenant_id = $1 AND kind = $2",
            )
            .bind(tenant.0)
            .bind(kind.as_str())
            .fetch_optional(&self.pool)
            .await?;
            let assigned: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM user_licences WHERE tenant_id = $1 AND kind = $2",
            )
            .bind(tenant.0)
            .bind(kind.as_str())
            .fetch_one(&self.pool)
            .await?;
            let total = total.unwrap_or(0);
            pools.push(LicencePool {
                kind: *kind,
                total,
                assigned,
                available: total - assigned,
            });
        }
        Ok(pools)
    }

    /// Sets a pool's size; never below what is assigned (checked in the same transaction).
    pub async fn licence_pool_set(
        &self,
        tenant: TenantId,
        kind: LicenceKind,
        total: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let assigned: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM user_licences WHERE tenant_id = $1 AND kind = $2",
        )
        .bind(tenant.0)
        .bind(kind.as_str())
        .fetch_one(tx.conn())
        .await?;
        if total < assigned {
            return Err(Error::conflict(format!(
                "{assigned} {kind} licences are assigned; the pool cannot shrink to {total}"
            ))
            .coded(
                "licence_pool_shrink",
                [
                    ("assigned", assigned.to_string()),
                    ("kind", kind.as_str().to_owned()),
                    ("total", total.to_string()),
                ],
            ));
        }
        sqlx::query(
            "INSERT INTO licence_pools (tenant_id, kind, total) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, kind) DO UPDATE SET total = excluded.total",
        )
        .bind(tenant.0)
        .bind(kind.as_str())
        .bind(total)
        .execute(tx.conn())
        .await?;
        tx.record(
            None,
            serde_json::json!({ "kind": kind.as_str(), "total": total, "assigned": assigned }),
        );
        tx.leaves_directory();
        tx.commit(tenant, AuditEntity::LicencePool, tenant.0, AuditAction::Set)
            .await?;
        Ok(())
    }

    pub async fn user_licences(&self, tenant: TenantId, user: UserId) -> Result<Vec<LicenceKind>> {
        read_licences(&self.pool, tenant, user).await
    }

    /// Gives `user` exactly `kinds`: new ones come from the pool (refused when it is empty),
    /// dropped ones go back; with e-fax, `fax` becomes their fax number (`None` keeps theirs),
    /// without, they have none. One transaction, so two admins cannot overdraw a pool; `rule` is
    /// checked on the user, the bridges and the fax number as it reads them.
    pub async fn user_licences_set(
        &self,
        tenant: TenantId,
        user: UserId,
        kinds: &[LicenceKind],
        fax: Option<NumberId>,
        rule: impl FnOnce(&(User, LicenceFacts)) -> Result<()> + Send,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        tx.checked::<(User, LicenceFacts)>(tenant, (user, fax), rule)
            .await?;
        let before = read_licences(tx.conn(), tenant, user).await?;
        sqlx::query("DELETE FROM user_licences WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.0)
            .bind(user.0)
            .execute(tx.conn())
            .await?;
        assign_licences(&mut tx, tenant, user, kinds, fax).await?;
        let names = |k: &[LicenceKind]| serde_json::json!({ "licences": k.iter().map(|k| k.as_str()).collect::<Vec<_>>() });
        tx.record(Some(names(&before)), names(kinds));
        tx.leaves_directory();
        tx.commit(tenant, AuditEntity::User, user.0, AuditAction::Licences)
            .await?;
        Ok(())
    }

    pub async fn trunk_add(&self, tenant: TenantId, site: SiteId, name: &str) -> Result<Trunk> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO trunks (tenant_id, site_id, name, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(tenant.0)
        .bind(site.0)
        .bind(name)
        .bind(now())
        .fetch_one(tx.conn())
        .await
        .map_err(|e| {
            unique_or_store(e, || format!("the site has a trunk named {name:?}"))
                .coded("trunk_taken", [("name", name.to_owned())])
        })?;
        tx.leaves_directory();
        tx.commit(tenant, AuditEntity::Trunk, id, AuditAction::Create)
            .await?;
        Ok(Trunk {
            id,
            site_id: site,
            name: name.to_owned(),
        })
    }

    pub async fn trunks(&self, tenant: TenantId, site: SiteId) -> Result<Vec<Trunk>> {
        let rows = sqlx::query(
            "SELECT id, site_id, name FROM trunks WHERE tenant_id = $1 AND site_id = $2 ORDER BY name",
        )
        .bind(tenant.0)
        .bind(site.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(trunk_from).collect()
    }

    /// A page of a site's trunks, by name; a search looks in the name.
    pub async fn trunk_page(
        &self,
        tenant: TenantId,
        site: SiteId,
        query: &ListQuery,
    ) -> Result<Listed<Trunk>> {
        self.list(
            &ListSql::new(
                "id, site_id, name",
                "FROM trunks WHERE tenant_id = $1 AND site_id = $2",
                &[tenant.0, site.0],
                "name",
            )
            .search(&["name"]),
            query,
            trunk_from,
        )
        .await
    }
}

/// The licences `user` holds, read with `conn`: the pool, or a write's transaction.
async fn read_licences<'c>(
    conn: impl sqlx::Executor<'c, Database = sqlx::Any>,
    tenant: TenantId,
    user: UserId,
) -> Result<Vec<LicenceKind>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT kind FROM user_licences WHERE tenant_id = $1 AND user_id = $2 ORDER BY kind",
    )
    .bind(tenant.0)
    .bind(user.0)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|k| k.parse()).collect()
}

fn trunk_from(row: &AnyRow) -> Result<Trunk> {
    Ok(Trunk {
        id: get(row, "id")?,
        site_id: SiteId(get(row, "site_id")?),
        name: get(row, "name")?,
    })
}

/// Assigns `kinds` to `user` inside `tx`, each only while its pool has one left.
pub(super) async fn assign_licences(
    tx: &mut super::WriteTx<'_>,
    tenant: TenantId,
    user: UserId,
    kinds: &[LicenceKind],
    fax: Option<NumberId>,
) -> Result<()> {
    // The e-fax number: the chosen one with the licence (kept when none is chosen), none
    // without it.
    let fax = match (kinds.contains(&LicenceKind::EFax), fax) {
        (true, None) => None,
        (true, Some(n)) => Some(Some(n.0)),
        (false, _) => Some(None),
    };
    if let Some(fax) = fax {
        sqlx::query("UPDATE users SET fax_number_id = $1 WHERE id = $2")
            .bind(fax)
            .bind(user.0)
            .execute(tx.conn())
            .await
            .map_err(|e| {
                unique_or_store(e, || "the fax number is already someone's".to_owned())
                    .coded("fax_number_taken", [])
            })?;
    }
    for kind in kinds {
        let row = sqlx::query(
            "SELECT COALESCE((SELECT total FROM licence_pools WHERE tenant_id = $1 AND kind = $2), 0) \
             AS total, (SELECT COUNT(*) FROM user_licences WHERE tenant_id = $1 AND kind = $2) \
             AS assigned",
        )
        .bind(tenant.0)
        .bind(kind.as_str())
        .fetch_one(tx.conn())
        .await?;
        let total: i64 = get(&row, "total")?;
        let assigned: i64 = get(&row, "assigned")?;
        if assigned >= total {
            return Err(Error::conflict(format!(
                "no {kind} licence available: all {total} of the tenant's pool are assigned"
            ))
            .coded(
                "licence_pool_used_up",
                [("kind", kind.to_string()), ("total", total.to_string())],
            ));
        }
        sqlx::query(
            "INSERT INTO user_licences (tenant_id, user_id, kind, assigned_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant.0)
        .bind(user.0)
        .bind(kind.as_str())
        .bind(now())
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}
