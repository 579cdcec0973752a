//! The admin API routes, as Node-RED's editor-api registers them (paths are
//! relative to `httpAdminRoot`; the editor derives every URL from the page
//! location). Editor assets (`/`, `/red/**`, `/locales`, `/icons`, `/theme`,
//! `/debug/view/**`) are the assets module's.
//!
//! | Route | File |
//! |---|---|
//! | `GET/POST /flows`, `GET /flows/state`, `/flow[/:id]`, `GET /credentials/:type/:id` | [`flows`] |
//! | `GET /nodes[...]`, `GET /plugins[...]` | [`nodes`] |
//! | `GET /settings`, `GET/POST /settings/user`, `GET /diagnostics` | [`settings`] |
//! | `GET/DELETE /context/...` | [`context`] |
//! | `GET /auth/login`, `POST /auth/token`, `POST /auth/revoke` | [`auth`] |
//! | `GET/POST /library/:lib/:type[/path]` | [`library`] |
//! | `POST /inject/:id`, `POST /debug/[:id/]enable|disable` | [`node_api`] |
//! | `GET /udp-ports/:id` | [`udp_ports`] |
//! | `GET /comms` (websocket) | [`crate::comms`] |

pub mod auth;
pub mod context;
pub mod credentials;
mod deploy;
pub mod flows;
pub mod library;
pub mod node_api;
pub mod nodes;
pub mod settings;
#[cfg(test)]
pub(crate) mod tests;
pub mod udp_ports;

use crate::error::ApiError;
use crate::state::AdminState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use serde_json::Value as Json;

/// The admin API and `/comms`, to be mounted at `httpAdminRoot`, behind
/// [`crate::access::guard`]. Without the editor (`disableEditor`) the
/// editor-only routes are left out, as in Node-RED: `/comms`, `/library`,
/// `/credentials` and `/settings/user`.
pub fn admin_router(state: AdminState) -> Router {
    let limit = state.settings().api_max_length;
    let editor = state.access().exposure.editor;
    let mut r = Router::new()
        .route("/flows", get(flows::get_flows).post(flows::post_flows))
        .route("/flows/state", get(flows::get_state))
        .route("/flow", post(flows::post_flow))
        .route(
            "/flow/{id}",
            get(flows::get_flow)
                .put(flows::put_flow)
                .delete(flows::delete_flow),
        )
        .route("/nodes", get(nodes::get_nodes))
        .route("/nodes/messages", get(nodes::get_messages))
        .route("/nodes/{module}", get(nodes::get_module))
        .route("/nodes/{module}/{set}", get(nodes::get_set))
        .route(
            "/nodes/{module}/{set}/messages",
            get(nodes::get_set_messages),
        )
        .route("/plugins", get(nodes::get_plugins))
        .route("/plugins/messages", get(nodes::get_plugin_messages))
        .route("/settings", get(settings::get_settings))
        .route("/diagnostics", get(settings::get_diagnostics))
        .route(
            "/context/global",
            get(context::get_global_all).delete(context::delete_without_key),
        )
        .route(
            "/context/global/{*key}",
            get(context::get_global_key).delete(context::delete_global_key),
        )
        .route(
            "/context/{scope}/{id}",
            get(context::get_scoped_all).delete(context::delete_without_key),
        )
        .route(
            "/context/{scope}/{id}/{*key}",
            get(context::get_scoped_key).delete(context::delete_scoped_key),
        )
        .route("/auth/login", get(auth::get_login))
        .route("/inject/{id}", post(node_api::post_inject))
        .route("/debug/{state}", post(node_api::post_debug_bulk))
        .route("/debug/{id}/{state}", post(node_api::post_debug_node))
        .route("/udp-ports/{id}", get(udp_ports::get_udp_ports));
    if state.authority().enabled() {
        r = r
            .route("/auth/token", post(auth::post_token))
            .route("/auth/revoke", post(auth::post_revoke));
    }
    if editor {
        r = r
            .route("/credentials/{type}/{id}", get(flows::get_credentials))
            .route(
                "/settings/user",
                get(settings::get_user_settings).post(settings::post_user_settings),
            )
            .route("/library/{lib}/{type}", get(library::get_root))
            .route("/library/{lib}/{type}/", get(library::get_root))
            .route(
                "/library/{lib}/{type}/{*path}",
                get(library::get_entry).post(library::post_entry),
            )
            .route("/comms", get(crate::comms::comms_handler));
    }
    r.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        crate::access::guard,
    ))
    .layer(DefaultBodyLimit::max(limit))
    .with_state(state)
}

/// Whether a request declared a JSON body (`application/json`, any
/// parameters, or a `+json` type).
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON request body. Only declared JSON is accepted: a
/// cross-origin "simple" request (`text/plain`) must never change flows.
pub(crate) fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Json, ApiError> {
    if !is_json(headers) {
        return Err(ApiError::bad_request(
            "invalid_request",
            "Expected a JSON body (Content-Type: application/json)",
        ));
    }
    redoubt_core::flows::json::from_slice(body)
        .map_err(|e| ApiError::bad_request("invalid_request", format!("Invalid JSON body: {e}")))
}

/// Node-RED's `Node-RED-API-Version` header: absent is `v1`; only `v1`
/// and `v2` are valid. True for v2.
pub(crate) fn api_v2(headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers
        .get("Node-RED-API-Version")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None | Some("v1") => Ok(false),
        Some("v2") => Ok(true),
        Some(_) => Err(ApiError::invalid_api_version()),
    }
}

/// Whether the client asked for JSON: Node-RED returns JSON from `/nodes`
/// and `/plugins` only for `Accept: application/json` exactly.
pub(crate) fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) == Some("application/json")
}

/// The language of a request: `?lng=` if given, else the first
/// `Accept-Language` entry; anything outside `[0-9A-Za-z-]` is `en-US`.
pub(crate) fn request_lang(headers: &HeaderMap, lng: Option<&str>) -> String {
    let raw = match lng {
        Some(l) => l.to_string(),
        None => headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|l| l.split(';').next().unwrap_or("").trim().to_string())
            .unwrap_or_default(),
    };
    if !raw.is_empty() && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        raw
    } else {
        "en-US".to_string()
    }
}

/// Writes `bytes` to `path` atomically (a temporary file in the same
/// directory, then a rename), so a crash never leaves half a file.
pub(crate) fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("path has no parent directory"))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand_suffix()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn rand_suffix() -> u64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (n as u64) ^ u64::from(std::process::id()).rotate_left(32)
}
