//! Sites and trunks.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::SiteInput;
use crate::app::App;
use crate::model::Site;
use crate::store::Trunk;

use super::{
    listed, require, visible_tenant, ApiError, Body, Caller, Page, Problem, ADMINS, PLATFORM,
};

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(sites_list, sites_create))
        .routes(routes!(trunks_list, trunks_create))
}

/// The tenant's sites, alphabetically (the first is the default site).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/sites", tag = "sites", params(Page),
    responses((status = 200, body = Vec<Site>), (status = 404, body = Problem)))]
async fn sites_list(
    caller: Caller,
    Path(tenant): Path<String>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    Ok(listed(
        caller.admin.site_page(tenant.id, &page.query()).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSite {
    name: String,
    time_zone: Option<String>,
    ntp_server: Option<String>,
    sip_domain: Option<String>,
    sip_proxy: Option<String>,
    sip_port: Option<u16>,
    sip_transport: Option<String>,
    #[serde(default)]
    allowed_networks: Vec<String>,
    first_contact_hours: Option<u32>,
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/sites", tag = "sites", request_body = NewSite,
    responses((status = 201, body = Site), (status = 422, body = Problem)))]
async fn sites_create(
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewSite>,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let input = SiteInput {
        name: body.name,
        time_zone: body.time_zone,
        ntp_server: body.ntp_server,
        sip_domain: body.sip_domain,
        sip_proxy: body.sip_proxy,
        sip_port: body.sip_port,
        sip_transport: body.sip_transport,
        allowed_networks: body.allowed_networks,
        first_contact_hours: body.first_contact_hours,
    };
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.site_add(tenant.id, &input).await?),
    ))
}

/// A site's trunks (Amtsleitungen).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/sites/{site}/trunks", tag = "sites",
    params(Page), responses((status = 200, body = Vec<Trunk>), (status = 404, body = Problem)))]
async fn trunks_list(
    caller: Caller,
    Path((tenant, site)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let query = page.query();
    Ok(listed(
        caller.admin.trunk_page(tenant.id, &site, &query).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTrunk {
    name: String,
}

/// Adds a trunk to a site (the operator's: trunks come with the contract).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/sites/{site}/trunks", tag = "sites",
    request_body = NewTrunk, responses((status = 201, body = Trunk), (status = 403, body = Problem)))]
async fn trunks_create(
    caller: Caller,
    Path((tenant, site)): Path<(String, String)>,
    Body(body): Body<NewTrunk>,
) -> Result<(StatusCode, Json<Trunk>), ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, PLATFORM)?;
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.trunk_add(tenant.id, &site, &body.name).await?),
    ))
}
