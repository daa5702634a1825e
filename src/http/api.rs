//! REST API under `/api/v1` (first slice: tenants and users), with bearer tokens and roles.
//! Errors are `application/problem+json` (RFC 9457), mapped from the crate's errors in one
//! `match`; internal error text never reaches the client. Another tenant's objects answer 404.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::admin::{DeviceInput, LoginResult, NumberInput, SiteInput, UserInput};
use crate::app::App;
use crate::error::Error;
use crate::model::{Device, Number, Principal, Role, Site, Tenant, User};

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/tenants", get(tenants_list).post(tenants_create))
        .route(
            "/api/v1/tenants/{tenant}/users",
            get(users_list).post(users_create),
        )
        .route(
            "/api/v1/tenants/{tenant}/users/{user}/activate",
            post(users_activate),
        )
        .route(
            "/api/v1/tenants/{tenant}/users/{user}/fail",
            post(users_fail),
        )
        .route(
            "/api/v1/tenants/{tenant}/users/{user}/deactivate",
            post(users_deactivate),
        )
        .route(
            "/api/v1/tenants/{tenant}/users/{user}",
            axum::routing::delete(users_delete),
        )
        .route(
            "/api/v1/tenants/{tenant}/sites",
            get(sites_list).post(sites_create),
        )
        .route(
            "/api/v1/tenants/{tenant}/numbers",
            get(numbers_list).post(numbers_create),
        )
        .route(
            "/api/v1/tenants/{tenant}/devices",
            get(devices_list).post(devices_create),
        )
        .route(
            "/api/v1/tenants/{tenant}/devices/{mac}/login",
            post(devices_login),
        )
}

/// An API error, answered as problem+json.
#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    Forbidden,
    App(Error),
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
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "this token's role may not do this".to_owned(),
                None,
            ),
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

/// The caller, from `Authorization: Bearer …`.
pub struct Caller(pub Principal);

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        match app.admin.authenticate(token.trim()).await? {
            Some(principal) => Ok(Caller(principal)),
            None => Err(ApiError::Unauthorized),
        }
    }
}

/// The tenant named in the path, if the caller may see it (else "not found").
async fn visible_tenant(app: &App, caller: &Principal, key: &str) -> Result<Tenant, ApiError> {
    let tenant = app.admin.tenant(key).await?;
    if caller.sees(tenant.id) {
        Ok(tenant)
    } else {
        Err(Error::not_found("tenant", key).into())
    }
}

/// The tenant and the user named in the path, if the caller may see them.
async fn visible_user(
    app: &App,
    caller: &Principal,
    tenant: &str,
    user: &str,
) -> Result<(Tenant, User), ApiError> {
    let tenant = visible_tenant(app, caller, tenant).await?;
    let user = app.admin.user(tenant.id, user).await?;
    Ok((tenant, user))
}

fn require(caller: &Principal, roles: &[Role]) -> Result<(), ApiError> {
    if roles.contains(&caller.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

async fn tenants_list(
    State(app): State<App>,
    Caller(caller): Caller,
) -> Result<Json<Vec<Tenant>>, ApiError> {
    let all = app.admin.tenant_list().await?;
    Ok(Json(
        all.into_iter().filter(|t| caller.sees(t.id)).collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    name: String,
}

async fn tenants_create(
    State(app): State<App>,
    Caller(caller): Caller,
    Json(body): Json<NewTenant>,
) -> Result<(StatusCode, Json<Tenant>), ApiError> {
    require(&caller, &[Role::PlatformAdmin])?;
    Ok((
        StatusCode::CREATED,
        Json(app.admin.tenant_add(&body.name).await?),
    ))
}

async fn users_list(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<User>>, ApiError> {
    let tenant = visible_tenant(&app, &caller, &tenant).await?;
    require(&caller, &[Role::PlatformAdmin, Role::TenantAdmin])?;
    Ok(Json(app.admin.user_list(tenant.id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    first_name: String,
    last_name: String,
    email: Option<String>,
    number: Option<String>,
    extension: Option<String>,
}

async fn users_create(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(tenant): Path<String>,
    Json(body): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let tenant = visible_tenant(&app, &caller, &tenant).await?;
    require(&caller, &[Role::PlatformAdmin, Role::TenantAdmin])?;
    let input = UserInput {
        first_name: body.first_name,
        last_name: body.last_name,
        email: body.email,
        number: body.number,
        extension: body.extension,
    };
    Ok((
        StatusCode::CREATED,
        Json(app.admin.user_add(tenant.id, &input).await?),
    ))
}

async fn users_activate(
    State(app): State<App>,
    Caller(caller): Caller,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<User>, ApiError> {
    let (tenant, user) = visible_user(&app, &caller, &tenant, &user).await?;
    // Activation is the operator's (the portals' "activated by the provider").
    require(&caller, &[Role::PlatformAdmin])?;
    Ok(Json(app.admin.user_activate(tenant.id, user.id).await?))
}

const ADMINS: &[Role] = &[Role::PlatformAdmin, Role::TenantAdmin];

async fn sites_list(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<Site>>, ApiError> {
    let tenant = visible_tenant(&app, &caller, &tenant).await?;
    require(&caller, ADMINS)?;
    Ok(Json(app.admin.site_list(tenant.id).await?))
}

#[derive(Deserialize)]
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

async fn sites_create(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(tenant): Path<String>,
    Json(body): Json<NewSite>,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    let tenant = visible_tenant(&app, &caller, &tenant).await?;
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
        Json(app.admin.site_add(tenant.id, &input).await?),
    ))
}

async fn numbers_list(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<Number>>, ApiError> {
    let tenant = visible_tenant(&app, &caller, &tenant).await?;
    require(&caller, ADMINS)?;
    Ok(Json(app.admin.number_list(tenant.id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewNumber {
    number: String,
    site: Option<String>,
    status: Option<String>,
    #[serde(default)]
    main: bool,
}

/// Allocating numbers to a tenant is the operator's.
async fn numbers_create(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(tenant): Path<String>,
    Json(body): Json<NewNumber>,
) -> Result<(StatusCode, Json<Number>), ApiError> {
    let tenant = visible_tenant(&app, &caller, &tenant).await?;
    require(&caller, &[Role::PlatformAdmin])?;
    let input = NumberInput {
        number: body.number,
        site: body.site,
        status: body.status,
        main: body.main,
    };
    Ok((
        StatusCode::CREATED,
        Json(app.admin.number_add(tenant.id, &input).await?),
    ))
}

async fn devices_list(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<Device>>, ApiError> {
    let tenant = visible_tenant(&app, &caller, &tenant).await?;
    require(&caller, ADMINS)?;
    Ok(Json(app.admin.device_list(tenant.id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDevice {
    mac: String,
    model: String,
    site: Option<String>,
}

async fn devices_create(
    State(app): State<App>,
    Caller(caller): Caller,
    Path(tenant): Path<String>,
    Json(body): Json<NewDevice>,
) -> Result<(StatusCode, Json<Device>), ApiError> {
    let tenant = visible_tenant(&app, &caller, &tenant).await?;
    require(&caller, ADMINS)?;
    let input = DeviceInput {
        mac: body.mac,
        model: body.model,
        site: body.site,
    };
    Ok((
        StatusCode::CREATED,
        Json(app.admin.device_add(tenant.id, &input).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    number: String,
}

async fn devices_login(
    State(app): State<App>,
    Caller(caller): Caller,
    Path((tenant, mac)): Path<(String, String)>,
    Json(body): Json<Login>,
) -> Result<Json<LoginResult>, ApiError> {
    let tenant = visible_tenant(&app, &caller, &tenant).await?;
    require(&caller, ADMINS)?;
    Ok(Json(
        app.admin
            .device_login(tenant.id, &mac, &body.number)
            .await?,
    ))
}

async fn users_fail(
    State(app): State<App>,
    Caller(caller): Caller,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<User>, ApiError> {
    let (tenant, user) = visible_user(&app, &caller, &tenant, &user).await?;
    require(&caller, &[Role::PlatformAdmin])?;
    Ok(Json(app.admin.user_fail(tenant.id, user.id).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Deactivation {
    announcement: Option<String>,
    transfer: Option<String>,
    transfer_mode: Option<String>,
}

async fn users_deactivate(
    State(app): State<App>,
    Caller(caller): Caller,
    Path((tenant, user)): Path<(String, String)>,
    body: Option<Json<Deactivation>>,
) -> Result<Json<User>, ApiError> {
    let (tenant, user) = visible_user(&app, &caller, &tenant, &user).await?;
    require(&caller, ADMINS)?;
    let Json(d) = body.unwrap_or_default();
    Ok(Json(
        app.admin
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

async fn users_delete(
    State(app): State<App>,
    Caller(caller): Caller,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (tenant, user) = visible_user(&app, &caller, &tenant, &user).await?;
    require(&caller, ADMINS)?;
    app.admin.user_delete(tenant.id, user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
