//! The HTTP listener: phone files at `/<file>` and `/<any/prefix>/<file>`, and the operations
//! endpoints (`/healthz`, `/readyz`, `/metrics`). Holds no rules: files come from `provision`.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app::App;
use crate::provision::{FileRequest, Outcome, Protocol};

pub fn router(app: App) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(phone_file)
        .with_state(app)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(app): State<App>) -> Response {
    match app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "store not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "store not reachable\n").into_response()
        }
    }
}

async fn metrics(State(app): State<App>) -> Response {
    let m = &app.provisioner.metrics;
    let mut out = String::new();
    let _ = writeln!(out, "# TYPE autoprov_files_total counter");
    for (outcome, counter) in [
        ("found", &m.found),
        ("not_found", &m.not_found),
        ("unavailable", &m.unavailable),
    ] {
        let _ = writeln!(
            out,
            "autoprov_files_total{{outcome=\"{outcome}\"}} {}",
            counter.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(out, "# TYPE autoprov_renders_total counter");
    let _ = writeln!(
        out,
        "autoprov_renders_total {}",
        m.renders.load(Ordering::Relaxed)
    );
    let _ = writeln!(out, "# TYPE autoprov_render_errors_total counter");
    let _ = writeln!(
        out,
        "autoprov_render_errors_total {}",
        m.render_errors.load(Ordering::Relaxed)
    );
    let _ = writeln!(out, "# TYPE autoprov_store_revision gauge");
    let _ = writeln!(
        out,
        "autoprov_store_revision {}",
        app.store.revisions().global()
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// The one answer for every unknown or refused file: same status, headers and body.
fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain")],
        "not found\n",
    )
        .into_response()
}

async fn phone_file(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        return not_found();
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let request = FileRequest {
        path: uri.path(),
        user_agent,
        protocol: Protocol::Http,
        peer: Some(peer.ip()),
    };
    let served = app.provisioner.serve(&request).await;
    let mac = served.mac.map(|m| m.to_string()).unwrap_or_default();
    let (response, reason) = match served.outcome {
        Outcome::Found(file) => {
            let etag = HeaderValue::from_str(&file.etag).ok();
            let fresh = etag
                .as_ref()
                .is_some_and(|etag| if_none_match(&headers, etag));
            let mut response = if fresh {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                let head = method == axum::http::Method::HEAD;
                let body = if head {
                    Body::empty()
                } else {
                    Body::from(file.body.clone()) // a reference-count bump
                };
                let mut r = Response::new(body);
                if head {
                    // What GET would send, as RFC 9110 asks of HEAD.
                    r.headers_mut()
                        .insert(header::CONTENT_LENGTH, HeaderValue::from(file.body.len()));
                }
                if let Ok(ct) = HeaderValue::from_str(&file.content_type) {
                    r.headers_mut().insert(header::CONTENT_TYPE, ct);
                }
                r
            };
            if let Some(etag) = etag {
                response.headers_mut().insert(header::ETAG, etag);
            }
            // Files carry secrets: no shared cache may keep them; phones revalidate by ETag.
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            );
            (response, "")
        }
        Outcome::NotFound(reason) => (not_found(), reason),
        Outcome::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE.into_response(),
            "store unavailable",
        ),
    };
    tracing::info!(
        mac,
        file = %served.file,
        status = response.status().as_u16(),
        reason,
        peer = %peer.ip(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "served"
    );
    response
}

/// Whether `If-None-Match` names `etag` (or is `*`). Weak and strong forms compare alike, as
/// RFC 9110 asks for `If-None-Match`.
fn if_none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/").as_bytes() == ours)
}
