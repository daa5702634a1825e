//! "My profile": a user's own page (a stub for now: who is logged in; the own number's
//! features, PIN and monitor list are the next pages' work).

use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::super::{TenantPage, UiError, View};
use crate::app::App;
use crate::model::Role;

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "profile/profile.html",
    include_str!("../templates/profile/profile.html"),
)];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router.route("/t/{tenant}/me", get(show))
}

async fn show(view: View, page: TenantPage) -> Result<Response, UiError> {
    page.session.require(&[Role::User])?;
    let me = page
        .session
        .caller()
        .principal
        .user
        .ok_or(UiError::Forbidden)?;
    let user = page
        .session
        .caller()
        .admin
        .store()
        .user_get(page.tenant.id, me)
        .await?;
    Ok(view.render(
        Some(&page.session.0),
        "profile/profile.html",
        minijinja::context! {
            first_name => user.first_name.as_str(),
            last_name => user.last_name.as_str(),
            email => user.email,
            number => user.number.map(|n| n.to_string()),
            extension => user.extension,
        },
    ))
}
