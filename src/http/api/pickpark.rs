//! Call pickup groups and call park groups.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{ParkGroupInput, PickupGroupInput};
use crate::app::App;
use crate::model::{ParkGroup, PickupGroup, Tenant};

use super::scope::{segment, Named};
use super::{listed, Admins, ApiError, Body, Caller, Page, Problem, Query, Scoped};

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(pickup_groups_list, pickup_groups_create))
        .routes(routes!(
            pickup_groups_get,
            pickup_groups_put,
            pickup_groups_delete
        ))
        .routes(routes!(park_groups_list, park_groups_create))
        .routes(routes!(
            park_groups_get,
            park_groups_put,
            park_groups_delete
        ))
}

impl Named for PickupGroup {
    async fn find(
        caller: &Caller,
        tenant: &Tenant,
        path: &super::scope::Segments,
    ) -> Result<Self, ApiError> {
        Ok(caller
            .admin
            .pickup_group(tenant.id, segment(path, "group")?)
            .await?)
    }
}

impl Named for ParkGroup {
    async fn find(
        caller: &Caller,
        tenant: &Tenant,
        path: &super::scope::Segments,
    ) -> Result<Self, ApiError> {
        Ok(caller
            .admin
            .park_group(tenant.id, segment(path, "group")?)
            .await?)
    }
}

/// The tenant's call pickup groups, by name.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/pickup-groups", tag = "groups",
    params(Page), responses((status = 200, body = Vec<PickupGroup>)))]
async fn pickup_groups_list(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    Ok(listed(
        caller
            .admin
            .pickup_group_page(tenant.id, &page.query())
            .await?,
    ))
}

/// Adds a call pickup group. A user is in at most one (409 names the group they are in);
/// pending users may join.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/pickup-groups", tag = "groups",
    request_body = PickupGroupInput,
    responses((status = 201, body = PickupGroup), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn pickup_groups_create(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Body(input): Body<PickupGroupInput>,
) -> Result<(StatusCode, Json<PickupGroup>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.pickup_group_add(tenant.id, &input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/pickup-groups/{group}", tag = "groups",
    responses((status = 200, body = PickupGroup), (status = 404, body = Problem)))]
async fn pickup_groups_get(
    Scoped { item, .. }: Scoped<Admins, PickupGroup>,
) -> Result<Json<PickupGroup>, ApiError> {
    Ok(Json(item))
}

/// Replaces a pickup group's name and members.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/pickup-groups/{group}", tag = "groups",
    request_body = PickupGroupInput,
    responses((status = 200, body = PickupGroup), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn pickup_groups_put(
    Scoped {
        caller,
        tenant,
        item,
        ..
    }: Scoped<Admins, PickupGroup>,
    Body(input): Body<PickupGroupInput>,
) -> Result<Json<PickupGroup>, ApiError> {
    Ok(Json(
        caller
            .admin
            .pickup_group_set(tenant.id, &item, &input)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/pickup-groups/{group}", tag = "groups",
    responses((status = 204), (status = 404, body = Problem)))]
async fn pickup_groups_delete(
    Scoped {
        caller,
        tenant,
        item,
        ..
    }: Scoped<Admins, PickupGroup>,
) -> Result<StatusCode, ApiError> {
    caller.admin.pickup_group_delete(tenant.id, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's call park groups, by name.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/park-groups", tag = "groups",
    params(Page), responses((status = 200, body = Vec<ParkGroup>)))]
async fn park_groups_list(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    Ok(listed(
        caller
            .admin
            .park_group_page(tenant.id, &page.query())
            .await?,
    ))
}

/// Adds a call park group: members, and slots (a range or a list of extensions) that must be
/// free in the tenant's extension plan (409 names what has one).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/park-groups", tag = "groups",
    request_body = ParkGroupInput,
    responses((status = 201, body = ParkGroup), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn park_groups_create(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Body(input): Body<ParkGroupInput>,
) -> Result<(StatusCode, Json<ParkGroup>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.park_group_add(tenant.id, &input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/park-groups/{group}", tag = "groups",
    responses((status = 200, body = ParkGroup), (status = 404, body = Problem)))]
async fn park_groups_get(
    Scoped { item, .. }: Scoped<Admins, ParkGroup>,
) -> Result<Json<ParkGroup>, ApiError> {
    Ok(Json(item))
}

/// Replaces a park group's name, members and slots.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/park-groups/{group}", tag = "groups",
    request_body = ParkGroupInput,
    responses((status = 200, body = ParkGroup), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn park_groups_put(
    Scoped {
        caller,
        tenant,
        item,
        ..
    }: Scoped<Admins, ParkGroup>,
    Body(input): Body<ParkGroupInput>,
) -> Result<Json<ParkGroup>, ApiError> {
    Ok(Json(
        caller
            .admin
            .park_group_set(tenant.id, &item, &input)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/park-groups/{group}", tag = "groups",
    responses((status = 204), (status = 404, body = Problem)))]
async fn park_groups_delete(
    Scoped {
        caller,
        tenant,
        item,
        ..
    }: Scoped<Admins, ParkGroup>,
) -> Result<StatusCode, ApiError> {
    caller.admin.park_group_delete(tenant.id, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}
