//! Schedules and group night forwarding (of the tenant, and of a site).

use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::{NightServiceInput, NightStatus, ScheduleInput};
use crate::app::App;
use crate::error::Error;
use crate::model::{Schedule, Site, Tenant};

use super::scope::{segment, Named, Segments};
use super::{listed, Admins, ApiError, Body, Caller, Page, Problem, Query, Scoped};

/// Adds this resource's routes, in the order of the OpenAPI document's paths.
pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router
        .routes(routes!(schedules_list, schedules_create))
        .routes(routes!(schedules_get, schedules_put, schedules_delete))
        .routes(routes!(night_get, night_put))
        .routes(routes!(site_night_get, site_night_put, site_night_delete))
}

impl Named for Schedule {
    async fn find(caller: &Caller, tenant: &Tenant, path: &Segments) -> Result<Self, ApiError> {
        Ok(caller
            .admin
            .schedule(tenant.id, segment(path, "schedule")?)
            .await?)
    }
}

impl Named for Site {
    async fn find(caller: &Caller, tenant: &Tenant, path: &Segments) -> Result<Self, ApiError> {
        Ok(caller
            .admin
            .site(tenant.id, Some(segment(path, "site")?))
            .await?)
    }
}

/// The instant night service is judged at.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
struct At {
    /// An instant (RFC 3339, e.g. `2026-03-28T12:00:00Z`) instead of now.
    at: Option<String>,
}

impl At {
    fn instant(&self) -> Result<jiff::Timestamp, Error> {
        match &self.at {
            None => Ok(jiff::Timestamp::now()),
            Some(text) => text.trim().parse().map_err(|_| {
                Error::invalid(
                    "at",
                    format!("{text:?} is not an instant like 2026-03-28T12:00:00Z"),
                )
            }),
        }
    }
}

/// The tenant's schedules (opening hours and holiday lists), by name.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/schedules", tag = "schedules",
    params(Page), responses((status = 200, body = Vec<Schedule>)))]
async fn schedules_list(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    Ok(listed(
        caller.admin.schedule_page(tenant.id, &page.query()).await?,
    ))
}

/// Adds a schedule: weekly opening hours (no overlapping ranges on a day) or a holiday list.
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/schedules", tag = "schedules",
    request_body = ScheduleInput,
    responses((status = 201, body = Schedule), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn schedules_create(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Body(input): Body<ScheduleInput>,
) -> Result<(StatusCode, Json<Schedule>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(caller.admin.schedule_add(tenant.id, &input).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/schedules/{schedule}", tag = "schedules",
    responses((status = 200, body = Schedule), (status = 404, body = Problem)))]
async fn schedules_get(
    Scoped { item, .. }: Scoped<Admins, Schedule>,
) -> Result<Json<Schedule>, ApiError> {
    Ok(Json(item))
}

/// Replaces a schedule's name and contents (its kind stays).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/schedules/{schedule}", tag = "schedules",
    request_body = ScheduleInput,
    responses((status = 200, body = Schedule), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn schedules_put(
    Scoped {
        caller,
        tenant,
        item,
        ..
    }: Scoped<Admins, Schedule>,
    Body(input): Body<ScheduleInput>,
) -> Result<Json<Schedule>, ApiError> {
    Ok(Json(
        caller.admin.schedule_set(tenant.id, &item, &input).await?,
    ))
}

/// Deletes a schedule no night service uses (409 names the one that does).
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/schedules/{schedule}", tag = "schedules",
    responses((status = 204), (status = 409, body = Problem)))]
async fn schedules_delete(
    Scoped {
        caller,
        tenant,
        item,
        ..
    }: Scoped<Admins, Schedule>,
) -> Result<StatusCode, ApiError> {
    caller.admin.schedule_delete(tenant.id, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's group night forwarding, whether it is in force now and until when (in the
/// default site's zone).
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/night-service", tag = "schedules",
    params(At), responses((status = 200, body = NightStatus)))]
async fn night_get(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Query(at): Query<At>,
) -> Result<Json<NightStatus>, ApiError> {
    let now = at.instant()?;
    Ok(Json(caller.admin.night_status(tenant.id, None, now).await?))
}

/// Sets the tenant's group night forwarding: mode, schedules, target.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/night-service", tag = "schedules",
    request_body = NightServiceInput,
    responses((status = 200, body = NightStatus), (status = 422, body = Problem)))]
async fn night_put(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    Body(input): Body<NightServiceInput>,
) -> Result<Json<NightStatus>, ApiError> {
    let now = jiff::Timestamp::now();
    Ok(Json(
        caller
            .admin
            .night_service_set(tenant.id, None, &input, now)
            .await?,
    ))
}

/// A site's night forwarding (its own, else the tenant's), in force now and until when, in the
/// site's zone.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/sites/{site}/night-service", tag = "schedules",
    params(At), responses((status = 200, body = NightStatus), (status = 404, body = Problem)))]
async fn site_night_get(
    Scoped {
        caller,
        tenant,
        item,
        ..
    }: Scoped<Admins, Site>,
    Query(at): Query<At>,
) -> Result<Json<NightStatus>, ApiError> {
    let now = at.instant()?;
    Ok(Json(
        caller
            .admin
            .night_status(tenant.id, Some(&item), now)
            .await?,
    ))
}

/// Gives a site night forwarding of its own.
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/sites/{site}/night-service", tag = "schedules",
    request_body = NightServiceInput,
    responses((status = 200, body = NightStatus), (status = 422, body = Problem)))]
async fn site_night_put(
    Scoped {
        caller,
        tenant,
        item,
        ..
    }: Scoped<Admins, Site>,
    Body(input): Body<NightServiceInput>,
) -> Result<Json<NightStatus>, ApiError> {
    let now = jiff::Timestamp::now();
    Ok(Json(
        caller
            .admin
            .night_service_set(tenant.id, Some(&item), &input, now)
            .await?,
    ))
}

/// Removes a site's own night forwarding: the tenant's applies to it again.
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/sites/{site}/night-service", tag = "schedules",
    responses((status = 204), (status = 404, body = Problem)))]
async fn site_night_delete(
    Scoped {
        caller,
        tenant,
        item,
        ..
    }: Scoped<Admins, Site>,
) -> Result<StatusCode, ApiError> {
    caller.admin.night_service_clear(tenant.id, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}
