//! Forward authentication, so that a reverse proxy can put these accounts in
//! front of other web apps: `GET /auth/verify` (nginx's `auth_request`),
//! `GET /auth/forward` (Traefik's `forwardAuth`, Caddy's `forward_auth`),
//! and the sign-in cookie they read, set by `POST /auth/session` and cleared
//! by `POST /auth/logout`.
//!
//! - `rules`: `--protect`, which roles may use which host; where sign-in may
//!   send people back to.
//! - `cookie`: the `users_session` cookie.
//! - `cache`: answers kept for a second.
//! - `ask`: the requests to the service, as the browser's.
//!
//! The cookie holds a forward-auth ticket, never the session token: protected
//! apps see it, and the service takes it only for forward_verify and
//! forward_logout.

mod ask;
pub(crate) mod cache;
mod cookie;
pub(crate) mod rules;

use crate::client_ip::Peer;
use crate::metrics::Verdict;
use crate::origin::origin_allowed;
use crate::relay::Client;
use crate::reply::error_json;
use crate::state::Shared;
use ask::{ask, client_of, Asking};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use cookie::Scope;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use users_protocol::response::Empty;
use users_protocol::{ErrorCode, ForwardTicket, ForwardUser, Request, Secret};

/// The routes a proxy asks: any `Host` may be named.
pub(crate) fn proxy_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/auth/verify", get(verify))
        .route("/auth/forward", get(forward))
}

/// The routes the UI's pages call, behind the Host check.
pub(crate) fn browser_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/auth/session", post(session))
        .route("/auth/logout", post(logout))
}

/// The request a proxy asks about.
struct Asked {
    /// Its host name, without the port.
    host: String,
    /// Its whole address, to come back to after sign-in.
    url: String,
    /// Whether it came over HTTPS.
    https: bool,
}

impl Asked {
    /// From a `--trusted-proxy`, what its `X-Forwarded-Host`, `-Uri` and
    /// `-Proto` say; from anyone else, the request itself.
    fn of(peer: &Peer, headers: &HeaderMap, shared: &Shared) -> Asked {
        let trusted = peer.is_trusted_proxy(&shared.cfg.trusted_proxies);
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        // Of a list, the last entry: the one the trusted proxy added (any
        // before it came from the client, as in `client_ip`).
        let last = |v: &str| v.rsplit(',').next().unwrap_or_default().trim().to_owned();
        // From a trusted proxy, the host it names, and none if it names
        // none (which no rule covers); from anyone else, the request's own.
        let authority = if trusted {
            get("x-forwarded-host").map(last).unwrap_or_default()
        } else {
            get("host").map(str::to_owned).unwrap_or_default()
        };
        let https = match get("x-forwarded-proto").filter(|_| trusted) {
            Some(p) => last(p).eq_ignore_ascii_case("https"),
            None => shared.cfg.tls_cert.is_some() && matches!(peer, Peer::Tcp(_)),
        };
        let uri = get("x-forwarded-uri")
            .filter(|u| trusted && u.starts_with('/'))
            .unwrap_or("/");
        let scheme = if https { "https" } else { "http" };
        Asked {
            host: rules::host_name(&authority),
            url: format!("{scheme}://{authority}{uri}"),
            https,
        }
    }
}

/// What the bridge answers a proxy.
enum Answer {
    /// Signed in, and the role may use the host.
    Allow(ForwardUser),
    /// No valid sign-in.
    NoSignIn,
    /// Signed in, and the role may not use the host; or no rule names it.
    Denied,
    /// The service did not answer.
    Unavailable,
}

/// Whether the request asked about may go on, and as whom.
async fn decide(shared: &Shared, asked: &Asked, headers: &HeaderMap, client: Client) -> Answer {
    let Some(roles) = rules::allowed_roles(&shared.cfg.protect, &asked.host) else {
        return Answer::Denied;
    };
    let Some(ticket) = cookie::ticket(cookie_headers(headers)) else {
        return Answer::NoSignIn;
    };
    let now = Instant::now();
    let user = match shared.forward.get(&ticket, &asked.host, now) {
        Some(user) => user,
        None => {
            let request = Request::ForwardVerify {
                ticket: Secret::new(ticket.clone()),
                host: asked.host.clone(),
            };
            match ask::<ForwardUser>(shared, request, client).await {
                Ok(user) => {
                    shared.forward.put(&ticket, &asked.host, user.clone(), now);
                    user
                }
                Err(Asking::Refused(ErrorCode::TicketInvalid | ErrorCode::SessionInvalid)) => {
                    return Answer::NoSignIn
                }
                // A host the service takes for no host name.
                Err(Asking::Refused(ErrorCode::InvalidRequest)) => return Answer::Denied,
                Err(_) => return Answer::Unavailable,
            }
        }
    };
    if roles.contains(&user.role) {
        Answer::Allow(user)
    } else {
        Answer::Denied
    }
}

fn cookie_headers(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
}

/// `GET /auth/verify`: 200 with the user's headers, 401 without a valid
/// sign-in, 403 for a role or host that is refused.
async fn verify(
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    State(shared): State<Arc<Shared>>,
) -> Response {
    let (_, answer) = asked_and_answer(&peer, &headers, &shared).await;
    respond(&shared, answer, None)
}

/// The request a proxy asks about, and the answer for it.
async fn asked_and_answer(peer: &Peer, headers: &HeaderMap, shared: &Shared) -> (Asked, Answer) {
    let asked = Asked::of(peer, headers, shared);
    let answer = decide(shared, &asked, headers, client_of(peer, headers, shared)).await;
    (asked, answer)
}

/// `GET /auth/forward`: as `/auth/verify`, except that a browser without a
/// sign-in (one that accepts HTML) is sent to sign in, and back after.
async fn forward(
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    State(shared): State<Arc<Shared>>,
) -> Response {
    let (asked, answer) = asked_and_answer(&peer, &headers, &shared).await;
    let html = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|a| a.contains("text/html"));
    let login = html.then(|| sign_in_address(&shared, &peer, &headers, &asked));
    respond(&shared, answer, login)
}

/// What a query value escapes: all but RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The sign-in page, with `rd` to come back to what was asked for: under
/// `--public-url`, or else this bridge as the request reached it.
fn sign_in_address(shared: &Shared, peer: &Peer, headers: &HeaderMap, asked: &Asked) -> String {
    let base = match &shared.cfg.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let own = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("localhost");
            let tls = shared.cfg.tls_cert.is_some() && matches!(peer, Peer::Tcp(_));
            format!("{}://{own}", if tls { "https" } else { "http" })
        }
    };
    let rd = utf8_percent_encode(&asked.url, QUERY_VALUE);
    format!("{base}/login?rd={rd}")
}

/// The answer as HTTP, counted in `/metrics`.
fn respond(shared: &Shared, answer: Answer, login: Option<String>) -> Response {
    let no_store = (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let verdict = match &answer {
        Answer::Allow(_) => Verdict::Allowed,
        Answer::NoSignIn => Verdict::NoSignIn,
        Answer::Denied => Verdict::Denied,
        Answer::Unavailable => Verdict::Unavailable,
    };
    shared.metrics.count_verdict(verdict);
    match answer {
        Answer::Allow(user) => {
            let mut h = HeaderMap::new();
            h.insert(no_store.0, no_store.1);
            let role = user.role.as_str();
            let values = [
                ("remote-user", Some(user.username.as_str())),
                ("remote-email", Some(user.email.as_str())),
                ("remote-name", user.full_name.as_deref()),
                ("remote-role", Some(role)),
                ("remote-groups", Some(role)),
            ];
            for (name, value) in values {
                // A value with a control character is left out, never cut.
                if let Some(v) = value.and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok()) {
                    h.insert(HeaderName::from_static(name), v);
                }
            }
            (StatusCode::OK, h).into_response()
        }
        Answer::NoSignIn => match login.and_then(|l| HeaderValue::from_str(&l).ok()) {
            Some(location) => {
                (StatusCode::FOUND, [(header::LOCATION, location), no_store]).into_response()
            }
            None => (StatusCode::UNAUTHORIZED, [no_store]).into_response(),
        },
        Answer::Denied => (StatusCode::FORBIDDEN, [no_store]).into_response(),
        Answer::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, [no_store]).into_response(),
    }
}

fn json(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        error_json(code, message, None),
    )
        .into_response()
}

/// `/auth/session`'s query.
#[derive(serde::Deserialize)]
struct ReturnTo {
    /// Where to go after sign-in.
    rd: Option<String>,
}

/// The session token of `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// `POST /auth/session?rd=ADDRESS` with `Authorization: Bearer <session
/// token>`, from a page of an allowed origin: sets the cookie with a new
/// ticket. With an `rd` that sign-in may return to (see
/// [`rules::return_allowed`]), the reply is `{"redirect": ADDRESS}`, for
/// the page to go to; any other `rd` is ignored.
async fn session(
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    Query(query): Query<ReturnTo>,
    State(shared): State<Arc<Shared>>,
) -> Response {
    if !origin_allowed(&headers, &shared.cfg.allowed_origins, false) {
        return json(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "Origin missing or not allowed (see --allowed-origin)",
        );
    }
    let Some(token) = bearer(&headers) else {
        return json(
            StatusCode::UNAUTHORIZED,
            ErrorCode::SessionInvalid,
            "Send the session token as Authorization: Bearer <token>",
        );
    };
    let request = Request::ForwardTicket {
        session_token: Secret::new(token),
    };
    let client = client_of(&peer, &headers, &shared);
    match ask::<ForwardTicket>(&shared, request, client).await {
        Ok(t) => {
            let scope = scope(&shared, &Asked::of(&peer, &headers, &shared));
            let max_age = i64::try_from(t.expires_in).unwrap_or(i64::MAX);
            let set = cookie::set_cookie(Some(t.ticket.expose()), max_age, &scope);
            let back = query.rd.filter(|rd| {
                rules::return_allowed(rd, &shared.cfg.protect, shared.cfg.cookie_domain.as_deref())
            });
            let mut r = with_cookie(StatusCode::NO_CONTENT, &set);
            if let Some(rd) = back {
                *r.status_mut() = StatusCode::OK;
                *r.body_mut() = axum::body::Body::from(json!({ "redirect": rd }).to_string());
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            r
        }
        Err(Asking::Refused(code)) => json(
            StatusCode::UNAUTHORIZED,
            code,
            "The session cannot have a sign-in cookie: sign in again",
        ),
        Err(Asking::Unavailable) => json(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServiceUnavailable,
            "The service did not answer; try again",
        ),
    }
}

/// `POST /auth/logout`: ends the session (the one of `Authorization:
/// Bearer`, else the cookie's ticket's) and clears the cookie.
async fn logout(
    Extension(peer): Extension<Peer>,
    headers: HeaderMap,
    State(shared): State<Arc<Shared>>,
) -> Response {
    if !origin_allowed(&headers, &shared.cfg.allowed_origins, true) {
        return json(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "Origin not allowed (see --allowed-origin)",
        );
    }
    let ticket = cookie::ticket(cookie_headers(&headers));
    let by_token = bearer(&headers).map(|token| Request::Logout {
        session_token: Secret::new(token),
    });
    let by_ticket = ticket.as_ref().map(|t| Request::ForwardLogout {
        ticket: Secret::new(t.clone()),
    });
    let mut status = StatusCode::NO_CONTENT;
    // Both, should they be two sessions; one that had ended already is as
    // good as ended now.
    for request in by_token.into_iter().chain(by_ticket) {
        let client = client_of(&peer, &headers, &shared);
        if let Err(Asking::Unavailable) = ask::<Empty>(&shared, request, client).await {
            status = StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    if let Some(t) = &ticket {
        shared.forward.forget(t);
    }
    let scope = scope(&shared, &Asked::of(&peer, &headers, &shared));
    with_cookie(status, &cookie::set_cookie(None, 0, &scope))
}

/// How the cookie is set: `Secure` when the page came over HTTPS, or the
/// UI's public address is an https one.
fn scope<'a>(shared: &'a Shared, asked: &Asked) -> Scope<'a> {
    let public_https = shared
        .cfg
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    Scope {
        https: asked.https || public_https,
        domain: shared.cfg.cookie_domain.as_deref(),
    }
}

fn with_cookie(status: StatusCode, set: &str) -> Response {
    match HeaderValue::from_str(set) {
        Ok(v) => (
            status,
            [
                (header::SET_COOKIE, v),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
