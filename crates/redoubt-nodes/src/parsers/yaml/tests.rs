//! Ported from `test/nodes/core/parsers/70-YAML_spec.js`, plus js-yaml
//! load/dump behaviour the node relies on.

use super::dump::dump;
use super::load::load;
use crate::testing::Harness;
use redoubt_core::engine::{LogLevel, RuntimeEvent};
use redoubt_core::value::{Object, Value, from_json_str, to_json};
use serde_json::{Value as Json, json};
use std::time::Duration;

async fn start(extra: Json) -> Harness {
    let mut node = json!({"id":"yn1","type":"yaml","wires":[["yn2"]]});
    if let (Some(n), Some(e)) = (node.as_object_mut(), extra.as_object()) {
        n.extend(e.clone());
    }
    Harness::start(json!([node, {"id":"yn2","type":"helper"}, {"id":"c","type":"catch","wires":[["hc"]]}, {"id":"hc","type":"helper"}])).await
}

fn dumped(json: &str) -> String {
    dump(&from_json_str(json).expect("json")).expect("dump")
}

fn loaded(yaml: &str) -> String {
    to_json(&load(yaml).expect("load")).expect("json")
}

/// should convert a valid yaml string to a javascript object
#[tokio::test(start_paused = true)]
async fn yaml_string_to_object() {
    let mut h = start(json!({})).await;
    h.send_json(
        "yn1",
        json!({"payload":"employees:\n  - firstName: John\n    lastName: Smith\n","topic":"bar"}),
    )
    .await;
    let m = h.recv_json("yn2").await;
    assert_eq!(m["topic"], json!("bar"));
    assert_eq!(
        m["payload"],
        json!({"employees":[{"firstName":"John","lastName":"Smith"}]})
    );
}

/// should convert a valid yaml string to a javascript object - using another property
#[tokio::test(start_paused = true)]
async fn yaml_string_to_object_in_other_property() {
    let mut h = start(json!({"property":"foo"})).await;
    h.send_json(
        "yn1",
        json!({"foo":"employees:\n  - firstName: John\n    lastName: Smith\n","topic":"bar"}),
    )
    .await;
    let m = h.recv_json("yn2").await;
    assert_eq!(m["foo"]["employees"][0]["firstName"], json!("John"));
}

/// should convert a javascript object to a yaml string
#[tokio::test(start_paused = true)]
async fn object_to_yaml_string() {
    let mut h = start(json!({})).await;
    h.send_json(
        "yn1",
        json!({"payload":{"employees":[{"firstName":"John","lastName":"Smith"}]}}),
    )
    .await;
    assert_eq!(
        h.recv_json("yn2").await["payload"],
        json!("employees:\n  - firstName: John\n    lastName: Smith\n")
    );
}

/// should convert a javascript object to a yaml string - using another property
#[tokio::test(start_paused = true)]
async fn object_to_yaml_string_in_other_property() {
    let mut h = start(json!({"property":"foo"})).await;
    h.send_json(
        "yn1",
        json!({"foo":{"employees":[{"firstName":"John","lastName":"Smith"}]}}),
    )
    .await;
    assert_eq!(
        h.recv_json("yn2").await["foo"],
        json!("employees:\n  - firstName: John\n    lastName: Smith\n")
    );
}

/// should convert an array to a yaml string
#[tokio::test(start_paused = true)]
async fn array_to_yaml_string() {
    let mut h = start(json!({})).await;
    h.send_json("yn1", json!({"payload":[1,2,3]})).await;
    assert_eq!(
        h.recv_json("yn2").await["payload"],
        json!("- 1\n- 2\n- 3\n")
    );
}

/// should log an error if asked to parse an invalid yaml string
#[tokio::test(start_paused = true)]
async fn invalid_yaml_is_an_error() {
    let mut h = start(json!({})).await;
    h.send_json(
        "yn1",
        json!({"payload":"employees:\n-firstName: John\n- lastName: Smith\n","topic":"bar"}),
    )
    .await;
    let m = h.recv_json("hc").await;
    let text = m["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // js-yaml words it "end of the stream or a document separator is expected (2:1)".
    assert!(
        text.contains(
            " (3:3)\n\n 1 | employees:\n 2 | -firstName: John\n 3 | - lastName: Smith\n-------^"
        ),
        "{text}"
    );
    assert!(h.nothing("yn2", Duration::from_millis(50)).await);
}

/// should log an error if asked to parse something thats not yaml or js
#[tokio::test(start_paused = true)]
async fn non_yaml_payloads_warn() {
    let mut h = start(json!({})).await;
    h.send_json("yn1", json!({"payload":true})).await;
    h.send_json("yn1", json!({"payload":1})).await;
    h.send(
        "yn1",
        redoubt_core::Msg::with_payload(Value::Buffer(bytes::Bytes::from_static(b"a"))),
    )
    .await;
    assert!(h.nothing("yn2", Duration::from_millis(100)).await);
    let warns: Vec<String> = h
        .drain_events()
        .into_iter()
        .filter_map(|e| match e {
            RuntimeEvent::Log {
                level: LogLevel::Warn,
                text,
                ..
            } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(
        warns,
        [
            "Ignored unsupported payload type",
            "Ignored unsupported payload type",
            "Ignored non-object payload"
        ]
    );
}

/// should pass straight through if no payload set
#[tokio::test(start_paused = true)]
async fn passes_through_without_payload() {
    let mut h = start(json!({})).await;
    h.send_json("yn1", json!({"topic":"bar"})).await;
    let m = h.recv_json("yn2").await;
    assert_eq!(m["topic"], json!("bar"));
    assert!(m.get("payload").is_none());
}

/// Conformance `parsers/yaml`: both directions.
#[tokio::test(start_paused = true)]
async fn conformance_parse_and_dump() {
    assert_eq!(
        loaded("a: 1\nb: [x, y]\nc:\n  d: true\n  e: null\nf: \"quoted\"\ng: 1.5\n"),
        r#"{"a":1,"b":["x","y"],"c":{"d":true,"e":null},"f":"quoted","g":1.5}"#
    );
    assert_eq!(
        dumped(r#"{"a":1,"b":["x","y"],"c":{"d":true},"s":"multi word"}"#),
        "a: 1\nb:\n  - x\n  - 'y'\nc:\n  d: true\ns: multi word\n"
    );
}

#[test]
fn load_resolves_js_yaml_core_types() {
    assert_eq!(
        loaded("a: yes\nb: 0o17\nc: 0x1F\nd: ~\ne: '1'\nf: .inf\ng: 2001-12-14\nh: |\n  x\n  y\n"),
        r#"{"a":"yes","b":15,"c":31,"d":null,"e":"1","f":null,"g":"2001-12-14T00:00:00.000Z","h":"x\ny\n"}"#
    );
    assert!(matches!(
        load("t: 2001-12-14t21:59:43.10-05:00")
            .expect("load")
            .as_object()
            .and_then(|o| o.get("t")),
        Some(Value::Date(_))
    ));
}

#[test]
fn load_empty_inputs() {
    assert!(load("").expect("load").is_undefined());
    assert!(matches!(
        load("# only a comment\n").expect("load"),
        Value::Null
    ));
    assert!(matches!(load("---\n").expect("load"), Value::Null));
    assert_eq!(loaded("just text"), r#""just text""#);
}

#[test]
fn load_aliases_merges_and_duplicates() {
    assert_eq!(
        loaded("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n"),
        r#"{"base":{"x":1,"y":2},"use":{"x":1,"y":3}}"#
    );
    let v = load("a: &x [1]\nb: *x\n").expect("load");
    let o = v.as_object().cloned().expect("object");
    match (o.get("a"), o.get("b")) {
        (Some(Value::Array(a)), Some(Value::Array(b))) => assert!(a.ptr_eq(&b)),
        other => panic!("expected shared arrays, got {other:?}"),
    }
    let e = load("a: 1\na: 2\n").expect_err("duplicate");
    assert!(e.0.starts_with("duplicated mapping key (2:1)"), "{}", e.0);
    assert!(
        load("a: 1\n---\nb: 2\n")
            .expect_err("two docs")
            .0
            .starts_with("expected a single document")
    );
    assert_eq!(
        loaded("? [a, b]\n: 1\n1.0: x\ntrue: y\n"),
        r#"{"a,b":1,"1":"x","true":"y"}"#
    );
    assert_eq!(
        loaded("bin: !!binary aGVsbG8="),
        r#"{"bin":{"type":"Buffer","data":[104,101,108,108,111]}}"#
    );
    assert!(
        load("x: !custom 1")
            .expect_err("tag")
            .0
            .starts_with("unknown tag !<!custom>")
    );
}

#[test]
fn dump_quotes_strings_only_when_needed() {
    assert_eq!(
        dumped(
            r##"{"a":"","b":"true","c":"123","d":"on","e":"a: b","f":"- x","g":"#c","h":"x #y","i":"x#y","j":" lead","k":"1:30","l":"2020-01-01","m":"it's"}"##
        ),
        "a: ''\nb: 'true'\nc: '123'\nd: 'on'\ne: 'a: b'\nf: '- x'\ng: '#c'\nh: 'x #y'\ni: x#y\nj: ' lead'\nk: '1:30'\nl: '2020-01-01'\nm: it's\n"
    );
    assert_eq!(
        dumped(r#"{"t":"a\tb","u":"caf\u00e9","k y":1,"z":"[x]"}"#),
        "t: \"a\\tb\"\nu: café\nk y: 1\nz: '[x]'\n"
    );
}

#[test]
fn dump_block_scalars() {
    assert_eq!(
        dumped(r#"{"a":"line1\nline2\n","b":"x\ny","c":"keep\n\n"}"#),
        "a: |\n  line1\n  line2\nb: |-\n  x\n  y\nc: |+\n  keep\n\n"
    );
    let long = "word ".repeat(30);
    let out = dumped(&format!(r#"{{"long":"{}"}}"#, long.trim_end()));
    assert!(out.starts_with("long: >-\n  word word"), "{out}");
    assert!(out.lines().all(|l| l.chars().count() <= 80), "{out}");
}

#[test]
fn dump_numbers_nulls_and_empty_collections() {
    assert_eq!(
        dumped(r#"{"i":-3,"f":0.5,"n":null,"e":[],"o":{},"b":false,"s":1e21}"#),
        "i: -3\nf: 0.5\n'n': null\ne: []\no: {}\nb: false\ns: 1e+21\n"
    );
    assert_eq!(
        dumped(r#"[[1,2],[{"a":1,"b":2}]]"#),
        "- - 1\n  - 2\n- - a: 1\n    b: 2\n"
    );
    let o = Object::new();
    o.insert("u", Value::Undefined);
    o.insert("d", Value::Date(0.0));
    o.insert(
        "x",
        Value::from(vec![Value::Undefined, Value::Number(f64::NAN)]),
    );
    assert_eq!(
        dump(&Value::Object(o)).expect("dump"),
        "d: 1970-01-01T00:00:00.000Z\nx:\n  - null\n  - .nan\n"
    );
}

#[test]
fn dump_shared_and_cyclic_objects_with_references() {
    let shared = Object::new();
    shared.insert("k", Value::Number(1.0));
    let root = Object::new();
    root.insert("a", Value::Object(shared.clone()));
    root.insert("b", Value::Object(shared));
    assert_eq!(
        dump(&Value::Object(root.clone())).expect("dump"),
        "a: &ref_0\n  k: 1\nb: *ref_0\n"
    );
    root.insert("me", Value::Object(root.clone()));
    assert_eq!(
        dump(&Value::Object(root)).expect("dump"),
        "&ref_1\na: &ref_0\n  k: 1\nb: *ref_0\nme: *ref_1\n"
    );
}
