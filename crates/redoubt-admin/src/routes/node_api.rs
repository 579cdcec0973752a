//! Routes Node-RED's core nodes register on the admin app: the inject
//! button (`20-inject.js`) and the debug node's sidebar toggles
//! (`21-debug.js`). They answer bare status codes with the status text as
//! the body, as Express's `sendStatus` does.

use super::is_json;
use crate::state::AdminState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use redoubt_core::Msg;
use redoubt_core::node::NodeEvent;
use redoubt_core::value::Value;
use serde_json::Value as Json;

/// The message for a debug node's `on_event` that turns its sidebar output
/// on or off: `NodeEvent::Custom(Box<Value::Bool(active)>)`.
pub fn debug_toggle(active: bool) -> NodeEvent {
    NodeEvent::Custom(Box::new(Value::Bool(active)))
}

fn status(code: StatusCode) -> Response {
    (code, code.canonical_reason().unwrap_or("")).into_response()
}

/// `POST /inject/:id`: presses the inject button. A body carrying
/// `__user_inject_props__` ("inject with these properties") is delivered
/// as the message; otherwise the node gets a fresh message. 404 when no
/// such node runs.
pub async fn post_inject(
    State(state): State<AdminState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Option<Json> = if is_json(&headers) && !body.is_empty() {
        match serde_json::from_slice(&body) {
            Ok(b) => Some(b),
            Err(_) => return status(StatusCode::BAD_REQUEST),
        }
    } else {
        None
    };
    let msg = match body {
        Some(b @ Json::Object(_)) if b.get("__user_inject_props__").is_some() => Msg::from_json(&b),
        _ => Msg::new(),
    };
    if state.engine().input(&id, msg).await {
        status(StatusCode::OK)
    } else {
        status(StatusCode::NOT_FOUND)
    }
}

fn parse_state(s: &str) -> Option<bool> {
    match s {
        "enable" => Some(true),
        "disable" => Some(false),
        _ => None,
    }
}

/// Node-RED answers 200 to enable and 201 to disable.
fn toggled(active: bool) -> Response {
    status(if active {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    })
}

/// `POST /debug/:id/(enable|disable)`.
pub async fn post_debug_node(
    State(state): State<AdminState>,
    Path((id, st)): Path<(String, String)>,
) -> Response {
    let Some(active) = parse_state(&st) else {
        return status(StatusCode::NOT_FOUND);
    };
    if state.engine().event(&id, debug_toggle(active)).await {
        toggled(active)
    } else {
        status(StatusCode::NOT_FOUND)
    }
}

/// The `nodes` list of a bulk toggle: a form body (`nodes[]=a&nodes[]=b`,
/// what the editor sends) or JSON `{"nodes": [...]}`.
fn node_list(headers: &HeaderMap, body: &[u8]) -> Option<Vec<String>> {
    if is_json(headers) {
        let v: Json = serde_json::from_slice(body).ok()?;
        let list = v.get("nodes")?.as_array()?;
        return Some(
            list.iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect(),
        );
    }
    let mut found = false;
    let mut out = Vec::new();
    for (k, v) in form_urlencoded::parse(body) {
        let is_nodes = k == "nodes" || (k.starts_with("nodes[") && k.ends_with(']'));
        if is_nodes {
            found = true;
            out.push(v.into_owned());
        }
    }
    found.then_some(out)
}

/// `POST /debug/(enable|disable)` with a list of node ids; 400 without one.
/// Ids of nodes that do not run are skipped.
pub async fn post_debug_bulk(
    State(state): State<AdminState>,
    Path(st): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(active) = parse_state(&st) else {
        return status(StatusCode::NOT_FOUND);
    };
    let Some(nodes) = node_list(&headers, &body) else {
        return status(StatusCode::BAD_REQUEST);
    };
    for id in nodes {
        state.engine().event(&id, debug_toggle(active)).await;
    }
    toggled(active)
}
