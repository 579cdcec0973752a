//! Unit tests of the trigger node, run through a real engine (`crate::testing::Harness`).

use crate::testing::{Harness, HarnessOptions};
use serde_json::{Value as Json, json};
use std::time::Duration;
use tokio::time::Instant;

async fn trigger(cfg: Json) -> Harness {
    trigger_with(cfg, HarnessOptions::default()).await
}

async fn trigger_with(cfg: Json, opts: HarnessOptions) -> Harness {
    let mut node = cfg;
    node["id"] = json!("t");
    node["type"] = json!("trigger");
    if node.get("wires").is_none() {
        node["wires"] = json!([["h"]]);
    }
    Harness::start_with(
        json!([node, {"id":"h","type":"helper"},{"id":"h2","type":"helper"}]),
        opts,
    )
    .await
}

async fn payloads(h: &mut Harness, id: &str, wait: u64) -> Vec<Json> {
    let mut out = Vec::new();
    while let Some(m) = h.recv_within(id, Duration::from_millis(wait)).await {
        out.push(redoubt_core::value::to_serde(&m.to_value())["payload"].clone());
    }
    out
}

fn ms(since: Instant) -> u128 {
    since.elapsed().as_millis()
}

/// should output 1 then 0 when triggered (default)
#[tokio::test(start_paused = true)]
async fn outputs_1_then_0_by_default() {
    let mut h = trigger(json!({"duration":"20"})).await;
    let t = Instant::now();
    h.send_json("t", json!({"payload":null})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!("1"));
    assert_eq!(h.recv_json("h").await["payload"], json!("0"));
    assert!((20..40).contains(&ms(t)));
}

/// should output 1st value when triggered (json)
#[tokio::test(start_paused = true)]
async fn typed_values() {
    let mut h = trigger(
        json!({"op1":"{\"x\":1}","op1type":"json","op2":"10","op2type":"num","duration":"20"}),
    )
    .await;
    h.send_json("t", json!({"payload":null})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!({"x":1}));
    assert_eq!(h.recv_json("h").await["payload"], json!(10));
    let mut h = trigger(
        json!({"op1":"[1,2]","op1type":"bin","op2":"true","op2type":"bool","duration":"20"}),
    )
    .await;
    h.send_json("t", json!({"payload":null})).await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!({"type":"Buffer","data":[1,2]})
    );
    assert_eq!(h.recv_json("h").await["payload"], json!(true));
}

/// should output 2st value when triggered (env)
#[tokio::test(start_paused = true)]
async fn env_values() {
    let opts = HarnessOptions {
        env: vec![("NR_TEST".into(), "env-val".into())],
        ..Default::default()
    };
    let mut h = trigger_with(
        json!({"op1":"foo","op1type":"str","op2":"NR_TEST","op2type":"env","duration":"20"}),
        opts,
    )
    .await;
    h.send_json("t", json!({"payload":null})).await;
    assert_eq!(
        payloads(&mut h, "h", 100).await,
        vec![json!("foo"), json!("env-val")]
    );
}

/// should handle true and false as strings and delay of 0
#[tokio::test(start_paused = true)]
async fn legacy_val_types() {
    let mut h = trigger(
        json!({"op1":"true","op1type":"val","op2":"false","op2type":"val","duration":"30"}),
    )
    .await;
    h.send_json("t", json!({"payload":null})).await;
    assert_eq!(
        payloads(&mut h, "h", 100).await,
        vec![json!(true), json!(false)]
    );
}

/// should handle string null as null on op2
#[tokio::test(start_paused = true)]
async fn legacy_null() {
    let mut h =
        trigger(json!({"op1":"null","op1type":"val","op2":"null","op2type":"val","duration":"40"}))
            .await;
    h.send_json("t", json!({"payload":"null"})).await;
    assert_eq!(
        payloads(&mut h, "h", 100).await,
        vec![json!(null), json!(null)]
    );
}

/// should ignore any other inputs while triggered if extend is false
#[tokio::test(start_paused = true)]
async fn ignores_inputs_while_triggered() {
    let mut h = trigger(json!({"duration":"50"})).await;
    h.send_json("t", json!({"payload":null})).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    h.send_json("t", json!({"payload":null})).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    h.send_json("t", json!({"payload":null})).await;
    assert_eq!(
        payloads(&mut h, "h", 100).await,
        vec![json!("1"), json!("0")]
    );
}

/// should use msg.delay if overrideDelay is set
#[tokio::test(start_paused = true)]
async fn override_delay() {
    let mut h = trigger(json!({"overrideDelay":true,"duration":"50"})).await;
    h.send_json("t", json!({"payload":null,"delay":300})).await;
    h.recv("h").await;
    let t = Instant::now();
    h.recv("h").await;
    assert!((290..320).contains(&ms(t)), "{}", ms(t));
    let mut h = trigger(json!({"duration":"50"})).await;
    h.send_json("t", json!({"payload":null,"delay":300})).await;
    h.recv("h").await;
    let t = Instant::now();
    h.recv("h").await;
    assert!(ms(t) < 70);
}

/// should handle multiple topics individually if asked to do so
#[tokio::test(start_paused = true)]
async fn per_topic_triggers() {
    let mut h = trigger(json!({"op1":"pay","op1type":"pay","op2":"x","op2type":"str","duration":"30","bytopic":"topic"})).await;
    h.send_json("t", json!({"payload":"A","topic":"a"})).await;
    h.send_json("t", json!({"payload":"B","topic":"b"})).await;
    h.send_json("t", json!({"payload":"A2","topic":"a"})).await;
    assert_eq!(
        payloads(&mut h, "h", 100).await,
        vec![json!("A"), json!("B"), json!("x"), json!("x")]
    );
}

/// should handle multiple other properties individually if asked to do so
#[tokio::test(start_paused = true)]
async fn per_property_triggers() {
    let mut h = trigger(json!({"op1type":"pay","op2type":"nul","duration":"30","bytopic":"topic","topic":"foo.bar"})).await;
    h.send_json("t", json!({"payload":"A","foo":{"bar":"a"}}))
        .await;
    h.send_json("t", json!({"payload":"B","foo":{"bar":"b"}}))
        .await;
    h.send_json("t", json!({"payload":"C","foo":{"bar":"a"}}))
        .await;
    assert_eq!(
        payloads(&mut h, "h", 100).await,
        vec![json!("A"), json!("B")]
    );
}

/// should be able to return things from flow and global context variables
#[tokio::test(start_paused = true)]
async fn context_values_are_read_at_the_end() {
    let mut h = Harness::start(json!([
        {"id":"t","type":"trigger","op1":"foo","op1type":"flow","op2":"bar","op2type":"global","duration":"20","wires":[["h"]]},
        {"id":"h","type":"helper"}
    ]))
    .await;
    let ctx = h.engine.context().clone();
    ctx.set(
        None,
        "t1",
        "foo",
        Some(redoubt_core::value::Value::str("flowval")),
    )
    .expect("context set");
    ctx.set(
        None,
        "global",
        "bar",
        Some(redoubt_core::value::Value::str("early")),
    )
    .expect("context set");
    h.send_json("t", json!({"payload":null})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!("flowval"));
    ctx.set(
        None,
        "global",
        "bar",
        Some(redoubt_core::value::Value::str("globalval")),
    )
    .expect("context set");
    assert_eq!(h.recv_json("h").await["payload"], json!("globalval"));
}

/// should be able to not output anything on first trigger
#[tokio::test(start_paused = true)]
async fn nothing_first() {
    let mut h = trigger(
        json!({"op1type":"nul","op1":"true","op2":"false","op2type":"val","duration":"30"}),
    )
    .await;
    h.send_json("t", json!({"payload":null})).await;
    assert_eq!(payloads(&mut h, "h", 100).await, vec![json!(false)]);
}

/// should be able to reset correctly having not output anything on second edge
#[tokio::test(start_paused = true)]
async fn nothing_second_then_rearm() {
    let mut h = trigger(
        json!({"op2type":"nul","op1":"true","op1type":"val","op2":"false","duration":"100"}),
    )
    .await;
    h.send_json("t", json!({"payload":1,"topic":"pass"})).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    h.send_json("t", json!({"payload":2,"topic":"should-block"}))
        .await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    h.send_json("t", json!({"payload":3,"topic":"pass"})).await;
    let mut topics = Vec::new();
    while let Some(m) = h.recv_within("h", Duration::from_millis(300)).await {
        topics.push(m.get("topic").map(|t| t.to_js_string()));
        assert!(m.payload().truthy());
    }
    assert_eq!(topics, vec![Some("pass".into()), Some("pass".into())]);
}

/// should be able to extend the delay (but with no 2nd output)
#[tokio::test(start_paused = true)]
async fn extend_without_second_output() {
    let mut h = trigger(json!({"extend":"true","op1type":"pay","op2type":"nul","op1":"false","op2":"true","duration":"200"})).await;
    let t = Instant::now();
    h.send_json("t", json!({"payload":"Hello"})).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    h.send_json("t", json!({"payload":"Error"})).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    h.send_json("t", json!({"payload":"Error"})).await;
    tokio::time::sleep(Duration::from_millis(230)).await;
    h.send_json("t", json!({"payload":"World"})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!("Hello"));
    assert_eq!(h.recv_json("h").await["payload"], json!("World"));
    assert!(ms(t) >= 330);
}

/// should be able to extend the delay and output the most recent payload
#[tokio::test(start_paused = true)]
async fn extend_outputs_the_latest_payload() {
    let mut h = trigger(json!({"extend":"true","op1type":"nul","op2type":"payl","op1":"false","op2":"true","duration":"60"})).await;
    let t = Instant::now();
    h.send_json("t", json!({"payload":"Hello"})).await;
    tokio::time::sleep(Duration::from_millis(40)).await;
    h.send_json("t", json!({"payload":"Goodbye"})).await;
    tokio::time::sleep(Duration::from_millis(40)).await;
    h.send_json("t", json!({"payload":"World"})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!("World"));
    assert!(ms(t) >= 140, "{}", ms(t));
}

/// should be able output the 2nd payload
#[tokio::test(start_paused = true)]
async fn outputs_the_latest_message() {
    let mut h = trigger(json!({"extend":"false","op1type":"nul","op2type":"payl","op1":"false","op2":"true","duration":"50"})).await;
    h.send_json("t", json!({"payload":"Hello","topic":"test1"}))
        .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    h.send_json("t", json!({"payload":"Goodbye","topic":"test2"}))
        .await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    h.send_json("t", json!({"payload":"World","topic":"test3"}))
        .await;
    let a = h.recv_json("h").await;
    assert_eq!(
        (a["payload"].clone(), a["topic"].clone()),
        (json!("Goodbye"), json!("test2"))
    );
    let b = h.recv_json("h").await;
    assert_eq!(
        (b["payload"].clone(), b["topic"].clone()),
        (json!("World"), json!("test3"))
    );
}

/// should be able to apply mustache templates to payloads
#[tokio::test(start_paused = true)]
async fn mustache_templates() {
    let mut h = trigger(json!({"op1type":"val","op2type":"val","op1":"{{payload}}","op2":"{{topic}}","duration":"50"})).await;
    h.send_json("t", json!({"payload":"Hello","topic":"World"}))
        .await;
    assert_eq!(
        payloads(&mut h, "h", 100).await,
        vec![json!("Hello"), json!("World")]
    );
}

/// should be able to send 2nd message to a 2nd output
#[tokio::test(start_paused = true)]
async fn second_output() {
    let mut h = trigger(json!({"op1type":"val","op2type":"val","op1":"hello","op2":"world","duration":"50","outputs":2,
        "wires":[["h"],["h2"]]}))
    .await;
    h.send_json("t", json!({"payload":"x","topic":"test"}))
        .await;
    assert_eq!(h.recv_json("h").await["payload"], json!("hello"));
    let m = h.recv_json("h2").await;
    assert_eq!(m["payload"], json!("world"));
    assert_eq!(m["topic"], json!("test"));
    assert!(h.nothing("h", Duration::from_millis(100)).await);
}

/// should be able to set infinite timeout, and clear timeout by message
#[tokio::test(start_paused = true)]
async fn wait_for_reset_by_payload() {
    let mut h = trigger(json!({"reset":"boo","duration":"0"})).await;
    for p in [
        json!(null),
        json!(null),
        json!("foo"),
        json!("boo"),
        json!(null),
    ] {
        h.send_json("t", json!({"payload":p})).await;
    }
    assert_eq!(
        payloads(&mut h, "h", 50).await,
        vec![json!("1"), json!("1")]
    );
    let mut h = trigger(json!({"reset":"false","duration":"0"})).await;
    for p in [
        json!(null),
        json!(null),
        json!("foo"),
        json!(false),
        json!(null),
    ] {
        h.send_json("t", json!({"payload":p})).await;
    }
    assert_eq!(
        payloads(&mut h, "h", 50).await,
        vec![json!("1"), json!("1")]
    );
}

/// should be able to set infinite timeout, and clear timeout
#[tokio::test(start_paused = true)]
async fn wait_for_reset_by_msg_reset() {
    let mut h =
        trigger(json!({"op1type":"pay","op2type":"nul","duration":"0","bytopic":"all"})).await;
    for m in [
        json!({"payload":1}),
        json!({"payload":2}),
        json!({"reset":true}),
        json!({"payload":3}),
        json!({"payload":4}),
    ] {
        h.send_json("t", m).await;
    }
    assert_eq!(payloads(&mut h, "h", 300).await, vec![json!(1), json!(3)]);
}

/// should be able to set a repeat, and clear loop by reset
#[tokio::test(start_paused = true)]
async fn repeat_until_reset() {
    let mut h = trigger(json!({"reset":"boo","op1":"","op1type":"pay","duration":-25})).await;
    h.send_json("t", json!({"payload":"foo"})).await;
    h.send_json("t", json!({"payload":"foo"})).await;
    tokio::time::sleep(Duration::from_millis(90)).await;
    h.send_json("t", json!({"reset":true})).await;
    let got = payloads(&mut h, "h", 200).await;
    assert!((4..=7).contains(&got.len()), "{got:?}");
    assert!(got.iter().all(|p| p == &json!("foo")));
}

/// Not in Node-RED: the resend loop's ticks wait while the engine's
/// backlog is full (flow control), then go on, one at a time.
#[tokio::test(start_paused = true)]
async fn repeat_waits_while_the_backlog_is_full() {
    let mut h = trigger(json!({"reset":"boo","op1":"","op1type":"pay","duration":-25})).await;
    h.send_json("t", json!({"payload":"foo"})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!("foo"));
    let full = h.fill_backlog();
    assert!(
        h.nothing("h", Duration::from_millis(200)).await,
        "resent while the backlog was full"
    );
    drop(full);
    // The tick that waited, then the loop at its interval, without a
    // catch-up burst of the ticks missed while waiting.
    let t = Instant::now();
    for _ in 0..3 {
        let m = h.recv_within("h", Duration::from_millis(30)).await;
        assert_eq!(
            m.map(|m| m.payload().to_js_string()).as_deref(),
            Some("foo")
        );
    }
    assert!(ms(t) >= 50, "three resends took {} ms", ms(t));
    h.send_json("t", json!({"reset":true})).await;
    assert!(payloads(&mut h, "h", 100).await.len() <= 1);
}

/// should call done() when first message has been processed
#[tokio::test(start_paused = true)]
async fn done_is_immediate() {
    let mut h = Harness::start(json!([
        {"id":"t","type":"trigger","units":"s","duration":"1","wires":[[]]},
        {"id":"c","type":"complete","scope":["t"],"uncaught":false,"wires":[["h"]]},
        {"id":"h","type":"helper"}
    ]))
    .await;
    let t = Instant::now();
    h.send_json("t", json!({"payload":"A","seq":0})).await;
    assert_eq!(h.recv_json("h").await["seq"], json!(0));
    assert!(ms(t) < 50);
}

/// Status shows a dot while triggered and clears afterwards.
#[tokio::test(start_paused = true)]
async fn status_tracks_active_topics() {
    let mut h = trigger(json!({"duration":"20","bytopic":"topic"})).await;
    h.send_json("t", json!({"payload":1,"topic":"a"})).await;
    h.send_json("t", json!({"payload":1,"topic":"b"})).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let st: Vec<(Option<String>, Option<String>)> = h
        .drain_events()
        .into_iter()
        .filter_map(|e| match e {
            redoubt_core::engine::RuntimeEvent::Status { status, .. } => {
                Some((status.fill, status.text))
            }
            _ => None,
        })
        .collect();
    assert_eq!(st.first(), Some(&(Some("blue".into()), None)));
    assert_eq!(st.get(1), Some(&(Some("blue".into()), Some("2".into()))));
    assert_eq!(st.last(), Some(&(None, None)));
}
