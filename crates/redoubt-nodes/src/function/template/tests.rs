//! Unit tests of the template node, run through a real engine (`crate::testing::Harness`).

use crate::testing::{Harness, HarnessOptions};
use redoubt_core::value::Value;
use serde_json::{Value as Json, json};

/// A template node `n1` wired to helper `out`, plus a catch node feeding `err`.
async fn node(cfg: Json) -> Harness {
    node_with(cfg, HarnessOptions::default()).await
}

async fn node_with(mut cfg: Json, opts: HarnessOptions) -> Harness {
    cfg["id"] = json!("n1");
    cfg["type"] = json!("template");
    cfg["wires"] = json!([["out"]]);
    Harness::start_with(
        json!([cfg, {"id":"out","type":"helper"}, {"id":"c","type":"catch","wires":[["err"]]}, {"id":"err","type":"helper"}]),
        opts,
    )
    .await
}

async fn render(template: &str, msg: Json) -> Json {
    let mut h = node(json!({"field":"payload","template":template})).await;
    h.send_json("n1", msg).await;
    h.recv_json("out").await["payload"].clone()
}

/// should modify payload using node-configured template
#[tokio::test]
async fn modifies_payload_using_node_template() {
    let mut h = node(json!({"field":"payload","template":"payload={{payload}}"})).await;
    h.send_json(
        "n1",
        json!({"payload":"foo","topic":"bar","template":"ignored {{payload}}"}),
    )
    .await;
    let m = h.recv_json("out").await;
    assert_eq!(m["payload"], json!("payload=foo"));
    assert_eq!(m["topic"], json!("bar"));
    assert_eq!(m["template"], json!("ignored {{payload}}"));
}

/// should modify the configured property using msg.template
#[tokio::test]
async fn uses_msg_template_when_node_template_is_empty() {
    let mut h = node(json!({"field":"randomProperty","template":""})).await;
    h.send_json(
        "n1",
        json!({"payload":"foo","topic":"bar","template":"payload={{payload}}"}),
    )
    .await;
    let m = h.recv_json("out").await;
    assert_eq!(m["randomProperty"], json!("payload=foo"));
    assert_eq!(m["payload"], json!("foo"));
}

/// should modify payload from msg.template
#[tokio::test]
async fn msg_template_changes_per_message() {
    let mut h = node(json!({"field":"payload","template":""})).await;
    h.send_json(
        "n1",
        json!({"payload":"foo","topic":"bar","template":"topic={{topic}}"}),
    )
    .await;
    h.send_json(
        "n1",
        json!({"payload":"foo","topic":"another bar","template":"topic={{topic}}"}),
    )
    .await;
    h.send_json(
        "n1",
        json!({"payload":"foo","topic":"bar","template":"payload={{payload}}"}),
    )
    .await;
    assert_eq!(h.recv_json("out").await["payload"], json!("topic=bar"));
    assert_eq!(
        h.recv_json("out").await["payload"],
        json!("topic=another bar")
    );
    assert_eq!(h.recv_json("out").await["payload"], json!("payload=foo"));
}

/// should modify payload from env variable
#[tokio::test]
async fn env_variables_resolve() {
    let opts = HarnessOptions {
        env: vec![("TEST".into(), "xyz".into())],
        ..Default::default()
    };
    let mut h = node_with(
        json!({"template":"payload={{env.TEST}} missing=[{{env.NOPE}}]"}),
        opts,
    )
    .await;
    h.send_json("n1", json!({"payload":"foo"})).await;
    assert_eq!(
        h.recv_json("out").await["payload"],
        json!("payload=xyz missing=[]")
    );
}

/// should modify payload from flow context / global context / persistable stores
#[tokio::test]
async fn flow_and_global_context_resolve() {
    let mut h = node(json!({"template":"f={{flow.value}} g={{global.value}} alt={{flow[alt].value}} n={{flow.obj.x}} [{{flow.nope}}]"})).await;
    let cm = h.engine.context().clone();
    cm.set(None, "t1", "value", Some(Value::str("fv")))
        .expect("set");
    cm.set(None, "global", "value", Some(Value::str("gv")))
        .expect("set");
    cm.set(Some("alt"), "t1", "value", Some(Value::str("av")))
        .expect("set");
    cm.set(
        None,
        "t1",
        "obj",
        Some(redoubt_core::value::from_json_str(r#"{"x":"ox"}"#).expect("json")),
    )
    .expect("set");
    h.send_json("n1", json!({"payload":"foo"})).await;
    assert_eq!(
        h.recv_json("out").await["payload"],
        json!("f=fv g=gv alt=av n=ox []")
    );
}

/// should handle nested context tags - property not set / set
#[tokio::test]
async fn nested_context_sections() {
    let mut h = node(json!({"template":"{{#flow.time}}time={{flow.time}}{{/flow.time}}{{^flow.time}}!time{{/flow.time}}{{#flow.random}}random={{flow.random}}randomtime={{flow.randomtime}}{{/flow.random}}{{^flow.random}}!random{{/flow.random}}"})).await;
    h.send_json("n1", json!({"payload":"foo"})).await;
    assert_eq!(h.recv_json("out").await["payload"], json!("!time!random"));
    let cm = h.engine.context().clone();
    cm.set(None, "t1", "time", Some(Value::str("123")))
        .expect("set");
    cm.set(None, "t1", "random", Some(Value::str("4")))
        .expect("set");
    cm.set(None, "t1", "randomtime", Some(Value::str("1234")))
        .expect("set");
    h.send_json("n1", json!({"payload":"foo"})).await;
    assert_eq!(
        h.recv_json("out").await["payload"],
        json!("time=123random=4randomtime=1234")
    );
}

/// should handle missing node context
#[tokio::test]
async fn missing_context_values_render_empty() {
    assert_eq!(
        render(
            "payload={{flow.value}},{{global.value}}",
            json!({"payload":"foo"})
        )
        .await,
        json!("payload=,")
    );
}

/// should handle escape characters in Mustache format and JSON output mode
#[tokio::test]
async fn json_output_escapes_top_level_strings() {
    let mut h =
        node(json!({"syntax":"mustache","template":"{\"data\":\"{{payload}}\"}","output":"json"}))
            .await;
    h.send_json(
        "n1",
        json!({"payload":"line\t1\nline\\2\r\nline\u{8}3\u{c}"}),
    )
    .await;
    assert_eq!(
        h.recv_json("out").await["payload"],
        json!({"data":"line\t1\nline\\2\r\nline\u{8}3\u{c}"})
    );
}

/// should modify payload in plain text mode
#[tokio::test]
async fn plain_text_mode_copies_the_template() {
    let mut h = node(json!({"syntax":"plain","template":"payload={{payload}}"})).await;
    h.send_json("n1", json!({"payload":"foo","topic":"bar"}))
        .await;
    assert_eq!(
        h.recv_json("out").await["payload"],
        json!("payload={{payload}}")
    );
}

/// should modify flow context / should modify global context
#[tokio::test]
async fn writes_to_flow_and_global_context() {
    let mut h =
        node(json!({"field":"payload","fieldType":"flow","template":"payload={{payload}}"})).await;
    h.send_json("n1", json!({"payload":"foo"})).await;
    let m = h.recv_json("out").await;
    assert_eq!(m["payload"], json!("foo"));
    let v = h.engine.context().get(None, "t1", "payload").expect("get");
    assert_eq!(
        v.and_then(|v| v.as_str().map(str::to_string)),
        Some("payload=foo".to_string())
    );

    let mut h =
        node(json!({"field":"#:(alt)::out","fieldType":"global","template":"g={{payload}}"})).await;
    h.send_json("n1", json!({"payload":"bar"})).await;
    h.recv_json("out").await;
    let v = h
        .engine
        .context()
        .get(Some("alt"), "global", "out")
        .expect("get");
    assert_eq!(
        v.and_then(|v| v.as_str().map(str::to_string)),
        Some("g=bar".to_string())
    );
}

/// should handle if the field isn't set
#[tokio::test]
async fn field_defaults_to_payload() {
    let mut h = node(json!({"template":"payload={{payload}}"})).await;
    h.send_json("n1", json!({"payload":"foo","topic":"bar"}))
        .await;
    assert_eq!(h.recv_json("out").await["payload"], json!("payload=foo"));
}

/// should handle deeper objects
#[tokio::test]
async fn deep_fields_and_names() {
    let mut h =
        node(json!({"field":"topic.foo.bar","template":"payload={{payload.doh.rei.me}}"})).await;
    h.send_json("n1", json!({"payload":{"doh":{"rei":{"me":"foo"}}}}))
        .await;
    assert_eq!(
        h.recv_json("out").await["topic"],
        json!({"foo":{"bar":"payload=foo"}})
    );
}

/// should handle block contexts objects
#[tokio::test]
async fn block_context_strings() {
    assert_eq!(
        render(
            "A{{#payload.A}}{{payload.A}}{{.}}{{/payload.A}}B",
            json!({"payload":{"A":"abc"}})
        )
        .await,
        json!("AabcabcB")
    );
}

/// should raise error if passed bad template
#[tokio::test]
async fn bad_template_errors_per_message() {
    let mut h = node(json!({"template":"payload={{payload"})).await;
    h.send_json("n1", json!({"payload":"foo"})).await;
    let e = h.recv_json("err").await;
    assert_eq!(e["error"]["message"], json!("Unclosed tag at 17"));
}

#[tokio::test]
async fn conformance_sections() {
    let out = render(
        "{{#payload.items}}[{{name}}:{{v}}]{{/payload.items}}|{{^payload.none}}none-is-empty{{/payload.none}}|{{#payload.flag}}flag-on{{/payload.flag}}|{{#payload.list}}{{.}};{{/payload.list}}|{{#payload.obj}}{{k}}{{/payload.obj}}",
        json!({"payload":{"items":[{"name":"a","v":1},{"name":"b","v":2}],"none":[],"flag":true,"list":["x","y",3],"obj":{"k":"in-object"}}}),
    )
    .await;
    assert_eq!(
        out,
        json!("[a:1][b:2]|none-is-empty|flag-on|x;y;3;|in-object")
    );
}

#[tokio::test]
async fn conformance_json_and_yaml_output() {
    let mut h = node(json!({"output":"json","template":"{\"name\": \"{{payload.name}}\", \"n\": {{payload.n}}, \"list\": [{{#payload.l}}\"{{.}}\",{{/payload.l}}\"end\"], \"nested\": {\"ok\": true}}"})).await;
    h.send_json("n1", json!({"payload":{"name":"x","n":3,"l":["a","b"]}}))
        .await;
    assert_eq!(
        h.recv_json("out").await["payload"],
        json!({"name":"x","n":3,"list":["a","b","end"],"nested":{"ok":true}})
    );

    let mut h = node(json!({"output":"yaml","template":"name: {{payload.name}}\nnum: {{payload.n}}\nlist:\n  - a\n  - {{payload.n}}\nflag: yes\nquoted: \"{{payload.n}}\"\n"})).await;
    h.send_json("n1", json!({"payload":{"name":"y","n":7}}))
        .await;
    assert_eq!(
        h.recv_json("out").await["payload"],
        json!({"name":"y","num":7,"list":["a",7],"flag":"yes","quoted":"7"})
    );
}

#[tokio::test]
async fn unparsable_json_output_is_an_error() {
    let mut h = node(json!({"output":"json","template":"{{payload}}"})).await;
    h.send_json("n1", json!({"payload":"foo"})).await;
    assert_eq!(
        h.recv_json("err").await["error"]["message"],
        json!("Unexpected token 'o', \"foo\" is not valid JSON")
    );
}

#[tokio::test]
async fn msg_values_shadow_context_names_and_html_is_escaped() {
    let out = render(
        "{{flow.x}}|{{payload}}|{{{payload}}}",
        json!({"flow":{"x":"from msg"},"payload":"<a href='x'>"}),
    )
    .await;
    assert_eq!(
        out,
        json!("from msg|&lt;a href&#x3D;&#39;x&#39;&gt;|<a href='x'>")
    );
}

#[tokio::test]
async fn partials_are_an_error_as_in_node_red() {
    let mut h = node(json!({"template":"a{{> p}}b"})).await;
    h.send_json("n1", json!({"payload":1})).await;
    assert_eq!(
        h.recv_json("err").await["error"]["message"],
        json!("tokens.forEach is not a function")
    );
}

#[tokio::test]
async fn non_string_msg_template_is_an_error() {
    let mut h = node(json!({"template":""})).await;
    h.send_json("n1", json!({"payload":1,"template":5})).await;
    let e = h.recv_json("err").await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Invalid template! Template should be a \"string\" but \"number\"")
    );
}

#[tokio::test]
async fn empty_template_renders_empty_string() {
    assert_eq!(render("", json!({"payload":"x"})).await, json!(""));
}
