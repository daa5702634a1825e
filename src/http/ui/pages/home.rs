//! The home page, per role: the operator's tenants, a tenant admin's shortcuts; a user goes
//! straight to "My profile".

use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use super::super::{Session, UiError, View};
use crate::app::App;
use crate::model::Role;

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "home/home.html",
    include_str!("../templates/home/home.html"),
)];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router.route("/", get(show))
}

async fn show(view: View, session: Session) -> Result<Response, UiError> {
    let principal = &session.caller().principal;
    let tenants = match (principal.role, principal.tenant) {
        (Role::User, Some(t)) => return Ok(Redirect::to(&format!("/t/{}/me", t.0)).into_response()),
        (Role::PlatformAdmin, _) => session.caller().admin.tenant_list().await?,
        (_, Some(t)) => vec![session.caller().admin.store().tenant_get(t).await?],
        (_, None) => Vec::new(),
    };
    let tenants: Vec<_> = tenants
        .iter()
        .map(|t| minijinja::context! { id => t.id.0, name => t.name })
        .collect();
    Ok(view.render(
        Some(&session.0),
        "home/home.html",
        minijinja::context! { tenants => tenants },
    ))
}
