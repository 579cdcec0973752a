//! http in / http response through the real listener.

use crate::support::{Redoubt, client};
use serde_json::json;

#[test]
fn example_flow_answers_hello() {
    let flows: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::support::repo_file("examples/hello/flows.json"))
            .expect("read"),
    )
    .expect("json");
    let r = Redoubt::start(&flows);
    let resp = client().get(r.url("/hello")).send().expect("request");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let body: serde_json::Value = resp.json().expect("json");
    assert_eq!(body, json!({"hello": "world", "from": "redoubt"}));
}

#[test]
fn unknown_route_is_404_and_post_json_echoes() {
    let r = Redoubt::start(&json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"in","type":"http in","z":"t","url":"/echo/:name","method":"post","x":1,"y":1,"wires":[["out"]]},
        {"id":"out","type":"http response","z":"t","statusCode":"","headers":{"x-by":"redoubt"},"x":1,"y":1,"wires":[]}
    ]));
    let c = client();
    assert_eq!(c.get(r.url("/nope")).send().expect("req").status(), 404);
    let resp = c
        .post(r.url("/echo/bob"))
        .json(&json!({"a":[1,2]}))
        .send()
        .expect("req");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-by"], "redoubt");
    assert_eq!(
        resp.json::<serde_json::Value>().expect("json"),
        json!({"a":[1,2]})
    );
    let bad = c
        .post(r.url("/echo/bob"))
        .header("content-type", "application/json")
        .body("{bad")
        .send()
        .expect("req");
    assert_eq!(bad.status(), 500);
}
