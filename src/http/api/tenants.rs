//! The caller and tenants.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::ModelInfo;
use crate::app::App;
use crate::model::{Principal, Tenant};
use crate::store::TokenInfo;

use super::{
    listed, require, ApiError, Body, Caller, Page, Platform, Problem, Query, Roles, Scoped,
};
use utoipa::IntoParams;

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(me))
        .routes(routes!(tenants_list, tenants_create))
        .routes(routes!(tenants_remove))
        .routes(routes!(tokens_list))
        .routes(routes!(models_list))
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

/// Removes a tenant (operator only); refused (409) while it has sites, numbers, users or
/// devices, saying how many of what. Its audit trail stays, as the platform's.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}", tag = "tenants",
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
    (status = 409, body = Problem)))]
async fn tenants_remove(
    Scoped { caller, tenant, .. }: Scoped<Platform>,
) -> Result<axum::http::StatusCode, ApiError> {
    caller.admin.tenant_remove(&tenant.id.to_string()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TokenQuery {
    /// Tenant id or name: only its tokens.
    tenant: Option<String>,
}

/// The API tokens (operator only): ids, roles, bindings and dates, never a secret.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tenants", params(TokenQuery),
    responses((status = 200, body = Vec<TokenInfo>), (status = 403, body = Problem),
        (status = 404, description = "`tenant` names no tenant", body = Problem)))]
async fn tokens_list(
    caller: Caller,
    Query(query): Query<TokenQuery>,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    require(&caller, Platform::ROLES)?;
    let tenant = match &query.tenant {
        Some(t) => Some(caller.admin.tenant(t).await?.id),
        None => None,
    };
    Ok(Json(caller.admin.token_list(tenant).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ModelQuery {
    /// Only this family's models (e.g. `yealink`).
    family: Option<String>,
}

/// The models the catalogue knows, by family.
#[utoipa::path(get, path = "/api/v1/models", tag = "tenants", params(ModelQuery),
    responses((status = 200, body = Vec<ModelInfo>), (status = 422, body = Problem)))]
async fn models_list(
    caller: Caller,
    Query(query): Query<ModelQuery>,
) -> Result<Json<Vec<ModelInfo>>, ApiError> {
    Ok(Json(caller.admin.models(query.family.as_deref())?))
}
