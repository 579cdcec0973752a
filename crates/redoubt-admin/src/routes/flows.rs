//! `/flows`, `/flows/state`, `/flow[/:id]` and `/credentials/:type/:id`
//! (Node-RED's editor-api `admin/flows.js`, `admin/flow.js`,
//! `editor/credentials.js` and runtime `api/flows.js`).

use super::deploy::{self, Deploy};
use super::{api_v2, credentials, json_body};
use crate::error::ApiError;
use crate::state::AdminState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use redoubt_core::engine::DeployKind;
use serde_json::{Map, Value as Json_, json};

/// `GET /flows`: v1 the array, v2 `{flows, rev}`.
pub async fn get_flows(
    State(state): State<AdminState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let v2 = api_v2(&headers)?;
    let d = state.deployed();
    Ok(if v2 {
        Json(json!({"flows": *d.flows, "rev": d.rev})).into_response()
    } else {
        Json(d.flows.as_ref()).into_response()
    })
}

/// `POST /flows`: deploys. The deployment type comes from
/// `Node-RED-Deployment-Type` (`full`, `nodes`, `flows`, `reload`).
pub async fn post_flows(
    State(state): State<AdminState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v2 = api_v2(&headers)?;
    let kind = headers
        .get("Node-RED-Deployment-Type")
        .and_then(|v| v.to_str().ok())
        .map(DeployKind::from_header)
        .unwrap_or(DeployKind::Full);
    let rev = if kind == DeployKind::Reload {
        deploy::reload(&state).await?
    } else {
        let body = json_body(&headers, &body)?;
        let req = if v2 {
            v2_request(body, kind)?
        } else {
            v1_request(body, kind)?
        };
        deploy::deploy(&state, req).await?
    };
    Ok(if v2 {
        Json(json!({"rev": rev})).into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    })
}

fn v1_request(body: Json_, kind: DeployKind) -> Result<Deploy, ApiError> {
    match body {
        Json_::Array(flows) => Ok(Deploy {
            flows,
            credentials: None,
            kind,
            rev: None,
        }),
        _ => Err(ApiError::bad_request(
            "invalid_flows",
            "Expected an array of flow objects",
        )),
    }
}

fn v2_request(body: Json_, kind: DeployKind) -> Result<Deploy, ApiError> {
    let Json_::Object(mut o) = body else {
        return Err(ApiError::bad_request(
            "invalid_flows",
            "Expected {\"flows\": [...], \"rev\": \"...\"}",
        ));
    };
    let flows = match o.shift_remove("flows") {
        Some(Json_::Array(f)) => f,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_flows",
                "\"flows\" must be an array of flow objects",
            ));
        }
    };
    // Node-RED compares whenever the key is present, so `"rev": null` is stale.
    let rev = o.shift_remove("rev").map(|r| match r {
        Json_::String(s) => s,
        other => other.to_string(),
    });
    let credentials = match o.shift_remove("credentials") {
        None | Some(Json_::Null) => None,
        Some(Json_::Object(c)) => Some(c),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_credentials",
                "\"credentials\" must be an object",
            ));
        }
    };
    Ok(Deploy {
        flows,
        credentials,
        kind,
        rev,
    })
}

/// `GET /flows/state`: `{"state": "start"|"stop"|"safe"}`.
pub async fn get_state(State(state): State<AdminState>) -> Json<Json_> {
    let s = state
        .0
        .comms
        .retained("notification/runtime-state")
        .and_then(|v| v.get("state").and_then(Json_::as_str).map(str::to_string))
        .unwrap_or_else(|| "stop".to_string());
    Json(json!({"state": s}))
}

fn str_of<'a>(n: &'a Json_, k: &str) -> &'a str {
    n.get(k).and_then(Json_::as_str).unwrap_or("")
}

fn has_xy(n: &Json_) -> bool {
    n.get("x").is_some() && n.get("y").is_some()
}

/// `GET /flow/:id`: one tab as `{id, label, disabled?, info?, env?,
/// nodes, configs?}`, or `global` as `{id, configs?, subflows?}`.
pub async fn get_flow(
    State(state): State<AdminState>,
    Path(id): Path<String>,
) -> Result<Json<Json_>, ApiError> {
    let flows = state.flows();
    if id == "global" {
        return Ok(Json(global_flow(&flows)));
    }
    let tab = flows
        .iter()
        .find(|n| str_of(n, "id") == id && str_of(n, "type") == "tab")
        .ok_or_else(|| ApiError::not_found(format!("No flow with id {id}")))?;
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    for k in ["label", "disabled", "info", "env"] {
        if let Some(v) = tab.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    let mut nodes = Vec::new();
    let mut configs = Vec::new();
    for n in flows.iter().filter(|n| str_of(n, "z") == id) {
        let link_out = str_of(n, "type") == "link out";
        let mut n = n.clone();
        if let Json_::Object(o) = &mut n {
            o.shift_remove("credentials");
            if link_out {
                o.shift_remove("wires");
            }
        }
        if has_xy(&n) || str_of(&n, "type") == "group" {
            nodes.push(n)
        } else {
            configs.push(n)
        }
    }
    out.insert("nodes".into(), Json_::Array(nodes));
    if !configs.is_empty() {
        out.insert("configs".into(), Json_::Array(configs));
    }
    Ok(Json(Json_::Object(out)))
}

fn global_flow(flows: &[Json_]) -> Json_ {
    let configs: Vec<Json_> = flows
        .iter()
        .filter(|n| str_of(n, "z").is_empty() && !matches!(str_of(n, "type"), "tab" | "subflow"))
        .cloned()
        .collect();
    let subflows: Vec<Json_> = flows
        .iter()
        .filter(|n| str_of(n, "type") == "subflow")
        .map(|sf| {
            let sid = str_of(sf, "id");
            let mut sf = sf.clone();
            let members: Vec<Json_> = flows
                .iter()
                .filter(|n| str_of(n, "z") == sid)
                .cloned()
                .collect();
            if let Json_::Object(o) = &mut sf {
                o.insert("nodes".into(), Json_::Array(members));
            }
            sf
        })
        .collect();
    let mut out = Map::new();
    out.insert("id".into(), json!("global"));
    if !configs.is_empty() {
        out.insert("configs".into(), Json_::Array(configs));
    }
    if !subflows.is_empty() {
        out.insert("subflows".into(), Json_::Array(subflows));
    }
    Json_::Object(out)
}

/// The tab node and member nodes of a `/flow` body, all with `z = id`.
fn flow_nodes(id: &str, body: &Map<String, Json_>) -> Result<Vec<Json_>, ApiError> {
    let mut tab = Map::new();
    tab.insert("type".into(), json!("tab"));
    tab.insert(
        "label".into(),
        body.get("label").cloned().unwrap_or(Json_::Null),
    );
    tab.insert("id".into(), json!(id));
    for k in ["info", "disabled", "env", "credentials"] {
        if let Some(v) = body.get(k) {
            tab.insert(k.into(), v.clone());
        }
    }
    if tab.get("label") == Some(&Json_::Null) {
        tab.shift_remove("label");
    }
    let mut out = vec![Json_::Object(tab)];
    for key in ["nodes", "configs"] {
        let items = match body.get(key) {
            None => continue,
            Some(Json_::Array(a)) => a,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_flow",
                    format!("\"{key}\" must be an array"),
                ));
            }
        };
        for n in items {
            let Json_::Object(mut o) = n.clone() else {
                return Err(ApiError::bad_request(
                    "invalid_flow",
                    format!("\"{key}\" items must be objects"),
                ));
            };
            let ty = o.get("type").and_then(Json_::as_str).unwrap_or("");
            if ty == "tab" || ty == "subflow" {
                return Err(ApiError::bad_request(
                    "invalid_flow",
                    format!("invalid node type: {ty}"),
                ));
            }
            o.insert("z".into(), json!(id));
            out.push(Json_::Object(o));
        }
    }
    Ok(out)
}

fn flow_body(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Json_>, ApiError> {
    match json_body(headers, body)? {
        Json_::Object(o) => Ok(o),
        _ => Err(ApiError::bad_request(
            "invalid_flow",
            "Expected a flow object",
        )),
    }
}

/// `POST /flow`: adds a tab; answers `{id}`.
pub async fn post_flow(
    State(state): State<AdminState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Json_>, ApiError> {
    let body = flow_body(&headers, &body)?;
    if !body.contains_key("nodes") {
        return Err(ApiError::bad_request(
            "invalid_flow",
            "missing nodes property",
        ));
    }
    let id = redoubt_core::msg::new_msgid();
    let added = flow_nodes(&id, &body)?;
    let mut flows = state.flows().as_ref().clone();
    for n in &added[1..] {
        let nid = str_of(n, "id");
        if flows.iter().any(|f| str_of(f, "id") == nid) {
            return Err(ApiError::bad_request(
                "invalid_flow",
                format!("duplicate id {nid}"),
            ));
        }
    }
    flows.extend(added);
    deploy::deploy(
        &state,
        Deploy {
            flows,
            credentials: None,
            kind: DeployKind::Flows,
            rev: None,
        },
    )
    .await?;
    Ok(Json(json!({"id": id})))
}

/// `PUT /flow/:id`: replaces a tab and its nodes; answers `{id}`.
pub async fn put_flow(
    State(state): State<AdminState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Json_>, ApiError> {
    let body = flow_body(&headers, &body)?;
    let current = state.flows();
    if id == "global" {
        return Err(ApiError::bad_request(
            "invalid_flow",
            "Updating the global flow is not supported",
        ));
    }
    if !current
        .iter()
        .any(|n| str_of(n, "id") == id && str_of(n, "type") == "tab")
    {
        return Err(ApiError::not_found(format!("No flow with id {id}")));
    }
    let mut flows: Vec<Json_> = current
        .iter()
        .filter(|n| str_of(n, "z") != id && str_of(n, "id") != id)
        .cloned()
        .collect();
    flows.extend(flow_nodes(&id, &body)?);
    deploy::deploy(
        &state,
        Deploy {
            flows,
            credentials: None,
            kind: DeployKind::Flows,
            rev: None,
        },
    )
    .await?;
    Ok(Json(json!({"id": id})))
}

/// `DELETE /flow/:id`: removes a tab and its nodes; 204.
pub async fn delete_flow(
    State(state): State<AdminState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if id == "global" {
        return Err(ApiError::bad_request(
            "invalid_flow",
            "not allowed to remove global",
        ));
    }
    let current = state.flows();
    if !current
        .iter()
        .any(|n| str_of(n, "id") == id && str_of(n, "type") == "tab")
    {
        return Err(ApiError::not_found(format!("No flow with id {id}")));
    }
    let flows: Vec<Json_> = current
        .iter()
        .filter(|n| str_of(n, "z") != id && str_of(n, "id") != id)
        .cloned()
        .collect();
    deploy::deploy(
        &state,
        Deploy {
            flows,
            credentials: None,
            kind: DeployKind::Flows,
            rev: None,
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /credentials/:type/:id`: the node's credentials without secrets
/// (see [`credentials::safe_view`]); `{}` when it has none.
pub async fn get_credentials(
    State(state): State<AdminState>,
    Path((ty, id)): Path<(String, String)>,
) -> Json<Json_> {
    let d = state.deployed();
    Json(Json_::Object(credentials::safe_view(
        &ty,
        d.credentials.get(&id),
    )))
}
