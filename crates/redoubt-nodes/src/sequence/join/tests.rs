//! Unit tests of the join node, run through a real engine (`crate::testing::Harness`).

use crate::testing::Harness;
use serde_json::{Value as Json, json};
use std::time::Duration;

async fn join(cfg: Json) -> Harness {
    let mut node = cfg;
    node["id"] = json!("j");
    node["type"] = json!("join");
    node["wires"] = json!([["h"]]);
    Harness::start(json!([node, {"id":"h","type":"helper"}])).await
}

async fn send_all(h: &Harness, msgs: Json) {
    for m in msgs.as_array().cloned().unwrap_or_default() {
        h.send_json("j", m).await;
    }
}

/// should join bits of string back together automatically
#[tokio::test(start_paused = true)]
async fn joins_strings_automatically() {
    let mut h = join(json!({"joiner":",","build":"string","mode":"auto"})).await;
    send_all(
        &h,
        json!([
            {"payload":"A","parts":{"id":1,"type":"string","ch":",","index":0,"count":4}},
            {"payload":"B","parts":{"id":1,"type":"string","ch":",","index":1,"count":4}},
            {"payload":"C","parts":{"id":1,"type":"string","ch":",","index":2,"count":4}},
            {"payload":"D","parts":{"id":1,"type":"string","ch":",","index":3,"count":4}}
        ]),
    )
    .await;
    let m = h.recv_json("h").await;
    assert_eq!(m["payload"], json!("A,B,C,D"));
    assert!(m.get("parts").is_none());
}

/// should join bits of buffer back together automatically
#[tokio::test(start_paused = true)]
async fn joins_buffers_automatically() {
    let mut h = join(json!({"mode":"auto"})).await;
    for (i, c) in ["A", "B", "C"].iter().enumerate() {
        let m = redoubt_core::Msg::from_json(
            &json!({"parts":{"id":1,"type":"buffer","ch":[45],"index":i,"count":3}}),
        );
        m.set(
            "payload",
            redoubt_core::value::Value::Buffer(bytes::Bytes::copy_from_slice(c.as_bytes())),
        );
        h.send("j", m).await;
    }
    let m = h.recv_json("h").await;
    assert_eq!(m["payload"]["data"], json!([65, 45, 66, 45, 67]));
}

/// should join things into an array after a count
#[tokio::test(start_paused = true)]
async fn joins_an_array_after_a_count() {
    let mut h = join(json!({"count":3,"joiner":",","mode":"custom"})).await;
    send_all(
        &h,
        json!([{"payload":1},{"payload":true},{"payload":{"a":1}}]),
    )
    .await;
    assert_eq!(h.recv_json("h").await["payload"], json!([1, true, {"a":1}]));
}

/// should join things into an array ignoring msg.parts.index in manual mode
#[tokio::test(start_paused = true)]
async fn manual_mode_ignores_parts_index() {
    let mut h = join(json!({"count":3,"joiner":",","mode":"custom","useparts":false})).await;
    send_all(&h, json!([{"payload":1,"parts":{"index":3}},{"payload":true,"parts":{"index":0}},{"payload":2,"parts":{"index":9}}]))
        .await;
    assert_eq!(h.recv_json("h").await["payload"], json!([1, true, 2]));
}

/// should join strings into a buffer after a count
#[tokio::test(start_paused = true)]
async fn joins_strings_into_a_buffer() {
    let mut h =
        join(json!({"count":2,"build":"buffer","joinerType":"bin","joiner":"","mode":"custom"}))
            .await;
    send_all(&h, json!([{"payload":"hello"},{"payload":"world"}])).await;
    let m = h.recv_json("h").await;
    assert_eq!(m["payload"]["data"].as_array().map(Vec::len), Some(10));
}

/// should join things into an object after a count
#[tokio::test(start_paused = true)]
async fn joins_an_object_by_distinct_keys() {
    let mut h = join(json!({"count":5,"build":"object","mode":"custom"})).await;
    send_all(
        &h,
        json!([
            {"payload":1,"topic":"a"},{"payload":"2","topic":"b"},{"payload":true,"topic":"c"},
            {"payload":{"e":5},"topic":"d"},{"payload":{"e":7},"topic":"d"},{"payload":{"f":6},"topic":"g"}
        ]),
    )
    .await;
    let m = h.recv_json("h").await;
    assert_eq!(
        m["payload"],
        json!({"a":1,"b":"2","c":true,"d":{"e":7},"g":{"f":6}})
    );
    assert_eq!(m["topic"], json!("g"));
}

/// should merge objects
#[tokio::test(start_paused = true)]
async fn merges_objects() {
    let mut h = join(json!({"count":5,"build":"merged","mode":"custom"})).await;
    send_all(
        &h,
        json!([
            {"payload":{"a":9},"topic":"f"},{"payload":{"a":1},"topic":"a"},{"payload":{"b":9},"topic":"b"},
            {"payload":{"b":2},"topic":"b"},{"payload":{"c":3},"topic":"c"},{"payload":{"d":4},"topic":"d"},
            {"payload":{"e":5},"topic":"e"}
        ]),
    )
    .await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!({"a":1,"b":2,"c":3,"d":4,"e":5})
    );
}

/// should merge full msg objects
#[tokio::test(start_paused = true)]
async fn merges_full_messages() {
    let mut h = join(
        json!({"count":6,"build":"merged","mode":"custom","propertyType":"full","property":""}),
    )
    .await;
    send_all(
        &h,
        json!([
            {"payload":1,"topic":"f"},{"payload":2,"topic":"a"},{"payload":3,"foo":"b"},{"payload":4,"bar":"b"},
            {"payload":5,"aha":"c"},{"payload":6,"foo":"d"},{"payload":7,"bingo":"e"}
        ]),
    )
    .await;
    let p = h.recv_json("h").await["payload"].clone();
    assert_eq!(p["payload"], json!(7));
    assert_eq!(p["topic"], json!("a"));
    assert_eq!(p["foo"], json!("d"));
    assert_eq!(p["bingo"], json!("e"));
    assert!(p.get("_msgid").is_none());
}

/// should accumulate a key/value object
#[tokio::test(start_paused = true)]
async fn accumulates_an_object_and_resets() {
    let mut h =
        join(json!({"build":"object","accumulate":true,"mode":"custom","key":"foo","count":4}))
            .await;
    send_all(
        &h,
        json!([
            {"payload":2,"foo":"b"},{"payload":3,"foo":"c"},{"reset":true},{"payload":1,"foo":"a"},
            {"payload":2,"foo":"b"},{"payload":3,"foo":"c"},{"payload":4,"foo":"d"},{"payload":5,"foo":"e"}
        ]),
    )
    .await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!({"a":1,"b":2,"c":3,"d":4})
    );
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!({"a":1,"b":2,"c":3,"d":4,"e":5})
    );
}

/// should join strings with a specifed character after a timeout
#[tokio::test(start_paused = true)]
async fn joins_after_a_timeout() {
    let mut h =
        join(json!({"build":"string","timeout":0.05,"count":"","joiner":",","mode":"custom"}))
            .await;
    send_all(&h, json!([{"payload":"a"},{"payload":"b"},{"payload":"c"}])).await;
    let start = tokio::time::Instant::now();
    assert_eq!(h.recv_json("h").await["payload"], json!("a,b,c"));
    assert!(start.elapsed() >= Duration::from_millis(40));
}

/// should allow the timeout to be restarted
#[tokio::test(start_paused = true)]
async fn restart_timeout_restarts_the_timer() {
    let mut h =
        join(json!({"build":"string","timeout":0.5,"count":"","joiner":",","mode":"custom"})).await;
    let start = tokio::time::Instant::now();
    h.send_json("j", json!({"payload":"a"})).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    send_all(
        &h,
        json!([{"payload":"b","restartTimeout":true},{"payload":"c"}]),
    )
    .await;
    assert_eq!(h.recv_json("h").await["payload"], json!("a,b,c"));
    let took = start.elapsed().as_millis();
    assert!((880..=950).contains(&took), "took {took} ms");
}

/// should join strings with a specifed character and complete when told to
#[tokio::test(start_paused = true)]
async fn completes_when_told() {
    let mut h =
        join(json!({"build":"string","timeout":5,"count":0,"joiner":"\\n","mode":"custom"})).await;
    send_all(&h, json!([{"payload":"Hello"},{"payload":"NodeRED"},{"payload":"World"},{"payload":"","complete":true}]))
        .await;
    let m = h.recv_json("h").await;
    assert_eq!(m["payload"], json!("Hello\nNodeRED\nWorld\n"));
    assert!(m.get("complete").is_none());
}

/// should manually join things into an object, send when told complete
#[tokio::test(start_paused = true)]
async fn object_completes_on_a_keyless_complete() {
    let mut h = join(json!({"timeout":1,"mode":"custom","build":"object"})).await;
    send_all(
        &h,
        json!([{"payload":1,"topic":"A"},{"payload":2,"topic":"B"},{"complete":true}]),
    )
    .await;
    assert_eq!(h.recv_json("h").await["payload"], json!({"A":1,"B":2}));
}

/// should join complete message objects into an array after a count
#[tokio::test(start_paused = true)]
async fn joins_full_messages_into_an_array() {
    let mut h =
        join(json!({"build":"array","timeout":0,"count":3,"propertyType":"full","mode":"custom"}))
            .await;
    send_all(&h, json!([{"payload":"a"},{"payload":"b"},{"payload":"c"}])).await;
    let p = h.recv_json("h").await["payload"].clone();
    assert_eq!(p[0]["payload"], json!("a"));
    assert_eq!(p[2]["payload"], json!("c"));
}

/// should join split things, send when told complete
#[tokio::test(start_paused = true)]
async fn auto_array_keeps_holes() {
    let mut h = join(json!({"timeout":0.25})).await;
    send_all(
        &h,
        json!([
            {"payload":3,"parts":{"index":2,"count":4,"id":444}},
            {"payload":2,"parts":{"index":1,"count":4,"id":444}},
            {"payload":4,"parts":{"index":3,"count":4,"id":444},"complete":true}
        ]),
    )
    .await;
    assert_eq!(h.recv_json("h").await["payload"], json!([null, 2, 3, 4]));
}

/// should concat payload when group.type is array
#[tokio::test(start_paused = true)]
async fn auto_array_chunks_are_flattened() {
    let mut h = join(json!({"mode":"auto"})).await;
    send_all(
        &h,
        json!([
            {"payload":[1,2],"parts":{"id":1,"type":"array","index":0,"count":2,"len":2}},
            {"payload":[3],"parts":{"id":1,"type":"array","index":1,"count":2,"len":2}}
        ]),
    )
    .await;
    assert_eq!(h.recv_json("h").await["payload"], json!([1, 2, 3]));
}

/// should handle msg.parts even if messages are out of order in auto mode if exactly one message has count set
#[tokio::test(start_paused = true)]
async fn count_may_come_from_any_part() {
    let mut h = join(json!({"mode":"auto"})).await;
    for i in 1..5 {
        let mut parts = json!({"id":"x","index":i});
        if i == 4 {
            parts["count"] = json!(5);
        }
        h.send_json("j", json!({"payload":i,"parts":parts})).await;
    }
    h.send_json("j", json!({"payload":0,"parts":{"id":"x","index":0}}))
        .await;
    assert_eq!(h.recv_json("h").await["payload"], json!([0, 1, 2, 3, 4]));
}

/// should handle join an array when using msg.parts and duplicate indexed parts arrive and being reset halfway
#[tokio::test(start_paused = true)]
async fn reset_without_parts_clears_auto_groups() {
    let mut h = join(json!({"build":"array","mode":"auto"})).await;
    send_all(
        &h,
        json!([
            {"payload":"A","parts":{"id":1,"type":"array","index":0,"count":2}},
            {"payload":"B","parts":{"id":1,"type":"array","index":0,"count":2}},
            {"reset":true},
            {"payload":"C","parts":{"id":1,"type":"array","index":1,"count":2}},
            {"payload":"D","parts":{"id":1,"type":"array","index":0,"count":2}}
        ]),
    )
    .await;
    assert_eq!(h.recv_json("h").await["payload"], json!(["D", "C"]));
}

/// should allow chained split-split-join-join sequences
#[tokio::test(start_paused = true)]
async fn nested_split_join_round_trips() {
    let mut h = Harness::start(json!([
        {"id":"s1","type":"split","wires":[["s2"]]},
        {"id":"s2","type":"split","wires":[["j1"]]},
        {"id":"j1","type":"join","mode":"auto","wires":[["j2"]]},
        {"id":"j2","type":"join","mode":"auto","wires":[["h"]]},
        {"id":"h","type":"helper"}
    ]))
    .await;
    h.send_json("s1", json!({"payload":[[1,2,3],"a\nb\nc",[7,8,9]]}))
        .await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!([[1, 2, 3], "a\nb\nc", [7, 8, 9]])
    );
}

/// should reduce messages
#[tokio::test(start_paused = true)]
async fn reduces_messages() {
    let mut h = join(json!({"mode":"reduce","reduceRight":false,"reduceExp":"$A+payload","reduceInit":"0","reduceInitType":"num"})).await;
    send_all(
        &h,
        json!([
            {"payload":3,"parts":{"index":2,"id":222}},
            {"payload":2,"parts":{"index":1,"id":222}},
            {"payload":4,"parts":{"index":3,"count":4,"id":222}},
            {"payload":1,"parts":{"index":0,"id":222}}
        ]),
    )
    .await;
    let m = h.recv_json("h").await;
    assert_eq!(m["payload"], json!(10));
    assert_eq!(m["parts"]["index"], json!(3));
}

/// should reduce messages (right)
#[tokio::test(start_paused = true)]
async fn reduces_right_with_index_and_fixup() {
    let mut h = join(
        json!({"mode":"reduce","reduceRight":true,"reduceExp":"$A & payload & $string($I)",
        "reduceInit":"","reduceInitType":"str","reduceFixup":"$A & \"/\" & $string($N)"}),
    )
    .await;
    send_all(
        &h,
        json!([
            {"payload":"a","parts":{"index":0,"count":3,"id":1}},
            {"payload":"c","parts":{"index":2,"count":3,"id":1}},
            {"payload":"b","parts":{"index":1,"count":3,"id":1}}
        ]),
    )
    .await;
    assert_eq!(h.recv_json("h").await["payload"], json!("c2b1a0/3"));
}

/// should reduce messages with init types (json)
#[tokio::test(start_paused = true)]
async fn reduce_init_is_a_typed_value() {
    let mut h = join(
        json!({"mode":"reduce","reduceExp":"$A","reduceInit":"{\"x\":1}","reduceInitType":"json"}),
    )
    .await;
    send_all(&h, json!([{"payload":1,"parts":{"index":0,"count":2,"id":1}},{"payload":2,"parts":{"index":1,"count":2,"id":1}}]))
        .await;
    assert_eq!(h.recv_json("h").await["payload"], json!({"x":1}));
}

/// should handle invalid JSONata reduce expression - runtime error"
#[tokio::test(start_paused = true)]
async fn reduce_runtime_errors_reach_catch() {
    let mut h = Harness::start(json!([
        {"id":"j","type":"join","mode":"reduce","reduceExp":"$unknown()","reduceInit":"0","reduceInitType":"num","wires":[["h"]]},
        {"id":"c","type":"catch","scope":["j"],"uncaught":false,"wires":[["e"]]},
        {"id":"h","type":"helper"},
        {"id":"e","type":"helper"}
    ]))
    .await;
    h.send_json(
        "j",
        json!({"payload":"A","parts":{"id":1,"index":0,"count":1}}),
    )
    .await;
    let e = h.recv_json("e").await;
    assert!(e["error"]["message"].is_string());
    assert!(h.nothing("h", Duration::from_millis(50)).await);
}

/// should handle invalid JSONata reduce expression - syntax error"
#[tokio::test(start_paused = true)]
async fn reduce_syntax_errors_are_config_errors() {
    let h =
        join(json!({"mode":"reduce","reduceExp":"$A +","reduceInit":"0","reduceInitType":"num"}))
            .await;
    assert!(!h.engine.input("j", redoubt_core::Msg::new()).await);
}

/// should call done() when all messages are joined
#[tokio::test(start_paused = true)]
async fn done_waits_for_the_group() {
    let mut h = Harness::start(json!([
        {"id":"j","type":"join","mode":"auto","wires":[[]]},
        {"id":"c","type":"complete","scope":["j"],"uncaught":false,"wires":[["h"]]},
        {"id":"h","type":"helper"}
    ]))
    .await;
    h.send_json("j", json!({"seq":0,"payload":"A","parts":{"id":1,"type":"string","ch":",","index":0,"count":2}})).await;
    assert!(h.nothing("h", Duration::from_millis(100)).await);
    h.send_json("j", json!({"seq":1,"payload":"B","parts":{"id":1,"type":"string","ch":",","index":1,"count":2}})).await;
    assert_eq!(h.recv_json("h").await["seq"], json!(0));
    assert_eq!(h.recv_json("h").await["seq"], json!(1));
}

/// Manual mode without `count` waits for `msg.parts.count` when the count field is empty.
#[tokio::test(start_paused = true)]
async fn manual_mode_uses_parts_count_when_count_is_empty() {
    let mut h = join(json!({"mode":"custom","build":"string","joiner":"-","count":""})).await;
    send_all(&h, json!([{"payload":"x","parts":{"id":"p","index":0,"count":2}},{"payload":"y","parts":{"id":"p","index":1,"count":2}}]))
        .await;
    assert_eq!(h.recv_json("h").await["payload"], json!("x-y"));
}
