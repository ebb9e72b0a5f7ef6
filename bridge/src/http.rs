//! The HTTP side: `/ws` (with the Origin allowlist and the connection limit),
//! `/healthz`, and the web UI's static files.

use crate::assets::Assets;
use crate::client_ip::{client_ip, Peer};
use crate::config::Config;
use crate::host::host_allowed;
use crate::limits::PerIp;
use crate::origin::origin_allowed;
use crate::reply::error_json;
use crate::serve::{serve, ConnLimits, Listeners};
use crate::services::Services;
use crate::state::Shared;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Router;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tower_http::set_header::SetResponseHeaderLayer;
use users_protocol::response::parse_reply;
use users_protocol::{ErrorCode, Health, Request, RequestEnvelope};

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The longest user agent forwarded, in characters (the service keeps 256).
const MAX_AGENT: usize = 256;

async fn ws_handler(
    ws: WebSocketUpgrade,
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    State(shared): State<Arc<Shared>>,
) -> Response {
    let client = client_ip(&peer, &headers, &shared.cfg.trusted_proxies);
    // Kept by a session the connection starts, for its owner's list; the
    // service cuts it to length and drops control characters.
    let agent: Option<Arc<str>> = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|a| a.chars().take(MAX_AGENT).collect::<String>().into());
    // Browsers always send Origin on a WebSocket handshake; other clients need not.
    if !origin_allowed(&headers, &shared.cfg.allowed_origins, true) {
        tracing::warn!(origin = ?headers.get(header::ORIGIN), "refused a WebSocket from a foreign origin");
        return json_response(
            StatusCode::FORBIDDEN,
            error_json(
                ErrorCode::Forbidden,
                "Origin not allowed (see --allowed-origin)",
                None,
            ),
        );
    }
    if *shared.shutdown.borrow() {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            error_json(
                ErrorCode::ServiceUnavailable,
                "The bridge is shutting down",
                None,
            ),
        );
    }
    let Some(slot) = shared.connection_slot(client) else {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            error_json(
                ErrorCode::RateLimited,
                "Too many connections; try again later",
                None,
            ),
        );
    };
    // The hard frame limit lets an oversized request through far enough to be
    // answered with a JSON error; beyond it the WebSocket layer closes outright.
    let hard = shared.cfg.max_frame_bytes.saturating_mul(4).max(4096);
    // Requests are small: a small read buffer spares zeroing 128 KiB per read.
    ws.read_buffer_size(8 * 1024)
        .max_message_size(hard)
        .max_frame_size(hard)
        .on_upgrade(move |socket| async move {
            crate::ws::serve(socket, client, agent, Arc::clone(slot.shared())).await;
            drop(slot);
        })
}

/// `/healthz`: the bridge's own state, and whether each service instance
/// answers a health_check. `ok` when all do, `degraded` (still HTTP 200)
/// while some do, HTTP 503 when none does.
async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let probe = RequestEnvelope {
        request_id: None,
        request: Request::HealthCheck {},
    };
    let body = serde_json::to_string(&probe).unwrap_or_default();
    let probes = shared.services.routed().map(|(relay, routed)| {
        let body = body.clone();
        async move {
            let reply = relay.call(body.into(), None, Duration::from_secs(2)).await;
            let health = reply
                .ok()
                .and_then(|text| parse_reply::<Health>(&text).ok())
                .map(|r| r.data);
            InstanceHealth {
                endpoint: relay.endpoint.clone(),
                service: if health.is_some() { "up" } else { "down" },
                connected: relay.is_connected(),
                in_flight: relay.in_flight(),
                requests: routed,
                version: health.map(|h| h.version),
            }
        }
    });
    let instances = futures_util::future::join_all(probes).await;
    let up = instances.iter().filter(|i| i.service == "up").count();
    let first = instances
        .iter()
        .find(|i| i.service == "up")
        .or(instances.first());
    let health = BridgeHealth {
        status: if up == instances.len() {
            "ok"
        } else {
            "degraded"
        },
        service: if up > 0 { "up" } else { "down" },
        service_endpoint: first.map(|i| i.endpoint.clone()).unwrap_or_default(),
        service_connected: shared.services.is_connected(),
        service_version: first.and_then(|i| i.version.clone()),
        connections: shared.connections.load(Ordering::SeqCst),
        in_flight: shared.services.in_flight(),
        uptime_seconds: shared.started.elapsed().as_secs(),
        version: env!("CARGO_PKG_VERSION"),
        instances,
    };
    let status = if up > 0 {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, serde_json::to_string(&health).unwrap_or_default())
}

/// `/metrics`, for loopback and `--metrics-allow` clients only, and for a
/// local process on `--listen-unix` that forwards no one (whoever the socket
/// file lets in).
async fn metrics(
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    State(shared): State<Arc<Shared>>,
) -> Response {
    let client = client_ip(&peer, &headers, &shared.cfg.trusted_proxies);
    // A request relayed by a proxy the bridge does not know comes from
    // loopback too: what a proxy adds says it is not local.
    let proxied = ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h));
    let trusted_proxy = peer.is_trusted_proxy(&shared.cfg.trusted_proxies);
    let local = (peer == Peer::Proxy && !proxied)
        || crate::metrics::allowed(client, &shared.cfg.metrics_allow);
    if (proxied && !trusted_proxy) || !local {
        return json_response(
            StatusCode::FORBIDDEN,
            error_json(
                ErrorCode::Forbidden,
                "Metrics are not served to this address (see --metrics-allow)",
                None,
            ),
        );
    }
    let rendered = shared.metrics.render(
        shared.connections.load(Ordering::SeqCst),
        shared.services.in_flight(),
        shared.services.is_connected(),
    );
    match rendered {
        Ok(body) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode the metrics");
            json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                error_json(ErrorCode::Internal, "Metrics could not be encoded", None),
            )
        }
    }
}

/// The body of `/healthz`.
#[derive(Serialize)]
struct BridgeHealth {
    /// `ok`, or `degraded` while an instance does not answer.
    status: &'static str,
    /// `up` while any instance answers, else `down`.
    service: &'static str,
    /// An instance that answers (the first given, when none does).
    service_endpoint: String,
    /// Whether any ZeroMQ connection is up, answering or not.
    service_connected: bool,
    /// The service's version, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    service_version: Option<String>,
    /// Open WebSocket connections.
    connections: usize,
    /// Requests waiting for the service.
    in_flight: usize,
    uptime_seconds: u64,
    version: &'static str,
    /// Each `--service`, in the order given.
    instances: Vec<InstanceHealth>,
}

/// One instance in `/healthz`.
#[derive(Serialize)]
struct InstanceHealth {
    endpoint: String,
    /// `up` when it answered a health_check, else `down`.
    service: &'static str,
    /// Whether its ZeroMQ connection is up.
    connected: bool,
    /// Requests waiting for it.
    in_flight: usize,
    /// Requests given to it since the bridge started (health checks not
    /// counted).
    requests: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
}

/// The web UI's files (see [`crate::assets`]), or a pointer to `--web-root`.
async fn static_files(State(shared): State<Arc<Shared>>, req: axum::extract::Request) -> Response {
    match &shared.assets {
        Some(assets) => assets.respond(req.method(), req.uri().path(), req.headers()),
        None => no_web_root().await,
    }
}

async fn no_web_root() -> Response {
    (
        StatusCode::NOT_FOUND,
        "users-bridge: WebSocket at /ws, health at /healthz; start with --web-root DIR to serve the UI\n",
    )
        .into_response()
}

/// Every route, behind the Host check and the security headers.
fn router(shared: Arc<Shared>) -> Router {
    let app = Router::new()
        .route("/ws", get(ws_handler))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(crate::forward::browser_routes())
        .fallback(static_files);
    let index = shared.assets.as_ref().and_then(|a| a.index_html());
    let csp = HeaderValue::from_str(&crate::csp::policy(index))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let mut headers: Vec<(header::HeaderName, HeaderValue)> = vec![
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::CONTENT_SECURITY_POLICY, csp),
    ];
    if shared.cfg.tls_cert.is_some() {
        // Served over HTTPS: browsers are to come back the same way only.
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    // A proxy asks about its apps' requests under their names (or its own
    // name for the bridge): those two routes answer any Host. A page on a
    // rebound name gets nothing from them, since no sign-in cookie is its.
    let mut app = app
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            check_host,
        ))
        .merge(crate::forward::proxy_routes())
        .with_state(shared);
    for (name, value) in headers {
        app = app.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    app
}

/// Every route: a Host the bridge does not answer to gets 403 (see [`crate::host`]).
async fn check_host(
    State(shared): State<Arc<Shared>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // HTTP/2 carries it in the URI's authority rather than a Host header.
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    if host_allowed(host, &shared.cfg.allowed_hosts) {
        return next.run(req).await;
    }
    tracing::warn!(host = ?host, "refused a request for a host this bridge does not serve");
    json_response(
        StatusCode::FORBIDDEN,
        error_json(
            ErrorCode::Forbidden,
            "This host name is not served here (see --allowed-host)",
            None,
        ),
    )
}

/// Serves on `listeners` until `stop` resolves, then refuses new connections, lets every open
/// one finish its requests in flight, and returns.
pub async fn run(
    cfg: Config,
    services: Services,
    listeners: Listeners,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (tx, rx) = watch::channel(false);
    let assets = match &cfg.web_root {
        Some(root) => Some(Assets::load(root, cfg.max_web_root_bytes)?),
        None => None,
    };
    let shared = Arc::new(Shared {
        assets,
        per_ip: PerIp::new(cfg.rate_per_ip),
        cfg,
        services,
        connections: AtomicUsize::new(0),
        connections_by_ip: Default::default(),
        metrics: crate::metrics::Metrics::new().map_err(std::io::Error::other)?,
        shutdown: rx,
        started: Instant::now(),
        forward: Default::default(),
    });
    let app = router(Arc::clone(&shared));
    let signal = async move {
        stop.await;
        tracing::info!("stopping: no new connections; finishing requests in flight");
        let _ = tx.send(true);
    };
    let limits = ConnLimits {
        max: shared.cfg.max_http_connections,
        per_ip: shared.cfg.max_http_connections_per_ip,
        header_timeout: shared.cfg.header_timeout,
        trusted_proxies: shared.cfg.trusted_proxies.clone(),
    };
    serve(listeners, app, limits, signal).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while shared.connections.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
