//! Who may use the admin API: one middleware, [`guard`], in front of every
//! admin route. It asks the [`Authority`](redoubt_auth::Authority) who the
//! caller is and whether they may use the route's scope ([`table`]), and
//! writes the audit log. Also here: the loopback-only rule for a runtime
//! without adminAuth, the cross-site checks ([`origin`]) and the security
//! headers ([`headers`]).
//!
//! Replies: no token or an invalid one is 401 with `WWW-Authenticate`
//! (the stock editor then shows its login dialog); a principal lacking the
//! scope gets 403 with a JSON reason (Node-RED answers 401 here, which
//! makes the editor ask a logged-in user to log in again); too many bad
//! tokens from one address get 429.

pub mod headers;
pub mod origin;
pub mod table;

use crate::state::AdminState;
use axum::Json;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use redoubt_auth::{Principal, Rejection};
use serde_json::{Map, json};
use std::net::{IpAddr, SocketAddr};
use table::Need;

/// How the admin API is exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exposure {
    /// No adminAuth and no opt-out: only loopback clients are served.
    pub loopback_only: bool,
    /// The editor is served (`disableEditor` is off): editor-only routes
    /// (`/comms`, `/library`, `/credentials`, `/settings/user`) exist.
    pub editor: bool,
}

/// The client address of a request.
pub fn client_ip(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

/// 401 as Node-RED sends it.
fn unauthorized(invalid: bool) -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    let v = if invalid {
        "Bearer realm=\"Users\", error=\"invalid_token\""
    } else {
        "Bearer realm=\"Users\""
    };
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(v));
    r
}

/// 429 with `Retry-After`.
pub(crate) fn too_many(wait: std::time::Duration, message: &str) -> Response {
    let mut r = json_error(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message);
    if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// The bearer token a request presents: `Authorization: Bearer <t>`
/// (scheme case-insensitive), else the `tokenHeader`. `Err` is a
/// malformed `Authorization` header (400, as Node-RED).
pub(crate) fn presented_token(
    headers: &HeaderMap,
    token_header: Option<&str>,
) -> Result<Option<String>, ()> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().map_err(|_| ())?;
        let mut parts = v.split(' ');
        return match (parts.next(), parts.next(), parts.next()) {
            (Some(s), Some(t), None) if s.eq_ignore_ascii_case("bearer") && !t.is_empty() => {
                Ok(Some(t.to_string()))
            }
            _ => Err(()),
        };
    }
    if let Some(h) = token_header
        && let Some(v) = headers.get(h)
    {
        return Ok(v.to_str().ok().map(str::to_string));
    }
    Ok(None)
}

/// Whether the query string carries a token (refused: tokens in URLs end
/// up in logs, history and `Referer`).
fn token_in_query(req: &Request) -> bool {
    req.uri()
        .query()
        .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token"))
}

/// The route pattern relative to `httpAdminRoot`.
fn relative_pattern<'a>(state: &AdminState, matched: &'a str) -> &'a str {
    let root = state.settings().http_admin_root.trim_end_matches('/');
    if root.is_empty() {
        return matched;
    }
    matched.strip_prefix(root).unwrap_or(matched)
}

/// The admin API's middleware; see the module docs.
pub async fn guard(State(state): State<AdminState>, mut req: Request, next: Next) -> Response {
    let ip = client_ip(&req);
    let access = state.access();
    if access.exposure.loopback_only && !ip.is_some_and(|i| i.is_loopback()) {
        return json_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "The editor and admin API answer only on this machine until adminAuth is set in settings.js (or allowRemoteEditorWithoutAuth is set, which is unsafe).",
        );
    }
    let method = req.method().clone();
    let pattern = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| relative_pattern(&state, m.as_str()).to_string())
        .unwrap_or_default();
    let unsafe_method = !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS");
    if (unsafe_method || pattern == "/comms") && !origin::same_origin(req.headers()) {
        return json_error(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "Cross-site requests to the admin API are refused.",
        );
    }
    if token_in_query(&req) {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Tokens are accepted only in the Authorization header, never in the URL.",
        );
    }
    let authority = &access.authority;
    let Some(&(_, _, need, event)) = table::lookup(&method, &pattern) else {
        if authority.enabled() {
            tracing::error!(
                "admin route {method} {pattern} has no scope in the route table; refused"
            );
            return json_error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "This route has no permission rule.",
            );
        }
        return next.run(req).await;
    };
    let Need::Scope(scope) = need else {
        return next.run(req).await;
    };
    let token = match presented_token(req.headers(), authority.token_header()) {
        Ok(t) => t,
        Err(()) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Malformed Authorization header: expected \"Bearer <token>\".",
            );
        }
    };
    let principal = match authority.resolve(token.as_deref(), ip).await {
        Ok(p) => p,
        Err(Rejection::NoToken) => return unauthorized(false),
        Err(Rejection::InvalidToken) => return unauthorized(true),
        Err(Rejection::Throttled(wait)) => {
            return too_many(wait, "Too many invalid tokens from this address.");
        }
        Err(Rejection::Hook(msg)) => {
            tracing::error!("adminAuth: {msg}");
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "unexpected_error",
                "Authentication failed on the server.",
            );
        }
    };
    let path = req.uri().path().to_string();
    if !principal.permits(scope) {
        let mut extra = Map::new();
        extra.insert("permissions".into(), json!(scope));
        authority.record(
            "permission.fail",
            principal.username.as_deref(),
            ip,
            Some(&path),
            extra,
        );
        let mut r = json_error(
            StatusCode::FORBIDDEN,
            "permission_denied",
            &format!("This needs the \"{scope}\" permission, which you do not have."),
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"Users\", error=\"insufficient_scope\""),
        );
        return r;
    }
    let user = principal.username.clone();
    req.extensions_mut().insert(principal);
    let resp = next.run(req).await;
    if let Some(event) = event {
        let mut extra = Map::new();
        extra.insert("method".into(), json!(method.as_str()));
        extra.insert("status".into(), json!(resp.status().as_u16()));
        authority.record(event, user.as_deref(), ip, Some(&path), extra);
    }
    resp
}

/// The caller, as the guard resolved it (the open principal when the
/// route did not need one).
pub(crate) fn principal_of(ext: Option<axum::Extension<Principal>>) -> Principal {
    ext.map_or_else(Principal::open, |e| e.0)
}
