//! `/nodes` and `/plugins` (Node-RED's editor-api `admin/nodes.js` and
//! `admin/plugins.js`): the palette. Only node sets whose every type runs
//! here are listed, plus the editor's own sets (see
//! [`crate::state::served_sets`]); the HTML comes from the
//! [`crate::state::NodeCatalog`] for exactly those sets, so the list and the
//! HTML agree. Installing, enabling or removing modules is not supported
//! (the settings hide the palette manager).

use super::{request_lang, wants_json};
use crate::error::ApiError;
use crate::state::{AdminState, NodeSetInfo, served_sets};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value as Json_, json};

/// `?lng=` of the message catalog routes.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    lng: Option<String>,
}

fn sets(state: &AdminState) -> Vec<NodeSetInfo> {
    served_sets(state.0.catalog.as_ref(), &state.0.node_types)
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// `GET /nodes`: the served node sets (`Accept: application/json`) or
/// their concatenated HTML.
pub async fn get_nodes(State(state): State<AdminState>, headers: HeaderMap) -> Response {
    let sets = sets(&state);
    if wants_json(&headers) {
        return Json(sets).into_response();
    }
    let ids: Vec<String> = sets.into_iter().map(|s| s.id).collect();
    html(state.0.catalog.html(&ids, &request_lang(&headers, None)))
}

/// `GET /nodes/messages`: catalogs of non-core modules by set id (`{}`
/// with core nodes only: theirs is `/locales/node-red`).
pub async fn get_messages(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Json<Json_> {
    let lang = request_lang(&headers, q.lng.as_deref());
    let mut out = Map::new();
    for s in sets(&state).into_iter().filter(|s| s.module != "node-red") {
        if let Some(c) = state.0.catalog.messages(&lang, &s.module) {
            out.insert(s.id, c);
        }
    }
    Json(Json_::Object(out))
}

/// `GET /nodes/:module`: `{name, version, nodes: [sets]}`.
pub async fn get_module(
    State(state): State<AdminState>,
    Path(module): Path<String>,
) -> Result<Json<Json_>, ApiError> {
    let sets: Vec<NodeSetInfo> = sets(&state)
        .into_iter()
        .filter(|s| s.module == module)
        .collect();
    let Some(first) = sets.first() else {
        return Err(ApiError::not_found(format!("No module {module}")));
    };
    let version = first.version.clone();
    Ok(Json(
        json!({"name": module, "version": version, "nodes": sets}),
    ))
}

/// `GET /nodes/:module/:set`: one set's info, or its HTML.
pub async fn get_set(
    State(state): State<AdminState>,
    Path((module, set)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = format!("{module}/{set}");
    let info = sets(&state)
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| ApiError::not_found(format!("No node set {id}")))?;
    if wants_json(&headers) {
        return Ok(Json(info).into_response());
    }
    Ok(html(
        state.0.catalog.html(&[id], &request_lang(&headers, None)),
    ))
}

/// `GET /nodes/:module/:set/messages`: the set's catalog (`{}` for core).
pub async fn get_set_messages(
    State(state): State<AdminState>,
    Path((module, set)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Result<Json<Json_>, ApiError> {
    let id = format!("{module}/{set}");
    if !sets(&state).iter().any(|s| s.id == id) {
        return Err(ApiError::not_found(format!("No node set {id}")));
    }
    let lang = request_lang(&headers, q.lng.as_deref());
    let cat = if module == "node-red" {
        None
    } else {
        state.0.catalog.messages(&lang, &module)
    };
    Ok(Json(cat.unwrap_or_else(|| json!({}))))
}

/// `GET /plugins`: no plugins (`[]`, or empty HTML).
pub async fn get_plugins(headers: HeaderMap) -> Response {
    if wants_json(&headers) {
        Json(json!([])).into_response()
    } else {
        html(String::new())
    }
}

/// `GET /plugins/messages`: `{}`.
pub async fn get_plugin_messages() -> Json<Json_> {
    Json(json!({}))
}
