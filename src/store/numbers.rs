//! Phone numbers allocated to a tenant's sites.

use sqlx::any::AnyRow;

use super::{corrupt, get, now, store_err, unique_or_store, Store};
use crate::error::{Error, Result};
use crate::model::{Number, NumberId, NumberStatus, SiteId, TenantId, E164};

#[derive(Clone, Debug)]
pub struct NewNumber {
    pub tenant_id: TenantId,
    pub site_id: SiteId,
    pub e164: E164,
    pub status: NumberStatus,
    pub is_main: bool,
}

const COLUMNS: &str = "id, tenant_id, site_id, e164, status, is_main";

impl Store {
    pub async fn number_create(&self, number: &NewNumber) -> Result<Number> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO numbers (tenant_id, site_id, e164, status, is_main, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(number.tenant_id.0)
        .bind(number.site_id.0)
        .bind(number.e164.as_str())
        .bind(number.status.as_str())
        .bind(i64::from(number.is_main))
        .bind(now())
        .fetch_one(tx.conn())
        .await
        .map_err(|e| {
            unique_or_store(e, || {
                if number.is_main {
                    format!(
                        "{} cannot be added: either it exists already or the site has a main number",
                        number.e164
                    )
                } else {
                    format!("{} exists already", number.e164)
                }
            })
        })?;
        tx.commit(number.tenant_id, "number", id, "create").await?;
        Ok(Number {
            id: NumberId(id),
            tenant_id: number.tenant_id,
            site_id: number.site_id,
            e164: number.e164.clone(),
            status: number.status,
            is_main: number.is_main,
        })
    }

    /// A number of `tenant` by its E.164 form.
    pub async fn number_by_e164(&self, tenant: TenantId, e164: &E164) -> Result<Number> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM numbers WHERE e164 = $1 AND tenant_id = $2"
        ))
        .bind(e164.as_str())
        .bind(tenant.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(store_err)?
        .ok_or_else(|| Error::not_found("number", e164))?;
        number_from(&row)
    }

    /// Whether the site already has its main number.
    pub async fn site_has_main_number(&self, site: SiteId) -> Result<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM numbers WHERE site_id = $1 AND is_main = 1")
                .bind(site.0)
                .fetch_one(&self.pool)
                .await
                .map_err(store_err)?;
        Ok(n > 0)
    }

    pub async fn number_list(&self, tenant: TenantId) -> Result<Vec<Number>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM numbers WHERE tenant_id = $1 ORDER BY e164"
        ))
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await
        .map_err(store_err)?;
        rows.iter().map(number_from).collect()
    }
}

fn number_from(row: &AnyRow) -> Result<Number> {
    let e164: String = get(row, "e164")?;
    let status: String = get(row, "status")?;
    let is_main: i64 = get(row, "is_main")?;
    Ok(Number {
        id: NumberId(get(row, "id")?),
        tenant_id: TenantId(get(row, "tenant_id")?),
        site_id: SiteId(get(row, "site_id")?),
        e164: e164.parse().map_err(|e| corrupt("number", e))?,
        status: status.parse().map_err(|e| corrupt("number status", e))?,
        is_main: is_main != 0,
    })
}
