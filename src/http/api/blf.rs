//! BLF permissions (grants).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::App;
use crate::error::Error;
use crate::store::BlfGrant;

use super::{listed, Admins, ApiError, Body, Page, Problem, Query, Scoped};

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(blf_grants_list, blf_grants_create))
        .routes(routes!(blf_grants_delete))
}

/// Who may be monitored by whom.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/blf-grants", tag = "blf", params(Page),
    responses((status = 200, body = Vec<BlfGrant>)))]
async fn blf_grants_list(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    Ok(listed(
        caller
            .admin
            .blf_grant_page(tenant.id, &page.query())
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewGrant {
    /// The user who may be monitored.
    watched: String,
    /// Who may monitor them; absent: anyone of the tenant.
    watcher: Option<String>,
}

/// Grants that a user may be monitored (by one user, or by anyone).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/blf-grants", tag = "blf",
    request_body = NewGrant, responses((status = 201, body = BlfGrant), (status = 409, body = Problem)))]
async fn blf_grants_create(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Body(body): Body<NewGrant>,
) -> Result<(StatusCode, Json<BlfGrant>), ApiError> {
    let watched = caller.admin.user(tenant.id, &body.watched).await?;
    let watcher = match &body.watcher {
        Some(w) => Some(caller.admin.user(tenant.id, w).await?),
        None => None,
    };
    Ok((
        StatusCode::CREATED,
        Json(
            caller
                .admin
                .blf_grant(tenant.id, &watched, watcher.as_ref())
                .await?,
        ),
    ))
}

/// Withdraws a grant; monitor-list entries that only it allowed go too.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/blf-grants/{grant}", tag = "blf",
    responses((status = 204), (status = 404, body = Problem)))]
async fn blf_grants_delete(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Path((_tenant, grant)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id: i64 = grant
        .parse()
        .map_err(|_| Error::not_found("BLF grant", &grant))?;
    caller.admin.blf_revoke(tenant.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
