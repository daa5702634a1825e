//! The audit trail.

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::App;
use crate::store::{AuditEntry, AuditFilter};

use super::{require, Admins, ApiError, Caller, Platform, Problem, Query, Roles, Scoped};

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(audit_list))
        .routes(routes!(platform_audit_list))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// e.g. `token:3 tenant-admin`, `cli:alice`.
    actor: Option<String>,
    /// `user`, `number`, `device`, `site`, …
    entity: Option<String>,
    entity_id: Option<i64>,
    /// `create`, `update`, `delete`, `login`, …
    action: Option<String>,
    /// Unix seconds.
    since: Option<i64>,
    until: Option<i64>,
    /// 1 to 500 [default: 100].
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    #[param(minimum = 0)]
    offset: Option<i64>,
}

impl AuditQuery {
    fn filter(self) -> AuditFilter {
        AuditFilter {
            actor: self.actor,
            entity: self.entity,
            entity_id: self.entity_id,
            action: self.action,
            since: self.since,
            until: self.until,
            platform_only: false,
            limit: self.limit.unwrap_or(100),
            offset: self.offset.unwrap_or(0),
        }
    }
}

async fn audit_page(
    caller: &Caller,
    tenant: Option<crate::model::TenantId>,
    q: AuditQuery,
) -> Result<Response, ApiError> {
    let (entries, total) = caller.admin.audit(tenant, &q.filter()).await?;
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    Ok((headers, Json(entries)).into_response())
}

/// The audit trail: every admin change with who, when, what, and the record before and after
/// (no secrets), newest first. Total in `X-Total-Count`.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>)))]
async fn audit_list(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    audit_page(&caller, Some(tenant.id), q).await
}

/// The whole platform's audit trail (operator only): every tenant's entries and the platform's
/// own (tenants, platform tokens).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = Problem)))]
async fn platform_audit_list(
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    require(&caller, Platform::ROLES)?;
    audit_page(&caller, None, q).await
}
