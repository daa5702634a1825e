//! What an admin request leaves in the log: a span with a request id, echoed as
//! `x-request-id`, and for each API request one access line — method, route
//! template, status, actor (token id and role, never the token) and milliseconds. Holds no
//! rules and reads no bodies.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// What the layers inside learn about an API request for its access line: the route template
/// (`route`, once the router matched) and who called (`api::Caller`, once the token checked).
#[derive(Clone, Default)]
pub struct Observed(Arc<Facts>);

#[derive(Default)]
struct Facts {
    route: OnceLock<String>,
    actor: OnceLock<String>,
}

impl Observed {
    /// Records who made the request, as the audit trail names them (`token:3 tenant-admin`).
    pub fn actor(&self, actor: &str) {
        let _ = self.0.actor.set(actor.to_owned());
    }
}

/// A request's id: 16 random hex digits, so the ids of several nodes do not collide. Made by
/// [`admin`] for every request on the admin listener, which runs in its [`span`].
#[derive(Clone, Copy, Debug)]
pub struct RequestId(u64);

impl Default for RequestId {
    fn default() -> RequestId {
        RequestId(rand::random())
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The span an admin request runs in. The phones' listeners make none: their one access line
/// (`http::access`) names the phone, its address and the file, and a span per request cost
/// the cached path more than its whole answer.
fn span(id: RequestId) -> tracing::Span {
    tracing::info_span!("request", id = %id)
}

/// The admin listener: the answer echoes the request id as `x-request-id`, and every request
/// under `/api/` leaves one access line.
pub async fn admin(mut request: Request, next: Next) -> Response {
    use tracing::Instrument as _;
    let started = Instant::now();
    let id = RequestId::default();
    request.extensions_mut().insert(id);
    let observed = Observed::default();
    request.extensions_mut().insert(observed.clone());
    let method = request.method().clone();
    let api = request.uri().path().starts_with("/api/");
    let span = span(id);
    let mut response = next.run(request).instrument(span.clone()).await;
    let _in_span = span.enter();
    if api {
        let facts = &observed.0;
        tracing::info!(
            %method,
            route = facts.route.get().map_or("-", String::as_str),
            status = response.status().as_u16(),
            actor = facts.actor.get().map_or("-", String::as_str),
            ms = crate::model::millis(started.elapsed()),
            "api request"
        );
    }
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Inside the router, on a matched route: its template (`/api/v1/tenants/{tenant}/users`), for
/// the access line — never the path itself, which may hold names.
pub async fn route(request: Request, next: Next) -> Response {
    let extensions = request.extensions();
    if let (Some(observed), Some(matched)) = (
        extensions.get::<Observed>(),
        extensions.get::<MatchedPath>(),
    ) {
        let _ = observed.0.route.set(matched.as_str().to_owned());
    }
    next.run(request).await
}
