//! Devices (handsets).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{
    DeviceDetail, DeviceInput, DeviceUpdate, DeviceView, LoginDetails, LoginTarget, RemovedDevice,
};
use crate::app::App;
use crate::model::Device;

use super::{listed, Admins, ApiError, Body, Page, Problem, Query, Scoped};

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(devices_list, devices_create))
        .routes(routes!(devices_get, devices_update, devices_remove))
        .routes(routes!(devices_login))
        .routes(routes!(devices_replace))
}

/// The tenant's handsets with their rollout state (registered, awaiting-first-contact,
/// provisioned, proven, stale), last sighting (time, address, transport, firmware) and last
/// refused request; `q` matches MAC, Phone ID and model.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/devices", tag = "devices", params(Page),
    responses((status = 200, body = Vec<DeviceView>)))]
async fn devices_list(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    Ok(listed(
        caller
            .admin
            .device_view_page(tenant.id, &page.query(), None)
            .await?,
    ))
}

/// Registers a handset by MAC (unique platform-wide) and model; it gets a Phone ID.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/devices", tag = "devices",
    request_body = DeviceInput, responses((status = 201, body = Device), (status = 409, body = Problem)))]
async fn devices_create(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Body(input): Body<DeviceInput>,
) -> Result<(StatusCode, Json<Device>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.device_add(tenant.id, &input).await?),
    ))
}

/// A handset by MAC or Phone ID: its state, the numbers logged in to it, and where and when it
/// last fetched a file.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/devices/{device}", tag = "devices",
    responses((status = 200, body = DeviceDetail), (status = 404, body = Problem)))]
async fn devices_get(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Path((_tenant, device)): Path<(String, String)>,
) -> Result<Json<DeviceDetail>, ApiError> {
    Ok(Json(caller.admin.device_detail(tenant.id, &device).await?))
}

/// Changes a handset's model (a known one; its family follows) or moves it to another site of
/// the tenant (numbers log in at their own site).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/devices/{device}", tag = "devices",
    request_body = DeviceUpdate, responses((status = 200, body = Device), (status = 409, body = Problem),
    (status = 422, body = Problem)))]
async fn devices_update(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Path((_tenant, device)): Path<(String, String)>,
    Body(body): Body<DeviceUpdate>,
) -> Result<Json<Device>, ApiError> {
    Ok(Json(
        caller
            .admin
            .device_update(tenant.id, &device, &body)
            .await?,
    ))
}

/// Removes a handset: its lines are logged out (the numbers stay), the audit trail keeps its
/// record, and its MAC may be registered again.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/devices/{device}", tag = "devices",
    responses((status = 200, body = RemovedDevice), (status = 404, body = Problem)))]
async fn devices_remove(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Path((_tenant, device)): Path<(String, String)>,
) -> Result<Json<RemovedDevice>, ApiError> {
    Ok(Json(caller.admin.device_remove(tenant.id, &device).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Replacement {
    /// The new hardware's MAC.
    mac: String,
}

/// Gives the handset's lines, keys, Phone ID and settings to new hardware: the old MAC's
/// credentials stop working, and a first-contact window opens for the new MAC.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/devices/{device}/replace", tag = "devices",
    request_body = Replacement, responses((status = 200, body = Device), (status = 409, body = Problem),
    (status = 422, body = Problem)))]
async fn devices_replace(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Path((_tenant, device)): Path<(String, String)>,
    Body(body): Body<Replacement>,
) -> Result<Json<Device>, ApiError> {
    Ok(Json(
        caller
            .admin
            .device_replace(tenant.id, &device, &body.mac)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DeviceLogin {
    number: String,
    #[serde(default)]
    additional_line: bool,
}

/// Logs a number in to this handset (the same as `numbers/{number}/login`).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/devices/{device}/login", tag = "devices",
    request_body = DeviceLogin, responses((status = 200, body = LoginDetails), (status = 409, body = Problem)))]
async fn devices_login(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Path((_tenant, device)): Path<(String, String)>,
    Body(body): Body<DeviceLogin>,
) -> Result<Json<LoginDetails>, ApiError> {
    let number = caller.admin.number(tenant.id, &body.number).await?;
    let target = LoginTarget {
        handset: device,
        additional_line: body.additional_line,
    };
    Ok(Json(
        caller
            .admin
            .number_login(tenant.id, &number, &target)
            .await?,
    ))
}
