//! The HTTP and HTTPS listeners: phone files at `/<file>` and `/<any/prefix>/<file>`, static
//! files, the local CA certificate, and the operations endpoints (`/healthz`, `/readyz`,
//! `/metrics`). Holds no rules: files come from `provision`.
//!
//! Connections are accepted by our own loop (`serve`), not `axum::serve`, so TLS client
//! certificates reach the handler (as `Conn`) and request limits (header size, header and
//! handshake timeouts) are set on hyper.

pub mod access;
pub mod api;
pub mod observe;
mod service;
pub mod tls;
pub mod ui;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Extension, FromRef, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;

use crate::app::App;
use crate::model::Mac;
use crate::provision::{FileRequest, Outcome, Protocol, RenderedFile, StaticContent, StaticFile};

/// What the accept loop knows about a connection, handed to every request on it.
#[derive(Clone, Debug)]
pub struct Conn {
    pub peer: SocketAddr,
    pub tls: bool,
    /// The MAC of a client certificate that chained to a vendor CA.
    pub client_mac: Option<Mac>,
}

/// What a listener serves: its router and, on the phones' listeners, the app whose files a
/// request for no route of the router is served from directly. A phone's file is the request
/// that must cost least, so it skips axum's routing, extractors and request extensions.
pub struct Front {
    router: Router,
    phones: Option<Arc<App>>,
}

/// Request limits.
const MAX_HEADER_BYTES: usize = 16 * 1024;
const MAX_TARGET: usize = 1024;
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Accepts connections on `listener` until `shutdown`, with TLS when `tls` is given; each
/// connection runs on `tracker`. A failed accept or handshake never stops the loop.
pub async fn serve(
    listener: tokio::net::TcpListener,
    front: Front,
    tls: Option<std::sync::Arc<tls::TlsState>>,
    shutdown: tokio_util::sync::CancellationToken,
    tracker: tokio_util::task::TaskTracker,
) {
    let front = Arc::new(front);
    let mut backoff = std::time::Duration::from_millis(5);
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => {
                    backoff = std::time::Duration::from_millis(5);
                    a
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, then go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(std::time::Duration::from_secs(1));
                    continue;
                }
            },
        };
        let front = front.clone();
        let tls = tls.clone();
        let stop = shutdown.clone();
        tracker.spawn(async move {
            let _ = stream.set_nodelay(true);
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = connection(stream, peer, front, tls) => {}
            }
        });
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    front: Arc<Front>,
    tls: Option<std::sync::Arc<tls::TlsState>>,
) {
    match tls {
        None => {
            let conn = Conn {
                peer,
                tls: false,
                client_mac: None,
            };
            http1(hyper_util::rt::TokioIo::new(stream), front, conn).await;
        }
        Some(tls) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.config());
            let stream =
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
            let client_mac = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(|cert| tls::client_mac(cert.as_ref()));
            let conn = Conn {
                peer,
                tls: true,
                client_mac,
            };
            http1(hyper_util::rt::TokioIo::new(stream), front, conn).await;
        }
    }
}

async fn http1<I>(io: I, front: Arc<Front>, conn: Conn)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    use tower::ServiceExt as _;
    let peer = conn.peer;
    let service = hyper::service::service_fn(
        move |mut request: axum::http::Request<hyper::body::Incoming>| {
            let (front, conn) = (front.clone(), conn.clone());
            async move {
                match &front.phones {
                    Some(app) if !routed(request.uri().path()) => {
                        let (method, uri, headers) =
                            (request.method(), request.uri(), request.headers());
                        Ok(phone_file(app, &conn, method, uri, headers).await)
                    }
                    _ => {
                        request.extensions_mut().insert(conn);
                        front.router.clone().oneshot(request.map(Body::new)).await
                    }
                }
            }
        },
    );
    let served = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEADER_BYTES)
        .serve_connection(io, service)
        .await;
    if let Err(e) = served {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// The phone router's state: axum clones it for every request, and a phone's file is the
/// request that must cost least, so it is one reference count, not `App`'s dozen.
#[derive(Clone)]
struct Phones(Arc<App>);

impl FromRef<Phones> for App {
    fn from_ref(phones: &Phones) -> App {
        App::clone(&phones.0)
    }
}

/// The phones' listeners (HTTP, HTTPS): phone files, static files, the local CA and the
/// operations endpoints. No `/api/`: a request for it is nobody's file (the uniform 404).
pub fn router(app: App) -> Front {
    let app = Arc::new(app);
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(&format!("/{}", crate::certs::CA_FILE), get(local_ca))
        .route("/x/{token}/{mac}/{action}", any(service::phone_service))
        .fallback(phone_fallback)
        .with_state(Phones(app.clone()));
    Front {
        router,
        phones: Some(app),
    }
}

/// Whether `path` may be one of `router`'s routes; any other is a phone's file, served
/// without the router.
fn routed(path: &str) -> bool {
    match path.strip_prefix('/') {
        Some("healthz" | "readyz" | "metrics") => true,
        Some(rest) => rest == crate::certs::CA_FILE || rest.starts_with("x/"),
        None => false,
    }
}

/// The admin listener: the REST API (and the portal next), and the operations endpoints.
pub fn admin_router(app: App) -> Front {
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(api::router())
        .merge(ui::router())
        .fallback(|| async { not_found() })
        .route_layer(axum::middleware::from_fn(observe::route))
        .layer(axum::middleware::from_fn(observe::admin))
        .with_state(app);
    Front {
        router,
        phones: None,
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// The local CA certificate, for phones (and people) to trust the HTTPS listener. Public.
async fn local_ca(State(app): State<App>) -> Response {
    if crate::certs::ca_url(&app.settings).is_none() {
        return not_found();
    }
    let path = crate::certs::LocalPaths::new(&app.settings.data_dir).ca;
    match tokio::fs::read(&path).await {
        Ok(pem) => ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response(),
        Err(_) => not_found(),
    }
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
    let t = &app.tftp_metrics;
    let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed).to_string();
    let mut out = Prometheus::default();
    out.labelled(
        "autoprov_files_total",
        "counter",
        "outcome",
        [
            ("found", n(&m.found)),
            ("not_found", n(&m.not_found)),
            ("unavailable", n(&m.unavailable)),
        ],
    );
    out.single("autoprov_renders_total", "counter", n(&m.renders));
    out.single(
        "autoprov_directory_loads_total",
        "counter",
        n(&m.directory_loads),
    );
    out.single("autoprov_record_loads_total", "counter", n(&m.record_loads));
    out.single(
        "autoprov_render_errors_total",
        "counter",
        n(&m.render_errors),
    );
    out.single("autoprov_challenges_total", "counter", n(&m.challenges));
    out.single("autoprov_throttled_total", "counter", n(&m.throttled));
    out.single(
        "autoprov_windows_closed_total",
        "counter",
        n(&m.windows_closed),
    );
    out.single(
        "autoprov_hashes_total",
        "counter",
        app.admin.hashes_run().to_string(),
    );
    out.labelled(
        "autoprov_trust_decisions_total",
        "counter",
        "decision",
        crate::provision::trust::Decision::ALL
            .iter()
            .zip(&m.decisions)
            .map(|(d, c)| (d.as_str(), n(c))),
    );
    out.labelled(
        "autoprov_tftp_transfers_total",
        "counter",
        "outcome",
        [
            ("started", n(&t.started)),
            ("completed", n(&t.completed)),
            ("failed", n(&t.failed)),
            ("refused", n(&t.refused)),
        ],
    );
    out.single("autoprov_tftp_bytes_total", "counter", n(&t.bytes));
    out.single(
        "autoprov_tftp_transfer_seconds_total",
        "counter",
        (t.duration_us.load(Ordering::Relaxed) as f64 / 1e6).to_string(),
    );
    sip_metrics(&mut out, &app);
    out.single(
        "autoprov_store_revision",
        "gauge",
        app.store.revisions().global().to_string(),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out.0).into_response()
}

/// PnP answers and resync NOTIFYs.
fn sip_metrics(out: &mut Prometheus, app: &App) {
    let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed).to_string();
    let (p, r) = (&app.pnp_metrics, &app.notifier.metrics);
    out.labelled(
        "autoprov_pnp_subscribes_total",
        "counter",
        "outcome",
        [
            ("answered", n(&p.answered)),
            ("dropped", n(&p.dropped)),
            ("rate_limited", n(&p.limited)),
        ],
    );
    out.labelled(
        "autoprov_resync_total",
        "counter",
        "outcome",
        [
            ("notify_sent", n(&r.sent)),
            ("notify_answered", n(&r.answered)),
            ("hook_run", n(&r.hooks)),
            ("hook_failed", n(&r.hook_failures)),
        ],
    );
}

/// Prometheus text exposition, one metric family at a time.
#[derive(Default)]
struct Prometheus(String);

impl Prometheus {
    fn single(&mut self, name: &str, kind: &str, value: String) {
        let _ = writeln!(self.0, "# TYPE {name} {kind}\n{name} {value}");
    }

    fn labelled<'a>(
        &mut self,
        name: &str,
        kind: &str,
        label: &str,
        samples: impl IntoIterator<Item = (&'a str, String)>,
    ) {
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
        for (value_of_label, value) in samples {
            let _ = writeln!(self.0, "{name}{{{label}=\"{value_of_label}\"}} {value}");
        }
    }
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

/// A path under `/x/` that is no phone service's (another number of segments): a file.
async fn phone_fallback(
    State(Phones(app)): State<Phones>,
    Extension(conn): Extension<Conn>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    phone_file(&app, &conn, &method, &uri, &headers).await
}

async fn phone_file(
    app: &App,
    conn: &Conn,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let started = Instant::now();
    let peer = conn.peer;
    // Phones only read; an over-long target is nobody's file. Neither reaches the renderer.
    if (method != Method::GET && method != Method::HEAD) || uri.path().len() > MAX_TARGET {
        return not_found();
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let request = FileRequest {
        path: uri.path(),
        user_agent,
        protocol: if conn.tls {
            Protocol::Https
        } else {
            Protocol::Http
        },
        peer: Some(peer.ip()),
        method: method.as_str(),
        target,
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        client_mac: conn.client_mac,
    };
    let served = app.provisioner.serve(&request).await;
    let head = method == Method::HEAD;
    let (response, reason) = match served.outcome {
        Outcome::Found(file) => (rendered_response(&file, head, headers), ""),
        Outcome::Static(file) => (static_response(file, head, headers).await, "static file"),
        Outcome::NotFound(reason) => (not_found(), reason),
        Outcome::Elsewhere(url) => (
            (StatusCode::FOUND, [(header::LOCATION, url)]).into_response(),
            "redirected to the shared base URL",
        ),
        Outcome::Challenge(values) => (challenge(values), "challenged"),
        Outcome::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE.into_response(),
            "store unavailable",
        ),
    };
    app.access.served(&access::Served {
        mac: served.mac,
        file: served.file,
        status: response.status().as_u16(),
        reason,
        decision: served.decision.map(|d| d.as_str()).unwrap_or(""),
        tls: conn.tls,
        peer: peer.ip(),
        ms: crate::model::millis(started.elapsed()),
    });
    response
}

/// A phone file: 304 when `If-None-Match` names its ETag; never kept by a shared cache.
fn rendered_response(file: &RenderedFile, head: bool, headers: &HeaderMap) -> Response {
    let etag = &file.etag_header;
    let fresh = if_none_match(headers, etag);
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
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
        if let Some(ct) = &file.content_type_header {
            r.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
        }
        r
    };
    response.headers_mut().insert(header::ETAG, etag.clone());
    // Files carry secrets: no shared cache may keep them; phones revalidate by ETag.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}

/// 401 with the Digest challenges.
fn challenge(values: Vec<String>) -> Response {
    let mut r = (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/plain")],
        "authorization required\n",
    )
        .into_response();
    for value in values {
        if let Ok(v) = HeaderValue::from_str(&value) {
            r.headers_mut().append(header::WWW_AUTHENTICATE, v);
        }
    }
    r
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

/// A file from `<data>/files/`, with `Range` support (one range; anything else gets the whole
/// file, and an unsatisfiable range 416).
async fn static_response(found: StaticFile, head: bool, headers: &HeaderMap) -> Response {
    let Ok(etag) = HeaderValue::from_str(&found.etag) else {
        return not_found();
    };
    let mut response = if if_none_match(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        // `If-Range` with another validator: the file changed, send all of it.
        let same = headers
            .get(header::IF_RANGE)
            .is_none_or(|v| v.as_bytes() == etag.as_bytes());
        let range = headers
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .filter(|_| same)
            .map(|v| byte_range(v, found.len))
            .unwrap_or(ByteRange::Whole);
        let (status, start, len) = match range {
            ByteRange::Whole => (StatusCode::OK, 0, found.len),
            ByteRange::Part(start, end) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
            ByteRange::Unsatisfiable => {
                let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", found.len)) {
                    r.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return r;
            }
        };
        let body = if head {
            Body::empty()
        } else {
            match static_body(found.content, start, len).await {
                Some(body) => body,
                None => return not_found(),
            }
        };
        let mut r = Response::new(body);
        *r.status_mut() = status;
        let h = r.headers_mut();
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        if status == StatusCode::PARTIAL_CONTENT {
            if let Ok(v) =
                HeaderValue::from_str(&format!("bytes {start}-{}/{}", start + len - 1, found.len))
            {
                h.insert(header::CONTENT_RANGE, v);
            }
        }
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        r
    };
    let h = response.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    response
}

/// `len` bytes of a static file from `start`; `None` when the file cannot be read there.
async fn static_body(content: StaticContent, start: u64, len: u64) -> Option<Body> {
    use std::io::SeekFrom;
    use tokio::io::{AsyncReadExt, AsyncSeekExt};

    match content {
        StaticContent::Bytes(bytes) => {
            let end = usize::try_from(start.saturating_add(len))
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let start = usize::try_from(start).unwrap_or(usize::MAX).min(end);
            Some(Body::from(bytes.slice(start..end)))
        }
        StaticContent::File(file) => {
            let mut file = tokio::fs::File::from_std(file);
            file.seek(SeekFrom::Start(start)).await.ok()?;
            Some(Body::from_stream(tokio_util::io::ReaderStream::new(
                file.take(len),
            )))
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum ByteRange {
    Whole,
    /// First and last byte, inclusive.
    Part(u64, u64),
    Unsatisfiable,
}

/// One `bytes=` range of RFC 9110 against a file of `len` bytes. Several ranges, or a header we
/// do not understand, mean the whole file (which RFC 9110 allows).
fn byte_range(header: &str, len: u64) -> ByteRange {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return ByteRange::Whole;
    };
    if spec.contains(',') {
        return ByteRange::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return ByteRange::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    match (first.is_empty(), last.is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => match parse(last) {
            Some(0) => ByteRange::Unsatisfiable,
            Some(_) if len == 0 => ByteRange::Unsatisfiable,
            Some(n) => ByteRange::Part(len.saturating_sub(n), len - 1),
            None => ByteRange::Whole,
        },
        // bytes=A-: from A to the end.
        (false, true) => match parse(first) {
            Some(a) if a < len => ByteRange::Part(a, len - 1),
            Some(_) => ByteRange::Unsatisfiable,
            None => ByteRange::Whole,
        },
        (false, false) => match (parse(first), parse(last)) {
            (Some(a), Some(b)) if a <= b && a < len => ByteRange::Part(a, b.min(len - 1)),
            (Some(a), Some(b)) if a <= b => ByteRange::Unsatisfiable,
            _ => ByteRange::Whole,
        },
        (true, true) => ByteRange::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The operations endpoints, the CA and the phone services go through the router; every
    /// other path is a file, whatever its prefix.
    #[test]
    fn only_the_routers_paths_are_routed() {
        let ca = format!("/{}", crate::certs::CA_FILE);
        for path in [
            "/healthz",
            "/readyz",
            "/metrics",
            &ca,
            "/x/t/001565a1b2c3/login",
            "/x/",
        ] {
            assert!(routed(path), "{path}");
        }
        for path in [
            "/",
            "/001565a1b2c3.cfg",
            "/prov/healthz",
            "/healthz.cfg",
            "/xy/001565a1b2c3.cfg",
            "/api/v1/tenants",
            "",
        ] {
            assert!(!routed(path), "{path}");
        }
    }

    #[test]
    fn ranges() {
        use ByteRange::*;
        for (header, expected) in [
            ("bytes=0-99", Part(0, 99)),
            ("bytes=100-", Part(100, 999)),
            ("bytes=-100", Part(900, 999)),
            ("bytes=-5000", Part(0, 999)),
            ("bytes=990-2000", Part(990, 999)),
            ("bytes=1000-", Unsatisfiable),
            ("bytes=1000-1001", Unsatisfiable),
            ("bytes=-0", Unsatisfiable),
            ("bytes=5-1", Whole),
            ("bytes=0-1,5-6", Whole),
            ("items=0-1", Whole),
            ("bytes=x-1", Whole),
        ] {
            assert_eq!(byte_range(header, 1000), expected, "{header}");
        }
        assert_eq!(byte_range("bytes=-1", 0), Unsatisfiable);
    }
}
