//! The admin API and editor through the real binary: the editor page loads,
//! a deploy changes flows.json, a stale revision and invalid flows change
//! nothing.

use crate::support::{Redoubt, client};
use serde_json::json;

fn flow(greeting: &str) -> serde_json::Value {
    json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"in","type":"http in","z":"t","url":"/hi","method":"get","x":1,"y":1,"wires":[["c"]]},
        {"id":"c","type":"change","z":"t","x":1,"y":1,"wires":[["out"]],
         "rules":[{"t":"set","p":"payload","pt":"msg","to":greeting,"tot":"str"}]},
        {"id":"out","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]}
    ])
}

#[test]
fn the_editor_page_and_its_scripts_are_served() {
    let r = Redoubt::start(&flow("a"));
    let c = client();
    let page = c.get(r.url("/")).send().expect("req");
    assert_eq!(page.status(), 200);
    let html = page.text().expect("text");
    assert!(
        html.contains("red/red.min.js") || html.contains("red/red.js"),
        "{html}"
    );
    assert_eq!(
        c.get(r.url("/red/red.min.js"))
            .send()
            .expect("req")
            .status(),
        200
    );
    assert_eq!(
        c.get(r.url("/vendor/vendor.js"))
            .send()
            .expect("req")
            .status(),
        200
    );
    let settings: serde_json::Value = c
        .get(r.url("/settings"))
        .send()
        .expect("req")
        .json()
        .expect("json");
    assert_eq!(settings["httpNodeRoot"], "/");
}

#[test]
fn deploy_changes_flows_json_and_the_running_flow() {
    let r = Redoubt::start(&flow("before"));
    let c = client();
    assert_eq!(
        c.get(r.url("/hi"))
            .send()
            .expect("req")
            .text()
            .expect("text"),
        "before"
    );
    let current: serde_json::Value = c
        .get(r.url("/flows"))
        .header("Node-RED-API-Version", "v2")
        .send()
        .expect("req")
        .json()
        .expect("json");
    let rev = current["rev"].as_str().expect("rev").to_string();
    let resp = c
        .post(r.url("/flows"))
        .header("Node-RED-API-Version", "v2")
        .header("Node-RED-Deployment-Type", "nodes")
        .json(&json!({"flows": flow("after"), "rev": rev}))
        .send()
        .expect("req");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        c.get(r.url("/hi"))
            .send()
            .expect("req")
            .text()
            .expect("text"),
        "after"
    );
    let (_, dir) = r.stop();
    let on_disk: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("flows.json")).expect("read"),
    )
    .expect("json");
    assert_eq!(on_disk, flow("after"));
}

#[test]
fn stale_revisions_and_invalid_flows_change_nothing() {
    let r = Redoubt::start(&flow("kept"));
    let c = client();
    let stale = c
        .post(r.url("/flows"))
        .header("Node-RED-API-Version", "v2")
        .json(&json!({"flows": flow("other"), "rev": "not-the-revision"}))
        .send()
        .expect("req");
    assert_eq!(stale.status(), 409);
    let mut bad = flow("broken");
    bad.as_array_mut()
        .expect("array")
        .push(json!({"id":"x","type":"no-such-type","z":"t","x":1,"y":1,"wires":[]}));
    let invalid = c.post(r.url("/flows")).json(&bad).send().expect("req");
    assert_eq!(invalid.status(), 400);
    let body: serde_json::Value = invalid.json().expect("json");
    assert!(
        body["code"].is_string()
            && body["message"]
                .as_str()
                .unwrap_or("")
                .contains("no-such-type"),
        "{body}"
    );
    assert_eq!(
        c.get(r.url("/hi"))
            .send()
            .expect("req")
            .text()
            .expect("text"),
        "kept"
    );
    let (_, dir) = r.stop();
    let on_disk: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("flows.json")).expect("read"),
    )
    .expect("json");
    assert_eq!(on_disk, flow("kept"));
}
