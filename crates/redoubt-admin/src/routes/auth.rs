//! `/auth/*` (Node-RED's editor-api `auth/index.js`): the login scheme, the
//! token endpoint and revocation, answered as Node-RED answers them so the
//! stock editor and `node-red-admin` work unchanged. Differences: throttled
//! logins get 429 with `Retry-After` (Node-RED: 500), and a token in the
//! body of `/auth/token` or `/auth/revoke` is only ever the one being
//! revoked, never a credential.

use crate::access::{client_ip, too_many};
use crate::routes::is_json;
use crate::state::AdminState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use redoubt_auth::{GrantError, PasswordGrant, Principal};
use serde_json::{Map, Value, json};

/// `GET /auth/login`: `{}` without adminAuth or in tokens-only mode, else
/// the credentials prompts.
pub async fn get_login(State(state): State<AdminState>) -> Json<Value> {
    Json(state.authority().login_scheme())
}

/// The fields of a form or JSON body.
fn fields(headers: &axum::http::HeaderMap, body: &[u8]) -> Map<String, Value> {
    if is_json(headers) {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    } else {
        form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect()
    }
}

fn text(m: &Map<String, Value>, k: &str) -> Option<String> {
    match m.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn no_store(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// `POST /auth/token`: the password grant.
pub async fn post_token(State(state): State<AdminState>, req: Request) -> Response {
    let ip = client_ip(&req);
    let (parts, body) = req.into_parts();
    let limit = state.settings().api_max_length;
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let m = fields(&parts.headers, &body);
    let grant = PasswordGrant {
        client_id: text(&m, "client_id"),
        client_secret: text(&m, "client_secret"),
        grant_type: text(&m, "grant_type"),
        username: text(&m, "username"),
        password: text(&m, "password"),
        scope: text(&m, "scope"),
    };
    let authority = state.authority();
    match authority.password_grant(grant, ip).await {
        Ok(g) => {
            let mut body = json!({"access_token": g.access_token, "token_type": "Bearer"});
            if let Some(e) = g.expires_in {
                body["expires_in"] = json!(e);
            }
            no_store(Json(body).into_response())
        }
        Err(e) => grant_error(e),
    }
}

fn grant_error(e: GrantError) -> Response {
    let oauth = |status: StatusCode, code: &str, text: String| {
        no_store(
            (
                status,
                Json(json!({"error": code, "error_description": text})),
            )
                .into_response(),
        )
    };
    match e {
        GrantError::NotEnabled | GrantError::InvalidClient => {
            no_store((StatusCode::UNAUTHORIZED, "Unauthorized").into_response())
        }
        GrantError::UnsupportedGrant(_) => oauth(
            StatusCode::NOT_IMPLEMENTED,
            "unsupported_grant_type",
            e.to_string(),
        ),
        GrantError::MissingField(_) => {
            oauth(StatusCode::BAD_REQUEST, "invalid_request", e.to_string())
        }
        GrantError::InvalidGrant => oauth(StatusCode::FORBIDDEN, "invalid_grant", e.to_string()),
        GrantError::Throttled(wait) => too_many(wait, &e.to_string()),
        GrantError::Server(detail) => {
            tracing::error!("{detail}");
            oauth(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Login failed on the server".into(),
            )
        }
    }
}

/// `POST /auth/revoke`: ends the session of `token` (the caller's own, or
/// anyone's for a `*` user); always 200, as Node-RED.
pub async fn post_revoke(
    State(state): State<AdminState>,
    principal: Option<axum::Extension<Principal>>,
    req: Request,
) -> Response {
    let ip = client_ip(&req);
    let caller = crate::access::principal_of(principal);
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let m = fields(&parts.headers, &body);
    if let Some(token) = text(&m, "token")
        && let Err(e) = state.authority().revoke(&caller, &token, ip)
    {
        tracing::error!("{e}");
    }
    StatusCode::OK.into_response()
}
