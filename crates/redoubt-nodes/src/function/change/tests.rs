//! Unit tests of the change node, run through a real engine (`crate::testing::Harness`).

use crate::testing::{Harness, HarnessOptions};
use redoubt_core::Msg;
use redoubt_core::value::{Value, from_json_str, to_serde};
use serde_json::{Value as Json, json};
use std::time::Duration;

/// A change node `c1` with `rules`, wired to helper `out`; a catch node feeds `err`.
async fn node(rules: Json) -> Harness {
    node_cfg(json!({ "rules": rules }), HarnessOptions::default()).await
}

async fn node_cfg(cfg: Json, opts: HarnessOptions) -> Harness {
    let mut n = json!({"id":"c1","type":"change","wires":[["out"]]});
    for (k, v) in cfg.as_object().cloned().unwrap_or_default() {
        n[k] = v;
    }
    Harness::start_with(
        json!([n, {"id":"out","type":"helper"}, {"id":"c","type":"catch","wires":[["err"]]}, {"id":"err","type":"helper"}]),
        opts,
    )
    .await
}

async fn run(rules: Json, msg: Json) -> Json {
    let mut h = node(rules).await;
    h.send_json("c1", msg).await;
    h.recv_json("out").await
}

fn flow_get(h: &Harness, key: &str) -> Json {
    h.engine
        .context()
        .get(None, "t1", key)
        .expect("context")
        .map(|v| to_serde(&v))
        .unwrap_or(Json::Null)
}

fn flow_set(h: &Harness, key: &str, json: &str) {
    h.engine
        .context()
        .set(None, "t1", key, Some(from_json_str(json).expect("json")))
        .expect("context");
}

/// should no-op if there are no rules
#[tokio::test]
async fn no_rules_pass_the_message() {
    assert_eq!(
        run(json!([]), json!({"payload":"leaveMeAlong"})).await["payload"],
        json!("leaveMeAlong")
    );
}

/// sets the value of the message property
#[tokio::test]
async fn sets_a_message_property() {
    let m = run(
        json!([{"t":"set","p":"payload","pt":"msg","to":"changed","tot":"str"}]),
        json!({"payload":"changeMe"}),
    )
    .await;
    assert_eq!(m["payload"], json!("changed"));
}

/// sets the value of global context property
#[tokio::test]
async fn sets_a_global_context_property() {
    let mut h =
        node(json!([{"t":"set","p":"globalValue","pt":"global","to":"changed","tot":"str"}])).await;
    h.send_json("c1", json!({"payload":"changeMe"})).await;
    assert_eq!(h.recv_json("out").await["payload"], json!("changeMe"));
    let v = h
        .engine
        .context()
        .get(None, "global", "globalValue")
        .expect("get");
    assert_eq!(v.map(|v| v.to_js_string()), Some("changed".to_string()));
}

/// sets the value and type of the message property
#[tokio::test]
async fn sets_typed_values() {
    let m = run(
        json!([{"t":"set","p":"payload","pt":"msg","to":"12345","tot":"num"}]),
        json!({"payload":"changeMe"}),
    )
    .await;
    assert_eq!(m["payload"], json!(12345));
}

/// sets the value of an already set multi-level message property
/// and sets the value of an empty multi-level message property
#[tokio::test]
async fn sets_multi_level_properties() {
    let rules = json!([{"t":"set","p":"foo.bar","pt":"msg","to":"bar","tot":"str"}]);
    assert_eq!(
        run(rules.clone(), json!({"foo":{"bar":"foo"}})).await["foo"],
        json!({"bar":"bar"})
    );
    assert_eq!(run(rules, json!({})).await["foo"], json!({"bar":"bar"}));
}

/// sets the value of a message property to another message property
/// (and a multi-level one; the legacy `action`/`property`/`to` form)
#[tokio::test]
async fn sets_from_other_message_properties() {
    let mut h = node_cfg(
        json!({"action":"replace","property":"payload","to":"msg.topic"}),
        HarnessOptions::default(),
    )
    .await;
    h.send_json("c1", json!({"payload":"changeMe","topic":"the topic"}))
        .await;
    assert_eq!(h.recv_json("out").await["payload"], json!("the topic"));
    let m = run(
        json!([{"t":"set","p":"payload.a","pt":"msg","to":"foo.bar","tot":"msg"}]),
        json!({"payload":{},"foo":{"bar":"x"}}),
    )
    .await;
    assert_eq!(m["payload"], json!({"a":"x"}));
}

/// doesn't set the value of a message property when the 'to' message property does not exist
#[tokio::test]
async fn missing_source_does_not_create_parents() {
    let mut h = node_cfg(
        json!({"action":"replace","property":"foo.bar","to":"msg.fred.red"}),
        HarnessOptions::default(),
    )
    .await;
    h.send_json("c1", json!({})).await;
    assert!(h.recv_json("out").await.get("foo").is_none());
}

/// overrides the value of a message property when the 'to' message property does not exist
#[tokio::test]
async fn missing_source_deletes_the_target() {
    let mut h = node_cfg(
        json!({"action":"replace","property":"payload","to":"msg.foo"}),
        HarnessOptions::default(),
    )
    .await;
    h.send_json("c1", json!({"payload":"Hello"})).await;
    assert!(h.recv_json("out").await.get("payload").is_none());
}

/// sets the message property to null when the 'to' message property equals null
#[tokio::test]
async fn null_source_sets_null() {
    let mut h = node_cfg(
        json!({"action":"replace","property":"payload","to":"msg.foo"}),
        HarnessOptions::default(),
    )
    .await;
    h.send_json("c1", json!({"payload":"Hello","foo":null}))
        .await;
    assert_eq!(h.recv_json("out").await["payload"], Json::Null);
}

/// does not set other properties using = inside to property
#[tokio::test]
async fn equals_sign_in_a_path_is_just_a_key() {
    let mut h = node_cfg(
        json!({"action":"replace","property":"payload","to":"msg.otherProp=10"}),
        HarnessOptions::default(),
    )
    .await;
    h.send_json("c1", json!({"payload":"changeMe"})).await;
    let m = h.recv_json("out").await;
    assert!(m.get("payload").is_none());
    assert!(m.get("otherProp").is_none());
}

/// changes the value to flow context property (and to global context)
#[tokio::test]
async fn sets_from_context() {
    let mut h = node(json!([{"t":"set","p":"payload","pt":"msg","to":"flowValue","tot":"flow"},{"t":"set","p":"g","pt":"msg","to":"#:(alt)::gv","tot":"global"}])).await;
    flow_set(&h, "flowValue", "\"Hello World!\"");
    h.engine
        .context()
        .set(Some("alt"), "global", "gv", Some(Value::Number(3.0)))
        .expect("set");
    h.send_json("c1", json!({"payload":"changeMe"})).await;
    let m = h.recv_json("out").await;
    assert_eq!(m["payload"], json!("Hello World!"));
    assert_eq!(m["g"], json!(3));
}

/// changes the value to a number / a boolean value / a js object / a buffer object
#[tokio::test]
async fn conformance_set_types() {
    let rules = json!([
        {"t":"set","p":"payload.s","pt":"msg","to":"hello","tot":"str"},
        {"t":"set","p":"payload.n","pt":"msg","to":"2.5","tot":"num"},
        {"t":"set","p":"payload.neg","pt":"msg","to":"-2e3","tot":"num"},
        {"t":"set","p":"payload.b","pt":"msg","to":"true","tot":"bool"},
        {"t":"set","p":"payload.bf","pt":"msg","to":"false","tot":"bool"},
        {"t":"set","p":"payload.j","pt":"msg","to":"{\"k\":[1,\"2\",null]}","tot":"json"},
        {"t":"set","p":"payload.jn","pt":"msg","to":"5","tot":"json"},
        {"t":"set","p":"payload.bin","pt":"msg","to":"[104,105]","tot":"bin"},
        {"t":"set","p":"payload.fromMsg","pt":"msg","to":"req.query.q","tot":"msg"},
        {"t":"set","p":"payload.replaced","pt":"msg","to":"new","tot":"str"}
    ]);
    let m = run(
        rules,
        json!({"payload":{"replaced":{"old":true},"keep":1},"req":{"query":{"q":"query-value"}}}),
    )
    .await;
    assert_eq!(
        m["payload"],
        json!({"replaced":"new","keep":1,"s":"hello","n":2.5,"neg":-2000,"b":true,"bf":false,"j":{"k":[1,"2",null]},"jn":5,"bin":{"type":"Buffer","data":[104,105]},"fromMsg":"query-value"})
    );
}

/// sets the value of the message property to the current timestamp
#[tokio::test]
async fn sets_the_current_timestamp() {
    let m = run(
        json!([{"t":"set","p":"ts","pt":"msg","to":"","tot":"date"}]),
        json!({}),
    )
    .await;
    let ts = m["ts"].as_f64().unwrap_or(0.0);
    let now = chrono::Utc::now().timestamp_millis() as f64;
    assert!((now - ts).abs() < 10_000.0, "{ts}");
}

/// sets the value using env property
#[tokio::test]
async fn sets_env_values_read_at_start() {
    let opts = HarnessOptions {
        env: vec![("NR_TEST_A".into(), "foo".into())],
        ..Default::default()
    };
    let rules = json!([
        {"t":"set","p":"payload.a","pt":"msg","to":"NR_TEST_A","tot":"env"},
        {"t":"set","p":"payload.t","pt":"msg","to":"x-${NR_TEST_A}-y","tot":"env"},
        {"t":"set","p":"payload.missing","pt":"msg","to":"NOT_SET_VAR","tot":"env"}
    ]);
    let mut h = node_cfg(json!({"rules": rules}), opts).await;
    h.send_json("c1", json!({"payload":{}})).await;
    assert_eq!(
        h.recv_json("out").await["payload"],
        json!({"a":"foo","t":"x-foo-y","missing":""})
    );
}

/// changes the value using jsonata
/// (and with flow and global context through $flowContext / $globalContext)
#[tokio::test]
async fn sets_jsonata_results() {
    let mut h = node(json!([{"t":"set","p":"payload","pt":"msg","to":"$length(payload) & '-' & $flowContext('x')","tot":"jsonata"}])).await;
    flow_set(&h, "x", "\"fx\"");
    h.send_json("c1", json!({"payload":"Hello World!"})).await;
    assert_eq!(h.recv_json("out").await["payload"], json!("12-fx"));
}

/// reports invalid jsonata expression
#[tokio::test]
async fn invalid_jsonata_is_a_config_error() {
    let h =
        node(json!([{"t":"set","p":"payload","pt":"msg","to":"$invalid(payload","tot":"jsonata"}]))
            .await;
    assert!(!h.engine.input("c1", Msg::new()).await);
}

#[tokio::test]
async fn jsonata_evaluation_errors_stop_the_message() {
    let mut h = node(
        json!([{"t":"set","p":"payload","pt":"msg","to":"$notAFunction(payload)","tot":"jsonata"}]),
    )
    .await;
    h.send_json("c1", json!({"payload":1})).await;
    let e = h.recv_json("err").await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Invalid JSONata expression: "),
        "{e}"
    );
    assert!(h.nothing("out", Duration::from_millis(20)).await);
}

/// sets the value of a message property using a nested property
/// and sets the value of a nested message property using a message property
#[tokio::test]
async fn nested_message_references() {
    let m = run(
        json!([{"t":"set","p":"payload","pt":"msg","to":"lookup[msg.topic]","tot":"msg"}]),
        json!({"topic":"foo","lookup":{"foo":"bar"}}),
    )
    .await;
    assert_eq!(m["payload"], json!("bar"));
    let m = run(
        json!([{"t":"set","p":"lookup[msg.topic]","pt":"msg","to":"payload","tot":"msg"}]),
        json!({"topic":"foo","payload":"bar","lookup":{}}),
    )
    .await;
    assert_eq!(m["lookup"], json!({"foo":"bar"}));
}

/// sets the value of a nested flow context property using a message property
#[tokio::test]
async fn conformance_msg_keyed_context() {
    let mut h = node(json!([{"t":"set","p":"items[msg.payload.id]","pt":"flow","to":"payload.v","tot":"msg"},{"t":"set","p":"payload","pt":"msg","to":"items","tot":"flow"}])).await;
    h.send_json("c1", json!({"payload":{"id":"a","v":1}})).await;
    assert_eq!(h.recv_json("out").await["payload"], json!({"a":1}));
    h.send_json("c1", json!({"payload":{"id":"b","v":[2]}}))
        .await;
    assert_eq!(h.recv_json("out").await["payload"], json!({"a":1,"b":[2]}));
    h.send_json("c1", json!({"payload":{"id":"a","v":3}})).await;
    assert_eq!(h.recv_json("out").await["payload"], json!({"a":3,"b":[2]}));
}

/// deep copies the property if selected
#[tokio::test]
async fn conformance_set_msg_reference() {
    let rules = json!([
        {"t":"set","p":"payload.ref","pt":"msg","to":"payload.a","tot":"msg"},
        {"t":"set","p":"payload.copy","pt":"msg","to":"payload.a","tot":"msg","dc":true},
        {"t":"set","p":"payload.a.x","pt":"msg","to":"99","tot":"num"}
    ]);
    let m = run(rules, json!({"payload":{"a":{"x":1}}})).await;
    assert_eq!(
        m["payload"],
        json!({"a":{"x":99},"ref":{"x":99},"copy":{"x":1}})
    );
}

#[tokio::test]
async fn conformance_context_reference() {
    let mut h = node(json!([{"t":"set","p":"obj","pt":"flow","to":"payload","tot":"msg"},{"t":"set","p":"payload.mutated","pt":"msg","to":"after-store","tot":"str"}])).await;
    h.send_json("c1", json!({"payload":{"orig":1}})).await;
    assert_eq!(
        h.recv_json("out").await["payload"],
        json!({"orig":1,"mutated":"after-store"})
    );
    assert_eq!(
        flow_get(&h, "obj"),
        json!({"orig":1,"mutated":"after-store"})
    );
}

/// changes the value of the message property
/// (with every literal and typed `from` the conformance case covers)
#[tokio::test]
async fn conformance_change() {
    let rule = |p: &str, from: &str, fromt: &str, to: &str, tot: &str| json!({"t":"change","p":p,"pt":"msg","from":from,"fromt":fromt,"to":to,"tot":tot});
    let rules = json!([
        rule("payload.s", "a", "str", "x", "str"),
        rule("payload.dots", ".", "str", "!", "str"),
        rule(
            "payload.date",
            "(\\d+)-(\\d+)-(\\d+)",
            "re",
            "$3/$2/$1",
            "str"
        ),
        rule("payload.whole", "abc", "str", "5", "num"),
        rule("payload.part", "abc", "str", "5", "num"),
        rule("payload.num", "5", "num", "6", "num"),
        rule("payload.numstr", "5", "str", "6", "num"),
        rule("payload.strnum", "5", "num", "six", "str"),
        rule("payload.bool", "true", "bool", "yes", "str"),
        rule("payload.tobool", "yes", "str", "true", "bool"),
        rule("payload.obj", "a", "str", "b", "str")
    ]);
    let m = run(rules, json!({"payload":{"s":"a-b-a","dots":"a.b.c","date":"2024-01-15","whole":"abc","part":"xabcx-abc","num":5,"numstr":5,"strnum":"5","bool":true,"tobool":"yes","obj":{"a":"a"}}})).await;
    assert_eq!(
        m["payload"],
        json!({"s":"x-b-x","dots":"a!b!c","date":"15/01/2024","whole":5,"part":"x5x-5","num":6,"numstr":5,"strnum":"six","bool":"yes","tobool":true,"obj":{"a":"a"}})
    );
}

/// changes the value and type of the message property if a complete match - boolean
#[tokio::test]
async fn complete_match_changes_type() {
    let rules = json!([{"t":"change","p":"payload.a","pt":"msg","from":"123","fromt":"str","to":"true","tot":"bool"},{"t":"change","p":"payload.b","pt":"msg","from":"456","fromt":"str","to":"false","tot":"bool"}]);
    assert_eq!(
        run(rules, json!({"payload":{"a":"123","b":"456"}})).await["payload"],
        json!({"a":true,"b":false})
    );
}

/// changes the value using number - number payload / boolean - boolean payload
#[tokio::test]
async fn numbers_and_booleans_match_whole_values() {
    let r = |from: &str, fromt: &str| json!([{"t":"change","p":"payload","from":from,"to":"abc","fromt":fromt,"tot":"str"}]);
    assert_eq!(
        run(r("123", "num"), json!({"payload":123})).await["payload"],
        json!("abc")
    );
    assert_eq!(
        run(r("123", "num"), json!({"payload":"123"})).await["payload"],
        json!("abc")
    );
    assert_eq!(
        run(r("true", "bool"), json!({"payload":true})).await["payload"],
        json!("abc")
    );
    assert_eq!(
        run(r("true", "bool"), json!({"payload":false})).await["payload"],
        json!(false)
    );
}

/// sends unaltered message if the changed message property does not exist
/// (and a multi-level one)
#[tokio::test]
async fn change_of_a_missing_property_passes() {
    let m = run(
        json!([{"t":"change","p":"foo.bar","from":"Hello","to":"Goodbye"}]),
        json!({"payload":"Hello"}),
    )
    .await;
    assert_eq!(m["payload"], json!("Hello"));
    assert!(m.get("foo").is_none());
}

/// changes the value of the message property based on a regex
/// (and supports regex groups, in the legacy and the rule format)
#[tokio::test]
async fn regex_changes() {
    let mut h = node_cfg(
        json!({"action":"change","property":"payload","from":"\\d+","to":"NUMBER","reg":true}),
        HarnessOptions::default(),
    )
    .await;
    h.send_json("c1", json!({"payload":"Replace all numbers 12 and 14"}))
        .await;
    assert_eq!(
        h.recv_json("out").await["payload"],
        json!("Replace all numbers NUMBER and NUMBER")
    );
    let m = run(json!([{"t":"change","p":"payload","from":"(Hello)","to":"$1-$1-$1","fromt":"re","tot":"str"}]), json!({"payload":"Hello World"})).await;
    assert_eq!(m["payload"], json!("Hello-Hello-Hello World"));
}

/// reports invalid regex
#[tokio::test]
async fn invalid_regex_is_a_config_error() {
    let h = node_cfg(
        json!({"action":"change","property":"payload","from":"\\+**+","to":"NUMBER","reg":true}),
        HarnessOptions::default(),
    )
    .await;
    assert!(!h.engine.input("c1", Msg::new()).await);
}

/// changes the value using msg property / flow context property
#[tokio::test]
async fn dynamic_from_values() {
    let m = run(
        json!([{"t":"change","p":"payload","from":"topic","fromt":"msg","to":"123","tot":"str"}]),
        json!({"topic":"ABC","payload":"abcABCabc"}),
    )
    .await;
    assert_eq!(m["payload"], json!("abc123abc"));
    let mut h = node(
        json!([{"t":"change","p":"payload","from":"topic","fromt":"flow","to":"123","tot":"str"}]),
    )
    .await;
    flow_set(&h, "topic", "\"ABC\"");
    h.send_json("c1", json!({"payload":"abcABCabc"})).await;
    assert_eq!(h.recv_json("out").await["payload"], json!("abc123abc"));
}

/// changes the number using global context property
#[tokio::test]
async fn dynamic_number_from_matches_numbers() {
    let mut h = node(
        json!([{"t":"change","p":"payload","from":"n","fromt":"global","to":"abc","tot":"str"}]),
    )
    .await;
    h.engine
        .context()
        .set(None, "global", "n", Some(Value::Number(123.0)))
        .expect("set");
    h.send_json("c1", json!({"payload":123})).await;
    assert_eq!(h.recv_json("out").await["payload"], json!("abc"));
}

/// reports invalid fromValue
#[tokio::test]
async fn invalid_dynamic_from_is_reported_and_the_message_goes_on() {
    let mut h = node(
        json!([{"t":"change","p":"payload","from":"null","fromt":"msg","to":"abc","tot":"str"}]),
    )
    .await;
    let msg = Msg::from_json(&json!({"payload":"","null":null}));
    h.send("c1", msg).await;
    assert_eq!(
        h.recv_json("err").await["error"]["message"],
        json!("Invalid 'from' property: unsupported type: object")
    );
    assert_eq!(h.recv_json("out").await["payload"], json!(""));
}

/// changes the value of the global context
/// (partial match keeps the type, complete match changes it)
#[tokio::test]
async fn changes_context_values() {
    let mut h = node(json!([{"t":"change","p":"a","pt":"flow","from":"123","fromt":"str","to":"456","tot":"num"},{"t":"change","p":"b","pt":"flow","from":"Hello","fromt":"str","to":"Bye","tot":"str"}])).await;
    flow_set(&h, "a", "\"123\"");
    flow_set(&h, "b", "\"Hello World\"");
    h.send_json("c1", json!({"payload":""})).await;
    h.recv_json("out").await;
    assert_eq!(flow_get(&h, "a"), json!(456));
    assert_eq!(flow_get(&h, "b"), json!("Bye World"));
}

#[tokio::test]
async fn change_of_an_unmatched_context_number_drops_the_message() {
    let mut h = node(
        json!([{"t":"change","p":"n","pt":"flow","from":"5","fromt":"num","to":"6","tot":"num"}]),
    )
    .await;
    flow_set(&h, "n", "7");
    h.send_json("c1", json!({"payload":1})).await;
    assert!(h.nothing("out", Duration::from_millis(50)).await);
    flow_set(&h, "n", "5");
    h.send_json("c1", json!({"payload":2})).await;
    assert_eq!(h.recv_json("out").await["payload"], json!(2));
    assert_eq!(flow_get(&h, "n"), json!(6));
}

/// deletes the value of the message property
/// (multi-level, and unaltered message when missing)
#[tokio::test]
async fn deletes_message_properties() {
    let m = run(
        json!([{"t":"delete","p":"payload"}]),
        json!({"payload":"x","topic":"t"}),
    )
    .await;
    assert!(m.get("payload").is_none());
    let m = run(json!([{"t":"delete","p":"payload.a"},{"t":"delete","p":"payload.l[0]"},{"t":"delete","p":"nope.x"}]), json!({"payload":{"a":1,"b":2,"l":[1,2]}})).await;
    assert_eq!(m["payload"], json!({"b":2,"l":[2]}));
}

/// deletes the value of global context property
#[tokio::test]
async fn deletes_context_properties() {
    let mut h = node(json!([{"t":"delete","p":"x","pt":"global"}])).await;
    h.engine
        .context()
        .set(None, "global", "x", Some(Value::Number(1.0)))
        .expect("set");
    h.send_json("c1", json!({"payload":1})).await;
    h.recv_json("out").await;
    assert!(
        h.engine
            .context()
            .get(None, "global", "x")
            .expect("get")
            .is_none()
    );
}

/// moves the value of the message property
/// (and an object, to itself, to a sub-property, a sub-property to a property)
#[tokio::test]
async fn moves_message_properties() {
    let mv = |p: &str, to: &str| json!([{"t":"move","p":p,"pt":"msg","to":to,"tot":"msg"}]);
    let m = run(mv("topic", "payload"), json!({"topic":"A","payload":"B"})).await;
    assert_eq!(m["payload"], json!("A"));
    assert!(m.get("topic").is_none());
    assert_eq!(
        run(mv("payload", "payload"), json!({"payload":"bar"})).await["payload"],
        json!("bar")
    );
    assert_eq!(
        run(mv("payload", "payload.foo"), json!({"payload":"bar"})).await["payload"],
        json!({"foo":"bar"})
    );
    assert_eq!(
        run(
            mv("payload.foo", "payload"),
            json!({"payload":{"foo":"bar"}})
        )
        .await["payload"],
        json!("bar")
    );
}

#[tokio::test]
async fn conformance_move() {
    let rules = json!([
        {"t":"move","p":"payload.a","pt":"msg","to":"moved","tot":"msg"},
        {"t":"move","p":"payload.b.inner","pt":"msg","to":"payload.b","tot":"msg"},
        {"t":"move","p":"payload.c","pt":"msg","to":"mv","tot":"flow"},
        {"t":"move","p":"mv","pt":"flow","to":"payload.fromFlow","tot":"msg"},
        {"t":"move","p":"moved","pt":"msg","to":"payload.movedBack","tot":"msg"}
    ]);
    let mut h = node(rules).await;
    h.send_json(
        "c1",
        json!({"payload":{"a":[1,2],"b":{"inner":{"z":1}},"c":"via flow"}}),
    )
    .await;
    assert_eq!(
        h.recv_json("out").await["payload"],
        json!({"b":{"z":1},"fromFlow":"via flow","movedBack":[1,2]})
    );
    assert_eq!(flow_get(&h, "mv"), Json::Null);
}

/// handles multiple rules
#[tokio::test]
async fn handles_multiple_rules() {
    let rules = json!([
        {"t":"set","p":"payload","to":"newValue"},
        {"t":"change","p":"changeProperty","from":"this","to":"that"},
        {"t":"delete","p":"deleteProperty"}
    ]);
    let m = run(rules, json!({"payload":"changeMe","changeProperty":"change this value","deleteProperty":"delete this value"})).await;
    assert_eq!(m["payload"], json!("newValue"));
    assert_eq!(m["changeProperty"], json!("change that value"));
    assert!(m.get("deleteProperty").is_none());
}

/// applies multiple rules in order
#[tokio::test]
async fn applies_multiple_rules_in_order() {
    let rules = json!([
        {"t":"set","p":"payload","to":"a this (hi)"},
        {"t":"change","p":"payload","from":"this","to":"that"},
        {"t":"change","p":"payload","from":"\\(.*\\)","to":"[new]","re":true}
    ]);
    assert_eq!(
        run(rules, json!({"payload":"changeMe"})).await["payload"],
        json!("a that [new]")
    );
}

#[tokio::test]
async fn setting_beneath_a_primitive_warns_and_passes() {
    let mut h = node(json!([{"t":"set","p":"payload.a","to":"x"}])).await;
    h.send_json("c1", json!({"payload":"str"})).await;
    assert_eq!(h.recv_json("out").await["payload"], json!("str"));
    let warned = h
        .drain_events()
        .iter()
        .any(|e| format!("{e:?}").contains("Cannot set property of non-object type: payload.a"));
    assert!(warned);
}
