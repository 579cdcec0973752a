//! `/settings`, `/settings/user` and `/diagnostics` (Node-RED's runtime
//! `api/settings.js`, editor-api `admin/settings.js`, `editor/settings.js`
//! and runtime `api/diagnostics.js`).
//!
//! User settings live in `<userDir>/.config.users.json` under the user
//! name, `_` for the anonymous user, as Node-RED keeps them.

use super::{json_body, write_atomic};
use crate::error::ApiError;
use crate::state::{AdminState, EditorSettings, PALETTE_EXPLANATION, extend};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use redoubt_auth::Principal;
use serde_json::{Map, Value as Json_, json};
use std::path::{Path, PathBuf};

/// The user settings key of the anonymous user.
const ANONYMOUS: &str = "_";

/// The runtime settings object the editor boots with.
pub fn runtime_settings(
    s: &EditorSettings,
    store_names: Vec<String>,
    default_store: &str,
) -> Json_ {
    let mut out = Map::new();
    out.insert("httpNodeRoot".into(), json!(s.http_node_root));
    out.insert("version".into(), json!(s.version));
    out.insert(
        "context".into(),
        json!({"default": default_store, "stores": store_names}),
    );
    let theme = s.editor_theme_json();
    if let Some(ce) = theme.get("codeEditor") {
        let mut ce = ce.as_object().cloned().unwrap_or_default();
        ce.entry("lib").or_insert_with(|| json!("monaco"));
        ce.entry("options").or_insert_with(|| json!({}));
        out.insert("codeEditor".into(), Json_::Object(ce));
    }
    if let Some(me) = theme.get("markdownEditor") {
        let mut me = me.as_object().cloned().unwrap_or_default();
        me.entry("mermaid")
            .or_insert_with(|| json!({"enabled": true}));
        out.insert("markdownEditor".into(), Json_::Object(me));
    }
    if let Some(m) = theme.get("mermaid") {
        out.insert("mermaid".into(), m.clone());
    }
    out.insert(
        "libraries".into(),
        json!([{"id": "local", "label": "editor:library.types.local", "user": false, "icon": "font-awesome/fa-hdd-o"}]),
    );
    if let Some(pc) = &s.palette_categories {
        out.insert("paletteCategories".into(), json!(pc));
    }
    if s.flow_file_pretty {
        out.insert("flowFilePretty".into(), json!(true));
    }
    out.insert(
        "externalModules".into(),
        json!({"palette": {"allowInstall": false, "allowUpload": false, "explanation": PALETTE_EXPLANATION}}),
    );
    out.insert("flowEncryptionType".into(), json!(s.flow_encryption_type));
    let diag_ui = s.diagnostics_enabled && s.diagnostics_ui;
    out.insert(
        "diagnostics".into(),
        json!({"enabled": s.diagnostics_enabled, "ui": diag_ui}),
    );
    out.insert("telemetryEnabled".into(), json!(false));
    out.insert(
        "runtimeState".into(),
        json!({"enabled": false, "ui": false}),
    );
    for (k, v) in &s.node_settings {
        out.insert(k.clone(), v.clone());
    }
    out.insert("editorTheme".into(), Json_::Object(theme));
    Json_::Object(out)
}

/// `GET /settings`.
/// With adminAuth, it also carries `user` (name and permissions), which the
/// editor uses for its user menu and to disable what the user may not do.
pub async fn get_settings(
    State(state): State<AdminState>,
    principal: Option<axum::Extension<Principal>>,
) -> Json<Json_> {
    let ctx = state.engine().context();
    let mut out = runtime_settings(state.settings(), ctx.store_names(), ctx.default_store());
    let p = crate::access::principal_of(principal);
    if !p.open
        && let Json_::Object(m) = &mut out
    {
        m.insert("user".into(), p.to_json());
    }
    Json(out)
}

/// The key of a principal's entry in `.config.users.json`.
fn user_key(p: &Principal) -> String {
    p.username.clone().unwrap_or_else(|| ANONYMOUS.to_string())
}

fn users_path(user_dir: &Path) -> PathBuf {
    user_dir.join(".config.users.json")
}

fn read_users(path: &Path) -> Result<Map<String, Json_>, ApiError> {
    match std::fs::read(path) {
        Ok(b) if b.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
        Ok(b) => match serde_json::from_slice::<Json_>(&b) {
            Ok(Json_::Object(m)) => Ok(m),
            Ok(_) => Err(ApiError::internal(format!(
                "{} is not a JSON object",
                path.display()
            ))),
            Err(e) => Err(ApiError::internal(format!("{}: {e}", path.display()))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
        Err(e) => Err(ApiError::internal(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// `GET /settings/user`: the stored object, `{}` at first.
pub async fn get_user_settings(
    State(state): State<AdminState>,
    principal: Option<axum::Extension<Principal>>,
) -> Result<Json<Json_>, ApiError> {
    let key = user_key(&crate::access::principal_of(principal));
    let path = users_path(&state.0.user_dir);
    let users = tokio::task::spawn_blocking(move || read_users(&path))
        .await
        .map_err(ApiError::internal)??;
    Ok(Json(users.get(&key).cloned().unwrap_or_else(|| json!({}))))
}

/// `POST /settings/user`: deep-merges the body into the stored object
/// (`null` deletes a key); 204. `telemetryEnabled` is not stored: redoubt
/// has no telemetry.
pub async fn post_user_settings(
    State(state): State<AdminState>,
    principal: Option<axum::Extension<Principal>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let Json_::Object(update) = json_body(&headers, &body)? else {
        return Err(ApiError::bad_request(
            "invalid_request",
            "Expected a settings object",
        ));
    };
    let key = user_key(&crate::access::principal_of(principal));
    let _guard = state.0.user_settings_lock.lock().await;
    let path = users_path(&state.0.user_dir);
    tokio::task::spawn_blocking(move || {
        let mut users = read_users(&path)?;
        let mut mine = users
            .get(&key)
            .and_then(Json_::as_object)
            .cloned()
            .unwrap_or_default();
        extend(&mut mine, &update);
        mine.shift_remove("telemetryEnabled");
        users.insert(key, Json_::Object(mine));
        let text =
            serde_json::to_string_pretty(&Json_::Object(users)).map_err(ApiError::internal)?;
        write_atomic(&path, text.as_bytes())
            .map_err(|e| ApiError::internal(format!("cannot write {}: {e}", path.display())))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(StatusCode::NO_CONTENT)
}

fn set_or_unset(b: bool) -> &'static str {
    if b { "SET" } else { "UNSET" }
}

/// `GET /diagnostics`: a report for bug reports. Like Node-RED's, it says
/// only whether sensitive settings are set, never their values.
pub async fn get_diagnostics(State(state): State<AdminState>) -> Result<Json<Json_>, ApiError> {
    let s = state.settings();
    if !s.diagnostics_enabled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "diagnostics.disabled",
            "diagnostics are disabled",
        ));
    }
    let d = state.deployed();
    let flow_state = state
        .0
        .comms
        .retained("notification/runtime-state")
        .and_then(|v| v.get("state").cloned())
        .unwrap_or_else(|| json!("stop"));
    let tabs = d
        .flows
        .iter()
        .filter(|n| n.get("type").and_then(Json_::as_str) == Some("tab"))
        .count();
    let now = chrono::Utc::now();
    let rt = state.engine().settings();
    let ctx = state.engine().context();
    Ok(Json(json!({
        "report": "diagnostics",
        "scope": "basic",
        "time": {"utc": now.to_rfc2822(), "local": chrono::Local::now().to_rfc2822()},
        "os": {"arch": std::env::consts::ARCH, "platform": std::env::consts::OS, "family": std::env::consts::FAMILY},
        "runtime": {
            "name": "redoubt",
            "version": s.version,
            "isStarted": true,
            "flows": {"state": flow_state, "started": flow_state == "start", "nodes": d.flows.len(), "tabs": tabs},
            "modules": {"node-red": s.version},
            "nodeTypes": state.0.node_types,
            "settings": {
                "apiMaxLength": s.api_max_length,
                "contextStorage": {"default": ctx.default_store(), "stores": ctx.store_names()},
                "debugMaxLength": rt.debug_max_length,
                "flowFilePretty": s.flow_file_pretty,
                "flowEncryptionType": s.flow_encryption_type,
                "functionTimeout": rt.function_timeout,
                "execEnabled": rt.exec_enabled,
                "httpAdminRoot": s.http_admin_root,
                "httpNodeRoot": s.http_node_root,
                "adminAuth": "UNSET",
                "userDir": set_or_unset(!state.0.user_dir.as_os_str().is_empty()),
                "editorTheme": Json_::Object(s.editor_theme.clone()),
            },
        },
    })))
}
