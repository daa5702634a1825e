//! Device reservations, and moving a handset to another tenant.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::TenantMove;
use crate::app::App;
use crate::store::Reservation;

use super::{
    listed, require, ApiError, Body, Caller, Page, Platform, Problem, Query, Roles, Scoped,
};

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(devices_move_tenant))
        .routes(routes!(reservations_list, reservations_create))
        .routes(routes!(reservations_delete))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TenantChange {
    /// The tenant (id or name) to move the handset to.
    tenant: String,
    /// A site (id or name) of that tenant; its default site when absent.
    site: Option<String>,
}

/// Moves a handset (by MAC) to another tenant (operator only), e.g. to undo a wrongful claim.
/// Numbers logged in to it stay with their tenant: they are logged out, and listed in the
/// answer. A MAC reserved for a third tenant is refused.
#[utoipa::path(post, path = "/api/v1/devices/{mac}/move", tag = "devices",
    request_body = TenantChange,
    responses((status = 200, body = TenantMove), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn devices_move_tenant(
    caller: Caller,
    Path(mac): Path<String>,
    Body(body): Body<TenantChange>,
) -> Result<Json<TenantMove>, ApiError> {
    require(&caller, Platform::ROLES)?;
    let to = caller.admin.tenant(&body.tenant).await?;
    Ok(Json(
        caller
            .admin
            .device_move_tenant(&mac, to.id, body.site.as_deref())
            .await?,
    ))
}

/// MACs the operator has reserved for the tenant: only it can register them (operator only).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/device-reservations", tag = "devices",
    params(Page),
    responses((status = 200, body = Vec<Reservation>), (status = 403, body = Problem)))]
async fn reservations_list(
    Scoped { caller, tenant, .. }: Scoped<Platform>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let query = page.query();
    Ok(listed(
        caller.admin.reservation_page(tenant.id, &query).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewReservations {
    /// 1 to 1000 MACs, in any notation.
    #[schema(min_items = 1, max_items = 1000)]
    macs: Vec<String>,
}

/// Reserves MACs for the tenant, all or none (operator only): "devices bought from us are
/// already registered". A MAC registered in, or reserved for, another tenant is a 409 that
/// names it.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/device-reservations", tag = "devices",
    request_body = NewReservations,
    responses((status = 201, body = Vec<Reservation>), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn reservations_create(
    Scoped { caller, tenant, .. }: Scoped<Platform>,
    Body(body): Body<NewReservations>,
) -> Result<(StatusCode, Json<Vec<Reservation>>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.device_reserve(tenant.id, &body.macs).await?),
    ))
}

/// Releases a reserved MAC (operator only): anyone may register it again.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/device-reservations/{mac}", tag = "devices",
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn reservations_delete(
    Scoped { caller, tenant, .. }: Scoped<Platform>,
    Path((_tenant, mac)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.admin.device_release(tenant.id, &mac).await?;
    Ok(StatusCode::NO_CONTENT)
}
