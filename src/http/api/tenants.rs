//! The caller and tenants.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::App;
use crate::model::{Principal, Tenant};

use super::{listed, require, ApiError, Body, Caller, Page, Platform, Problem, Query, Roles};

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(me))
        .routes(routes!(tenants_list, tenants_create))
}

/// The caller: role, tenant and user of the token.
#[utoipa::path(get, path = "/api/v1/me", tag = "tenants",
    responses((status = 200, body = Principal), (status = 401, body = Problem)))]
async fn me(caller: Caller) -> Json<Principal> {
    Json(caller.principal)
}

/// Tenants the caller can see (all for the operator, their own for anyone else).
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", params(Page),
    responses((status = 200, body = Vec<Tenant>), (status = 401, body = Problem)))]
async fn tenants_list(caller: Caller, Query(page): Query<Page>) -> Result<Response, ApiError> {
    let query = page.query();
    Ok(listed(
        caller.admin.tenant_page(&caller.principal, &query).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    /// 1 to 64 characters, not all digits.
    #[schema(min_length = 1, max_length = 64)]
    name: String,
}

/// Creates a tenant (operator only).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = NewTenant,
    responses((status = 201, body = Tenant), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn tenants_create(
    caller: Caller,
    Body(body): Body<NewTenant>,
) -> Result<(StatusCode, Json<Tenant>), ApiError> {
    require(&caller, Platform::ROLES)?;
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.tenant_add(&body.name).await?),
    ))
}
