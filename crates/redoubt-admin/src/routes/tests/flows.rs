//! `/flows`, `/flow`, `/credentials`.

use super::{Fixture, two_tabs};
use axum::http::StatusCode;
use serde_json::{Value, json};

const V2: (&str, &str) = ("Node-RED-API-Version", "v2");

fn with_name(flows: &Value, id: &str, name: &str) -> Value {
    let mut f = flows.clone();
    if let Some(items) = f.as_array_mut() {
        for n in items.iter_mut().filter(|n| n["id"] == json!(id)) {
            n["name"] = json!(name);
        }
    }
    f
}

#[tokio::test]
async fn get_flows_answers_v1_array_v2_object_and_rejects_other_versions() {
    let f = Fixture::start(two_tabs()).await;
    let v1 = f.get_json("/flows").await;
    assert_eq!(v1, two_tabs());
    let (s, _, b) = f.get("/flows", &[V2]).await;
    assert_eq!(s, StatusCode::OK);
    let v2: Value = serde_json::from_slice(&b).unwrap_or_default();
    assert_eq!(v2["flows"], two_tabs());
    assert_eq!(v2["rev"], json!(f.state.rev()));
    assert_eq!(f.state.rev().len(), 64);
    let (s, _, b) = f.get("/flows", &[("Node-RED-API-Version", "v3")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let e: Value = serde_json::from_slice(&b).unwrap_or_default();
    assert_eq!(
        e,
        json!({"code": "invalid_api_version", "message": "Invalid API Version requested"})
    );
}

#[tokio::test]
async fn v2_deploy_saves_the_flows_and_answers_the_new_rev() {
    let f = Fixture::start(two_tabs()).await;
    let rev = f.state.rev();
    let new_flows = with_name(&two_tabs(), "d1", "renamed");
    let (s, body) = f
        .json(
            "POST",
            "/flows",
            &[V2],
            &json!({"flows": new_flows, "rev": rev}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let new_rev = body["rev"].as_str().unwrap_or_default().to_string();
    assert_ne!(new_rev, rev);
    assert_eq!(new_rev, f.state.rev());
    let on_disk: Value = serde_json::from_str(&f.read_file("flows.json")).unwrap_or_default();
    assert_eq!(on_disk, new_flows);
    assert_eq!(
        redoubt_storage::flows_file::flows_rev(
            on_disk.as_array().map(|a| a.as_slice()).unwrap_or(&[])
        ),
        new_rev
    );
    let v2 = f.json("GET", "/flows", &[V2], &json!(null)).await.1;
    assert_eq!(v2["rev"], json!(new_rev));
    assert_eq!(
        f.state.0.comms.retained("notification/runtime-deploy"),
        Some(json!({"revision": new_rev}))
    );
}

#[tokio::test]
async fn v1_deploy_answers_204() {
    let f = Fixture::start(two_tabs()).await;
    let (s, body) = f
        .json("POST", "/flows", &[], &with_name(&two_tabs(), "d1", "x"))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    assert!(f.read_file("flows.json").contains("\"name\":\"x\""));
}

#[tokio::test]
async fn a_stale_rev_is_a_409_version_mismatch_and_changes_nothing() {
    let f = Fixture::start(two_tabs()).await;
    let before = f.read_file("flows.json");
    let (s, body) = f
        .json(
            "POST",
            "/flows",
            &[V2],
            &json!({"flows": [], "rev": "0123"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(
        body,
        json!({"code": "version_mismatch", "message": "Error"})
    );
    assert_eq!(f.read_file("flows.json"), before);
    // A forced deploy (no rev) goes through.
    let (s, _) = f
        .json("POST", "/flows", &[V2], &json!({"flows": two_tabs()}))
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn invalid_flows_are_a_400_and_the_old_flows_keep_running_unsaved() {
    let f = Fixture::start(two_tabs()).await;
    let before = f.read_file("flows.json");
    let rev = f.state.rev();
    let dup = json!([{"id":"a","type":"tab"},{"id":"a","type":"tab"}]);
    let (s, body) = f
        .json("POST", "/flows", &[V2], &json!({"flows": dup, "rev": rev}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], json!("invalid_flows"));
    let missing = json!([{"id":"t9","type":"tab"},{"id":"n9","type":"no such type","z":"t9","x":1,"y":1,"wires":[]}]);
    let (s, body) = f
        .json(
            "POST",
            "/flows",
            &[V2],
            &json!({"flows": missing, "rev": rev}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], json!("missing_types"));
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("no such type"),
        "{body}"
    );
    let (s, body) = f
        .json(
            "POST",
            "/flows",
            &[V2],
            &json!({"flows": {"not": "an array"}}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(f.read_file("flows.json"), before);
    assert!(
        !f.path("flows.json.tmp").exists(),
        "the staged file of a rejected deploy is removed"
    );
    assert_eq!(f.state.rev(), rev);
    // The old flows still run.
    assert!(f.state.engine().input("i1", redoubt_core::Msg::new()).await);
}

/// When flows.json cannot be written, the deploy fails with a 500, the file
/// and revision stay, and the previous flows run again.
#[tokio::test]
async fn a_failed_save_restarts_the_old_flows_and_changes_nothing_on_disk() {
    let f = Fixture::start(two_tabs()).await;
    let before = f.read_file("flows.json");
    let rev = f.state.rev();
    // A directory where the temp file goes: writing it fails, even as root.
    std::fs::create_dir(f.path("flows.json.tmp")).expect("mkdir");
    let other = json!([{"id":"t9","type":"tab"}]);
    let (s, body) = f
        .json(
            "POST",
            "/flows",
            &[V2],
            &json!({"flows": other, "rev": rev}),
        )
        .await;
    // The cause goes to the log; the client gets the generic 500.
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["code"], json!("unexpected_error"));
    assert_eq!(f.read_file("flows.json"), before);
    assert_eq!(f.state.rev(), rev);
    assert!(
        f.state.engine().input("i1", redoubt_core::Msg::new()).await,
        "the previous flows run again"
    );
}

/// When flows_cred.json cannot be written, flows.json is not replaced
/// either: both are written before either is renamed, and the previous
/// flows run again.
#[tokio::test]
async fn a_failed_credentials_save_changes_neither_file() {
    let f = Fixture::start(two_tabs()).await;
    let before = f.read_file("flows.json");
    let rev = f.state.rev();
    std::fs::create_dir(f.path("flows_cred.json.tmp")).expect("mkdir");
    let flows = with_secret_comment();
    let (s, body) = f
        .json(
            "POST",
            "/flows",
            &[V2],
            &json!({"flows": flows, "rev": rev}),
        )
        .await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(f.read_file("flows.json"), before);
    assert!(!f.path("flows_cred.json").exists(), "no credentials file");
    assert!(!f.path("flows.json.tmp").exists(), "no temp file left");
    assert_eq!(f.state.rev(), rev);
    assert!(
        f.state.engine().input("i1", redoubt_core::Msg::new()).await,
        "the previous flows run again"
    );
}

#[tokio::test]
async fn only_declared_json_is_accepted() {
    let f = Fixture::start(two_tabs()).await;
    let before = f.read_file("flows.json");
    let (s, body) = f.raw("POST", "/flows", Some("text/plain"), "[]").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, _) = f
        .raw("POST", "/flows", Some("application/json"), "[not json")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(f.read_file("flows.json"), before);
}

#[tokio::test]
async fn node_credentials_are_stripped_stored_and_never_sent_back() {
    let f = Fixture::start(two_tabs()).await;
    let mut flows = with_secret_comment();
    let (s, _) = f
        .json("POST", "/flows", &[V2], &json!({"flows": flows}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let disk = f.read_file("flows.json");
    assert!(
        !disk.contains("s3cret") && !disk.contains("credentials"),
        "{disk}"
    );
    let creds: Value = serde_json::from_str(&f.read_file("flows_cred.json")).unwrap_or_default();
    assert_eq!(creds, json!({"c1": {"user": "bob", "password": "s3cret"}}));
    assert!(!f.get_json("/flows").await.to_string().contains("s3cret"));
    assert_eq!(
        f.get_json("/credentials/comment/c1").await,
        json!({"user": "bob", "has_password": true})
    );
    assert_eq!(f.get_json("/credentials/comment/nope").await, json!({}));
    // The placeholder keeps the password; a changed user is stored.
    if let Some(n) = flows.as_array_mut().and_then(|a| a.last_mut()) {
        n["credentials"] = json!({"user": "alice", "password": "__PWRD__"});
    }
    let (s, _) = f
        .json("POST", "/flows", &[V2], &json!({"flows": flows}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let creds: Value = serde_json::from_str(&f.read_file("flows_cred.json")).unwrap_or_default();
    assert_eq!(
        creds,
        json!({"c1": {"user": "alice", "password": "s3cret"}})
    );
    // Removing the node drops its credentials.
    let (s, _) = f
        .json("POST", "/flows", &[V2], &json!({"flows": two_tabs()}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&f.read_file("flows_cred.json")).unwrap_or_default(),
        json!({})
    );
}

/// Presses both inject buttons and waits until both debug nodes show a status.
async fn statuses_set(f: &Fixture) {
    for id in ["i1", "i2"] {
        assert!(f.state.engine().input(id, redoubt_core::Msg::new()).await);
    }
    for _ in 0..100 {
        if status_ids(f).await.len() == 2 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("statuses never set: {:?}", status_ids(f).await);
}

async fn status_ids(f: &Fixture) -> Vec<String> {
    let mut ids: Vec<String> = f
        .state
        .engine()
        .statuses()
        .await
        .into_iter()
        .filter(|(_, s)| !s.is_clear())
        .map(|(i, _)| i)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn nodes_deploy_restarts_only_changed_nodes() {
    let f = Fixture::start(two_tabs()).await;
    statuses_set(&f).await;
    let (s, _) = f
        .json(
            "POST",
            "/flows",
            &[V2, ("Node-RED-Deployment-Type", "nodes")],
            &json!({"flows": with_name(&two_tabs(), "d2", "new")}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // d1 kept running (its status survives); d2 was restarted.
    assert_eq!(status_ids(&f).await, ["d1"]);
    // The restarted node's stale status was cleared for the editor.
    assert_eq!(f.state.0.comms.retained("status/d2"), None);
}

#[tokio::test]
async fn flows_deploy_restarts_only_changed_tabs_and_full_restarts_all() {
    let f = Fixture::start(two_tabs()).await;
    statuses_set(&f).await;
    let changed = with_name(&two_tabs(), "i2", "new");
    let (s, _) = f
        .json(
            "POST",
            "/flows",
            &[V2, ("Node-RED-Deployment-Type", "flows")],
            &json!({"flows": changed}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(status_ids(&f).await, ["d1"]);
    statuses_set(&f).await;
    let (s, _) = f
        .json(
            "POST",
            "/flows",
            &[V2, ("Node-RED-Deployment-Type", "full")],
            &json!({"flows": changed}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(status_ids(&f).await.is_empty());
}

#[tokio::test]
async fn reload_starts_what_is_on_disk() {
    let f = Fixture::start(two_tabs()).await;
    let on_disk = with_name(&two_tabs(), "d1", "from disk");
    let list = on_disk.as_array().cloned().unwrap_or_default();
    redoubt_storage::flows_file::save_flows(&f.path("flows.json"), &list, false)
        .unwrap_or_else(|e| panic!("{e}"));
    let req = axum::http::Request::post("/flows")
        .header("Node-RED-API-Version", "v2")
        .header("Node-RED-Deployment-Type", "reload")
        .body(axum::body::Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));
    let (s, _, b) = f.send(req).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let body: Value = serde_json::from_slice(&b).unwrap_or_default();
    assert_eq!(
        body["rev"],
        json!(redoubt_storage::flows_file::flows_rev(&list))
    );
    assert_eq!(f.get_json("/flows").await, on_disk);
}

#[tokio::test]
async fn single_flow_routes_get_add_update_and_delete_tabs() {
    let f = Fixture::start(two_tabs()).await;
    let t1 = f.get_json("/flow/t1").await;
    assert_eq!(t1["id"], json!("t1"));
    assert_eq!(t1["label"], json!("One"));
    let ids: Vec<&str> = t1["nodes"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["i1", "d1"]);
    let (s, _, _) = f.get("/flow/nope", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(f.get_json("/flow/global").await, json!({"id": "global"}));

    let new_tab =
        json!({"label": "Three", "nodes": [{"id":"c3","type":"comment","x":1,"y":1,"wires":[]}]});
    let (s, body) = f.json("POST", "/flow", &[], &new_tab).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let id = body["id"].as_str().unwrap_or_default().to_string();
    let got = f.get_json(&format!("/flow/{id}")).await;
    assert_eq!(got["label"], json!("Three"));
    assert_eq!(got["nodes"][0]["z"], json!(id));
    let (s, _) = f
        .json(
            "POST",
            "/flow",
            &[],
            &json!({"label": "dup", "nodes": [{"id":"i1","type":"comment"}]}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (s, body) = f
        .json(
            "PUT",
            &format!("/flow/{id}"),
            &[],
            &json!({"label": "Renamed", "nodes": []}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        f.get_json(&format!("/flow/{id}")).await,
        json!({"id": id, "label": "Renamed", "nodes": []})
    );
    let (s, _) = f
        .json("PUT", "/flow/nope", &[], &json!({"nodes": []}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, _, _) = f
        .send(
            axum::http::Request::delete(format!("/flow/{id}"))
                .body(axum::body::Body::empty())
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, _) = f.get(&format!("/flow/{id}"), &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(!f.read_file("flows.json").contains("Renamed"));
}

#[tokio::test]
async fn flows_state_reflects_the_runtime() {
    let f = Fixture::start(two_tabs()).await;
    // The initial deploy's start event reaches the hub asynchronously.
    for _ in 0..100 {
        if f.get_json("/flows/state").await == json!({"state": "start"}) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("flows state never became start");
}

/// [`two_tabs`] plus a comment node carrying credentials (user `bob`,
/// password `s3cret`) inside it, as the editor sends them.
fn with_secret_comment() -> Value {
    let mut flows = two_tabs();
    if let Some(a) = flows.as_array_mut() {
        a.push(
            json!({"id":"c1","type":"comment","z":"t1","x":1,"y":1,"wires":[],
            "credentials":{"user":"bob","password":"s3cret"}}),
        );
    }
    flows
}
