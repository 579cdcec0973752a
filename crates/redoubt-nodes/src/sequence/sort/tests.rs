//! Unit tests of the sort node, run through a real engine (`crate::testing::Harness`).

use crate::testing::{Harness, HarnessOptions};
use serde_json::{Value as Json, json};
use std::time::Duration;

async fn sort(cfg: Json) -> Harness {
    let mut node = cfg;
    node["id"] = json!("s");
    node["type"] = json!("sort");
    node["wires"] = json!([["h"]]);
    Harness::start(json!([node, {"id":"h","type":"helper"}])).await
}

fn elem(order: &str, as_num: bool) -> Json {
    json!({"order":order,"as_num":as_num,"target":"payload","targetType":"msg","msgKey":"payload","msgKeyType":"elem"})
}

fn seq(order: &str, as_num: bool, key: &str, key_type: &str) -> Json {
    json!({"order":order,"as_num":as_num,"target":"","targetType":"seq","seqKey":key,"seqKeyType":key_type})
}

async fn sort_seq(h: &mut Harness, values: &[Json]) -> Vec<Json> {
    for (i, v) in values.iter().enumerate() {
        h.send_json(
            "s",
            json!({"payload":v,"parts":{"id":"X","index":i,"count":values.len()}}),
        )
        .await;
    }
    let mut out = Vec::new();
    for i in 0..values.len() {
        let m = h.recv_json("h").await;
        assert_eq!(m["parts"]["index"], json!(i));
        out.push(m["payload"].clone());
    }
    out
}

/// should sort payload (elem, not number, ascending)
#[tokio::test(start_paused = true)]
async fn sorts_payload_as_strings() {
    let mut h = sort(elem("ascending", false)).await;
    h.send_json("s", json!({"payload":["200","4","30","1000"]}))
        .await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!(["1000", "200", "30", "4"])
    );
    h.send_json("s", json!({"payload":["b","a","10","9","C"]}))
        .await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!(["10", "9", "C", "a", "b"])
    );
}

/// should sort payload (elem, number, descending)
#[tokio::test(start_paused = true)]
async fn sorts_payload_as_numbers_descending() {
    let mut h = sort(elem("descending", true)).await;
    h.send_json("s", json!({"payload":["200","4","30","1000"]}))
        .await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!(["1000", "200", "30", "4"])
    );
}

/// should sort msg prop (elem, not number, ascending)
#[tokio::test(start_paused = true)]
async fn sorts_a_message_property() {
    let mut cfg = elem("ascending", false);
    cfg["target"] = json!("data");
    let mut h = sort(cfg).await;
    h.send_json("s", json!({"data":[3,1,2],"payload":"x"}))
        .await;
    let m = h.recv_json("h").await;
    assert_eq!(m["data"], json!([1, 2, 3]));
    assert_eq!(m["payload"], json!("x"));
}

/// should sort payload (exp, not number, ascending)
#[tokio::test(start_paused = true)]
async fn sorts_payload_by_expression() {
    let mut h = sort(json!({"order":"descending","targetType":"msg","target":"payload","msgKey":"$substring($,1)","msgKeyType":"jsonata"})).await;
    h.send_json("s", json!({"payload":["a3","b1","c2"]})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!(["a3", "c2", "b1"]));
}

/// should sort payload of objects
#[tokio::test(start_paused = true)]
async fn sorts_objects_by_expression() {
    let mut h = sort(json!({"order":"ascending","targetType":"msg","target":"payload","msgKey":"v","msgKeyType":"jsonata"})).await;
    h.send_json(
        "s",
        json!({"payload":[{"n":"x","v":3},{"n":"y","v":1},{"n":"z","v":2}]}),
    )
    .await;
    let p = h.recv_json("h").await["payload"].clone();
    assert_eq!(p, json!([{"n":"y","v":1},{"n":"z","v":2},{"n":"x","v":3}]));
}

/// A payload that is not an array is not sent.
#[tokio::test(start_paused = true)]
async fn non_arrays_are_not_sent() {
    let mut h = sort(elem("ascending", false)).await;
    h.send_json("s", json!({"payload":"abc"})).await;
    assert!(h.nothing("h", Duration::from_millis(50)).await);
}

/// should sort message group/payload (not number, ascending)
#[tokio::test(start_paused = true)]
async fn sorts_a_sequence() {
    let mut h = sort(seq("ascending", false, "payload", "msg")).await;
    let out = sort_seq(
        &mut h,
        &[json!("200"), json!("4"), json!("30"), json!("1000")],
    )
    .await;
    assert_eq!(
        out,
        vec![json!("1000"), json!("200"), json!("30"), json!("4")]
    );
}

/// should sort message group/payload (number, descending)
#[tokio::test(start_paused = true)]
async fn sorts_a_sequence_as_numbers_descending() {
    let mut h = sort(seq("descending", true, "payload", "msg")).await;
    let out = sort_seq(
        &mut h,
        &[json!("200"), json!("4"), json!("30"), json!("1000")],
    )
    .await;
    assert_eq!(
        out,
        vec![json!("1000"), json!("200"), json!("30"), json!("4")]
    );
}

/// should sort message group (exp, not number, descending)
#[tokio::test(start_paused = true)]
async fn sorts_a_sequence_by_expression() {
    let mut h = sort(seq("descending", false, "$substring(payload,1)", "jsonata")).await;
    let out = sort_seq(&mut h, &[json!("a3"), json!("b1"), json!("c2")]).await;
    assert_eq!(out, vec![json!("a3"), json!("c2"), json!("b1")]);
}

/// should handle JSONata script error
#[tokio::test(start_paused = true)]
async fn expression_errors_reach_catch() {
    let mut h = Harness::start(json!([
        {"id":"s","type":"sort","order":"ascending","targetType":"seq","seqKey":"$unknown()","seqKeyType":"jsonata","wires":[["h"]]},
        {"id":"c","type":"catch","scope":["s"],"uncaught":false,"wires":[["e"]]},
        {"id":"h","type":"helper"},{"id":"e","type":"helper"}
    ]))
    .await;
    h.send_json(
        "s",
        json!({"payload":1,"parts":{"id":"X","index":0,"count":2}}),
    )
    .await;
    h.send_json(
        "s",
        json!({"payload":2,"parts":{"id":"X","index":1,"count":2}}),
    )
    .await;
    let e = h.recv_json("e").await;
    assert_eq!(e["payload"], json!(2));
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Invalid JSONata expression in sort node")
    );
    assert!(h.nothing("h", Duration::from_millis(50)).await);
}

/// should handle too many pending messages
#[tokio::test(start_paused = true)]
async fn too_many_pending_messages() {
    let mut opts = HarnessOptions::default();
    opts.settings
        .raw
        .insert("nodeMessageBufferMaxLength".into(), json!(2));
    let mut h = Harness::start_with(
        json!([
            {"id":"s","type":"sort","order":"ascending","targetType":"seq","seqKey":"payload","seqKeyType":"msg","wires":[["h"]]},
            {"id":"c","type":"catch","scope":["s"],"uncaught":false,"wires":[["e"]]},
            {"id":"h","type":"helper"},{"id":"e","type":"helper"}
        ]),
        opts,
    )
    .await;
    for i in 0..3 {
        h.send_json(
            "s",
            json!({"payload":i,"parts":{"id":"X","index":i,"count":4}}),
        )
        .await;
    }
    let e = h.recv_json("e").await;
    assert_eq!(
        e["error"]["message"],
        json!("Too many pending messages in sort node")
    );
    assert_eq!(e["payload"], json!(2));
}
