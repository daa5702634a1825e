//! The web portal (issue 14): server-rendered pages on the admin listener under `/`, beside
//! `/api/`. Holds no rule: a page finds what its path names, calls one `admin` operation as the
//! session's `Caller` (the identity the API's tokens give) and renders a template.
//!
//! This file holds what every page shares: the extractors (`Session` — logged in, password
//! changed —, `AnySession`, `TenantPage` — the `{tenant}` of the path resolved through the
//! same scoping as the API, another tenant's is 404 —, `Form` — a POST body whose CSRF field
//! is checked against the session's —, `Lang`), the error pages (`UiError`, mapped in one
//! `match`), and `render`. `pages/mod.rs` lists the pages (one line each) and the nav;
//! `templates.rs` the template registry and the catalogues (`i18n/<lang>/<page>.toml`).

mod pages;
mod templates;

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::admin::portal::PortalSession;
use crate::app::App;
use crate::error::Error;
use crate::http::api::Caller;
use crate::model::{constant_time_eq, Role, Tenant};

pub use templates::{Lang, LANGS};

/// The session cookie: `__Host-` so a browser takes it only from HTTPS, for `/`, no domain.
pub const SESSION_COOKIE: &str = "__Host-autoprov";
/// The language chosen with the switch.
const LANG_COOKIE: &str = "autoprov-lang";
/// A message for the next page (a catalogue key, never text).
const FLASH_COOKIE: &str = "autoprov-flash";

/// The portal's routes, with its security headers and error pages.
pub fn router() -> Router<App> {
    pages::routes(Router::new())
        .layer(axum::middleware::from_fn(error_pages))
        .layer(axum::middleware::from_fn(headers))
}

/// A cookie's value from the request.
fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

// ---------------------------------------------------------------------------------------------
// Errors.

/// Why a page is not shown; each has its answer in `UiError::answer`.
#[derive(Debug)]
pub enum UiError {
    /// No live session: to the login page.
    LoggedOut,
    /// The password must be changed first (004).
    MustChange,
    /// A POST without the session's CSRF token.
    Csrf,
    /// The session's role may not see this page.
    Forbidden,
    NotFound,
    App(Error),
}

impl From<Error> for UiError {
    fn from(e: Error) -> Self {
        UiError::App(e)
    }
}

/// An error page to render, left on the response for `error_pages` (which knows the language).
#[derive(Clone, Copy, Debug)]
struct ErrorPage(&'static str);

impl UiError {
    /// The status and the catalogue key of the page, or a redirect.
    fn answer(self) -> Result<(StatusCode, &'static str), &'static str> {
        match self {
            UiError::LoggedOut => Err("/login"),
            UiError::MustChange => Err("/password"),
            UiError::Csrf => Ok((StatusCode::FORBIDDEN, "csrf")),
            UiError::Forbidden => Ok((StatusCode::FORBIDDEN, "forbidden")),
            UiError::NotFound => Ok((StatusCode::NOT_FOUND, "not_found")),
            UiError::App(e) => match e {
                Error::NotFound { .. } => Ok((StatusCode::NOT_FOUND, "not_found")),
                Error::Invalid(_) | Error::Rows(_) => {
                    Ok((StatusCode::UNPROCESSABLE_ENTITY, "invalid"))
                }
                Error::Conflict { .. } => Ok((StatusCode::CONFLICT, "conflict")),
                Error::Locked { .. } => Ok((StatusCode::LOCKED, "conflict")),
                Error::Template { .. }
                | Error::Config(_)
                | Error::Store { .. }
                | Error::Hashing { .. }
                | Error::Csv(_)
                | Error::Json { .. }
                | Error::Io(_) => {
                    tracing::error!(error = %e, "portal request failed");
                    Ok((StatusCode::INTERNAL_SERVER_ERROR, "internal"))
                }
            },
        }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self.answer() {
            Err(to) => Redirect::to(to).into_response(),
            Ok((status, key)) => {
                let mut response = status.into_response();
                response.extensions_mut().insert(ErrorPage(key));
                response
            }
        }
    }
}

/// Renders the error page a handler or extractor left on its response, in the request's
/// language.
async fn error_pages(req: Request, next: Next) -> Response {
    let lang = Lang::of(req.headers());
    let response = next.run(req).await;
    match response.extensions().get::<ErrorPage>().copied() {
        Some(ErrorPage(key)) => {
            let status = response.status();
            let vars = minijinja::context! { error => key };
            let mut page = templates::render_plain(lang, "common/error.html", vars);
            *page.status_mut() = status;
            page
        }
        None => response,
    }
}

/// Every portal answer: no caching, no framing, scripts and styles only our own.
async fn headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

// ---------------------------------------------------------------------------------------------
// Sessions.

/// A live session, whether or not its password must still be changed (the password page and
/// logout take this; every other page takes `Session`).
pub struct AnySession {
    pub session: PortalSession,
    pub caller: Caller,
}

impl FromRequestParts<App> for AnySession {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let id = cookie(parts, SESSION_COOKIE).ok_or(UiError::LoggedOut)?;
        let session = app
            .admin
            .portal_session(id, app.settings.portal_sessions)
            .await?
            .ok_or(UiError::LoggedOut)?;
        let actor = session.actor();
        if let Some(observed) = parts.extensions.get::<super::observe::Observed>() {
            observed.actor(&actor);
        }
        Ok(AnySession {
            caller: Caller {
                principal: session.principal(),
                admin: app.admin.acting(&actor),
            },
            session,
        })
    }
}

/// A live session whose password has been changed since it was set by an operator.
pub struct Session(pub AnySession);

impl Session {
    pub fn caller(&self) -> &Caller {
        &self.0.caller
    }

    pub fn role(&self) -> Role {
        self.0.caller.principal.role
    }

    /// The session's role is one of `roles` (else 403).
    pub fn require(&self, roles: &[Role]) -> Result<(), UiError> {
        if roles.contains(&self.role()) {
            Ok(())
        } else {
            Err(UiError::Forbidden)
        }
    }
}

impl FromRequestParts<App> for Session {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let any = AnySession::from_request_parts(parts, app).await?;
        if any.session.account.must_change {
            return Err(UiError::MustChange);
        }
        Ok(Session(any))
    }
}

/// A page inside the `{tenant}` of the path: the tenant resolved by id or name, visible to the
/// session's role as in the API (another tenant's is 404, as if it did not exist).
pub struct TenantPage {
    pub session: Session,
    pub tenant: Tenant,
}

impl FromRequestParts<App> for TenantPage {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, app).await?;
        let Path(path) = Path::<HashMap<String, String>>::from_request_parts(parts, app)
            .await
            .map_err(|_| UiError::NotFound)?;
        let key = path.get("tenant").ok_or(UiError::NotFound)?;
        let tenant = match session.caller().admin.tenant(key).await {
            Ok(t) => t,
            Err(Error::NotFound { .. } | Error::Invalid(_)) => return Err(UiError::NotFound),
            Err(e) => return Err(e.into()),
        };
        if !session.caller().principal.sees(tenant.id) {
            return Err(UiError::NotFound);
        }
        Ok(TenantPage { session, tenant })
    }
}

// ---------------------------------------------------------------------------------------------
// Forms.

/// A POST form body of a session: its `csrf` field must be the session's token (else 403 and
/// nothing done), then the rest is `T` (a field that does not parse is a 400 page).
pub struct Form<T> {
    pub session: AnySession,
    pub fields: T,
}

#[derive(Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

impl<T: DeserializeOwned> FromRequest<App> for Form<T> {
    type Rejection = UiError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = AnySession::from_request_parts(&mut parts, app).await?;
        let bytes = axum::body::to_bytes(body, 64 * 1024)
            .await
            .map_err(|_| Error::invalid("form", "the form is too large"))?;
        let csrf: CsrfField = serde_urlencoded::from_bytes(&bytes).map_err(|_| UiError::Csrf)?;
        let given = csrf.csrf.unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), session.session.csrf.as_bytes()) {
            return Err(UiError::Csrf);
        }
        let fields = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| Error::invalid("form", e.to_string()))?;
        Ok(Form { session, fields })
    }
}

// ---------------------------------------------------------------------------------------------
// Answers.

/// The links to the previous and next page of a list shown `size` rows at a time from
/// `offset` of `total`: `base` with `offset` and the list's own `query` pairs (its search, its
/// site), URL-encoded (the template escapes the whole address for HTML).
pub fn page_links(
    base: &str,
    query: &[(&str, String)],
    offset: u32,
    size: u32,
    total: u64,
) -> (Option<String>, Option<String>) {
    let link = |offset: u32| {
        let mut pairs = vec![("offset", offset.to_string())];
        pairs.extend(query.iter().cloned());
        format!(
            "{base}?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    let prev = (offset > 0).then(|| link(offset.saturating_sub(size)));
    let next = (u64::from(offset) + u64::from(size) < total).then(|| link(offset + size));
    (prev, next)
}

/// A redirect that leaves `flash` (a catalogue key such as `users.added`) for the next page.
pub fn redirect_with(to: &str, flash: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{FLASH_COOKIE}={flash}; HttpOnly; Secure; SameSite=Strict; Path=/"
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// What every page's template gets besides its own variables: the language, the catalogue,
/// the session's login, role, CSRF token and nav, the flash message and the path (for the
/// language switch).
pub struct View {
    pub lang: Lang,
    flash: Option<String>,
    path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for View {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(View {
            lang: Lang::of(&parts.headers),
            flash: cookie(parts, FLASH_COOKIE).map(str::to_owned),
            path: parts
                .uri
                .path_and_query()
                .map_or("/".to_owned(), |p| p.as_str().to_owned()),
        })
    }
}

impl View {
    /// Renders `template` with `vars`, for `session` if logged in.
    pub fn render(
        &self,
        session: Option<&AnySession>,
        template: &str,
        vars: minijinja::Value,
    ) -> Response {
        let nav = session.map(|s| pages::nav(&s.caller.principal, &s.session));
        let me = session.map(|s| {
            minijinja::context! {
                login => s.session.account.login,
                role => s.session.account.role.as_str(),
                csrf => s.session.csrf,
                must_change => s.session.account.must_change,
            }
        });
        let flash = self
            .flash
            .as_deref()
            .and_then(|key| templates::text(self.lang, key));
        let vars = minijinja::context! {
            me => me,
            nav => nav,
            flash => flash,
            path => self.path,
            ..vars
        };
        let mut response = templates::render(self.lang, template, vars);
        if self.flash.is_some() {
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{FLASH_COOKIE}=; Max-Age=0; HttpOnly; Secure; SameSite=Strict; Path=/"
            )) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        response
    }
}

/// The session cookie's `Set-Cookie` value for `id` (empty: the cookie removed).
pub fn session_cookie(id: &str) -> HeaderValue {
    let value = if id.is_empty() {
        format!("{SESSION_COOKIE}=; Max-Age=0; HttpOnly; Secure; SameSite=Strict; Path=/")
    } else {
        format!("{SESSION_COOKIE}={id}; HttpOnly; Secure; SameSite=Strict; Path=/")
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

/// The language switch's cookie.
fn lang_cookie(lang: Lang) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; Max-Age=31536000; Secure; SameSite=Strict; Path=/",
        lang.code()
    ))
    .unwrap_or(HeaderValue::from_static(""))
}

/// A `back` address of our own: a path, never another site (`//host`, `/\host`).
fn local_path(back: Option<&str>) -> &str {
    match back {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') => b,
        _ => "/",
    }
}
