//! REST API under `/api/v1`, with bearer tokens and roles. Every handler is a thin shell: find
//! what the path names (another tenant's objects answer 404), check the caller's role, call one
//! `admin` operation (which holds the rules), answer JSON. Errors are `application/problem+json`
//! (RFC 9457), mapped from the crate's errors in one `match`; internal error text never reaches
//! the client. The OpenAPI document is generated from these handlers (utoipa), so it cannot
//! drift from them, and served at `/api/v1/openapi.json`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{
    Admin, Authenticated, DeviceDetail, DeviceInput, LoginDetails, LoginTarget, NumberInput,
    NumberQuery, SiteInput, TenantMove, UserInput, UserUpdate, SELF_SERVICE_OPTIONS,
};
use crate::app::App;
use crate::error::Error;
use crate::model::{
    Device, LicenceKind, Number, NumberView, Principal, Role, Site, Tenant, User, UserId,
};
use crate::store::{AuditEntry, AuditFilter, BlfGrant, LicencePool, Reservation, Trunk};

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

/// The API's routes and its OpenAPI document, from the same handlers.
fn api() -> (Router<App>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me))
        .routes(routes!(tenants_list, tenants_create))
        .routes(routes!(sites_list, sites_create))
        .routes(routes!(trunks_list, trunks_create))
        .routes(routes!(numbers_list, numbers_create))
        .routes(routes!(numbers_get))
        .routes(routes!(numbers_status))
        .routes(routes!(numbers_assign))
        .routes(routes!(numbers_unassign))
        .routes(routes!(numbers_label))
        .routes(routes!(numbers_features))
        .routes(routes!(numbers_reset_pin))
        .routes(routes!(numbers_set_pin))
        .routes(routes!(numbers_verify_pin))
        .routes(routes!(numbers_login))
        .routes(routes!(numbers_logout))
        .routes(routes!(numbers_login_details))
        .routes(routes!(users_list, users_create))
        .routes(routes!(users_get, users_update, users_delete))
        .routes(routes!(users_activate))
        .routes(routes!(users_fail))
        .routes(routes!(users_deactivate))
        .routes(routes!(users_app_registration))
        .routes(routes!(users_licences_get, users_licences_set))
        .routes(routes!(users_monitors_list, users_monitors_add))
        .routes(routes!(users_monitors_remove))
        .routes(routes!(users_speed_dials_get, users_speed_dials_set))
        .routes(routes!(users_device_passwords))
        .routes(routes!(devices_list, devices_create))
        .routes(routes!(devices_get, devices_move))
        .routes(routes!(devices_login))
        .routes(routes!(devices_move_tenant))
        .routes(routes!(reservations_list, reservations_create))
        .routes(routes!(reservations_delete))
        .routes(routes!(blf_grants_list, blf_grants_create))
        .routes(routes!(blf_grants_delete))
        .routes(routes!(licences_list))
        .routes(routes!(licences_set))
        .routes(routes!(audit_list))
        .routes(routes!(platform_audit_list))
        .split_for_parts()
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
                Error::Template { .. } | Error::Config(_) | Error::Store(_) | Error::Io(_) => {
                    tracing::error!(error = %e, "API request failed");
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal error",
                        "the server could not complete the request; see its log".to_owned(),
                        None,
                    )
                }
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

const PAGE_DEFAULT: u32 = 100;
const PAGE_MAX: u32 = 1000;

impl Page {
    fn slice<T: Serialize>(&self, items: Vec<T>) -> Result<Response, ApiError> {
        let limit = self.limit.unwrap_or(PAGE_DEFAULT);
        if !(1..=PAGE_MAX).contains(&limit) {
            return Err(Error::invalid(
                "limit",
                format!("{limit} is not between 1 and {PAGE_MAX}"),
            )
            .into());
        }
        let total = items.len();
        let page: Vec<T> = items
            .into_iter()
            .skip(self.offset.unwrap_or(0) as usize)
            .take(limit as usize)
            .collect();
        let mut headers = HeaderMap::new();
        headers.insert("x-total-count", HeaderValue::from(total));
        Ok((headers, Json(page)).into_response())
    }

    fn matches(&self, texts: &[&str]) -> bool {
        match self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            None => true,
            Some(q) => {
                let q = q.to_lowercase();
                texts.iter().any(|t| t.to_lowercase().contains(&q))
            }
        }
    }
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

// ---------------------------------------------------------------------------------------------
// The caller and tenants.

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
    let all = caller.admin.tenant_list().await?;
    page.slice(
        all.into_iter()
            .filter(|t| caller.principal.sees(t.id) && page.matches(&[&t.name]))
            .collect(),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    name: String,
}

/// Creates a tenant (operator only).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = NewTenant,
    responses((status = 201, body = Tenant), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn tenants_create(
    caller: Caller,
    Body(body): Body<NewTenant>,
) -> Result<(StatusCode, Json<Tenant>), ApiError> {
    require(&caller, PLATFORM)?;
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.tenant_add(&body.name).await?),
    ))
}

// ---------------------------------------------------------------------------------------------
// Sites and trunks.

/// The tenant's sites, alphabetically (the first is the default site).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/sites", tag = "sites", params(Page),
    responses((status = 200, body = Vec<Site>), (status = 404, body = Problem)))]
async fn sites_list(
    caller: Caller,
    Path(tenant): Path<String>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let sites = caller.admin.site_list(tenant.id).await?;
    page.slice(
        sites
            .into_iter()
            .filter(|s| page.matches(&[&s.name]))
            .collect(),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSite {
    name: String,
    time_zone: Option<String>,
    ntp_server: Option<String>,
    sip_domain: Option<String>,
    sip_proxy: Option<String>,
    sip_port: Option<u16>,
    sip_transport: Option<String>,
    #[serde(default)]
    allowed_networks: Vec<String>,
    first_contact_hours: Option<u32>,
}

#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/sites", tag = "sites", request_body = NewSite,
    responses((status = 201, body = Site), (status = 422, body = Problem)))]
async fn sites_create(
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewSite>,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let input = SiteInput {
        name: body.name,
        time_zone: body.time_zone,
        ntp_server: body.ntp_server,
        sip_domain: body.sip_domain,
        sip_proxy: body.sip_proxy,
        sip_port: body.sip_port,
        sip_transport: body.sip_transport,
        allowed_networks: body.allowed_networks,
        first_contact_hours: body.first_contact_hours,
    };
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.site_add(tenant.id, &input).await?),
    ))
}

/// A site's trunks (Amtsleitungen).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/sites/{site}/trunks", tag = "sites",
    params(Page), responses((status = 200, body = Vec<Trunk>), (status = 404, body = Problem)))]
async fn trunks_list(
    caller: Caller,
    Path((tenant, site)): Path<(String, String)>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let trunks = caller.admin.trunks(tenant.id, &site).await?;
    page.slice(
        trunks
            .into_iter()
            .filter(|t| page.matches(&[&t.name]))
            .collect(),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTrunk {
    name: String,
}

/// Adds a trunk to a site (the operator's: trunks come with the contract).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/sites/{site}/trunks", tag = "sites",
    request_body = NewTrunk, responses((status = 201, body = Trunk), (status = 403, body = Problem)))]
async fn trunks_create(
    caller: Caller,
    Path((tenant, site)): Path<(String, String)>,
    Body(body): Body<NewTrunk>,
) -> Result<(StatusCode, Json<Trunk>), ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, PLATFORM)?;
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.trunk_add(tenant.id, &site, &body.name).await?),
    ))
}

// ---------------------------------------------------------------------------------------------
// Numbers.

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct NumberFilter {
    /// Site id or name; the first site alphabetically when absent; `all` for every site.
    site: Option<String>,
}

/// The numbers at a site as the portal lists them: status, extension, default PIN, who they
/// are assigned to (label or user), the handset they are logged in to. `q` matches the number
/// and "assigned to".
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/numbers", tag = "numbers",
    params(NumberFilter, Page), responses((status = 200, body = Vec<NumberView>)))]
async fn numbers_list(
    caller: Caller,
    Path(tenant): Path<String>,
    Query(filter): Query<NumberFilter>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let query = NumberQuery {
        site: filter.site,
        search: page.q.clone(),
    };
    page.slice(caller.admin.number_views(tenant.id, &query).await?)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewNumber {
    number: String,
    site: Option<String>,
    status: Option<String>,
    #[serde(default)]
    main: bool,
}

/// Allocates a number to the tenant at a site (operator only); `reserved` unless said.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers", tag = "numbers",
    request_body = NewNumber, responses((status = 201, body = Number), (status = 403, body = Problem)))]
async fn numbers_create(
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewNumber>,
) -> Result<(StatusCode, Json<Number>), ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, PLATFORM)?;
    let input = NumberInput {
        number: body.number,
        site: body.site,
        status: body.status,
        main: body.main,
    };
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.number_add(tenant.id, &input).await?),
    ))
}

/// One number (by id or E.164), with its features; a user may read their own.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/numbers/{number}", tag = "numbers",
    responses((status = 200, body = Number), (status = 404, body = Problem)))]
async fn numbers_get(
    caller: Caller,
    Path((tenant, number)): Path<(String, String)>,
) -> Result<Json<Number>, ApiError> {
    let (tenant, number) = visible_number(&caller, &tenant, &number).await?;
    require_admin_or_holder(&caller, &tenant, &number).await?;
    Ok(Json(number))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusChange {
    /// `reserved`, `active` or `pending`.
    status: String,
}

/// Changes a number's status, e.g. activates a reserved number (operator only).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/status", tag = "numbers",
    request_body = StatusChange, responses((status = 200, body = Number), (status = 403, body = Problem)))]
async fn numbers_status(
    caller: Caller,
    Path((tenant, number)): Path<(String, String)>,
    Body(body): Body<StatusChange>,
) -> Result<Json<Number>, ApiError> {
    let (tenant, number) = visible_number(&caller, &tenant, &number).await?;
    require(&caller, PLATFORM)?;
    Ok(Json(
        caller
            .admin
            .number_set_status(tenant.id, &number.id.to_string(), &body.status)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Assign {
    /// User id, e-mail or "First Last".
    user: String,
}

/// Assigns an active, non-main number to a user that has none.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/assign", tag = "numbers",
    request_body = Assign, responses((status = 200, body = Number), (status = 409, body = Problem)))]
async fn numbers_assign(
    caller: Caller,
    Path((tenant, number)): Path<(String, String)>,
    Body(body): Body<Assign>,
) -> Result<Json<Number>, ApiError> {
    let (tenant, number) = visible_number(&caller, &tenant, &number).await?;
    require(&caller, ADMINS)?;
    let user = caller.admin.user(tenant.id, &body.user).await?;
    Ok(Json(
        caller
            .admin
            .number_assign(tenant.id, &number.id.to_string(), user.id)
            .await?,
    ))
}

/// Takes the number back from its user.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/unassign", tag = "numbers",
    responses((status = 200, body = Number), (status = 409, body = Problem)))]
async fn numbers_unassign(
    caller: Caller,
    Path((tenant, number)): Path<(String, String)>,
) -> Result<Json<Number>, ApiError> {
    let (tenant, number) = visible_number(&caller, &tenant, &number).await?;
    require(&caller, ADMINS)?;
    Ok(Json(
        caller
            .admin
            .number_unassign(tenant.id, &number.id.to_string())
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Label {
    first: Option<String>,
    last: Option<String>,
}

/// Sets the two-part display name (both empty: clears it); it overrides the user's name on the
/// phone and in lists, without changing the assignment.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/numbers/{number}/label", tag = "numbers",
    request_body = Label, responses((status = 200, body = Number), (status = 422, body = Problem)))]
async fn numbers_label(
    caller: Caller,
    Path((tenant, number)): Path<(String, String)>,
    Body(body): Body<Label>,
) -> Result<Json<Number>, ApiError> {
    let (tenant, number) = visible_number(&caller, &tenant, &number).await?;
    require(&caller, ADMINS)?;
    Ok(Json(
        caller
            .admin
            .number_label(
                tenant.id,
                &number.id.to_string(),
                body.first.as_deref(),
                body.last.as_deref(),
            )
            .await?,
    ))
}

/// Changes call features (a JSON merge patch of `NumberFeatures`); admins, or the user on their
/// own number (who may show as CLI only their own number or their site's main number).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/numbers/{number}/features", tag = "numbers",
    request_body = crate::model::NumberFeatures,
    responses((status = 200, body = Number), (status = 422, body = Problem)))]
async fn numbers_features(
    caller: Caller,
    Path((tenant, number)): Path<(String, String)>,
    Body(body): Body<serde_json::Value>,
) -> Result<Json<Number>, ApiError> {
    let (tenant, number) = visible_number(&caller, &tenant, &number).await?;
    require_admin_or_holder(&caller, &tenant, &number).await?;
    let key = number.id.to_string();
    let number = match (caller.principal.role, caller.principal.user) {
        // Self-service: the user's own rule for what their calls may show.
        (Role::User, Some(user)) => {
            caller
                .admin
                .number_features_by_user(tenant.id, user, &key, &body)
                .await?
        }
        (Role::User, None) => return Err(ApiError::Forbidden),
        _ => caller.admin.number_features(tenant.id, &key, &body).await?,
    };
    Ok(Json(number))
}

/// Sets the PIN back to the number's default PIN and unlocks it.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/reset-pin", tag = "numbers",
    responses((status = 200, body = Number)))]
async fn numbers_reset_pin(
    caller: Caller,
    Path((tenant, number)): Path<(String, String)>,
) -> Result<Json<Number>, ApiError> {
    let (tenant, number) = visible_number(&caller, &tenant, &number).await?;
    require(&caller, ADMINS)?;
    Ok(Json(
        caller
            .admin
            .number_reset_pin(tenant.id, &number.id.to_string())
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Pin {
    pin: String,
}

/// The user sets their own PIN (4–8 digits; stored hashed, never shown). Only the number's user.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/numbers/{number}/pin", tag = "numbers",
    request_body = Pin, responses((status = 200, body = Number), (status = 403, body = Problem)))]
async fn numbers_set_pin(
    caller: Caller,
    Path((tenant, number)): Path<(String, String)>,
    Body(body): Body<Pin>,
) -> Result<Json<Number>, ApiError> {
    let (tenant, number) = visible_number(&caller, &tenant, &number).await?;
    require(&caller, &[Role::User])?;
    require_admin_or_holder(&caller, &tenant, &number).await?;
    Ok(Json(
        caller
            .admin
            .number_set_pin(tenant.id, &number.id.to_string(), &body.pin)
            .await?,
    ))
}

/// Checks a PIN: 204 when right, 422 when wrong (with the attempts left), 423 once three wrong
/// PINs in a row have locked it.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/verify-pin", tag = "numbers",
    request_body = Pin,
    responses((status = 204), (status = 422, body = Problem), (status = 423, body = Problem)))]
async fn numbers_verify_pin(
    caller: Caller,
    Path((tenant, number)): Path<(String, String)>,
    Body(body): Body<Pin>,
) -> Result<StatusCode, ApiError> {
    let (tenant, number) = visible_number(&caller, &tenant, &number).await?;
    require_admin_or_holder(&caller, &tenant, &number).await?;
    caller
        .admin
        .number_verify_pin(tenant.id, &number.id.to_string(), &body.pin)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct HandsetLogin {
    /// The Phone ID the handset shows (or give `mac`).
    phone_id: Option<String>,
    mac: Option<String>,
    /// Add as a further line of a multi-account phone instead of refusing a taken handset.
    #[serde(default)]
    additional_line: bool,
}

/// Logs the number in to a handset by Phone ID or MAC; 409 when someone is logged in there.
/// The answer holds the line's login details, shown this once.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/login", tag = "numbers",
    request_body = HandsetLogin,
    responses((status = 200, body = LoginDetails), (status = 409, body = Problem)))]
async fn numbers_login(
    caller: Caller,
    Path((tenant, number)): Path<(String, String)>,
    Body(body): Body<HandsetLogin>,
) -> Result<Json<LoginDetails>, ApiError> {
    let (tenant, number) = visible_number(&caller, &tenant, &number).await?;
    require(&caller, ADMINS)?;
    let handset = match (body.phone_id, body.mac) {
        (Some(id), None) => id,
        (None, Some(mac)) => mac,
        _ => {
            return Err(Error::invalid("phone_id", "give the handset's phone_id or its mac").into())
        }
    };
    let target = LoginTarget {
        handset,
        additional_line: body.additional_line,
    };
    Ok(Json(
        caller
            .admin
            .number_login(tenant.id, &number.id.to_string(), &target)
            .await?,
    ))
}

/// Logs the number out of its handset.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/logout", tag = "numbers",
    responses((status = 200, body = Number), (status = 409, body = Problem)))]
async fn numbers_logout(
    caller: Caller,
    Path((tenant, number)): Path<(String, String)>,
) -> Result<Json<Number>, ApiError> {
    let (tenant, number) = visible_number(&caller, &tenant, &number).await?;
    require(&caller, ADMINS)?;
    Ok(Json(
        caller
            .admin
            .number_logout(tenant.id, &number.id.to_string())
            .await?,
    ))
}

/// New login details for the number's line, shown this once; the phone gets them next fetch.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/login-details", tag = "numbers",
    responses((status = 200, body = LoginDetails), (status = 409, body = Problem)))]
async fn numbers_login_details(
    caller: Caller,
    Path((tenant, number)): Path<(String, String)>,
) -> Result<Json<LoginDetails>, ApiError> {
    let (tenant, number) = visible_number(&caller, &tenant, &number).await?;
    require(&caller, ADMINS)?;
    Ok(Json(
        caller
            .admin
            .number_new_login_details(tenant.id, &number.id.to_string())
            .await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// Users.

/// The tenant's users; `q` matches names, e-mail, number and extension.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users", tag = "users", params(Page),
    responses((status = 200, body = Vec<User>)))]
async fn users_list(
    caller: Caller,
    Path(tenant): Path<String>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let users = caller.admin.user_list(tenant.id).await?;
    page.slice(
        users
            .into_iter()
            .filter(|u| {
                page.matches(&[
                    &u.display_name(),
                    u.email.as_deref().unwrap_or(""),
                    u.number.as_ref().map(|n| n.as_str()).unwrap_or(""),
                    u.extension.as_deref().unwrap_or(""),
                ])
            })
            .collect(),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewUser {
    first_name: String,
    last_name: String,
    email: Option<String>,
    number: Option<String>,
    extension: Option<String>,
    mobile: Option<String>,
    contract_number: Option<String>,
    #[serde(default)]
    licences: Vec<String>,
    trunk: Option<String>,
}

/// Creates a user, `pending` until the operator activates them.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn users_create(
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let input = UserInput {
        first_name: body.first_name,
        last_name: body.last_name,
        email: body.email,
        number: body.number,
        extension: body.extension,
        mobile: body.mobile,
        contract_number: body.contract_number,
        licences: body.licences,
        trunk: body.trunk,
    };
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.user_add(tenant.id, &input).await?),
    ))
}

/// One user; a user may read themselves.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users/{user}", tag = "users",
    responses((status = 200, body = User), (status = 404, body = Problem)))]
async fn users_get(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<User>, ApiError> {
    let (_, user) = visible_user(&caller, &tenant, &user).await?;
    require_admin_or_self(&caller, user.id)?;
    Ok(Json(user))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
struct UserChanges {
    first_name: Option<String>,
    last_name: Option<String>,
    /// Empty text clears.
    email: Option<String>,
    extension: Option<String>,
    mobile: Option<String>,
    contract_number: Option<String>,
    /// The app registration e-mail: changeable until the user registers; each change
    /// re-issues the invitation.
    app_email: Option<String>,
    trunk: Option<String>,
    /// A JSON merge patch of the PBX options.
    #[schema(value_type = Option<crate::model::PbxOptions>)]
    options: Option<serde_json::Value>,
}

/// Changes a user. Admins may change everything (configuration only once the user is
/// active); a user may change their own names, e-mail, app e-mail and their notification and
/// call-waiting options (`SELF_SERVICE_OPTIONS`).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/users/{user}", tag = "users",
    request_body = UserChanges,
    responses((status = 200, body = User), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn users_update(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
    Body(body): Body<UserChanges>,
) -> Result<Json<User>, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    require_admin_or_self(&caller, user.id)?;
    let admin_only = body.extension.is_some()
        || body.mobile.is_some()
        || body.contract_number.is_some()
        || body.trunk.is_some();
    let admin_options = body.options.as_ref().is_some_and(|o| {
        o.as_object().is_none_or(|m| {
            m.keys()
                .any(|k| !SELF_SERVICE_OPTIONS.contains(&k.as_str()))
        })
    });
    if admin_only || admin_options {
        require(&caller, ADMINS)?;
    }
    let input = UserUpdate {
        first_name: body.first_name,
        last_name: body.last_name,
        email: body.email,
        extension: body.extension,
        mobile: body.mobile,
        contract_number: body.contract_number,
        app_email: body.app_email,
        trunk: body.trunk,
        options: body.options,
    };
    Ok(Json(
        caller.admin.user_update(tenant.id, user.id, &input).await?,
    ))
}

/// Deletes an active or deactivated user (409 for a pending one): the number is free at once
/// and logged out of its handset; the user leaves every monitor list. Cannot be undone.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/users/{user}", tag = "users",
    responses((status = 204), (status = 409, body = Problem)))]
async fn users_delete(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    require(&caller, ADMINS)?;
    caller.admin.user_delete(tenant.id, user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Activates a pending or failed user (operator only), or reactivates a deactivated one.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users/{user}/activate", tag = "users",
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn users_activate(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<User>, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    // Activation is the operator's; reactivating a deactivated user is the tenant admin's too.
    let roles = if user.state == crate::model::UserState::Deactivated {
        ADMINS
    } else {
        PLATFORM
    };
    require(&caller, roles)?;
    Ok(Json(caller.admin.user_activate(tenant.id, user.id).await?))
}

/// Marks a pending user as failed (operator only).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users/{user}/fail", tag = "users",
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn users_fail(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<User>, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    require(&caller, PLATFORM)?;
    Ok(Json(caller.admin.user_fail(tenant.id, user.id).await?))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct Deactivation {
    /// What callers hear.
    announcement: Option<String>,
    /// Where they are transferred (E.164).
    transfer: Option<String>,
    /// `announced` or `key-press`.
    transfer_mode: Option<String>,
}

/// Deactivates an active user; group memberships and monitor lists stay.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users/{user}/deactivate", tag = "users",
    request_body = Deactivation, responses((status = 200, body = User), (status = 409, body = Problem)))]
async fn users_deactivate(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
    body: Option<Body<Deactivation>>,
) -> Result<Json<User>, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    require(&caller, ADMINS)?;
    let d = body.map(|Body(d)| d).unwrap_or_default();
    Ok(Json(
        caller
            .admin
            .user_deactivate(
                tenant.id,
                user.id,
                d.announcement.as_deref(),
                d.transfer.as_deref(),
                d.transfer_mode.as_deref(),
            )
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AppRegistration {
    login: String,
}

/// The app platform reports the user's registration (operator only): the registration e-mail
/// is fixed from now on and the login name is shown.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users/{user}/app-registration", tag = "users",
    request_body = AppRegistration, responses((status = 200, body = User), (status = 409, body = Problem)))]
async fn users_app_registration(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
    Body(body): Body<AppRegistration>,
) -> Result<Json<User>, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    require(&caller, PLATFORM)?;
    Ok(Json(
        caller
            .admin
            .user_app_registered(tenant.id, user.id, &body.login)
            .await?,
    ))
}

/// The licences the user holds.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users/{user}/licences", tag = "users",
    responses((status = 200, body = Vec<LicenceKind>)))]
async fn users_licences_get(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<Vec<LicenceKind>>, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    require_admin_or_self(&caller, user.id)?;
    Ok(Json(caller.admin.user_licences(tenant.id, user.id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Licences {
    /// Exactly the licences the user should hold: `app`, `conference-room`, `e-fax`.
    licences: Vec<String>,
}

/// Sets the licences the user holds; new ones come from the tenant's pools (409 when empty).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/users/{user}/licences", tag = "users",
    request_body = Licences, responses((status = 200, body = Vec<LicenceKind>), (status = 409, body = Problem)))]
async fn users_licences_set(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
    Body(body): Body<Licences>,
) -> Result<Json<Vec<LicenceKind>>, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    require(&caller, ADMINS)?;
    Ok(Json(
        caller
            .admin
            .user_licences_set(tenant.id, user.id, &body.licences)
            .await?,
    ))
}

/// A colleague on a monitor list: what a BLF key shows, nothing private.
#[derive(Serialize, ToSchema)]
struct Colleague {
    id: UserId,
    /// The number's label, else the name.
    name: String,
    extension: Option<String>,
    number: Option<crate::model::E164>,
}

fn colleagues(users: Vec<User>) -> Vec<Colleague> {
    users
        .into_iter()
        .map(|u| Colleague {
            id: u.id,
            name: u.shown_name(),
            extension: u.extension,
            number: u.number,
        })
        .collect()
}

/// The user's monitor list (their phone's BLF keys), in key order.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users/{user}/monitors", tag = "blf",
    responses((status = 200, body = Vec<Colleague>)))]
async fn users_monitors_list(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<Vec<Colleague>>, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    require_admin_or_self(&caller, user.id)?;
    let list = caller.admin.monitor_list(tenant.id, user.id).await?;
    Ok(Json(colleagues(list)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Watch {
    /// The user to monitor (id, e-mail or "First Last"); an admin must have granted it.
    user: String,
}

/// Adds a user to the monitor list: only users an admin has granted (see `blf-grants`).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users/{user}/monitors", tag = "blf",
    request_body = Watch, responses((status = 200, body = Vec<Colleague>), (status = 422, body = Problem)))]
async fn users_monitors_add(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
    Body(body): Body<Watch>,
) -> Result<Json<Vec<Colleague>>, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    require_admin_or_self(&caller, user.id)?;
    let watched = caller.admin.user(tenant.id, &body.user).await?;
    caller
        .admin
        .monitor_add(tenant.id, user.id, watched.id)
        .await?;
    let list = caller.admin.monitor_list(tenant.id, user.id).await?;
    Ok(Json(colleagues(list)))
}

/// Removes a user from the monitor list.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/users/{user}/monitors/{watched}", tag = "blf",
    responses((status = 204), (status = 404, body = Problem)))]
async fn users_monitors_remove(
    caller: Caller,
    Path((tenant, user, watched)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    require_admin_or_self(&caller, user.id)?;
    let watched = caller.admin.user(tenant.id, &watched).await?;
    caller
        .admin
        .monitor_remove(tenant.id, user.id, watched.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A speed-dial key: its label and what it dials (a number, an extension or a feature code).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SpeedDial {
    /// 1 to 32 characters.
    label: String,
    /// `+` and digits, or digits with `*` and `#`.
    target: String,
}

/// The user's speed dials, in key order (after the BLF keys); a user may read their own.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users/{user}/speed-dials", tag = "users",
    responses((status = 200, body = Vec<SpeedDial>), (status = 404, body = Problem)))]
async fn users_speed_dials_get(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<Vec<SpeedDial>>, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    require_admin_or_self(&caller, user.id)?;
    let dials = caller.admin.speed_dials(tenant.id, user.id).await?;
    Ok(Json(
        dials
            .into_iter()
            .map(|(label, target)| SpeedDial { label, target })
            .collect(),
    ))
}

/// Replaces the user's speed dials (an empty list clears them); admins, or the user.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/users/{user}/speed-dials", tag = "users",
    request_body = Vec<SpeedDial>,
    responses((status = 200, body = Vec<SpeedDial>), (status = 422, body = Problem)))]
async fn users_speed_dials_set(
    caller: Caller,
    Path((tenant, user)): Path<(String, String)>,
    Body(body): Body<Vec<SpeedDial>>,
) -> Result<Json<Vec<SpeedDial>>, ApiError> {
    let (tenant, user) = visible_user(&caller, &tenant, &user).await?;
    require_admin_or_self(&caller, user.id)?;
    let dials: Vec<(String, String)> = body.into_iter().map(|d| (d.label, d.target)).collect();
    caller
        .admin
        .speed_dials_set(tenant.id, user.id, &dials)
        .await?;
    let dials = caller.admin.speed_dials(tenant.id, user.id).await?;
    Ok(Json(
        dials
            .into_iter()
            .map(|(label, target)| SpeedDial { label, target })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DevicePasswords {
    /// Users (id, e-mail or "First Last"); absent: every user with a logged-in number.
    users: Option<Vec<String>>,
    /// One password for all (8–64 printable characters); absent: a random one per line.
    password: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Format {
    /// `csv` for a CSV file instead of JSON.
    format: Option<String>,
}

/// One line of a bulk password change.
#[derive(Serialize, ToSchema)]
struct UserLogin {
    user_id: UserId,
    first_name: String,
    last_name: String,
    #[serde(flatten)]
    details: LoginDetails,
}

/// New desk-phone passwords for several users at once, shown this once; `?format=csv` exports
/// them as CSV.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users/device-passwords", tag = "users",
    request_body = DevicePasswords, params(Format),
    responses((status = 200, body = Vec<UserLogin>, description = "JSON, or text/csv with ?format=csv")))]
async fn users_device_passwords(
    caller: Caller,
    Path(tenant): Path<String>,
    Query(format): Query<Format>,
    Body(body): Body<DevicePasswords>,
) -> Result<Response, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let users = match body.users {
        Some(keys) => {
            let mut ids = Vec::with_capacity(keys.len());
            for key in keys {
                ids.push(caller.admin.user(tenant.id, &key).await?);
            }
            ids
        }
        None => caller
            .admin
            .user_list(tenant.id)
            .await?
            .into_iter()
            .filter(|u| u.number.is_some() && u.state != crate::model::UserState::Pending)
            .collect(),
    };
    let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    let done = caller
        .admin
        .users_device_passwords(tenant.id, &ids, body.password.as_deref())
        .await?;
    let rows: Vec<UserLogin> = done
        .into_iter()
        .filter_map(|(id, details)| {
            users.iter().find(|u| u.id == id).map(|u| UserLogin {
                user_id: id,
                first_name: u.first_name.to_string(),
                last_name: u.last_name.to_string(),
                details,
            })
        })
        .collect();
    match format.format.as_deref() {
        None | Some("json") => Ok(Json(rows).into_response()),
        Some("csv") => {
            let csv = crate::admin::login_details_csv(
                rows.iter()
                    .map(|r| (r.first_name.as_str(), r.last_name.as_str(), &r.details)),
            )?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"device-passwords.csv\"",
                    ),
                ],
                csv,
            )
                .into_response())
        }
        Some(other) => {
            Err(Error::invalid("format", format!("{other:?} is not one of: json, csv")).into())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Devices.

/// The tenant's handsets; `q` matches MAC, Phone ID and model.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/devices", tag = "devices", params(Page),
    responses((status = 200, body = Vec<Device>)))]
async fn devices_list(
    caller: Caller,
    Path(tenant): Path<String>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let devices = caller.admin.device_list(tenant.id).await?;
    page.slice(
        devices
            .into_iter()
            .filter(|d| page.matches(&[&d.mac.to_string(), &d.phone_id, &d.model]))
            .collect(),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewDevice {
    mac: String,
    model: String,
    site: Option<String>,
}

/// Registers a handset by MAC (unique platform-wide) and model; it gets a Phone ID.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/devices", tag = "devices",
    request_body = NewDevice, responses((status = 201, body = Device), (status = 409, body = Problem)))]
async fn devices_create(
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewDevice>,
) -> Result<(StatusCode, Json<Device>), ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let input = DeviceInput {
        mac: body.mac,
        model: body.model,
        site: body.site,
    };
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.device_add(tenant.id, &input).await?),
    ))
}

/// A handset by MAC or Phone ID: its state, the numbers logged in to it, and where and when it
/// last fetched a file.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/devices/{device}", tag = "devices",
    responses((status = 200, body = DeviceDetail), (status = 404, body = Problem)))]
async fn devices_get(
    caller: Caller,
    Path((tenant, device)): Path<(String, String)>,
) -> Result<Json<DeviceDetail>, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    Ok(Json(caller.admin.device_detail(tenant.id, &device).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DeviceChange {
    /// The site (id or name) to move the handset to; no number may be logged in to it.
    site: String,
}

/// Moves a handset to another site of the tenant (numbers log in at their own site).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/devices/{device}", tag = "devices",
    request_body = DeviceChange, responses((status = 200, body = Device), (status = 409, body = Problem)))]
async fn devices_move(
    caller: Caller,
    Path((tenant, device)): Path<(String, String)>,
    Body(body): Body<DeviceChange>,
) -> Result<Json<Device>, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    Ok(Json(
        caller
            .admin
            .device_move(tenant.id, &device, &body.site)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DeviceLogin {
    number: String,
    #[serde(default)]
    additional_line: bool,
}

/// Logs a number in to this handset (the same as `numbers/{number}/login`).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/devices/{device}/login", tag = "devices",
    request_body = DeviceLogin, responses((status = 200, body = LoginDetails), (status = 409, body = Problem)))]
async fn devices_login(
    caller: Caller,
    Path((tenant, device)): Path<(String, String)>,
    Body(body): Body<DeviceLogin>,
) -> Result<Json<LoginDetails>, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let target = LoginTarget {
        handset: device,
        additional_line: body.additional_line,
    };
    Ok(Json(
        caller
            .admin
            .number_login(tenant.id, &body.number, &target)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TenantChange {
    /// The tenant (id or name) to move the handset to.
    tenant: String,
    /// A site (id or name) of that tenant; its default site when absent.
    site: Option<String>,
}

/// Moves a handset (by MAC) to another tenant (operator only), e.g. to undo a wrongful claim.
/// Numbers logged in to it stay with their tenant: they are logged out, and listed in the
/// answer. A MAC reserved for a third tenant is refused.
#[utoipa::path(post, path = "/api/v1/devices/{mac}/move", tag = "devices",
    request_body = TenantChange,
    responses((status = 200, body = TenantMove), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn devices_move_tenant(
    caller: Caller,
    Path(mac): Path<String>,
    Body(body): Body<TenantChange>,
) -> Result<Json<TenantMove>, ApiError> {
    require(&caller, PLATFORM)?;
    let to = caller.admin.tenant(&body.tenant).await?;
    Ok(Json(
        caller
            .admin
            .device_move_tenant(&mac, to.id, body.site.as_deref())
            .await?,
    ))
}

/// MACs the operator has reserved for the tenant: only it can register them (operator only).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/device-reservations", tag = "devices",
    params(Page),
    responses((status = 200, body = Vec<Reservation>), (status = 403, body = Problem)))]
async fn reservations_list(
    caller: Caller,
    Path(tenant): Path<String>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, PLATFORM)?;
    let list = caller.admin.device_reservations(tenant.id).await?;
    page.slice(
        list.into_iter()
            .filter(|r| page.matches(&[&r.mac.to_string()]))
            .collect(),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewReservations {
    /// 1 to 1000 MACs, in any notation.
    macs: Vec<String>,
}

/// Reserves MACs for the tenant, all or none (operator only): "devices bought from us are
/// already registered". A MAC registered in, or reserved for, another tenant is a 409 that
/// names it.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/device-reservations", tag = "devices",
    request_body = NewReservations,
    responses((status = 201, body = Vec<Reservation>), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn reservations_create(
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewReservations>,
) -> Result<(StatusCode, Json<Vec<Reservation>>), ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, PLATFORM)?;
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.device_reserve(tenant.id, &body.macs).await?),
    ))
}

/// Releases a reserved MAC (operator only): anyone may register it again.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/device-reservations/{mac}", tag = "devices",
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn reservations_delete(
    caller: Caller,
    Path((tenant, mac)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, PLATFORM)?;
    caller.admin.device_release(tenant.id, &mac).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// BLF permissions, licences, audit.

/// Who may be monitored by whom.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/blf-grants", tag = "blf", params(Page),
    responses((status = 200, body = Vec<BlfGrant>)))]
async fn blf_grants_list(
    caller: Caller,
    Path(tenant): Path<String>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    page.slice(caller.admin.blf_grants(tenant.id).await?)
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
    caller: Caller,
    Path(tenant): Path<String>,
    Body(body): Body<NewGrant>,
) -> Result<(StatusCode, Json<BlfGrant>), ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let watched = caller.admin.user(tenant.id, &body.watched).await?;
    let watcher = match &body.watcher {
        Some(w) => Some(caller.admin.user(tenant.id, w).await?.id),
        None => None,
    };
    Ok((
        StatusCode::CREATED,
        Json(
            caller
                .admin
                .blf_grant(tenant.id, watched.id, watcher)
                .await?,
        ),
    ))
}

/// Withdraws a grant; monitor-list entries that only it allowed go too.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/blf-grants/{grant}", tag = "blf",
    responses((status = 204), (status = 404, body = Problem)))]
async fn blf_grants_delete(
    caller: Caller,
    Path((tenant, grant)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let id: i64 = grant
        .parse()
        .map_err(|_| Error::not_found("BLF grant", &grant))?;
    caller.admin.blf_revoke(tenant.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's licence pools: total, assigned, available.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/licences", tag = "licences",
    responses((status = 200, body = Vec<LicencePool>)))]
async fn licences_list(
    caller: Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<LicencePool>>, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
    Ok(Json(caller.admin.licence_pools(tenant.id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PoolSize {
    total: i64,
}

/// Sets a pool's size (operator only); never below what is assigned.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/licences/{kind}", tag = "licences",
    request_body = PoolSize,
    responses((status = 200, body = Vec<LicencePool>), (status = 409, body = Problem)))]
async fn licences_set(
    caller: Caller,
    Path((tenant, kind)): Path<(String, String)>,
    Body(body): Body<PoolSize>,
) -> Result<Json<Vec<LicencePool>>, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, PLATFORM)?;
    Ok(Json(
        caller
            .admin
            .licence_pool_set(tenant.id, &kind, body.total)
            .await?,
    ))
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
    limit: Option<i64>,
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
    caller: Caller,
    Path(tenant): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let tenant = visible_tenant(&caller, &tenant).await?;
    require(&caller, ADMINS)?;
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
    require(&caller, PLATFORM)?;
    audit_page(&caller, None, q).await
}
