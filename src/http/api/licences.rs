//! Licence pools.

use axum::extract::Path;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::App;
use crate::store::LicencePool;

use super::{Admins, ApiError, Body, Platform, Problem, Scoped};

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(licences_list))
        .routes(routes!(licences_set))
}

/// The tenant's licence pools: total, assigned, available.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/licences", tag = "licences",
    responses((status = 200, body = Vec<LicencePool>)))]
async fn licences_list(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
) -> Result<Json<Vec<LicencePool>>, ApiError> {
    Ok(Json(caller.admin.licence_pools(tenant.id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PoolSize {
    /// 0 to 100000, never below what is assigned.
    #[schema(minimum = 0, maximum = 100000)]
    total: i64,
}

/// Sets a pool's size (operator only); never below what is assigned.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/licences/{kind}", tag = "licences",
    request_body = PoolSize,
    responses((status = 200, body = Vec<LicencePool>), (status = 409, body = Problem)))]
async fn licences_set(
    Scoped { caller, tenant, .. }: Scoped<Platform>,
    Path((_tenant, kind)): Path<(String, String)>,
    Body(body): Body<PoolSize>,
) -> Result<Json<Vec<LicencePool>>, ApiError> {
    Ok(Json(
        caller
            .admin
            .licence_pool_set(tenant.id, &kind, body.total)
            .await?,
    ))
}
