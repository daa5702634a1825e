//! Users, and what is done to or for one: activation, licences, monitors (BLF), speed dials,
//! device passwords.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{UserAdded, UserInput, UserLogin, UserUpdate};
use crate::app::App;
use crate::error::Error;
use crate::model::{LicenceKind, User, UserId};

use super::{
    listed, Admins, AdminsOrSelf, Anyone, ApiError, Body, Page, Platform, Problem, Query, Scoped,
};

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
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
}

/// The tenant's users; `q` matches names, e-mail, number and extension.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users", tag = "users", params(Page),
    responses((status = 200, body = Vec<User>)))]
async fn users_list(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    Ok(listed(
        caller.admin.user_page(tenant.id, &page.query()).await?,
    ))
}

/// Creates a user, `pending` until the operator activates them. With `handset` (Phone ID or
/// MAC) their number is logged in to it as their desk phone, and the answer's `desk_phone`
/// holds the line's login details, shown this once; a handset of another site, or one
/// someone is logged in to, is refused (409) and adds nobody.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = UserAdded), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn users_create(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Body(input): Body<UserInput>,
) -> Result<(StatusCode, Json<UserAdded>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            caller
                .admin
                .user_add_with_desk_phone(tenant.id, &input)
                .await?,
        ),
    ))
}

/// One user; a user may read themselves.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users/{user}", tag = "users",
    responses((status = 200, body = User), (status = 404, body = Problem)))]
async fn users_get(
    Scoped {
        caller: _,
        item: user,
        ..
    }: Scoped<AdminsOrSelf, User>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(user))
}

/// Changes a user. Admins may change everything (configuration only once the user is
/// active); a user may change their own names, e-mail, app e-mail and their notification and
/// call-waiting options (`SELF_SERVICE_OPTIONS`).
#[utoipa::path(patch, path = "/api/v1/tenants/{tenant}/users/{user}", tag = "users",
    request_body = UserUpdate,
    responses((status = 200, body = User), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn users_update(
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<AdminsOrSelf, User>,
    Body(body): Body<UserUpdate>,
) -> Result<Json<User>, ApiError> {
    if !body.allowed_for(&caller.principal, &user) {
        return Err(ApiError::Forbidden);
    }
    Ok(Json(
        caller.admin.user_update(tenant.id, &user, &body).await?,
    ))
}

/// Deletes an active or deactivated user (409 for a pending one): the number is free at once
/// and logged out of its handset; the user leaves every monitor list. Cannot be undone.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/users/{user}", tag = "users",
    responses((status = 204), (status = 409, body = Problem)))]
async fn users_delete(
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<Admins, User>,
) -> Result<StatusCode, ApiError> {
    caller.admin.user_delete(tenant.id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Activates a pending or failed user (operator only), or reactivates a deactivated one.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users/{user}/activate", tag = "users",
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn users_activate(
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<Anyone, User>,
) -> Result<Json<User>, ApiError> {
    if !crate::admin::may_activate(&caller.principal, &user) {
        return Err(ApiError::Forbidden);
    }
    Ok(Json(caller.admin.user_activate(tenant.id, &user).await?))
}

/// Marks a pending user as failed (operator only).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users/{user}/fail", tag = "users",
    responses((status = 200, body = User), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn users_fail(
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<Platform, User>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(caller.admin.user_fail(tenant.id, &user).await?))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct Deactivation {
    /// What callers hear: at most 200 characters.
    #[schema(max_length = 200)]
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
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<Admins, User>,
    body: Option<Body<Deactivation>>,
) -> Result<Json<User>, ApiError> {
    let d = body.map(|Body(d)| d).unwrap_or_default();
    Ok(Json(
        caller
            .admin
            .user_deactivate(
                tenant.id,
                &user,
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
    /// 1 to 64 characters, not all digits.
    #[schema(min_length = 1, max_length = 64)]
    login: String,
}

/// The app platform reports the user's registration (operator only): the registration e-mail
/// is fixed from now on and the login name is shown.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users/{user}/app-registration", tag = "users",
    request_body = AppRegistration, responses((status = 200, body = User), (status = 409, body = Problem)))]
async fn users_app_registration(
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<Platform, User>,
    Body(body): Body<AppRegistration>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        caller
            .admin
            .user_app_registered(tenant.id, &user, &body.login)
            .await?,
    ))
}

/// The licences the user holds.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users/{user}/licences", tag = "users",
    responses((status = 200, body = Vec<LicenceKind>)))]
async fn users_licences_get(
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<AdminsOrSelf, User>,
) -> Result<Json<Vec<LicenceKind>>, ApiError> {
    Ok(Json(caller.admin.user_licences(tenant.id, &user).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Licences {
    /// Exactly the licences the user should hold: `app`, `conference-room` (MyRoom: needs a
    /// Collaborate bridge), `e-fax`.
    licences: Vec<String>,
    /// With e-fax: the fax number (E.164) from the available numbers; default the user's, else
    /// the first available.
    fax_number: Option<String>,
}

/// Sets the licences the user holds; new ones come from the tenant's pools (409 when empty).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/users/{user}/licences", tag = "users",
    request_body = Licences, responses((status = 200, body = Vec<LicenceKind>), (status = 409, body = Problem)))]
async fn users_licences_set(
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<Admins, User>,
    Body(body): Body<Licences>,
) -> Result<Json<Vec<LicenceKind>>, ApiError> {
    Ok(Json(
        caller
            .admin
            .user_licences_set(tenant.id, &user, &body.licences, body.fax_number.as_deref())
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
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<AdminsOrSelf, User>,
) -> Result<Json<Vec<Colleague>>, ApiError> {
    let list = caller.admin.monitor_list(tenant.id, &user).await?;
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
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<AdminsOrSelf, User>,
    Body(body): Body<Watch>,
) -> Result<Json<Vec<Colleague>>, ApiError> {
    let watched = caller.admin.user(tenant.id, &body.user).await?;
    caller.admin.monitor_add(tenant.id, &user, &watched).await?;
    let list = caller.admin.monitor_list(tenant.id, &user).await?;
    Ok(Json(colleagues(list)))
}

/// Removes a user from the monitor list.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/users/{user}/monitors/{watched}", tag = "blf",
    responses((status = 204), (status = 404, body = Problem)))]
async fn users_monitors_remove(
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<AdminsOrSelf, User>,
    Path((_tenant, _user, watched)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
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
    #[schema(min_length = 1, max_length = 32)]
    label: String,
    /// `+` and digits, or digits with `*` and `#`.
    target: String,
}

/// The user's speed dials, in key order (after the BLF keys); a user may read their own.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/users/{user}/speed-dials", tag = "users",
    responses((status = 200, body = Vec<SpeedDial>), (status = 404, body = Problem)))]
async fn users_speed_dials_get(
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<AdminsOrSelf, User>,
) -> Result<Json<Vec<SpeedDial>>, ApiError> {
    let dials = caller.admin.speed_dials(tenant.id, &user).await?;
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
    Scoped {
        caller,
        tenant,
        item: user,
        ..
    }: Scoped<AdminsOrSelf, User>,
    Body(body): Body<Vec<SpeedDial>>,
) -> Result<Json<Vec<SpeedDial>>, ApiError> {
    let dials: Vec<(String, String)> = body.into_iter().map(|d| (d.label, d.target)).collect();
    caller
        .admin
        .speed_dials_set(tenant.id, &user, &dials)
        .await?;
    let dials = caller.admin.speed_dials(tenant.id, &user).await?;
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
    #[schema(min_length = 8, max_length = 64)]
    password: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Format {
    /// `csv` for a CSV file instead of JSON.
    format: Option<String>,
}

/// New desk-phone passwords for several users at once, shown this once; `?format=csv` exports
/// them as CSV.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/users/device-passwords", tag = "users",
    request_body = DevicePasswords, params(Format),
    responses((status = 200, body = Vec<UserLogin>, description = "JSON, or text/csv with ?format=csv")))]
async fn users_device_passwords(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(format): Query<Format>,
    Body(body): Body<DevicePasswords>,
) -> Result<Response, ApiError> {
    let rows = caller
        .admin
        .users_device_passwords(tenant.id, body.users.as_deref(), body.password.as_deref())
        .await?;
    match format.format.as_deref() {
        None | Some("json") => Ok(Json(rows).into_response()),
        Some("csv") => {
            let csv = crate::admin::login_details_csv(&rows)?;
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
