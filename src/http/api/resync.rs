//! Telling a handset to fetch its files again now (SIP NOTIFY check-sync, the PBX's hook).

use axum::extract::{Path, State};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::App;
use crate::sip::resync::Resynced;

use super::{Admins, ApiError, Problem, Scoped};

pub(super) fn routes(router: OpenApiRouter<App>) -> OpenApiRouter<App> {
    router.routes(routes!(devices_resync))
}

/// Sends the handset (MAC or Phone ID) its family's NOTIFY (`check-sync`, Cisco MPP's
/// `resync`) at the address it last fetched from, and runs `resync.hook` when one is set. The
/// answer says what was sent and whether the phone answered; a handset never seen gets no
/// NOTIFY (`notify_sent: false`).
#[utoipa::path(post, path = "/api/v1/tenants/{tenant}/devices/{device}/resync", tag = "devices",
    responses((status = 200, body = Resynced), (status = 404, body = Problem)))]
async fn devices_resync(
    Scoped { caller, tenant, .. }: Scoped<Admins>,
    State(app): State<App>,
    Path((_tenant, device)): Path<(String, String)>,
) -> Result<Json<Resynced>, ApiError> {
    let device = caller.admin.handset(tenant.id, &device).await?;
    Ok(Json(crate::sip::resync::device(&app, &device).await?))
}
