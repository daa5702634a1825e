//! The password change: forced at the first login (004) and after a reset, or by choice.

use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::super::{redirect_with, AnySession, Form, UiError, View};
use crate::app::App;
use crate::error::Error;

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "password/password.html",
    include_str!("../templates/password/password.html"),
)];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router.route("/password", get(show).post(submit))
}

async fn show(view: View, session: AnySession) -> Response {
    view.render(
        Some(&session),
        "password/password.html",
        minijinja::context! { errors => minijinja::context! {} },
    )
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn submit(view: View, form: Form<Change>) -> Result<Response, UiError> {
    let Form { session, fields } = form;
    let result = if fields.password != fields.confirm {
        Err(Error::invalid("confirm", "the two new passwords differ"))
    } else {
        session
            .caller
            .admin
            .portal_password_change(&session.session, &fields.current, &fields.password)
            .await
    };
    match result {
        Ok(()) => Ok(redirect_with("/", "password.changed")),
        Err(Error::Invalid(f)) => {
            let errors = std::collections::BTreeMap::from([(f.field.into_owned(), f.message)]);
            let mut response = view.render(
                Some(&session),
                "password/password.html",
                minijinja::context! { errors => errors },
            );
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}
