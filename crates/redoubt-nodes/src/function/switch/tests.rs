//! Unit tests of the switch node, run through a real engine (`crate::testing::Harness`).

use crate::testing::{Harness, HarnessOptions};
use redoubt_core::Msg;
use redoubt_core::value::{Value, from_json_str};
use serde_json::{Value as Json, json};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(30);

/// A switch `s1` with `cfg`, its outputs wired to helpers `o0`, `o1`, ...;
/// a catch node feeds `err`.
async fn node(cfg: Json, outputs: usize) -> Harness {
    node_with(cfg, outputs, HarnessOptions::default()).await
}

async fn node_with(cfg: Json, outputs: usize, opts: HarnessOptions) -> Harness {
    let wires: Vec<Json> = (0..outputs).map(|i| json!([format!("o{i}")])).collect();
    let mut n = json!({"id":"s1","type":"switch","property":"payload","propertyType":"msg","checkall":"true","wires":wires});
    for (k, v) in cfg.as_object().cloned().unwrap_or_default() {
        n[k] = v;
    }
    let mut flow = vec![
        n,
        json!({"id":"c","type":"catch","wires":[["err"]]}),
        json!({"id":"err","type":"helper"}),
    ];
    flow.extend((0..outputs).map(|i| json!({"id":format!("o{i}"),"type":"helper"})));
    Harness::start_with(Json::Array(flow), opts).await
}

/// Whether one rule `rule` lets `payload` through to output 0.
async fn passes(rule: Json, payload: Value) -> bool {
    let mut h = node(json!({ "rules": [rule] }), 1).await;
    h.send("s1", Msg::with_payload(payload)).await;
    h.recv_within("o0", QUIET).await.is_some()
}

fn v(json: &str) -> Value {
    from_json_str(json).expect("json")
}

/// should be loaded with some defaults
#[tokio::test]
async fn loads_with_defaults_and_no_rules() {
    let mut h = node(json!({"rules":[]}), 1).await;
    h.send_json("s1", json!({"payload":1})).await;
    assert!(h.nothing("o0", QUIET).await);
}

/// should check if payload equals given value (and NOT equals, numeric values)
#[tokio::test]
async fn eq_and_neq() {
    assert!(passes(json!({"t":"eq","v":"Hello"}), Value::str("Hello")).await);
    assert!(!passes(json!({"t":"eq","v":"Hello"}), Value::str("Hello!")).await);
    assert!(passes(json!({"t":"neq","v":"Hello"}), Value::str("HEllO")).await);
    assert!(!passes(json!({"t":"neq","v":"Hello"}), Value::str("Hello")).await);
    assert!(passes(json!({"t":"eq","v":3}), Value::Number(3.0)).await);
    assert!(!passes(json!({"t":"eq","v":2}), Value::Number(4.0)).await);
    assert!(passes(json!({"t":"neq","v":55667744}), Value::Number(-1234.0)).await);
    assert!(!passes(json!({"t":"neq","v":10}), Value::Number(10.0)).await);
}

/// should check if payload is less than given value (and lte, gt, gte)
#[tokio::test]
async fn comparisons() {
    assert!(passes(json!({"t":"lt","v":3}), Value::Number(2.0)).await);
    assert!(!passes(json!({"t":"lt","v":3}), Value::Number(4.0)).await);
    assert!(passes(json!({"t":"lte","v":3}), Value::Number(3.0)).await);
    assert!(passes(json!({"t":"gt","v":3}), Value::Number(6.0)).await);
    assert!(!passes(json!({"t":"gt","v":3}), Value::Number(-1.0)).await);
    assert!(passes(json!({"t":"gte","v":3}), Value::Number(3.0)).await);
}

/// should match if a payload has a required property
/// (and the not-a-string key, null and undefined parents)
#[tokio::test]
async fn has_key() {
    assert!(passes(json!({"t":"hask","v":"a"}), v(r#"{"a":1}"#)).await);
    assert!(!passes(json!({"t":"hask","v":"a"}), v(r#"{"b":1}"#)).await);
    assert!(!passes(json!({"t":"hask","v":1}), v(r#"{"a":1}"#)).await);
    assert!(!passes(json!({"t":"hask","v":"a"}), Value::Null).await);
    assert!(!passes(json!({"t":"hask","v":"a"}), Value::Undefined).await);
}

/// should check if payload is between given values
/// (in "wrong" order, string values, and not between)
#[tokio::test]
async fn between() {
    assert!(passes(json!({"t":"btwn","v":"3","v2":"5"}), Value::Number(4.0)).await);
    assert!(passes(json!({"t":"btwn","v":"5","v2":"3"}), Value::Number(4.0)).await);
    assert!(passes(json!({"t":"btwn","v":"c","v2":"e"}), Value::str("d")).await);
    assert!(!passes(json!({"t":"btwn","v":3,"v2":5}), Value::Number(12.0)).await);
}

/// should check if payload contains given value / should match regex
/// (and the ignore-case flag)
#[tokio::test]
async fn contains_and_regex() {
    assert!(passes(json!({"t":"cont","v":"Hello"}), Value::str("Hello World!")).await);
    assert!(
        !passes(
            json!({"t":"cont","v":"Hello"}),
            Value::str("This is not a greeting!")
        )
        .await
    );
    assert!(passes(json!({"t":"regex","v":"[abc]+"}), Value::str("abbabac")).await);
    assert!(!passes(json!({"t":"regex","v":"[abc]+"}), Value::str("xyz")).await);
    assert!(
        passes(
            json!({"t":"regex","v":"onetwothree","case":true}),
            Value::str("oneTWOthree")
        )
        .await
    );
    assert!(
        !passes(
            json!({"t":"regex","v":"onetwothree"}),
            Value::str("oneTWOthree")
        )
        .await
    );
    assert!(
        !passes(
            json!({"t":"regex","v":"onetwothree","case":false}),
            Value::str("oneTWOthree")
        )
        .await
    );
}

#[tokio::test]
async fn invalid_regex_is_reported_per_message() {
    let mut h = node(json!({"rules":[{"t":"regex","v":"[abc","vt":"str"}]}), 1).await;
    h.send_json("s1", json!({"payload":"a"})).await;
    let e = h.recv_json("err").await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Invalid regular expression: /[abc/: "),
        "{e}"
    );
}

/// should check if payload if of type string (and every other type)
#[tokio::test]
async fn istype() {
    let t = |name: &str| json!({"t":"istype","v":name,"vt":name});
    assert!(passes(t("string"), Value::str("Hello")).await);
    assert!(passes(t("number"), Value::Number(999.0)).await);
    assert!(passes(t("number"), Value::Number(0.0)).await);
    assert!(!passes(t("number"), Value::Number(f64::NAN)).await);
    assert!(passes(t("number"), Value::Number(f64::INFINITY)).await);
    assert!(passes(t("boolean"), Value::Bool(true)).await);
    assert!(passes(t("array"), v(r#"[1,2,3,"a","b"]"#)).await);
    assert!(
        passes(
            t("buffer"),
            Value::Buffer(bytes::Bytes::from_static(b"Hello"))
        )
        .await
    );
    assert!(passes(t("object"), v(r#"{"a":1,"b":"b","c":true}"#)).await);
    assert!(passes(t("json"), Value::str(r#"{"a":1,"b":"b","c":true}"#)).await);
    assert!(!passes(t("json"), Value::str("Hello")).await);
    assert!(passes(t("null"), Value::Null).await);
    assert!(passes(t("undefined"), Value::Undefined).await);
    assert!(!passes(t("object"), Value::Null).await);
}

/// should check if input is true / false / null / not null and emptiness
#[tokio::test]
async fn value_tests() {
    assert!(passes(json!({"t":"true"}), Value::Bool(true)).await);
    assert!(!passes(json!({"t":"true"}), Value::Bool(false)).await);
    assert!(passes(json!({"t":"false"}), Value::Bool(false)).await);
    assert!(!passes(json!({"t":"false"}), Value::Bool(true)).await);
    assert!(passes(json!({"t":"null"}), Value::Null).await);
    assert!(passes(json!({"t":"null"}), Value::Undefined).await);
    assert!(passes(json!({"t":"nnull"}), Value::Number(0.0)).await);
    for (payload, empty) in [
        (Value::str(""), true),
        (v("[]"), true),
        (Value::Buffer(bytes::Bytes::new()), true),
        (v("{}"), true),
        (Value::str("1"), false),
        (v("[1]"), false),
        (Value::Buffer(bytes::Bytes::from_static(b"1")), false),
        (v(r#"{"a":1}"#), false),
    ] {
        assert_eq!(passes(json!({"t":"empty"}), payload.clone()).await, empty);
        assert_eq!(passes(json!({"t":"nempty"}), payload).await, !empty);
    }
    for payload in [Value::Null, Value::Undefined, Value::Number(0.0)] {
        assert!(!passes(json!({"t":"empty"}), payload.clone()).await);
        assert!(!passes(json!({"t":"nempty"}), payload).await);
    }
}

/// should handle flow context / should handle global context
#[tokio::test]
async fn context_properties_and_values() {
    let mut h = node(json!({"property":"foo","propertyType":"flow","rules":[{"t":"eq","v":"bar","vt":"global"}]}), 1).await;
    let cm = h.engine.context().clone();
    cm.set(None, "t1", "foo", Some(Value::str("flowValue")))
        .expect("set");
    cm.set(None, "global", "bar", Some(Value::str("flowValue")))
        .expect("set");
    h.send_json("s1", json!({"payload":"value"})).await;
    assert_eq!(h.recv_json("o0").await["payload"], json!("value"));
}

/// should use a nested message property to compare value - matches / no match
/// (and to compare nested message property)
#[tokio::test]
async fn nested_message_references() {
    let cfg = json!({"property":"payload[msg.topic]","rules":[{"t":"eq","v":"bar"}]});
    let mut h = node(cfg, 1).await;
    h.send_json("s1", json!({"topic":"foo","payload":{"foo":"bar"}}))
        .await;
    assert!(h.recv_within("o0", QUIET).await.is_some());
    h.send_json("s1", json!({"topic":"foo","payload":{"foo":"none"}}))
        .await;
    assert!(h.nothing("o0", QUIET).await);
    let cfg = json!({"property":"payload[msg.topic.a]","rules":[{"t":"eq","v":"payload[msg.topic.b]","vt":"msg"}]});
    let mut h = node(cfg, 1).await;
    h.send_json(
        "s1",
        json!({"topic":{"a":"foo","b":"bar"},"payload":{"foo":"x","bar":"x"}}),
    )
    .await;
    assert!(h.recv_within("o0", QUIET).await.is_some());
}

/// should check input against a previous value
#[tokio::test]
async fn previous_value() {
    let mut h = node(json!({"rules":[{"t":"gt","v":"","vt":"prev"}]}), 1).await;
    for p in [1, 0, -2, 2] {
        h.send_json("s1", json!({"payload":p})).await;
    }
    assert_eq!(h.recv_json("o0").await["payload"], json!(1));
    assert_eq!(h.recv_json("o0").await["payload"], json!(2));
    assert!(h.nothing("o0", QUIET).await);
}

/// should check input against a previous value (2nd option)
#[tokio::test]
async fn previous_value_as_second_bound() {
    let mut h = node(
        json!({"rules":[{"t":"btwn","v":"10","vt":"num","v2":"","v2t":"prev"}]}),
        1,
    )
    .await;
    for p in [0, 20, 30, 20, 30, 25] {
        h.send_json("s1", json!({"payload":p})).await;
    }
    let got: Vec<Json> = [
        h.recv_json("o0").await,
        h.recv_json("o0").await,
        h.recv_json("o0").await,
    ]
    .iter()
    .map(|m| m["payload"].clone())
    .collect();
    // 0 passes too (between 10 and null); the upstream test ignores falsy payloads.
    assert_eq!(got, vec![json!(0), json!(20), json!(25)]);
}

/// should treat non-existant msg property conditional as undefined
#[tokio::test]
async fn missing_property_is_undefined() {
    let mut h = node(
        json!({"property":"nope","rules":[{"t":"null"},{"t":"else"}]}),
        2,
    )
    .await;
    h.send_json("s1", json!({"payload":1})).await;
    assert!(h.recv_within("o0", QUIET).await.is_some());
    assert!(h.nothing("o1", QUIET).await);
}

/// sends a message when the "else/otherwise" statement is selected
/// and handles more than one switch statement / stops after first statement
#[tokio::test]
async fn else_checkall_and_stop_first() {
    let rules = json!([{"t":"eq","v":"Hello"},{"t":"cont","v":"ello"},{"t":"else"}]);
    let mut h = node(json!({"rules":rules,"checkall":"true"}), 3).await;
    h.send_json("s1", json!({"payload":"Hello"})).await;
    assert!(h.recv_within("o0", QUIET).await.is_some());
    assert!(h.recv_within("o1", QUIET).await.is_some());
    assert!(h.nothing("o2", QUIET).await);
    h.send_json("s1", json!({"payload":"Bye"})).await;
    assert!(h.recv_within("o2", QUIET).await.is_some());

    let mut h = node(json!({"rules":rules,"checkall":"false"}), 3).await;
    h.send_json("s1", json!({"payload":"Hello"})).await;
    assert!(h.recv_within("o0", QUIET).await.is_some());
    assert!(h.nothing("o1", QUIET).await);
}

#[tokio::test]
async fn a_message_matching_two_outputs_is_copied() {
    let mut h = node(json!({"rules":[{"t":"nnull"},{"t":"nnull"}]}), 2).await;
    h.send_json("s1", json!({"payload":{"a":1}})).await;
    let a = h.recv("o0").await;
    let b = h.recv("o1").await;
    let (Some(Value::Object(x)), Some(Value::Object(y))) = (a.get("payload"), b.get("payload"))
    else {
        panic!("payload objects expected");
    };
    assert!(!x.ptr_eq(&y));
}

/// should handle JSONata expression
/// (and flow/global contexts and env vars inside it)
#[tokio::test]
async fn jsonata_property_and_values() {
    let opts = HarnessOptions {
        env: vec![("SW_ENV".into(), "e".into())],
        ..Default::default()
    };
    let cfg = json!({"property":"$abs(payload)","propertyType":"jsonata","rules":[{"t":"btwn","v":"$sqrt(16)","vt":"jsonata","v2":"$sqrt(36)","v2t":"jsonata"}]});
    let mut h = node_with(cfg, 1, opts).await;
    h.send_json("s1", json!({"payload":-5})).await;
    assert_eq!(h.recv_json("o0").await["payload"], json!(-5));
    let cfg = json!({"rules":[{"t":"eq","v":"$env('SW_ENV') & $flowContext('f')","vt":"jsonata"}]});
    let opts = HarnessOptions {
        env: vec![("SW_ENV".into(), "e".into())],
        ..Default::default()
    };
    let mut h = node_with(cfg, 1, opts).await;
    h.engine
        .context()
        .set(None, "t1", "f", Some(Value::str("f")))
        .expect("set");
    h.send_json("s1", json!({"payload":"ef"})).await;
    assert!(h.recv_within("o0", QUIET).await.is_some());
}

/// should handle env var expression
#[tokio::test]
async fn env_values() {
    let opts = HarnessOptions {
        env: vec![("SW_ENV".into(), "value".into())],
        ..Default::default()
    };
    let mut h = node_with(
        json!({"rules":[{"t":"eq","v":"SW_ENV","vt":"env"}]}),
        1,
        opts,
    )
    .await;
    h.send_json("s1", json!({"payload":"value"})).await;
    assert!(h.recv_within("o0", QUIET).await.is_some());
}

/// should check JSONata expression is true
#[tokio::test]
async fn jsonata_rule() {
    let mut h = node(
        json!({"rules":[{"t":"jsonata_exp","v":"payload%2 = 1","vt":"jsonata"}]}),
        1,
    )
    .await;
    for p in [0, 1, 2, 3] {
        h.send_json("s1", json!({"payload":p})).await;
    }
    assert_eq!(h.recv_json("o0").await["payload"], json!(1));
    assert_eq!(h.recv_json("o0").await["payload"], json!(3));
}

/// should handle invalid jsonata expression
#[tokio::test]
async fn jsonata_property_errors_warn_and_drop() {
    let cfg = json!({"property":"$invalidExpression(payload)","propertyType":"jsonata","rules":[{"t":"btwn","v":"$sqrt(16)","vt":"jsonata","v2":"$sqrt(36)","v2t":"jsonata"}]});
    let mut h = node(cfg, 1).await;
    h.send_json("s1", json!({"payload":1})).await;
    assert!(h.nothing("o0", QUIET).await);
    assert!(
        h.drain_events()
            .iter()
            .any(|e| format!("{e:?}").contains("Invalid JSONata expression"))
    );
}

#[tokio::test]
async fn unparsable_jsonata_and_unknown_rules_are_config_errors() {
    let h = node(
        json!({"rules":[{"t":"jsonata_exp","v":"payload +","vt":"jsonata"}]}),
        1,
    )
    .await;
    assert!(!h.engine.input("s1", Msg::new()).await);
    let h = node(json!({"rules":[{"t":"bogus","v":"1"}]}), 1).await;
    assert!(!h.engine.input("s1", Msg::new()).await);
}

#[tokio::test]
async fn conformance_loose_equality_and_comparisons() {
    let rules = json!([{"t":"eq","v":"5","vt":"num"},{"t":"eq","v":"abc","vt":"str"},{"t":"eq","v":"true","vt":"bool"},{"t":"neq","v":"zzz","vt":"str"},{"t":"else"}]);
    let mut h = node(
        json!({"property":"payload.v","rules":rules,"checkall":"false"}),
        5,
    )
    .await;
    for (value, port) in [
        (json!(5), 0),
        (json!("5"), 0),
        (json!("abc"), 1),
        (json!(true), 2),
        (json!(1), 2),
        (json!("zzz"), 4),
        (json!(null), 3),
    ] {
        h.send_json("s1", json!({"payload":{"v":value}})).await;
        assert!(
            h.recv_within(&format!("o{port}"), QUIET).await.is_some(),
            "{value} to {port}"
        );
    }
    let rules = json!([{"t":"lt","v":"10","vt":"num"},{"t":"lte","v":"20","vt":"num"},{"t":"gt","v":"20","vt":"num"},{"t":"else"}]);
    let mut h = node(
        json!({"property":"payload.v","rules":rules,"checkall":"false"}),
        4,
    )
    .await;
    for (value, port) in [
        (json!(5), 0),
        (json!(10), 1),
        (json!(20), 1),
        (json!(21), 2),
        (json!("15"), 1),
        (json!("abc"), 3),
        (json!("100"), 2),
        (json!(null), 0),
    ] {
        h.send_json("s1", json!({"payload":{"v":value}})).await;
        assert!(
            h.recv_within(&format!("o{port}"), QUIET).await.is_some(),
            "{value} to {port}"
        );
    }
}

/// Sends `values` as one sequence (parts id 222) with `xindex` set.
async fn send_sequence(h: &Harness, values: &[i64]) {
    for (i, p) in values.iter().enumerate() {
        h.send_json(
            "s1",
            json!({"payload":p,"xindex":i,"parts":{"index":i,"count":values.len(),"id":222}}),
        )
        .await;
    }
}

/// Receives `n` messages at `port`: (payload, parts).
async fn sequence_out(h: &mut Harness, port: &str, n: usize) -> Vec<(Json, Json)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let m = h.recv_json(port).await;
        out.push((m["payload"].clone(), m["parts"].clone()));
    }
    out
}

/// should take head of message sequence (no repair)
/// (and tail, slice; with and without repair)
#[tokio::test]
async fn sequence_rules() {
    for (rule, repair, expected) in [
        (json!({"t":"head","v":3}), false, vec![0, 1, 2]),
        (json!({"t":"head","v":3}), true, vec![0, 1, 2]),
        (json!({"t":"tail","v":2}), false, vec![3, 4]),
        (json!({"t":"tail","v":2}), true, vec![3, 4]),
        (json!({"t":"index","v":1,"v2":3}), false, vec![1, 2, 3]),
        (json!({"t":"index","v":1,"v2":3}), true, vec![1, 2, 3]),
    ] {
        let mut h = node(json!({"rules":[rule.clone()],"repair":repair}), 1).await;
        send_sequence(&h, &[0, 1, 2, 3, 4]).await;
        let got = sequence_out(&mut h, "o0", expected.len()).await;
        assert!(h.nothing("o0", QUIET).await);
        for (k, (payload, parts)) in got.iter().enumerate() {
            assert_eq!(payload, &json!(expected[k]), "{rule} {repair}");
            if repair {
                assert_eq!(parts["index"], json!(k));
                assert_eq!(parts["count"], json!(expected.len()));
                assert_ne!(parts["id"], json!(222));
            } else {
                assert_eq!(parts["index"], json!(expected[k]));
                assert_eq!(parts["count"], json!(5));
                assert_eq!(parts["id"], json!(222));
            }
        }
    }
}

/// should be able to use $I in JSONata expression / $N
#[tokio::test]
async fn sequence_variables_in_jsonata() {
    for (expr, expected) in [("$I % 2 = 1", vec![1, 3]), ("payload >= $N-2", vec![3, 4])] {
        let mut h = node(
            json!({"rules":[{"t":"jsonata_exp","v":expr,"vt":"jsonata"}],"repair":true}),
            1,
        )
        .await;
        send_sequence(&h, &[0, 1, 2, 3, 4]).await;
        let got = sequence_out(&mut h, "o0", expected.len()).await;
        let payloads: Vec<Json> = got.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(
            payloads,
            expected.iter().map(|x| json!(x)).collect::<Vec<_>>(),
            "{expr}"
        );
    }
}

/// should repair message sequence for each port (and should not repair;
/// and with overlapping rules)
#[tokio::test]
async fn repairs_sequences_per_port() {
    let rules = json!([{"t":"gte","v":0},{"t":"lte","v":0},{"t":"else"}]);
    let mut h = node(json!({"rules":rules,"repair":true}), 3).await;
    send_sequence(&h, &[1, -2, 2, 0, -1]).await;
    let a = sequence_out(&mut h, "o0", 3).await;
    let b = sequence_out(&mut h, "o1", 3).await;
    assert!(h.nothing("o2", QUIET).await);
    assert_eq!(
        a.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        vec![json!(1), json!(2), json!(0)]
    );
    assert_eq!(
        b.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        vec![json!(-2), json!(0), json!(-1)]
    );
    for (k, (_, parts)) in a.iter().enumerate() {
        assert_eq!(parts["index"], json!(k));
        assert_eq!(parts["count"], json!(3));
        assert_eq!(parts["id"], a[0].1["id"]);
    }
    assert_ne!(a[0].1["id"], b[0].1["id"]);

    let rules = json!([{"t":"gt","v":0},{"t":"lt","v":0},{"t":"else"}]);
    let mut h = node(json!({"rules":rules,"repair":false}), 3).await;
    send_sequence(&h, &[1, -2, 2, 0, -1]).await;
    let c = sequence_out(&mut h, "o2", 1).await;
    assert_eq!(c[0].1, json!({"index":3,"count":5,"id":222}));
}

/// should handle too many pending messages
#[tokio::test]
async fn too_many_pending_messages() {
    let mut settings = redoubt_core::engine::RuntimeSettings::default();
    settings
        .raw
        .insert("nodeMessageBufferMaxLength".into(), json!(2));
    let opts = HarnessOptions {
        settings,
        ..Default::default()
    };
    let mut h = node_with(json!({"rules":[{"t":"tail","v":2}]}), 1, opts).await;
    for (p, i) in [(3, 2), (2, 1), (4, 3), (1, 0)] {
        h.send_json(
            "s1",
            json!({"payload":p,"parts":{"index":i,"count":4,"id":222}}),
        )
        .await;
    }
    assert_eq!(
        h.recv_json("err").await["error"]["message"],
        json!("too many pending messages in switch node")
    );
    assert!(h.nothing("o0", QUIET).await);
}

#[tokio::test]
async fn conformance_istype_and_value_tests() {
    let types = [
        "array",
        "null",
        "number",
        "string",
        "boolean",
        "object",
        "undefined",
    ];
    let mut rules: Vec<Json> = types
        .iter()
        .map(|t| json!({"t":"istype","v":t,"vt":t}))
        .collect();
    rules.push(json!({"t":"else"}));
    let mut h = node(
        json!({"property":"payload.v","rules":rules,"checkall":"false"}),
        8,
    )
    .await;
    for (body, port) in [
        (json!({"v":[1]}), 0),
        (json!({"v":null}), 1),
        (json!({"v":3.5}), 2),
        (json!({"v":"s"}), 3),
        (json!({"v":false}), 4),
        (json!({"v":{"a":1}}), 5),
        (json!({}), 6),
    ] {
        h.send_json("s1", json!({"payload":body})).await;
        assert!(
            h.recv_within(&format!("o{port}"), QUIET).await.is_some(),
            "{body} to {port}"
        );
    }
}

#[tokio::test]
async fn sequence_rule_without_parts_is_an_error() {
    let mut h = node(json!({"rules":[{"t":"head","v":2}]}), 1).await;
    h.send_json("s1", json!({"payload":1})).await;
    assert_eq!(
        h.recv_json("err").await["error"]["message"],
        json!("Cannot read properties of undefined (reading 'index')")
    );
}
