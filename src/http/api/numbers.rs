//! Numbers.

use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{LoginDetails, LoginTarget, NumberInput, NumberQuery};
use crate::app::App;
use crate::error::Error;
use crate::model::{Number, NumberView, Role};

use super::{
    listed, require_admin_or_holder, Admins, AdminsOrHolder, ApiError, Body, Page, Platform,
    Problem, Query, Scoped, Users,
};

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(numbers_list, numbers_create))
        .routes(routes!(numbers_available))
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
        .routes(routes!(numbers_release))
}

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
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(filter): Query<NumberFilter>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    let numbers = NumberQuery { site: filter.site };
    let query = page.query();
    Ok(listed(
        caller
            .admin
            .number_views(tenant.id, &numbers, &query)
            .await?,
    ))
}

/// The tenant's available numbers, by number: active, not a site's main number, nobody's (no
/// user's line or e-fax, no hunt group's, call centre's or bridge's). A group, a bridge or an
/// e-fax licence takes one of these.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/numbers/available", tag = "numbers",
    responses((status = 200, body = Vec<Number>)))]
async fn numbers_available(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
) -> Result<Response, ApiError> {
    let items = caller.admin.numbers_available(tenant.id).await?;
    let total = items.len() as u64;
    Ok(listed(crate::model::Listed { items, total }))
}

/// Allocates a number to the tenant at a site (operator only); `reserved` unless said.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers", tag = "numbers",
    request_body = NumberInput, responses((status = 201, body = Number), (status = 403, body = Problem)))]
async fn numbers_create(
    Scoped { caller, tenant, .. }: Scoped<Platform>,
    Body(input): Body<NumberInput>,
) -> Result<(StatusCode, Json<Number>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.number_add(tenant.id, &input).await?),
    ))
}

/// One number (by id or E.164), with its features; a user may read their own.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/numbers/{number}", tag = "numbers",
    responses((status = 200, body = Number), (status = 404, body = Problem)))]
async fn numbers_get(
    Scoped { item: number, .. }: Scoped<AdminsOrHolder, Number>,
) -> Result<Json<Number>, ApiError> {
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
    Scoped {
        caller,
        tenant,
        item: number,
        ..
    }: Scoped<Platform, Number>,
    Body(body): Body<StatusChange>,
) -> Result<Json<Number>, ApiError> {
    Ok(Json(
        caller
            .admin
            .number_set_status(tenant.id, &number, &body.status)
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
    Scoped {
        caller,
        tenant,
        item: number,
        ..
    }: Scoped<Admins, Number>,
    Body(body): Body<Assign>,
) -> Result<Json<Number>, ApiError> {
    let user = caller.admin.user(tenant.id, &body.user).await?;
    Ok(Json(
        caller
            .admin
            .number_assign(tenant.id, &number, &user)
            .await?,
    ))
}

/// Takes the number back from its user.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/unassign", tag = "numbers",
    responses((status = 200, body = Number), (status = 409, body = Problem)))]
async fn numbers_unassign(
    Scoped {
        caller,
        tenant,
        item: number,
        ..
    }: Scoped<Admins, Number>,
) -> Result<Json<Number>, ApiError> {
    Ok(Json(
        caller.admin.number_unassign(tenant.id, &number).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Label {
    /// At most 64 characters; empty clears.
    #[schema(max_length = 64)]
    first: Option<String>,
    #[schema(max_length = 64)]
    last: Option<String>,
}

/// Sets the two-part display name (both empty: clears it); it overrides the user's name on the
/// phone and in lists, without changing the assignment.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/numbers/{number}/label", tag = "numbers",
    request_body = Label, responses((status = 200, body = Number), (status = 422, body = Problem)))]
async fn numbers_label(
    Scoped {
        caller,
        tenant,
        item: number,
        ..
    }: Scoped<Admins, Number>,
    Body(body): Body<Label>,
) -> Result<Json<Number>, ApiError> {
    Ok(Json(
        caller
            .admin
            .number_label(
                tenant.id,
                &number,
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
    Scoped {
        caller,
        tenant,
        item: number,
        ..
    }: Scoped<AdminsOrHolder, Number>,
    Body(body): Body<serde_json::Value>,
) -> Result<Json<Number>, ApiError> {
    let number = match (caller.principal.role, caller.principal.user) {
        // Self-service: the user's own rule for what their calls may show.
        (Role::User, Some(user)) => {
            caller
                .admin
                .number_features_by_user(tenant.id, user, &number, &body)
                .await?
        }
        (Role::User, None) => return Err(ApiError::Forbidden),
        _ => {
            caller
                .admin
                .number_features(tenant.id, &number, &body)
                .await?
        }
    };
    Ok(Json(number))
}

/// Sets the PIN back to the number's default PIN and unlocks it.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/reset-pin", tag = "numbers",
    responses((status = 200, body = Number)))]
async fn numbers_reset_pin(
    Scoped {
        caller,
        tenant,
        item: number,
        ..
    }: Scoped<Admins, Number>,
) -> Result<Json<Number>, ApiError> {
    Ok(Json(
        caller.admin.number_reset_pin(tenant.id, &number).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Pin {
    /// 4 to 8 digits.
    #[schema(min_length = 4, max_length = 8)]
    pin: String,
}

/// The user sets their own PIN (4–8 digits; stored hashed, never shown). Only the number's user.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/numbers/{number}/pin", tag = "numbers",
    request_body = Pin,
    responses((status = 200, body = Number), (status = 403, body = Problem), (status = 423, body = Problem)))]
async fn numbers_set_pin(
    Scoped {
        caller,
        tenant,
        item: number,
        ..
    }: Scoped<Users, Number>,
    Body(body): Body<Pin>,
) -> Result<Json<Number>, ApiError> {
    require_admin_or_holder(&caller, &tenant, &number).await?;
    Ok(Json(
        caller
            .admin
            .number_set_pin(tenant.id, &number, &body.pin)
            .await?,
    ))
}

/// Checks a PIN: 204 when right, 422 when wrong (with the attempts left), 423 once three wrong
/// PINs in a row have locked it.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/verify-pin", tag = "numbers",
    request_body = Pin,
    responses((status = 204), (status = 422, body = Problem), (status = 423, body = Problem)))]
async fn numbers_verify_pin(
    Scoped {
        caller,
        item: number,
        ..
    }: Scoped<AdminsOrHolder, Number>,
    Body(body): Body<Pin>,
) -> Result<StatusCode, ApiError> {
    caller.admin.number_verify_pin(&number, &body.pin).await?;
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
    Scoped {
        caller,
        tenant,
        item: number,
        ..
    }: Scoped<Admins, Number>,
    Body(body): Body<HandsetLogin>,
) -> Result<Json<LoginDetails>, ApiError> {
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
            .number_login(tenant.id, &number, &target)
            .await?,
    ))
}

/// Logs the number out of its handset.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/logout", tag = "numbers",
    responses((status = 200, body = Number), (status = 409, body = Problem)))]
async fn numbers_logout(
    Scoped {
        caller,
        tenant,
        item: number,
        ..
    }: Scoped<Admins, Number>,
) -> Result<Json<Number>, ApiError> {
    Ok(Json(caller.admin.number_logout(tenant.id, &number).await?))
}

/// New login details for the number's line, shown this once; the phone gets them next fetch.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/login-details", tag = "numbers",
    responses((status = 200, body = LoginDetails), (status = 409, body = Problem)))]
async fn numbers_login_details(
    Scoped {
        caller,
        tenant,
        item: number,
        ..
    }: Scoped<Admins, Number>,
) -> Result<Json<LoginDetails>, ApiError> {
    Ok(Json(
        caller
            .admin
            .number_new_login_details(tenant.id, &number)
            .await?,
    ))
}

/// Gives the number back to the operator (operator only): it leaves the tenant. Refused (409)
/// while a user, a handset or someone's caller ID uses it, saying which.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/numbers/{number}/release", tag = "numbers",
    responses((status = 204), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn numbers_release(
    Scoped {
        caller,
        tenant,
        item: number,
        ..
    }: Scoped<Platform, Number>,
) -> Result<StatusCode, ApiError> {
    caller.admin.number_release(tenant.id, &number).await?;
    Ok(StatusCode::NO_CONTENT)
}
