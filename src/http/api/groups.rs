//! Hunt groups and call centres (one shape; a call centre adds a queue and supervisors), and a
//! user's memberships in them.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::GroupInput;
use crate::app::App;
use crate::model::{CallGroup, OwnerKind, User};
use crate::store::Membership;

use super::scope::{Centre, Group, GroupKind, Hunt};
use super::{listed, Admins, AdminsOrSelf, ApiError, Body, Page, Problem, Query, Scoped};

pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(hunt_groups_list, hunt_groups_create))
        .routes(routes!(
            hunt_groups_get,
            hunt_groups_replace,
            hunt_groups_delete
        ))
        .routes(routes!(call_centres_list, call_centres_create))
        .routes(routes!(
            call_centres_get,
            call_centres_replace,
            call_centres_delete
        ))
        .routes(routes!(users_memberships))
}

const HUNT: OwnerKind = OwnerKind::HuntGroup;
const CENTRE: OwnerKind = OwnerKind::CallCentre;

async fn list(s: Scoped<Admins>, kind: OwnerKind, page: Page) -> Result<Response, ApiError> {
    let admin = &s.caller.admin;
    Ok(listed(
        admin.group_page(s.tenant.id, kind, &page.query()).await?,
    ))
}

async fn create(
    s: Scoped<Admins>,
    kind: OwnerKind,
    input: GroupInput,
) -> Result<(StatusCode, Json<CallGroup>), ApiError> {
    let group = s.caller.admin.group_add(s.tenant.id, kind, &input).await?;
    Ok((StatusCode::CREATED, Json(group)))
}

async fn replace<K: GroupKind>(
    s: Scoped<Admins, Group<K>>,
    input: GroupInput,
) -> Result<Json<CallGroup>, ApiError> {
    let admin = &s.caller.admin;
    Ok(Json(
        admin.group_replace(s.tenant.id, &s.item.0, &input).await?,
    ))
}

async fn delete<K: GroupKind>(s: Scoped<Admins, Group<K>>) -> Result<StatusCode, ApiError> {
    s.caller.admin.group_delete(s.tenant.id, &s.item.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's hunt groups by name, with their agents (and each agent's state).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/hunt-groups", tag = "groups", params(Page),
    responses((status = 200, body = Vec<CallGroup>), (status = 404, body = Problem)))]
async fn hunt_groups_list(
    s: Scoped<Admins>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    list(s, HUNT, page).await
}

/// Adds a hunt group; pending users cannot be agents (409 naming the user).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/hunt-groups", tag = "groups",
    request_body = GroupInput, responses((status = 201, body = CallGroup),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn hunt_groups_create(
    s: Scoped<Admins>,
    Body(input): Body<GroupInput>,
) -> Result<(StatusCode, Json<CallGroup>), ApiError> {
    create(s, HUNT, input).await
}

/// A hunt group by id or name.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/hunt-groups/{group}", tag = "groups",
    responses((status = 200, body = CallGroup), (status = 404, body = Problem)))]
async fn hunt_groups_get(s: Scoped<Admins, Group<Hunt>>) -> Json<CallGroup> {
    Json(s.item.0)
}

/// Replaces a hunt group, agents too.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/hunt-groups/{group}", tag = "groups",
    request_body = GroupInput, responses((status = 200, body = CallGroup),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn hunt_groups_replace(
    s: Scoped<Admins, Group<Hunt>>,
    Body(input): Body<GroupInput>,
) -> Result<Json<CallGroup>, ApiError> {
    replace(s, input).await
}

/// Deletes a hunt group: its number and extension are free at once.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/hunt-groups/{group}", tag = "groups",
    responses((status = 204), (status = 404, body = Problem)))]
async fn hunt_groups_delete(s: Scoped<Admins, Group<Hunt>>) -> Result<StatusCode, ApiError> {
    delete(s).await
}

/// The tenant's call centres by name, with queue, agents and supervisors.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/call-centres", tag = "groups", params(Page),
    responses((status = 200, body = Vec<CallGroup>), (status = 404, body = Problem)))]
async fn call_centres_list(
    s: Scoped<Admins>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    list(s, CENTRE, page).await
}

/// Adds a call centre; pending users can be neither agents nor supervisors.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/call-centres", tag = "groups",
    request_body = GroupInput, responses((status = 201, body = CallGroup),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn call_centres_create(
    s: Scoped<Admins>,
    Body(input): Body<GroupInput>,
) -> Result<(StatusCode, Json<CallGroup>), ApiError> {
    create(s, CENTRE, input).await
}

/// A call centre by id or name.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/call-centres/{group}", tag = "groups",
    responses((status = 200, body = CallGroup), (status = 404, body = Problem)))]
async fn call_centres_get(s: Scoped<Admins, Group<Centre>>) -> Json<CallGroup> {
    Json(s.item.0)
}

/// Replaces a call centre, members too.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/call-centres/{group}", tag = "groups",
    request_body = GroupInput, responses((status = 200, body = CallGroup),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn call_centres_replace(
    s: Scoped<Admins, Group<Centre>>,
    Body(input): Body<GroupInput>,
) -> Result<Json<CallGroup>, ApiError> {
    replace(s, input).await
}

/// Deletes a call centre: its number and extension are free at once.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/call-centres/{group}", tag = "groups",
    responses((status = 204), (status = 404, body = Problem)))]
async fn call_centres_delete(s: Scoped<Admins, Group<Centre>>) -> Result<StatusCode, ApiError> {
    delete(s).await
}

/// The hunt groups and call centres a user is an agent or supervisor of: an admin's, or the
/// user's own.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users/{user}/memberships", tag = "groups",
    responses((status = 200, body = Vec<Membership>), (status = 403, body = Problem),
    (status = 404, body = Problem)))]
async fn users_memberships(
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<AdminsOrSelf, User>,
) -> Result<Json<Vec<Membership>>, ApiError> {
    Ok(Json(caller.admin.memberships(tenant.id, &user).await?))
}
