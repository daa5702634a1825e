//! The phone directory's own entries (`directory`); its CSV import and export are the
//! `directory` kind of `import/{kind}` and `export/{kind}` (`imports.rs`). Any token of the
//! tenant reads the directory (a user's phone shows it anyway); admins change it.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::DirectoryEntryInput;
use crate::app::App;
use crate::model::DirectoryEntry;

use super::scope::Named;
use super::{listed, Admins, Anyone, ApiError, Body, Caller, Page, Problem, Query, Scoped};

pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(directory_list, directory_create))
        .routes(routes!(directory_get, directory_update, directory_delete))
}

impl Named for DirectoryEntry {
    async fn find(
        caller: &Caller,
        tenant: &crate::model::Tenant,
        path: &std::collections::HashMap<String, String>,
    ) -> Result<Self, ApiError> {
        let key = path.get("entry").map(String::as_str).unwrap_or_default();
        Ok(caller.admin.directory_entry(tenant.id, key).await?)
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SiteFilter {
    /// Site id or name: that site's entries and the tenant-wide ones.
    site: Option<String>,
}

/// The directory's entries by name; `q` searches names, companies and numbers.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/directory", tag = "directory",
    params(Page, SiteFilter),
    responses((status = 200, body = Vec<DirectoryEntry>), (status = 404, body = Problem)))]
async fn directory_list(
    Scoped { caller, tenant, .. }: Scoped<Anyone>,
    Query(page): Query<Page>,
    Query(filter): Query<SiteFilter>,
) -> Result<Response, ApiError> {
    let list = caller
        .admin
        .directory_page(tenant.id, filter.site.as_deref(), &page.query())
        .await?;
    Ok(listed(list))
}

/// Adds an entry: a person's first and last name, or a company, and the number to dial.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/directory", tag = "directory",
    request_body = DirectoryEntryInput,
    responses((status = 201, body = DirectoryEntry), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn directory_create(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Body(input): Body<DirectoryEntryInput>,
) -> Result<(StatusCode, Json<DirectoryEntry>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.directory_add(tenant.id, &input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/directory/{entry}", tag = "directory",
    responses((status = 200, body = DirectoryEntry), (status = 404, body = Problem)))]
async fn directory_get(
    Scoped { item, .. }: Scoped<Anyone, DirectoryEntry>,
) -> Result<Json<DirectoryEntry>, ApiError> {
    Ok(Json(item))
}

/// Replaces an entry with the one sent (every field: what is left out is cleared).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/directory/{entry}", tag = "directory",
    request_body = DirectoryEntryInput,
    responses((status = 200, body = DirectoryEntry), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn directory_update(
    Scoped {
        caller,
        tenant,
        item,
        ..
    }: Scoped<Admins, DirectoryEntry>,
    Body(input): Body<DirectoryEntryInput>,
) -> Result<Json<DirectoryEntry>, ApiError> {
    Ok(Json(
        caller
            .admin
            .directory_edit(tenant.id, &item, &input)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/directory/{entry}", tag = "directory",
    responses((status = 204)))]
async fn directory_delete(
    Scoped {
        caller,
        tenant,
        item,
        ..
    }: Scoped<Admins, DirectoryEntry>,
) -> Result<StatusCode, ApiError> {
    caller.admin.directory_remove(tenant.id, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}
