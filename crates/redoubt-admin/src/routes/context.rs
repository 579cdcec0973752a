//! `/context/...` (Node-RED's editor-api `admin/context.js` and runtime
//! `api/context.js`): the editor's context sidebar.
//!
//! Values are sent encoded (`{msg, format}`, see
//! [`crate::comms::encode`]): all keys as `{store: {key: {msg, format}}}`,
//! one key as `{msg, format}` (plus `store` when it is not the default).
//! A node's context scope is `<id>:<z>`, so the node is looked up in the
//! deployed flows; an unknown node has no context (`{}`).

use crate::comms::encode::{encode_json, encode_value};
use crate::error::ApiError;
use crate::state::AdminState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use redoubt_core::Value;
use serde_json::{Map, Value as Json_, json};
use std::collections::HashMap;

/// Node-RED encodes context values with `encodeObject`'s default limit.
const MAX_LENGTH: usize = 1000;

/// `?store=` and `?keysOnly`.
pub type ContextQuery = Query<HashMap<String, String>>;

/// The store scope name of `/context/<scope>/<id>`, or `None` when there
/// is no such context.
fn scope_name(state: &AdminState, scope: &str, id: &str) -> Result<Option<String>, ApiError> {
    match scope {
        "flow" => Ok(Some(id.to_string())),
        "node" => {
            let flows = state.flows();
            let node = flows
                .iter()
                .find(|n| n.get("id").and_then(Json_::as_str) == Some(id));
            Ok(node.map(|n| {
                let ty = n.get("type").and_then(Json_::as_str).unwrap_or("");
                let z = n.get("z").and_then(Json_::as_str).unwrap_or("");
                // A subflow instance's context is its flow context.
                if ty.starts_with("subflow:") {
                    id.to_string()
                } else {
                    format!("{id}:{z}")
                }
            }))
        }
        _ => Err(ApiError::not_found(format!(
            "Unknown context scope {scope}"
        ))),
    }
}

fn check_store(
    state: &AdminState,
    q: &HashMap<String, String>,
) -> Result<Option<String>, ApiError> {
    match q.get("store") {
        Some(s) if !state.engine().context().store_names().contains(s) => {
            Err(ApiError::not_found(format!("Unknown context store {s}")))
        }
        other => Ok(other.cloned()),
    }
}

fn ctx_error(e: redoubt_core::context::ContextError) -> ApiError {
    ApiError::bad_request("unexpected_error", e.to_string())
}

fn all_values(
    state: &AdminState,
    scope: &str,
    q: &HashMap<String, String>,
) -> Result<Json_, ApiError> {
    let store = check_store(state, q)?;
    let ctx = state.engine().context();
    let stores = match store {
        Some(s) => vec![s],
        None => ctx.store_names(),
    };
    let keys_only = q.contains_key("keysOnly");
    let mut out = Map::new();
    for st in stores {
        let keys = ctx.keys(Some(&st), scope).map_err(ctx_error)?;
        if keys_only {
            let list: Vec<Json_> = keys.into_iter().map(|k| json!({"key": k})).collect();
            out.insert(st, json!({"keys": list}));
            continue;
        }
        let mut m = Map::new();
        for k in keys {
            let v = ctx
                .store(Some(&st))
                .and_then(|s| s.get(scope, &k))
                .map_err(ctx_error)?;
            m.insert(k, encode_json(&v.unwrap_or_default(), MAX_LENGTH));
        }
        out.insert(st, Json_::Object(m));
    }
    Ok(Json_::Object(out))
}

/// The `keysOnly` summary of one value: its keys and their shapes.
fn keys_summary(v: &Value) -> Json_ {
    match v {
        Value::Array(a) => json!({"format": format!("array[{}]", a.len())}),
        Value::Object(o) => {
            let keys: Vec<Json_> = o
                .entries()
                .into_iter()
                .map(|(k, v)| match v {
                    Value::Array(a) => json!({"key": &*k, "format": format!("array[{}]", a.len()), "length": a.len()}),
                    Value::Object(_) | Value::Null | Value::Buffer(_) | Value::Date(_) => json!({"key": &*k, "format": "object"}),
                    _ => json!({"key": &*k}),
                })
                .collect();
            json!({"keys": keys, "format": "object"})
        }
        Value::Null | Value::Buffer(_) | Value::Date(_) => json!({"format": "object"}),
        _ => json!({"keys": []}),
    }
}

fn one_value(
    state: &AdminState,
    scope: &str,
    key: &str,
    q: &HashMap<String, String>,
) -> Result<Json_, ApiError> {
    let ctx = state.engine().context();
    let store = check_store(state, q)?.unwrap_or_else(|| ctx.default_store().to_string());
    let v = ctx
        .get(Some(&store), scope, key)
        .map_err(ctx_error)?
        .unwrap_or_default();
    if q.contains_key("keysOnly") {
        let mut m = Map::new();
        m.insert(store, keys_summary(&v));
        return Ok(Json_::Object(m));
    }
    let (msg, format) = encode_value(&v, MAX_LENGTH);
    let mut m = Map::new();
    m.insert("msg".into(), json!(msg));
    m.insert("format".into(), json!(format));
    if store != ctx.default_store() {
        m.insert("store".into(), json!(store));
    }
    Ok(Json_::Object(m))
}

/// `GET /context/global`.
pub async fn get_global_all(
    State(state): State<AdminState>,
    Query(q): ContextQuery,
) -> Result<Json<Json_>, ApiError> {
    all_values(&state, "global", &q).map(Json)
}

/// `GET /context/global/*key`.
pub async fn get_global_key(
    State(state): State<AdminState>,
    Path(key): Path<String>,
    Query(q): ContextQuery,
) -> Result<Json<Json_>, ApiError> {
    one_value(&state, "global", &key, &q).map(Json)
}

/// `GET /context/(flow|node)/:id`.
pub async fn get_scoped_all(
    State(state): State<AdminState>,
    Path((scope, id)): Path<(String, String)>,
    Query(q): ContextQuery,
) -> Result<Json<Json_>, ApiError> {
    check_store(&state, &q)?;
    match scope_name(&state, &scope, &id)? {
        Some(s) => all_values(&state, &s, &q).map(Json),
        None => Ok(Json(json!({}))),
    }
}

/// `GET /context/(flow|node)/:id/*key`.
pub async fn get_scoped_key(
    State(state): State<AdminState>,
    Path((scope, id, key)): Path<(String, String, String)>,
    Query(q): ContextQuery,
) -> Result<Json<Json_>, ApiError> {
    check_store(&state, &q)?;
    match scope_name(&state, &scope, &id)? {
        Some(s) => one_value(&state, &s, &key, &q).map(Json),
        None => Ok(Json(json!({}))),
    }
}

fn delete(
    state: &AdminState,
    scope: Option<String>,
    key: &str,
    q: &HashMap<String, String>,
) -> Result<StatusCode, ApiError> {
    let ctx = state.engine().context();
    let store = check_store(state, q)?.unwrap_or_else(|| ctx.default_store().to_string());
    if let Some(scope) = scope {
        ctx.set(Some(&store), &scope, key, None)
            .map_err(ctx_error)?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /context/global/*key`: 204.
pub async fn delete_global_key(
    State(state): State<AdminState>,
    Path(key): Path<String>,
    Query(q): ContextQuery,
) -> Result<StatusCode, ApiError> {
    delete(&state, Some("global".into()), &key, &q)
}

/// `DELETE /context/(flow|node)/:id/*key`: 204.
pub async fn delete_scoped_key(
    State(state): State<AdminState>,
    Path((scope, id, key)): Path<(String, String, String)>,
    Query(q): ContextQuery,
) -> Result<StatusCode, ApiError> {
    check_store(&state, &q)?;
    let s = scope_name(&state, &scope, &id)?;
    delete(&state, s, &key, &q)
}

/// `DELETE` without a key: deleting a whole context is not supported
/// (Node-RED does not route it either): 404.
pub async fn delete_without_key() -> ApiError {
    ApiError::not_found("Deleting a whole context is not supported")
}
