//! REST API under `/api/v1`, with bearer tokens and roles. Every handler is a thin shell: find
//! what the path names (another tenant's objects answer 404), check the caller's role, call one
//! `admin` operation (which holds the rules), answer JSON. Errors are `application/problem+json`
//! (RFC 9457), mapped from the crate's errors in one `match`; internal error text never reaches
//! the client. The OpenAPI document is generated from these handlers (utoipa), so it cannot
//! drift from them, and served at `/api/v1/openapi.json`.
//!
//! This file holds what every resource shares (errors, the caller, bodies, pages, who may do
//! what) and assembles the router; each resource's file holds its handlers, their bodies and its
//! `routes`.

mod audit;
mod blf;
mod devices;
mod licences;
mod numbers;
mod reservations;
mod sites;
mod tenants;
mod users;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::admin::{Admin, Authenticated};
use crate::app::App;
use crate::error::Error;
use crate::model::{ListQuery, Listed, Number, Principal, Role, Tenant, User, UserId};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "autoprov admin API",
        description = "Tenants, sites, numbers, users, handsets, BLF permissions, licences and \
                       the audit trail. Errors are application/problem+json (RFC 9457)."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(Problem, FieldProblem))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's routes and its OpenAPI document, from the same handlers. The order the resources
/// add their routes in is the order of the document's paths.
fn api() -> (Router<App>, utoipa::openapi::OpenApi) {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi());
    let router = tenants::routes(router);
    let router = sites::routes(router);
    let router = numbers::routes(router);
    let router = users::routes(router);
    let router = devices::routes(router);
    let router = reservations::routes(router);
    let router = blf::routes(router);
    let router = licences::routes(router);
    audit::routes(router).split_for_parts()
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
// Errors, the caller, bodies and pages.

/// An API error, answered as problem+json.
#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    /// Too many failed token checks from the caller's address: retry after this many seconds.
    TooManyRequests(u64),
    Forbidden,
    /// A body that is not the JSON the route takes.
    Body {
        status: StatusCode,
        field: Option<String>,
        message: String,
    },
    App(Error),
}

/// An RFC 9457 problem.
#[derive(Serialize, ToSchema)]
struct Problem {
    r#type: String,
    title: String,
    status: u16,
    detail: String,
    errors: Option<Vec<FieldProblem>>,
}

/// Which input field is wrong, and how.
#[derive(Serialize, ToSchema)]
struct FieldProblem {
    field: String,
    message: String,
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::App(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, title, detail, errors) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid bearer token is required".to_owned(),
                None,
            ),
            ApiError::TooManyRequests(secs) => {
                let mut response = ApiError::Body {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    field: None,
                    message: format!(
                        "too many failed token checks from your address; retry in {secs} s"
                    ),
                }
                .into_response();
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return response;
            }
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "this token's role may not do this".to_owned(),
                None,
            ),
            ApiError::Body {
                status,
                field,
                message,
            } => {
                let errors = field.map(|f| json!([{ "field": f, "message": message }]));
                (status, "invalid body", message, errors)
            }
            ApiError::App(e) => match e {
                Error::Invalid(f) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid input",
                    f.to_string(),
                    Some(json!([{ "field": f.field, "message": f.message }])),
                ),
                Error::NotFound { what, key } => (
                    StatusCode::NOT_FOUND,
                    "not found",
                    format!("{what} not found: {key}"),
                    None,
                ),
                Error::Conflict(message) => (StatusCode::CONFLICT, "conflict", message, None),
                Error::Locked(message) => (StatusCode::LOCKED, "locked", message, None),
                Error::Template { .. }
                | Error::Config(_)
                | Error::Store { .. }
                | Error::Hashing { .. }
                | Error::Csv(_)
                | Error::Json { .. }
                | Error::Io(_) => internal(&e),
            },
        };
        let mut body = json!({
            "type": "about:blank",
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        });
        if let Some(errors) = errors {
            body["errors"] = errors;
        }
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// The answer to a failure of the server's own (the store, hashing, templates, files): a generic
/// 500, its cause in the log only.
fn internal(e: &Error) -> (StatusCode, &'static str, String, Option<serde_json::Value>) {
    tracing::error!(error = %e, "API request failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error",
        "the server could not complete the request; see its log".to_owned(),
        None,
    )
}

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
            Authenticated::Yes(principal) => Ok(Caller {
                admin: app
                    .admin
                    .acting(&format!("token:{} {}", principal.token_id, principal.role)),
                principal,
            }),
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
                let message = rejection.body_text();
                // serde names the field in backticks: "unknown field `x`", "missing field `y`".
                let field = message.split('`').nth(1).map(str::to_owned);
                Err(ApiError::Body {
                    status: rejection.status(),
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

/// Paging and search on lists: `limit` (1–1000, default 100), `offset`, and `q`, a text
/// matched in the list's names and numbers. The total before paging is in `X-Total-Count`.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct Page {
    limit: Option<u32>,
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

// ---------------------------------------------------------------------------------------------
// Who may do what.

const PLATFORM: &[Role] = &[Role::PlatformAdmin];
const ADMINS: &[Role] = &[Role::PlatformAdmin, Role::TenantAdmin];

fn require(caller: &Caller, roles: &[Role]) -> Result<(), ApiError> {
    if roles.contains(&caller.principal.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Admins, or the user themselves (self-service).
fn require_admin_or_self(caller: &Caller, user: UserId) -> Result<(), ApiError> {
    if ADMINS.contains(&caller.principal.role) || caller.principal.user == Some(user) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The tenant named in the path, if the caller may see it (else "not found").
async fn visible_tenant(caller: &Caller, key: &str) -> Result<Tenant, ApiError> {
    let tenant = caller.admin.tenant(key).await?;
    if caller.principal.sees(tenant.id) {
        Ok(tenant)
    } else {
        Err(Error::not_found("tenant", key).into())
    }
}

/// The tenant and the user named in the path, if the caller may see them.
async fn visible_user(
    caller: &Caller,
    tenant: &str,
    user: &str,
) -> Result<(Tenant, User), ApiError> {
    let tenant = visible_tenant(caller, tenant).await?;
    let user = caller.admin.user(tenant.id, user).await?;
    Ok((tenant, user))
}

/// The tenant and the number named in the path; a user may only reach their own number.
async fn visible_number(
    caller: &Caller,
    tenant: &str,
    number: &str,
) -> Result<(Tenant, Number), ApiError> {
    let tenant = visible_tenant(caller, tenant).await?;
    let number = caller.admin.number(tenant.id, number).await?;
    Ok((tenant, number))
}

async fn require_admin_or_holder(
    caller: &Caller,
    tenant: &Tenant,
    number: &Number,
) -> Result<(), ApiError> {
    if ADMINS.contains(&caller.principal.role) {
        return Ok(());
    }
    if let Some(me) = caller.principal.user {
        let user = caller.admin.store().user_get(tenant.id, me).await?;
        if user.number_id == Some(number.id) {
            return Ok(());
        }
    }
    Err(ApiError::Forbidden)
}
