//! The phone directory's own entries (`directory`), and its CSV import and export
//! (`import/directory`, `export/directory`). Any token of the tenant reads the directory (a
//! user's phone shows it anyway); admins change it.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{DirectoryEntryInput, ImportReport};
use crate::app::App;
use crate::model::DirectoryEntry;

use super::scope::Named;
use super::{listed, Admins, Anyone, ApiError, Body, Caller, Page, Problem, Query, Scoped};

pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(directory_list, directory_create))
        .routes(routes!(directory_get, directory_update, directory_delete))
        .routes(routes!(directory_import))
        .routes(routes!(directory_export))
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportOptions {
    /// Check every row and answer what would be added, adding nothing.
    dry_run: Option<bool>,
    /// Site id or name: the entries are shown only on that site's phones.
    site: Option<String>,
}

/// Imports entries from CSV (`Name, Number` a line, optionally under a `name,number` header;
/// `,` or `;`, quoted cells, UTF-8 or Windows-1252): all or nothing. A file with bad rows is a
/// 422 whose `errors` name each row by `line`, and nothing is added.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/import/directory", tag = "directory",
    params(ImportOptions), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 422, body = Problem)))]
async fn directory_import(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(options): Query<ImportOptions>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    // No content type is taken for CSV (curl --data-binary sends its own, which is refused).
    let csv = match headers.get(header::CONTENT_TYPE) {
        None => true,
        Some(v) => v
            .to_str()
            .is_ok_and(|t| t.starts_with("text/csv") || t.starts_with("text/plain")),
    };
    if !csv {
        return Err(ApiError::rejected(
            "body",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be declared text/csv".to_owned(),
        ));
    }
    let report = caller
        .admin
        .directory_import(
            tenant.id,
            &body,
            options.site.as_deref(),
            options.dry_run.unwrap_or(false),
        )
        .await?;
    Ok(Json(report))
}

/// The directory's entries as CSV, in the import's format.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/export/directory", tag = "directory",
    responses((status = 200, body = String, content_type = "text/csv")))]
async fn directory_export(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
) -> Result<Response, ApiError> {
    let csv = caller.admin.directory_export(tenant.id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"directory.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}
