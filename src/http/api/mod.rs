//! REST API under `/api/v1`, with bearer tokens and roles. Every handler is a thin shell: find
//! what the path names (another tenant's objects answer 404), check the caller's role, call one
//! `admin` operation (which holds the rules), answer JSON. Errors are `application/problem+json`
//! (RFC 9457), serialized from the documented `Problem` and mapped from the crate's errors in one
//! `match`; internal error text never reaches the client. The OpenAPI document is generated from
//! these handlers (utoipa), so it cannot drift from them, and served at `/api/v1/openapi.json`.
//!
//! This file holds what every resource shares (errors, the caller, bodies, queries, pages) and
//! assembles the router; `scope.rs` who may do what (the tenant-scoped extractor), `doc.rs` the
//! document's frame and the error answers every operation declares; each resource's file holds
//! its handlers, their bodies and its `routes`.

mod audit;
mod blf;
mod devices;
mod directory;
mod doc;
mod groups;
mod imports;
mod licences;
mod numbers;
mod pickpark;
mod reservations;
mod resync;
mod schedules;
mod scope;
mod shared;
mod sites;
mod tenants;
mod users;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::admin::{Admin, Authenticated};
use crate::app::App;
use crate::error::Error;
use crate::model::{ListQuery, Listed, Principal};

pub use doc::PROBLEM_JSON;
use scope::{require, require_admin_or_holder, Roles, Scoped};
use scope::{Admins, AdminsOrHolder, AdminsOrSelf, Anyone, Platform, Users};

/// The API's routes and its OpenAPI document, from the same handlers. The order the resources
/// add their routes in is the order of the document's paths.
fn api() -> (Router<App>, utoipa::openapi::OpenApi) {
    let router = OpenApiRouter::with_openapi(doc::frame());
    let router = tenants::routes(router);
    let router = sites::routes(router);
    let router = numbers::routes(router);
    let router = users::routes(router);
    let router = devices::routes(router);
    let router = resync::routes(router);
    let router = reservations::routes(router);
    let router = blf::routes(router);
    let router = licences::routes(router);
    let router = pickpark::routes(router);
    let router = schedules::routes(router);
    let router = directory::routes(router);
    let router = imports::routes(router);
    let router = groups::routes(router);
    let router = shared::routes(router);
    let (router, mut openapi) = audit::routes(router).split_for_parts();
    doc::complete(&mut openapi);
    (router, openapi)
}

/// The OpenAPI document, as served.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

pub fn router() -> Router<App> {
    let (router, doc) = api();
    let doc = std::sync::Arc::new(doc.to_json().unwrap_or_default());
    router.route(
        "/api/v1/openapi.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], (*doc).clone()) }
        }),
    )
}

// ---------------------------------------------------------------------------------------------
// Errors, the caller, bodies, queries and pages.

/// An API error, answered as problem+json.
#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    /// Too many failed token checks from the caller's address: retry after this many seconds.
    TooManyRequests(u64),
    Forbidden,
    /// A body, query or path that is not what the route takes (`what` says which).
    Rejected {
        status: StatusCode,
        what: &'static str,
        field: Option<String>,
        message: String,
    },
    App(Error),
}

/// An RFC 9457 problem: every error answer of the API is one.
#[derive(Serialize, ToSchema)]
pub(crate) struct Problem {
    r#type: String,
    title: String,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<FieldProblem>>,
}

/// Which input field is wrong, and how; for an import file, on which line (1 is the header).
#[derive(Serialize, ToSchema)]
pub(crate) struct FieldProblem {
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    field: String,
    message: String,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::App(e)
    }
}

impl ApiError {
    /// A query or path axum could not take apart; its message names no secret.
    fn rejected(what: &'static str, status: StatusCode, message: String) -> Self {
        ApiError::Rejected {
            status,
            what,
            field: None,
            message,
        }
    }

    /// The status, title, detail and the fields at fault, if any are.
    fn parts(self) -> (StatusCode, String, String, Vec<FieldProblem>) {
        let plain =
            |status, title: &str, detail: String| (status, title.to_owned(), detail, Vec::new());
        match self {
            ApiError::Unauthorized => plain(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid bearer token is required".to_owned(),
            ),
            ApiError::TooManyRequests(secs) => plain(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests",
                format!("too many failed token checks from your address; retry in {secs} s"),
            ),
            ApiError::Forbidden => plain(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this token's role may not do this".to_owned(),
            ),
            ApiError::Rejected {
                status,
                what,
                field,
                message,
            } => {
                let field = field.map(|field| FieldProblem {
                    line: None,
                    field,
                    message: message.clone(),
                });
                (
                    status,
                    format!("invalid {what}"),
                    message,
                    field.into_iter().collect(),
                )
            }
            ApiError::App(e) => match e {
                Error::Invalid(f) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid input".to_owned(),
                    f.to_string(),
                    vec![FieldProblem {
                        line: None,
                        field: f.field.into_owned(),
                        message: f.message,
                    }],
                ),
                Error::Rows(rows) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid file".to_owned(),
                    format!("the file has {} error(s); nothing was imported", rows.len()),
                    rows.into_iter()
                        .map(|r| FieldProblem {
                            line: Some(r.line),
                            field: r.field,
                            message: r.message,
                        })
                        .collect(),
                ),
                Error::NotFound { what, key } => plain(
                    StatusCode::NOT_FOUND,
                    "not found",
                    format!("{what} not found: {key}"),
                ),
                // A conflict about one input (a name taken, an object in use) names it, as an
                // invalid input does, so a client can show it by the field.
                Error::Conflict { field, message, .. } => (
                    StatusCode::CONFLICT,
                    "conflict".to_owned(),
                    message.clone(),
                    field
                        .map(|field| FieldProblem {
                            line: None,
                            field: field.into_owned(),
                            message,
                        })
                        .into_iter()
                        .collect(),
                ),
                Error::Locked { message, .. } => plain(StatusCode::LOCKED, "locked", message),
                Error::Template { .. }
                | Error::Config(_)
                | Error::Store { .. }
                | Error::Hashing { .. }
                | Error::Csv(_)
                | Error::Json { .. }
                | Error::Io(_) => {
                    tracing::error!(error = %e, "API request failed");
                    plain(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal error",
                        "the server could not complete the request; see its log".to_owned(),
                    )
                }
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = match self {
            ApiError::TooManyRequests(secs) => Some(secs),
            _ => None,
        };
        let (status, title, detail, field) = self.parts();
        let problem = Problem {
            r#type: "about:blank".to_owned(),
            title,
            status: status.as_u16(),
            detail,
            errors: Some(field).filter(|f| !f.is_empty()),
        };
        // A struct of strings and numbers always serializes.
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, [(header::CONTENT_TYPE, PROBLEM_JSON)], body).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The answer to a failure of the server's own (the store, hashing, templates, files): a generic
/// 500, its cause in the log only.
/// The caller, from `Authorization: Bearer …`, with an `Admin` whose writes the audit trail
/// records as this token's.
pub struct Caller {
    pub principal: Principal,
    pub admin: Admin,
}

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        let peer = parts
            .extensions
            .get::<super::Conn>()
            .map(|conn| conn.peer.ip());
        match app.admin.authenticate_from(token.trim(), peer).await? {
            Authenticated::Yes(principal) => {
                let actor = format!("token:{} {}", principal.token_id, principal.role);
                if let Some(observed) = parts.extensions.get::<super::observe::Observed>() {
                    observed.actor(&actor);
                }
                Ok(Caller {
                    admin: app.admin.acting(&actor),
                    principal,
                })
            }
            Authenticated::No => Err(ApiError::Unauthorized),
            Authenticated::Throttled(secs) => Err(ApiError::TooManyRequests(secs)),
        }
    }
}

/// A JSON body whose every failure is a problem+json answer naming the field where serde does:
/// 400 for broken JSON, 415 without the JSON content type, 422 for the wrong shape.
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => {
                let status = rejection.status();
                let message = rejection.body_text();
                // serde names the field in backticks: "unknown field `x`", "missing field `y`";
                // only a body of the wrong shape (422) has one.
                let field = (status == StatusCode::UNPROCESSABLE_ENTITY)
                    .then(|| message.split('`').nth(1).map(str::to_owned))
                    .flatten();
                Err(ApiError::Rejected {
                    status,
                    what: "body",
                    field,
                    message,
                })
            }
        }
    }
}

/// An optional body: absent when the request has no content type.
impl<T, S> axum::extract::OptionalFromRequest<S> for Body<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if req.headers().get(header::CONTENT_TYPE).is_none() {
            return Ok(None);
        }
        <Body<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

/// A query string whose failure is a problem+json 400, not axum's plain-text one.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(rejection) => Err(ApiError::rejected(
                "query",
                rejection.status(),
                rejection.body_text(),
            )),
        }
    }
}

/// Paging and search on lists: `limit` (1–1000, default 100), `offset`, and `q`, a text
/// matched in the list's names and numbers. The total before paging is in `X-Total-Count`.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct Page {
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    #[param(minimum = 0)]
    offset: Option<u32>,
    q: Option<String>,
}

impl Page {
    /// What the page asks of a list; the store checks the limit and searches.
    fn query(&self) -> ListQuery {
        ListQuery {
            limit: self.limit,
            offset: self.offset,
            q: self.q.clone(),
        }
    }
}

/// A page of a list as the answer: the items, and the total before paging in `X-Total-Count`.
fn listed<T: Serialize>(list: Listed<T>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(list.total));
    (headers, Json(list.items)).into_response()
}
