//! Virtual users, Collaborate bridges, and the dial plan a PBX reads.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{BridgeInput, DialPlan, VirtualUserInput};
use crate::app::App;
use crate::model::{Bridge, VirtualUser};

use super::{listed, Admins, ApiError, Body, Page, Problem, Query, Scoped};

pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(virtual_users_list, virtual_users_create))
        .routes(routes!(
            virtual_users_get,
            virtual_users_replace,
            virtual_users_delete
        ))
        .routes(routes!(bridges_list, bridges_create))
        .routes(routes!(bridges_get, bridges_replace, bridges_delete))
        .routes(routes!(dialplan_get))
}

/// The tenant's virtual users by name; `q` matches name, number and extension.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/virtual-users", tag = "virtual-users",
    params(Page), responses((status = 200, body = Vec<VirtualUser>), (status = 404, body = Problem)))]
async fn virtual_users_list(
    s: Scoped<Admins>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let admin = &s.caller.admin;
    Ok(listed(
        admin.virtual_user_page(s.tenant.id, &page.query()).await?,
    ))
}

/// Adds a virtual user: a name, the full external number, an extension of 2 to 6 digits.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/virtual-users", tag = "virtual-users",
    request_body = VirtualUserInput, responses((status = 201, body = VirtualUser),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn virtual_users_create(
    s: Scoped<Admins>,
    Body(input): Body<VirtualUserInput>,
) -> Result<(StatusCode, Json<VirtualUser>), ApiError> {
    let v = s.caller.admin.virtual_user_add(s.tenant.id, &input).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// A virtual user by id, extension or "First Last".
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/virtual-users/{virtual_user}",
    tag = "virtual-users", responses((status = 200, body = VirtualUser), (status = 404, body = Problem)))]
async fn virtual_users_get(s: Scoped<Admins, VirtualUser>) -> Json<VirtualUser> {
    Json(s.item)
}

/// Replaces a virtual user.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/virtual-users/{virtual_user}",
    tag = "virtual-users", request_body = VirtualUserInput, responses((status = 200, body = VirtualUser),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn virtual_users_replace(
    s: Scoped<Admins, VirtualUser>,
    Body(input): Body<VirtualUserInput>,
) -> Result<Json<VirtualUser>, ApiError> {
    let admin = &s.caller.admin;
    let v = admin.virtual_user_replace(s.tenant.id, &s.item, &input);
    Ok(Json(v.await?))
}

/// Deletes a virtual user: the extension is free at once.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/virtual-users/{virtual_user}",
    tag = "virtual-users", responses((status = 204), (status = 404, body = Problem)))]
async fn virtual_users_delete(s: Scoped<Admins, VirtualUser>) -> Result<StatusCode, ApiError> {
    s.caller
        .admin
        .virtual_user_delete(s.tenant.id, &s.item)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's Collaborate bridges by name.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/bridges", tag = "bridges", params(Page),
    responses((status = 200, body = Vec<Bridge>), (status = 404, body = Problem)))]
async fn bridges_list(s: Scoped<Admins>, Query(page): Query<Page>) -> Result<Response, ApiError> {
    let admin = &s.caller.admin;
    Ok(listed(admin.bridge_page(s.tenant.id, &page.query()).await?))
}

/// Adds a Collaborate bridge on one of the tenant's available numbers (then the bridge's).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/bridges", tag = "bridges",
    request_body = BridgeInput, responses((status = 201, body = Bridge),
    (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn bridges_create(
    s: Scoped<Admins>,
    Body(input): Body<BridgeInput>,
) -> Result<(StatusCode, Json<Bridge>), ApiError> {
    let b = s.caller.admin.bridge_add(s.tenant.id, &input).await?;
    Ok((StatusCode::CREATED, Json(b)))
}

/// A bridge by id or name.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/bridges/{bridge}", tag = "bridges",
    responses((status = 200, body = Bridge), (status = 404, body = Problem)))]
async fn bridges_get(s: Scoped<Admins, Bridge>) -> Json<Bridge> {
    Json(s.item)
}

/// Replaces a bridge's name, number and extension (every field: an extension left out is
/// cleared); the number is one of the tenant's available numbers or the bridge's own.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/bridges/{bridge}", tag = "bridges",
    request_body = BridgeInput, responses((status = 200, body = Bridge),
    (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn bridges_replace(
    s: Scoped<Admins, Bridge>,
    Body(input): Body<BridgeInput>,
) -> Result<Json<Bridge>, ApiError> {
    let b = s.caller.admin.bridge_set(s.tenant.id, &s.item, &input);
    Ok(Json(b.await?))
}

/// Deletes a bridge (409 for the last one while MyRoom licences are held): its number is free.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/bridges/{bridge}", tag = "bridges",
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn bridges_delete(s: Scoped<Admins, Bridge>) -> Result<StatusCode, ApiError> {
    s.caller.admin.bridge_delete(s.tenant.id, &s.item).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's dial plan for a PBX: every extension and number, its owner and how calls to
/// it are handled (agents and policy, no-answer forwarding resolved, queue, voicemail).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/dialplan", tag = "dialplan",
    responses((status = 200, body = DialPlan), (status = 404, body = Problem)))]
async fn dialplan_get(s: Scoped<Admins>) -> Result<Json<DialPlan>, ApiError> {
    Ok(Json(s.caller.admin.dialplan(s.tenant.id).await?))
}
