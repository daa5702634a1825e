//! Sites and trunks.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{Rollout, SiteInput, SiteUpdate};
use crate::app::App;
use crate::model::Site;
use crate::store::Trunk;

use super::{listed, Admins, ApiError, Body, Page, Platform, Problem, Query, Scoped};
use utoipa::IntoParams;

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(sites_list, sites_create))
        .routes(routes!(sites_update, sites_remove))
        .routes(routes!(rollout))
        .routes(routes!(trunks_list, trunks_create))
}

/// The tenant's sites, alphabetically (the first is the default site).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/sites", tag = "sites", params(Page),
    responses((status = 200, body = Vec<Site>), (status = 404, body = Problem)))]
async fn sites_list(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    Ok(listed(
        caller.admin.site_page(tenant.id, &page.query()).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/sites", tag = "sites", request_body = SiteInput,
    responses((status = 201, body = Site), (status = 422, body = Problem)))]
async fn sites_create(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Body(input): Body<SiteInput>,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.site_add(tenant.id, &input).await?),
    ))
}

/// Changes a site's name, time zone, NTP server or SIP settings; its phones get them at their
/// next fetch.
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/sites/{site}", tag = "sites",
    request_body = SiteUpdate, responses((status = 200, body = Site), (status = 404, body = Problem),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn sites_update(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Path((_tenant, site)): Path<(String, String)>,
    Body(body): Body<SiteUpdate>,
) -> Result<Json<Site>, ApiError> {
    Ok(Json(
        caller.admin.site_update(tenant.id, &site, &body).await?,
    ))
}

/// Removes a site; refused (409) while it holds numbers or devices, saying how many of what.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/sites/{site}", tag = "sites",
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn sites_remove(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Path((_tenant, site)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.admin.site_remove(tenant.id, &site).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RolloutQuery {
    /// Site id or name; none: the whole tenant.
    site: Option<String>,
    /// Days without a fetch after which a device counts as stale [default: 7].
    #[param(minimum = 1, maximum = 3650)]
    stale_days: Option<u32>,
}

/// Which phones have arrived: how many are expected, arrived, provisioned, proven, failing and
/// stale, with the laggards.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/rollout", tag = "sites",
    params(RolloutQuery), responses((status = 200, body = Rollout), (status = 404, body = Problem),
    (status = 422, body = Problem)))]
async fn rollout(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(query): Query<RolloutQuery>,
) -> Result<Json<Rollout>, ApiError> {
    Ok(Json(
        caller
            .admin
            .rollout(tenant.id, query.site.as_deref(), query.stale_days)
            .await?,
    ))
}

/// A site's trunks (Amtsleitungen).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/sites/{site}/trunks", tag = "sites",
    params(Page), responses((status = 200, body = Vec<Trunk>), (status = 404, body = Problem)))]
async fn trunks_list(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Path((_tenant, site)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let query = page.query();
    Ok(listed(
        caller.admin.trunk_page(tenant.id, &site, &query).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTrunk {
    /// 1 to 64 characters, not all digits.
    #[schema(min_length = 1, max_length = 64)]
    name: String,
}

/// Adds a trunk to a site (the operator's: trunks come with the contract).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/sites/{site}/trunks", tag = "sites",
    request_body = NewTrunk, responses((status = 201, body = Trunk), (status = 403, body = Problem)))]
async fn trunks_create(
    Scoped { caller, tenant, .. }: Scoped<Platform>,
    Path((_tenant, site)): Path<(String, String)>,
    Body(body): Body<NewTrunk>,
) -> Result<(StatusCode, Json<Trunk>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.trunk_add(tenant.id, &site, &body.name).await?),
    ))
}
