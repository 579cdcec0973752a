//! `/nodes`, `/plugins`, `/settings`, `/settings/user`, `/diagnostics`,
//! `/auth/login`.

use super::{Fixture, two_tabs};
use crate::state::{ALWAYS_SERVED, EditorSettings};
use axum::http::StatusCode;
use serde_json::{Value, json};

const JSON_ACCEPT: (&str, &str) = ("Accept", "application/json");

#[tokio::test]
async fn node_list_has_only_fully_implemented_sets_plus_editor_sets() {
    let f = Fixture::start(two_tabs()).await;
    let (s, ct, b) = f.get("/nodes", &[JSON_ACCEPT]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("application/json"), "{ct}");
    let sets: Vec<Value> = serde_json::from_slice(&b).unwrap_or_default();
    let ids: Vec<&str> = sets.iter().filter_map(|s| s["id"].as_str()).collect();
    for id in [
        "node-red/inject",
        "node-red/debug",
        "node-red/unknown",
        "node-red/comment",
        "node-red/junction",
        "node-red/global-config",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    for s in &sets {
        assert_eq!(s["module"], json!("node-red"));
        assert_eq!(s["enabled"], json!(true));
        for t in s["types"].as_array().cloned().unwrap_or_default() {
            let t = t.as_str().unwrap_or_default();
            assert!(
                ALWAYS_SERVED.contains(&t) || f.state.0.node_types.iter().any(|n| n == t),
                "{t} is not implemented"
            );
        }
    }
    let inject = sets
        .iter()
        .find(|s| s["id"] == json!("node-red/inject"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        inject,
        json!({"id":"node-red/inject","name":"inject","types":["inject"],"enabled":true,"local":false,"user":false,"module":"node-red","version":"5.0.7"})
    );
}

#[tokio::test]
async fn node_html_matches_the_list() {
    let f = Fixture::start(two_tabs()).await;
    let (s, ct, b) = f
        .get(
            "/nodes",
            &[("Accept", "text/html"), ("Accept-Language", "de,en;q=0.5")],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("text/html"), "{ct}");
    let html = String::from_utf8_lossy(&b);
    let list: Vec<Value> =
        serde_json::from_slice(&f.get("/nodes", &[JSON_ACCEPT]).await.2).unwrap_or_default();
    let markers = html.matches("<!-- --- [red-module:").count();
    assert_eq!(markers, list.len());
    assert!(html.contains("[red-module:node-red/inject]"));
}

#[tokio::test]
async fn single_sets_modules_and_catalogs() {
    let f = Fixture::start(two_tabs()).await;
    assert_eq!(f.get_json("/nodes/messages?lng=en-US").await, json!({}));
    let (s, _, b) = f.get("/nodes/node-red/inject", &[JSON_ACCEPT]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        serde_json::from_slice::<Value>(&b).unwrap_or_default()["types"],
        json!(["inject"])
    );
    let (s, _, b) = f
        .get("/nodes/node-red/inject", &[("Accept", "text/html")])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&b).contains("[red-module:node-red/inject]"));
    assert_eq!(
        f.get_json("/nodes/node-red/inject/messages").await,
        json!({})
    );
    let (s, _, _) = f.get("/nodes/node-red/nope", &[JSON_ACCEPT]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let module = f.get_json("/nodes/node-red").await;
    assert_eq!(module["name"], json!("node-red"));
    assert!(module["nodes"].as_array().is_some_and(|a| !a.is_empty()));
    let (s, _, _) = f.get("/nodes/other-module", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn plugins_are_empty() {
    let f = Fixture::start(json!([])).await;
    let (s, _, b) = f.get("/plugins", &[JSON_ACCEPT]).await;
    assert_eq!((s, b), (StatusCode::OK, b"[]".to_vec()));
    let (s, ct, b) = f.get("/plugins", &[("Accept", "text/html")]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("text/html"));
    assert!(b.is_empty());
    assert_eq!(f.get_json("/plugins/messages?lng=en-US").await, json!({}));
}

#[tokio::test]
async fn settings_describe_the_runtime_and_lock_the_palette() {
    let es = EditorSettings {
        version: "9.8.7".into(),
        http_node_root: "/api".into(),
        flow_file_pretty: true,
        ..EditorSettings::default()
    };
    let f = Fixture::start_with(json!([]), es).await;
    let s = f.get_json("/settings").await;
    assert_eq!(s["httpNodeRoot"], json!("/api"));
    assert_eq!(s["version"], json!("9.8.7"));
    assert_eq!(
        s["context"],
        json!({"default": "memory", "stores": ["memory"]})
    );
    assert_eq!(s["flowFilePretty"], json!(true));
    assert_eq!(s["flowEncryptionType"], json!("system"));
    assert_eq!(
        s["externalModules"]["palette"]["allowInstall"],
        json!(false)
    );
    assert_eq!(s["externalModules"]["palette"]["allowUpload"], json!(false));
    assert!(s["externalModules"]["palette"]["explanation"].is_string());
    assert_eq!(s["editorTheme"]["palette"]["upload"], json!(false));
    assert_eq!(s["editorTheme"]["projects"], json!({"enabled": false}));
    assert!(
        s["editorTheme"]["languages"]
            .as_array()
            .is_some_and(|l| l.contains(&json!("en-US")))
    );
    assert_eq!(s["functionExternalModules"], json!(false));
    assert_eq!(s["runtimeState"], json!({"enabled": false, "ui": false}));
    assert_eq!(s["diagnostics"], json!({"enabled": true, "ui": true}));
    assert_eq!(s["codeEditor"]["lib"], json!("monaco"));
    assert_eq!(s["libraries"][0]["id"], json!("local"));
    assert_eq!(s["telemetryEnabled"], json!(false));
    assert!(s.get("user").is_none());
}

#[tokio::test]
async fn user_settings_start_empty_merge_and_persist() {
    let f = Fixture::start(json!([])).await;
    assert_eq!(f.get_json("/settings/user").await, json!({}));
    let (s, _) = f
        .json(
            "POST",
            "/settings/user",
            &[],
            &json!({"editor": {"view": {"grid": true}}, "telemetryEnabled": true}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = f
        .json(
            "POST",
            "/settings/user",
            &[],
            &json!({"editor": {"view": {"snap": false}}, "x": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let expected = json!({"editor": {"view": {"grid": true, "snap": false}}, "x": 1});
    assert_eq!(f.get_json("/settings/user").await, expected);
    let file: Value = serde_json::from_str(&f.read_file(".config.users.json")).unwrap_or_default();
    assert_eq!(file, json!({"_": expected}));
    let (s, _) = f
        .raw("POST", "/settings/user", Some("text/plain"), "{}")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn diagnostics_report_without_secrets_or_paths() {
    let f = Fixture::start(two_tabs()).await;
    let (s, _, b) = f.get("/diagnostics", &[]).await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8_lossy(&b);
    let report: Value = serde_json::from_str(&text).unwrap_or_default();
    assert_eq!(report["report"], json!("diagnostics"));
    assert_eq!(report["runtime"]["flows"]["tabs"], json!(2));
    assert_eq!(report["runtime"]["settings"]["userDir"], json!("SET"));
    let dir = f.dir.path().to_string_lossy().into_owned();
    assert!(!text.contains(&dir), "{text}");

    let es = EditorSettings {
        diagnostics_enabled: false,
        ..EditorSettings::default()
    };
    let f = Fixture::start_with(json!([]), es).await;
    let (s, _, b) = f.get("/diagnostics", &[]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        serde_json::from_slice::<Value>(&b).unwrap_or_default()["code"],
        json!("diagnostics.disabled")
    );
    assert_eq!(
        f.get_json("/settings").await["diagnostics"],
        json!({"enabled": false, "ui": false})
    );
}

#[tokio::test]
async fn login_scheme_is_empty_without_admin_auth() {
    let f = Fixture::start(json!([])).await;
    assert_eq!(f.get_json("/auth/login").await, json!({}));
}
