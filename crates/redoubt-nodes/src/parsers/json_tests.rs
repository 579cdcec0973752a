//! Unit tests of the json node and its JSON schema validation.

use super::v8_error;
use crate::testing::Harness;
use redoubt_core::Msg;
use redoubt_core::value::Value;
use serde_json::{Value as Json, json};

/// A json node `jn1` wired to helper `out`, and a catch node feeding `err`.
async fn node(cfg: Json) -> Harness {
    let mut n = json!({"id":"jn1","type":"json","wires":[["out"]]});
    for (k, v) in cfg.as_object().cloned().unwrap_or_default() {
        n[k] = v;
    }
    Harness::start(json!([n, {"id":"out","type":"helper"}, {"id":"c","type":"catch","wires":[["err"]]}, {"id":"err","type":"helper"}])).await
}

async fn convert(cfg: Json, msg: Json) -> Json {
    let mut h = node(cfg).await;
    h.send_json("jn1", msg).await;
    h.recv_json("out").await
}

/// should convert a valid json string to a javascript object
#[tokio::test]
async fn json_string_to_object() {
    let m = convert(json!({}), json!({"payload":"{\"employees\":[{\"firstName\":\"John\",\"lastName\":\"Smith\"}]}","topic":"bar"})).await;
    assert_eq!(
        m["payload"],
        json!({"employees":[{"firstName":"John","lastName":"Smith"}]})
    );
    assert_eq!(m["topic"], json!("bar"));
}

/// should convert a buffer of a valid json string to a javascript object
#[tokio::test]
async fn buffer_to_object() {
    let mut h = node(json!({})).await;
    let m = Msg::with_payload(Value::Buffer(bytes::Bytes::from_static(br#"{"a":[1,2]}"#)));
    h.send("jn1", m).await;
    assert_eq!(h.recv_json("out").await["payload"], json!({"a":[1,2]}));
}

/// should convert a javascript object to a json string
/// (and arrays, booleans, numbers)
#[tokio::test]
async fn values_to_json_strings() {
    assert_eq!(
        convert(json!({}), json!({"payload":{"a":1}})).await["payload"],
        json!("{\"a\":1}")
    );
    assert_eq!(
        convert(json!({}), json!({"payload":[1,2,3]})).await["payload"],
        json!("[1,2,3]")
    );
    assert_eq!(
        convert(json!({}), json!({"payload":true})).await["payload"],
        json!("true")
    );
    assert_eq!(
        convert(json!({}), json!({"payload":1})).await["payload"],
        json!("1")
    );
    assert_eq!(
        convert(json!({}), json!({"payload":null})).await["payload"],
        json!("null")
    );
}

/// should convert a json string to a boolean / a number
#[tokio::test]
async fn json_strings_to_scalars() {
    assert_eq!(
        convert(json!({}), json!({"payload":"true"})).await["payload"],
        json!(true)
    );
    assert_eq!(
        convert(json!({}), json!({"payload":" 42 "})).await["payload"],
        json!(42)
    );
}

/// should log an error if asked to parse an invalid json string
#[tokio::test]
async fn invalid_json_is_an_error() {
    let mut h = node(json!({})).await;
    h.send_json("jn1", json!({"payload":"foo","topic":"bar"}))
        .await;
    let e = h.recv_json("err").await;
    assert_eq!(
        e["error"]["message"],
        json!("Unexpected token 'o', \"foo\" is not valid JSON")
    );
    assert_eq!(e["topic"], json!("bar"));
}

/// should log an error if asked to parse an invalid json string in a buffer
#[tokio::test]
async fn invalid_json_in_a_buffer_is_an_error() {
    let mut h = node(json!({"action":"obj"})).await;
    let m = Msg::with_payload(Value::Buffer(bytes::Bytes::from_static(br#"{"name":foo}"#)));
    h.send("jn1", m).await;
    assert_eq!(
        h.recv_json("err").await["error"]["message"],
        json!("Unexpected token 'o', \"{\"name\":foo}\" is not valid JSON")
    );
}

/// should pass straight through if no payload set
#[tokio::test]
async fn passes_messages_without_the_property() {
    let m = convert(json!({}), json!({"topic":"bar"})).await;
    assert_eq!(m["topic"], json!("bar"));
    assert!(m.get("payload").is_none());
}

/// should ensure the result is a json string
#[tokio::test]
async fn str_action_always_gives_a_string() {
    let cfg = json!({"action":"str"});
    assert_eq!(
        convert(cfg.clone(), json!({"payload":{"a":1}})).await["payload"],
        json!("{\"a\":1}")
    );
    assert_eq!(
        convert(cfg, json!({"payload":"{\"a\":1}"})).await["payload"],
        json!("{\"a\":1}")
    );
}

/// should ensure the result is a JS Object
#[tokio::test]
async fn obj_action_always_gives_a_value() {
    let cfg = json!({"action":"obj"});
    assert_eq!(
        convert(cfg.clone(), json!({"payload":{"a":1}})).await["payload"],
        json!({"a":1})
    );
    assert_eq!(
        convert(cfg, json!({"payload":"{\"a\":1}"})).await["payload"],
        json!({"a":1})
    );
}

/// should handle any msg property - receive existing string / existing obj
#[tokio::test]
async fn other_properties() {
    let cfg = json!({"property":"one.two"});
    let m = convert(
        cfg.clone(),
        json!({"payload":"p","one":{"two":"{\"a\":1}"}}),
    )
    .await;
    assert_eq!(m["one"]["two"], json!({"a":1}));
    assert_eq!(m["payload"], json!("p"));
    let m = convert(cfg, json!({"one":{"two":{"b":2}}})).await;
    assert_eq!(m["one"]["two"], json!("{\"b\":2}"));
}

#[tokio::test]
async fn pretty_indents_with_four_spaces() {
    let m = convert(
        json!({"pretty":true}),
        json!({"payload":{"a":1,"b":[1,2],"c":{"d":"e"}}}),
    )
    .await;
    assert_eq!(
        m["payload"],
        json!(
            "{\n    \"a\": 1,\n    \"b\": [\n        1,\n        2\n    ],\n    \"c\": {\n        \"d\": \"e\"\n    }\n}"
        )
    );
}

fn schema() -> Json {
    json!({"title":"testSchema","type":"object","properties":{"number":{"type":"number"},"string":{"type":"string"}}})
}

/// should pass an object if provided a valid JSON string and schema
/// (and a valid object with action obj; msg.schema is deleted)
#[tokio::test]
async fn valid_values_pass_and_lose_the_schema() {
    let m = convert(
        json!({}),
        json!({"payload":"{\"number\":3,\"string\":\"allo\"}","schema":schema()}),
    )
    .await;
    assert_eq!(m["payload"], json!({"number":3,"string":"allo"}));
    assert!(m.get("schema").is_none());
    let m = convert(
        json!({"action":"obj"}),
        json!({"payload":{"number":3,"string":"allo"},"schema":schema()}),
    )
    .await;
    assert_eq!(m["payload"], json!({"number":3,"string":"allo"}));
    assert!(m.get("schema").is_none());
}

/// should pass a string if provided a valid object and schema
/// (and a valid JSON string with action str)
#[tokio::test]
async fn valid_values_pass_as_strings() {
    let m = convert(
        json!({}),
        json!({"payload":{"number":3,"string":"allo"},"schema":schema()}),
    )
    .await;
    assert_eq!(m["payload"], json!("{\"number\":3,\"string\":\"allo\"}"));
    let m = convert(
        json!({"action":"str"}),
        json!({"payload":"{\"number\":3,\"string\":\"allo\"}","schema":schema()}),
    )
    .await;
    assert_eq!(m["payload"], json!("{\"number\":3,\"string\":\"allo\"}"));
    assert!(m.get("schema").is_none());
}

/// should log an error if passed an invalid object and valid schema
/// (and every action, and an invalid JSON string)
#[tokio::test]
async fn invalid_values_fail_with_schema_errors() {
    for (cfg, payload) in [
        (json!({}), json!({"number":"foo","string":3})),
        (json!({"action":"obj"}), json!({"number":"foo","string":3})),
        (json!({}), json!("{\"number\":\"foo\",\"string\":3}")),
        (
            json!({"action":"str"}),
            json!("{\"number\":\"foo\",\"string\":3}"),
        ),
    ] {
        let mut h = node(cfg).await;
        h.send_json("jn1", json!({"payload":payload,"schema":schema()}))
            .await;
        let e = h.recv_json("err").await;
        assert_eq!(
            e["error"]["message"],
            json!("JSON Schema error: data/number must be number, data/string must be string")
        );
        assert_eq!(
            e["schemaError"][0]["schemaPath"],
            json!("#/properties/number/type")
        );
        assert!(h.nothing("out", std::time::Duration::from_millis(20)).await);
    }
}

/// should log an error if passed a valid object and invalid schema
#[tokio::test]
async fn invalid_schema_fails_to_compile() {
    let mut h = node(json!({})).await;
    h.send_json(
        "jn1",
        json!({"payload":{"number":"foo"},"schema":"garbage"}),
    )
    .await;
    assert_eq!(
        h.recv_json("err").await["error"]["message"],
        json!("JSON Schema error: failed to compile schema")
    );
}

#[tokio::test]
async fn unknown_action_is_a_config_error() {
    let h = node(json!({"action":"xml"})).await;
    assert!(!h.engine.input("jn1", Msg::new()).await);
}

/// Every message below is what V8 (Node.js) reports for the same text.
#[test]
fn parse_errors_match_v8() {
    let cases = [
        ("foo", "Unexpected token 'o', \"foo\" is not valid JSON"),
        ("", "Unexpected end of JSON input"),
        ("  ", "Unexpected end of JSON input"),
        ("tru", "Unexpected end of JSON input"),
        ("[", "Unexpected end of JSON input"),
        ("{\"a\":", "Unexpected end of JSON input"),
        ("undefined", "\"undefined\" is not valid JSON"),
        ("[object Object]", "\"[object Object]\" is not valid JSON"),
        ("[1,]", "Unexpected token ']', \"[1,]\" is not valid JSON"),
        (
            "{\"a\":tru}",
            "Unexpected token '}', \"{\"a\":tru}\" is not valid JSON",
        ),
        (
            "this is a long invalid string with many words in it",
            "Unexpected token 'h', \"this is a l\"... is not valid JSON",
        ),
        (
            "{\"abcdefghijklmnop\": xyz}",
            "Unexpected token 'x', ...\"jklmnop\": xyz}\" is not valid JSON",
        ),
        (
            "{",
            "Expected property name or '}' in JSON at position 1 (line 1 column 2)",
        ),
        (
            "{\"a\":1",
            "Expected ',' or '}' after property value in JSON at position 6 (line 1 column 7)",
        ),
        (
            "[1,2",
            "Expected ',' or ']' after array element in JSON at position 4 (line 1 column 5)",
        ),
        (
            "\"abc",
            "Unterminated string in JSON at position 4 (line 1 column 5)",
        ),
        (
            "1 2",
            "Unexpected non-whitespace character after JSON at position 2 (line 1 column 3)",
        ),
        (
            "-",
            "No number after minus sign in JSON at position 1 (line 1 column 2)",
        ),
        (
            "1e",
            "Exponent part is missing a number in JSON at position 2 (line 1 column 3)",
        ),
        (
            "1.",
            "Unterminated fractional number in JSON at position 2 (line 1 column 3)",
        ),
        (
            "\"\\x\"",
            "Bad escaped character in JSON at position 2 (line 1 column 3)",
        ),
        (
            "\"\\u12\"",
            "Bad Unicode escape in JSON at position 5 (line 1 column 6)",
        ),
        (
            "{\"a\" 1}",
            "Expected ':' after property name in JSON at position 5 (line 1 column 6)",
        ),
        (
            "{\"a\":1,}",
            "Expected double-quoted property name in JSON at position 7 (line 1 column 8)",
        ),
        (
            "01",
            "Unexpected number in JSON at position 1 (line 1 column 2)",
        ),
        (
            "\"a\tb\"",
            "Bad control character in string literal in JSON at position 2 (line 1 column 3)",
        ),
        (
            "{\n  \"a\": 1\n  \"b\": 2\n}",
            "Expected ',' or '}' after property value in JSON at position 13 (line 3 column 3)",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(v8_error(text), expected, "{text:?}");
    }
}
