//! Login (by login name or e-mail and password), the language switch and logout.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;

use super::super::{lang_cookie, local_path, session_cookie, Form, Lang, UiError, View};
use crate::admin::portal::Login;
use crate::app::App;
use crate::http::Conn;

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "login/login.html",
    include_str!("../templates/login/login.html"),
)];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/login", get(show).post(submit))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(switch))
}

async fn show(view: View) -> Response {
    view.render(
        None,
        "login/login.html",
        minijinja::context! { login => "" },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

async fn submit(
    State(app): State<App>,
    conn: Option<Extension<Conn>>,
    view: View,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Result<Response, UiError> {
    if from_another_site(&headers) {
        return Err(UiError::Forbidden);
    }
    let peer = conn.map(|Extension(c)| c.peer.ip());
    let error = match app
        .admin
        .portal_login(&form.login, &form.password, peer)
        .await?
    {
        Login::Yes { session, account } => {
            let to = if account.must_change {
                "/password"
            } else {
                "/"
            };
            let mut response = Redirect::to(to).into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, session_cookie(session.expose()));
            return Ok(response);
        }
        Login::No => (StatusCode::UNAUTHORIZED, "wrong", 0),
        Login::Throttled(secs) => (StatusCode::TOO_MANY_REQUESTS, "throttled", secs),
    };
    let (status, key, secs) = error;
    let mut response = view.render(
        None,
        "login/login.html",
        minijinja::context! { login => form.login, error => key, secs => secs },
    );
    *response.status_mut() = status;
    Ok(response)
}

/// Whether the login was posted from another site's page: there is no session (and so no CSRF
/// token) yet, and such a form would log the victim in to the attacker's account. Browsers name
/// the posting page's origin on every POST; its host must be the one asked (a client that sends
/// no `Origin`, such as a script, is not a browser being misled).
fn from_another_site(headers: &axum::http::HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    match (origin_host, host) {
        (Some(origin), Some(host)) => !origin.eq_ignore_ascii_case(host),
        _ => true, // `Origin: null` (a sandboxed or local page), or no host to compare with
    }
}

#[derive(Deserialize)]
struct Nothing {}

async fn logout(form: Form<Nothing>) -> Result<Response, UiError> {
    form.session
        .caller
        .admin
        .portal_logout(&form.session.session)
        .await?;
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie(""));
    Ok(response)
}

#[derive(Deserialize)]
struct Back {
    back: Option<String>,
}

/// `/lang/de?back=/t/1/users`: the language cookie set, back to the page (ours only).
async fn switch(Path(code): Path<String>, Query(back): Query<Back>) -> Response {
    let Some(lang) = Lang::parse(&code) else {
        return UiError::NotFound.into_response();
    };
    let mut response = Redirect::to(local_path(back.back.as_deref())).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, lang_cookie(lang));
    response
}
