//! Bulk import and export: `POST …/import/{kind}` takes a CSV file (`text/csv`, at most
//! [`MAX_CSV`] bytes) and writes every row or none, `?dry_run=true` only checks it; `GET
//! …/export/{kind}` answers the tenant's objects in the same columns. A bad file is a 422 whose
//! `errors` name every bad row: `{line, field, message}`.

use axum::extract::{FromRequest, Path, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::import::{ImportOptions, ImportReport, KindName};
use crate::app::App;
use crate::error::Error;

use super::{Admins, ApiError, Problem, Query, Scoped};

/// The largest import file the API takes: 512 MiB, some 4,000,000 device rows. The body is
/// streamed into the import a few rows at a time, so this bounds the transaction, not memory.
pub(super) const MAX_CSV: usize = 512 * 1024 * 1024;

pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(import_create))
        .routes(routes!(export_get))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DryRun {
    /// Check every row and answer as an import would, writing nothing.
    dry_run: Option<bool>,
}

/// A `text/csv` body, read as the import asks for it: never held whole.
struct Csv(BodyReader);

impl<S: Send + Sync> FromRequest<S> for Csv {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers();
        let csv = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/csv"));
        if !csv {
            return Err(ApiError::Rejected {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                what: "body",
                field: None,
                message: "the body must be a CSV file with Content-Type: text/csv".into(),
            });
        }
        let length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if length.is_some_and(|n| n > MAX_CSV as u64) {
            return Err(ApiError::Rejected {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                what: "body",
                field: None,
                message: too_large(),
            });
        }
        Ok(Csv(BodyReader {
            body: req.into_body(),
            runtime: tokio::runtime::Handle::current(),
            pending: axum::body::Bytes::new(),
            read: 0,
        }))
    }
}

fn too_large() -> String {
    format!(
        "the file is larger than {} MiB: split it, or use `autoprov import`",
        MAX_CSV >> 20
    )
}

/// A request body as a blocking `Read`, for the import's reading thread: each read waits for
/// the body's next frame on the runtime. A body longer than `MAX_CSV` (sent without a length)
/// fails the read, and with it the import.
struct BodyReader {
    body: axum::body::Body,
    runtime: tokio::runtime::Handle,
    /// What is left of the last frame.
    pending: axum::body::Bytes,
    read: usize,
}

impl std::io::Read for BodyReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        use axum::body::HttpBody;
        while self.pending.is_empty() {
            let body = &mut self.body;
            let frame = self.runtime.block_on(std::future::poll_fn(|cx| {
                std::pin::Pin::new(&mut *body).poll_frame(cx)
            }));
            match frame {
                None => return Ok(0),
                // The cause is the connection's; the client is told only that its upload ended.
                Some(Err(_)) => return Err(std::io::Error::other("the upload broke off")),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.read += data.len();
                        if self.read > MAX_CSV {
                            return Err(std::io::Error::other(too_large()));
                        }
                        self.pending = data;
                    }
                }
            }
        }
        let n = out.len().min(self.pending.len());
        out[..n].copy_from_slice(&self.pending.split_to(n));
        Ok(n)
    }
}

/// The kind a path names; an unknown one is "not found".
fn kind(text: &str) -> Result<KindName, ApiError> {
    text.parse()
        .map_err(|_| Error::not_found("import kind", text).into())
}

/// Imports a CSV file (header row first, `,` or `;`, UTF-8 with or without BOM): every row or
/// none. Kinds: `devices` (mac, model, site, phone_id, numbers, user), `users` (first_name,
/// last_name, email, number, extension, mobile, contract_number, licences, trunk), `numbers`
/// (number, site, status, main; the operator's), `speed-dials` (user, label, target: replaces
/// the speed dials of each user named), `directory` (name, number, site; the header may be
/// left out: `Name, Number` a line, as the portal writes it).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/import/{kind}", tag = "import",
    params(("kind" = String, Path, description = "devices, users, numbers, speed-dials or directory"), DryRun),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport),
        (status = 413, body = Problem, description = "larger than 512 MiB"),
        (status = 415, body = Problem, description = "not text/csv"),
        (status = 422, body = Problem, description = "every bad row in `errors`: {line, field, message}")))]
async fn import_create(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Path((_tenant, name)): Path<(String, String)>,
    Query(dry_run): Query<DryRun>,
    Csv(body): Csv,
) -> Result<Json<ImportReport>, ApiError> {
    let kind = kind(&name)?;
    if !kind.may_import(caller.principal.role) {
        return Err(ApiError::Forbidden);
    }
    let options = ImportOptions {
        dry_run: dry_run.dry_run.unwrap_or(false),
        ..ImportOptions::default()
    };
    let report = caller
        .admin
        .import(kind, tenant.id, body, options, &|_| {})
        .await?;
    Ok(Json(report))
}

/// The tenant's objects of a kind as CSV, in the columns the import takes.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/export/{kind}", tag = "import",
    params(("kind" = String, Path, description = "devices, users, numbers, speed-dials or directory")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem)))]
async fn export_get(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Path((_tenant, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let kind = kind(&name)?;
    let mut csv = Vec::new();
    caller.admin.export(kind, tenant.id, &mut csv).await?;
    let disposition = format!("attachment; filename=\"{}.csv\"", kind.as_str());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}
