//! Unit tests of the split node, run through a real engine (`crate::testing::Harness`).

use crate::testing::Harness;
use serde_json::{Value as Json, json};
use std::time::Duration;

async fn split(cfg: Json) -> Harness {
    let mut node = cfg;
    node["id"] = json!("s");
    node["type"] = json!("split");
    node["wires"] = json!([["h"]]);
    Harness::start(json!([node, {"id":"h","type":"helper"}])).await
}

async fn recv_n(h: &mut Harness, n: usize) -> Vec<Json> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(h.recv_json("h").await);
    }
    out
}

fn payloads(ms: &[Json]) -> Vec<Json> {
    ms.iter().map(|m| m["payload"].clone()).collect()
}

/// should split an array into multiple messages
#[tokio::test(start_paused = true)]
async fn splits_an_array() {
    let mut h = split(json!({})).await;
    h.send_json("s", json!({"payload":[1,2,3,4]})).await;
    let ms = recv_n(&mut h, 4).await;
    assert_eq!(payloads(&ms), vec![json!(1), json!(2), json!(3), json!(4)]);
    for (i, m) in ms.iter().enumerate() {
        assert_eq!(m["parts"]["count"], json!(4));
        assert_eq!(m["parts"]["type"], json!("array"));
        assert_eq!(m["parts"]["len"], json!(1));
        assert_eq!(m["parts"]["index"], json!(i));
        assert!(m["parts"]["id"].is_string());
        assert!(m["_msgid"].is_string());
    }
    assert_eq!(ms[0]["parts"]["id"], ms[3]["parts"]["id"]);
    assert_ne!(ms[0]["_msgid"], ms[1]["_msgid"]);
}

/// should split an array on a sub-property into multiple messages
#[tokio::test(start_paused = true)]
async fn splits_an_array_sub_property() {
    let mut h = split(json!({"property":"foo"})).await;
    h.send_json("s", json!({"foo":[1,2]})).await;
    let ms = recv_n(&mut h, 2).await;
    assert_eq!(ms[1]["foo"], json!(2));
    assert_eq!(ms[1]["parts"]["property"], json!("foo"));
}

/// should split an array into multiple messages of a specified size
#[tokio::test(start_paused = true)]
async fn splits_an_array_into_chunks() {
    let mut h = split(json!({"arraySplt":3,"arraySpltType":"len"})).await;
    h.send_json("s", json!({"payload":[1,2,3,4]})).await;
    let ms = recv_n(&mut h, 2).await;
    assert_eq!(payloads(&ms), vec![json!([1, 2, 3]), json!([4])]);
    assert_eq!(ms[0]["parts"]["count"], json!(2));
    assert_eq!(ms[0]["parts"]["len"], json!(3));
}

/// should split an object into pieces and overwrite their topics
#[tokio::test(start_paused = true)]
async fn splits_an_object_and_copies_keys() {
    let mut h = split(json!({"addname":"topic"})).await;
    h.send_json(
        "s",
        json!({"topic":"foo","payload":{"a":1,"b":"2","c":true}}),
    )
    .await;
    let ms = recv_n(&mut h, 3).await;
    assert_eq!(payloads(&ms), vec![json!(1), json!("2"), json!(true)]);
    assert_eq!(ms[2]["topic"], json!("c"));
    assert_eq!(ms[2]["parts"]["key"], json!("c"));
    assert_eq!(ms[2]["parts"]["type"], json!("object"));
    assert_eq!(ms[2]["parts"]["count"], json!(3));
}

/// should split an object sub property into pieces
#[tokio::test(start_paused = true)]
async fn splits_an_object_sub_property() {
    let mut h = split(json!({"property":"foo.bar"})).await;
    h.send_json("s", json!({"topic":"foo","foo":{"bar":{"a":1,"b":"2"}}}))
        .await;
    let ms = recv_n(&mut h, 2).await;
    assert_eq!(ms[1]["foo"]["bar"], json!("2"));
    assert_eq!(ms[1]["topic"], json!("foo"));
    assert_eq!(ms[1]["parts"]["property"], json!("foo.bar"));
}

/// should split a string into new-lines
#[tokio::test(start_paused = true)]
async fn splits_a_string_on_newlines() {
    let mut h = split(json!({})).await;
    h.send_json("s", json!({"payload":"Da\nve\n \nCJ"})).await;
    let ms = recv_n(&mut h, 4).await;
    assert_eq!(
        payloads(&ms),
        vec![json!("Da"), json!("ve"), json!(" "), json!("CJ")]
    );
    assert_eq!(
        ms[0]["parts"],
        json!({"id": ms[0]["parts"]["id"], "type":"string", "ch":"\n", "index":0, "count":4})
    );
}

/// should split a string into lengths
#[tokio::test(start_paused = true)]
async fn splits_a_string_into_lengths() {
    let mut h = split(json!({"splt":"2","spltType":"len"})).await;
    h.send_json("s", json!({"payload":"1234567"})).await;
    let ms = recv_n(&mut h, 4).await;
    assert_eq!(
        payloads(&ms),
        vec![json!("12"), json!("34"), json!("56"), json!("7")]
    );
    assert_eq!(ms[3]["parts"]["ch"], json!(""));
    assert_eq!(ms[3]["parts"]["len"], json!(2));
    assert_eq!(ms[3]["parts"]["count"], json!(4));
}

/// should split a string on a specified char in stream mode
#[tokio::test(start_paused = true)]
async fn splits_a_string_stream() {
    let mut h = split(json!({"splt":"\n","stream":true})).await;
    h.send_json("s", json!({"payload":"1\n2\n3"})).await;
    h.send_json("s", json!({"payload":"4\n5\n6\n"})).await;
    let ms = recv_n(&mut h, 5).await;
    assert_eq!(
        payloads(&ms),
        vec![json!("1"), json!("2"), json!("34"), json!("5"), json!("6")]
    );
    let idx: Vec<Json> = ms.iter().map(|m| m["parts"]["index"].clone()).collect();
    assert_eq!(idx, vec![json!(0), json!(1), json!(2), json!(3), json!(4)]);
    assert!(ms[0]["parts"].get("count").is_none());
}

/// should split a buffer into lengths
#[tokio::test(start_paused = true)]
async fn splits_a_buffer_into_lengths() {
    let mut h = split(json!({"splt":"2","spltType":"len"})).await;
    let msg = redoubt_core::Msg::with_payload(redoubt_core::value::Value::Buffer(
        bytes::Bytes::from_static(b"123"),
    ));
    h.send("s", msg).await;
    let ms = recv_n(&mut h, 2).await;
    assert_eq!(ms[0]["payload"], json!({"type":"Buffer","data":[49,50]}));
    assert_eq!(ms[1]["payload"], json!({"type":"Buffer","data":[51]}));
    assert_eq!(ms[1]["parts"]["count"], json!(2));
    assert_eq!(ms[1]["parts"]["type"], json!("buffer"));
}

/// should split a buffer on another buffer (streaming)
#[tokio::test(start_paused = true)]
async fn splits_a_buffer_stream_on_bytes() {
    let mut h = split(json!({"splt":"[52]","spltType":"bin","stream":true})).await;
    for chunk in [&b"123412"[..], b"341234"] {
        let v = redoubt_core::value::Value::Buffer(bytes::Bytes::copy_from_slice(chunk));
        h.send("s", redoubt_core::Msg::with_payload(v)).await;
    }
    let ms = recv_n(&mut h, 3).await;
    for m in &ms {
        assert_eq!(m["payload"]["data"], json!([49, 50, 51]));
        assert_eq!(m["parts"]["ch"], json!([52]));
    }
    assert_eq!(ms[2]["parts"]["index"], json!(2));
    assert!(h.nothing("h", Duration::from_millis(50)).await);
}

/// should set msg.parts.ch when node.spltType is str
#[tokio::test(start_paused = true)]
async fn splits_a_buffer_on_a_string() {
    let mut h = split(json!({"splt":"2","spltType":"str","stream":false})).await;
    let v = redoubt_core::value::Value::Buffer(bytes::Bytes::from_static(b"123"));
    h.send("s", redoubt_core::Msg::with_payload(v)).await;
    let ms = recv_n(&mut h, 2).await;
    assert_eq!(ms[0]["payload"]["data"], json!([49]));
    assert_eq!(ms[1]["payload"]["data"], json!([51]));
    assert_eq!(ms[1]["parts"]["count"], json!(2));
    assert_eq!(ms[1]["parts"]["ch"], json!("2"));
}

/// should handle spltBufferString value of undefined
#[tokio::test(start_paused = true)]
async fn splits_a_string_on_bin_separator() {
    let mut h = split(json!({"splt":"[52]","spltType":"bin"})).await;
    h.send_json("s", json!({"payload":"12341"})).await;
    let ms = recv_n(&mut h, 2).await;
    assert_eq!(payloads(&ms), vec![json!("123"), json!("1")]);
    assert_eq!(ms[0]["parts"]["ch"], json!([52]));
}

/// should handle invalid spltType (not an array)
#[tokio::test(start_paused = true)]
async fn invalid_configs_are_rejected() {
    for cfg in [
        json!({"splt":"1","spltType":"bin"}),
        json!({"splt":0,"spltType":"len"}),
        json!({"arraySplt":0,"arraySpltType":"len"}),
    ] {
        let h = split(cfg).await;
        assert!(!h.engine.input("s", redoubt_core::Msg::new()).await);
    }
}

/// Existing parts are pushed onto a stack under `parts.parts`.
#[tokio::test(start_paused = true)]
async fn nests_existing_parts() {
    let mut h = split(json!({})).await;
    h.send_json(
        "s",
        json!({"payload":"a\nb","parts":{"id":"x","index":0,"count":1}}),
    )
    .await;
    let ms = recv_n(&mut h, 2).await;
    assert_eq!(
        ms[0]["parts"]["parts"],
        json!({"id":"x","index":0,"count":1})
    );
}

/// should call done() when consolidated message is emitted (string, len)
#[tokio::test(start_paused = true)]
async fn stream_done_waits_for_the_data() {
    let mut h = Harness::start(json!([
        {"id":"s","type":"split","splt":5,"spltType":"len","stream":true,"wires":[[]]},
        {"id":"c","type":"complete","scope":["s"],"uncaught":false,"wires":[["h"]]},
        {"id":"h","type":"helper"}
    ]))
    .await;
    h.send_json("s", json!({"seq":0,"payload":"12"})).await;
    h.send_json("s", json!({"seq":1,"payload":"34"})).await;
    assert!(h.nothing("h", Duration::from_millis(100)).await);
    h.send_json("s", json!({"seq":2,"payload":"5"})).await;
    let ms = recv_n(&mut h, 3).await;
    let seqs: Vec<Json> = ms.iter().map(|m| m["seq"].clone()).collect();
    assert_eq!(seqs, vec![json!(0), json!(1), json!(2)]);
}
