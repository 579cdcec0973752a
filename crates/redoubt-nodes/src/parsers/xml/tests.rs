//! Ported from `test/nodes/core/parsers/70-XML_spec.js`, plus xml2js
//! mapping details.

use super::build::{BuildOptions, build};
use super::parse::{ParseOptions, parse};
use crate::testing::Harness;
use redoubt_core::engine::{LogLevel, RuntimeEvent};
use redoubt_core::value::{Value, from_json_str, to_json};
use serde_json::{Value as Json, json};
use std::time::Duration;

async fn start(extra: Json) -> Harness {
    let mut node = json!({"id":"n1","type":"xml","wires":[["n2"]]});
    if let (Some(n), Some(e)) = (node.as_object_mut(), extra.as_object()) {
        n.extend(e.clone());
    }
    Harness::start(json!([node, {"id":"n2","type":"helper"}, {"id":"c","type":"catch","wires":[["hc"]]}, {"id":"hc","type":"helper"}])).await
}

fn xml_to_json(xml: &str, opts: &str) -> String {
    let o = from_json_str(opts).expect("options");
    let v = parse(xml, &ParseOptions::from_value(o.as_object())).expect("parse");
    to_json(&v).expect("json")
}

fn json_to_xml(json: &str, opts: Option<&str>) -> String {
    let v = from_json_str(json).expect("json");
    let o = opts.map(|o| from_json_str(o).expect("options"));
    build(
        &v,
        &BuildOptions::from_value(o.as_ref().and_then(Value::as_object)),
    )
    .expect("build")
}

const EMPLOYEES: &str =
    "  <employees><firstName>John</firstName><lastName>Smith</lastName></employees>\r\n  ";

/// should convert a valid xml string to a javascript object
#[tokio::test(start_paused = true)]
async fn xml_string_to_object() {
    let mut h = start(json!({})).await;
    h.send_json("n1", json!({"payload":EMPLOYEES,"topic":"bar"}))
        .await;
    let m = h.recv_json("n2").await;
    assert_eq!(m["topic"], json!("bar"));
    assert_eq!(
        m["payload"],
        json!({"employees":{"firstName":["John"],"lastName":["Smith"]}})
    );
}

/// should convert a valid xml string to a javascript object - alternative property
#[tokio::test(start_paused = true)]
async fn xml_string_to_object_in_other_property() {
    let mut h = start(json!({"property":"foo"})).await;
    h.send_json("n1", json!({"foo":EMPLOYEES,"topic":"bar"}))
        .await;
    assert_eq!(
        h.recv_json("n2").await["foo"]["employees"]["firstName"][0],
        json!("John")
    );
}

/// should convert a valid xml string to a javascript object with options
#[tokio::test(start_paused = true)]
async fn xml_string_to_object_with_options() {
    let mut h = start(json!({})).await;
    h.send_json(
        "n1",
        json!({"payload":EMPLOYEES,"topic":"bar","options":{"trim":true}}),
    )
    .await;
    let m = h.recv_json("n2").await;
    assert_eq!(m["payload"]["employees"]["lastName"][0], json!("Smith"));
    // xml2js's options object is the message's, and is changed on the way.
    assert_eq!(
        m["options"],
        json!({"trim":true,"async":true,"attrkey":"$","charkey":"_"})
    );
}

/// should convert a javascript object to an xml string
#[tokio::test(start_paused = true)]
async fn object_to_xml_string() {
    let mut h = start(json!({})).await;
    h.send_json(
        "n1",
        json!({"payload":{"employees":{"firstName":["John"],"lastName":["Smith"]}},"topic":"bar"}),
    )
    .await;
    let m = h.recv_json("n2").await;
    assert_eq!(
        m["payload"],
        json!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><employees><firstName>John</firstName><lastName>Smith</lastName></employees>"
        )
    );
}

/// should convert a javascript object to an xml string with options - alternative property
#[tokio::test(start_paused = true)]
async fn object_to_xml_string_with_options() {
    let mut h = start(json!({"property":"foo"})).await;
    h.send_json("n1", json!({"foo":{"employees":{"firstName":["John"],"lastName":["Smith"]}},"topic":"bar","options":{"headless":true}})).await;
    let m = h.recv_json("n2").await;
    assert_eq!(
        m["foo"],
        json!(
            "<employees>\n  <firstName>John</firstName>\n  <lastName>Smith</lastName>\n</employees>"
        )
    );
}

/// should log an error if asked to parse an invalid xml string
#[tokio::test(start_paused = true)]
async fn invalid_xml_is_an_error() {
    let mut h = start(json!({})).await;
    h.send_json("n1", json!({"payload":"<not valid>","topic":"bar"}))
        .await;
    let m = h.recv_json("hc").await;
    let text = m["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        text.starts_with("Attribute without value\nLine: 0\nColumn: "),
        "{text}"
    );
    assert!(h.nothing("n2", Duration::from_millis(50)).await);
}

/// should log an error if asked to parse something thats not xml or js
#[tokio::test(start_paused = true)]
async fn numbers_only_warn() {
    let mut h = start(json!({})).await;
    h.send_json("n1", json!({"payload":1,"topic":"bar"})).await;
    assert!(h.nothing("n2", Duration::from_millis(50)).await);
    let warned = h.drain_events().into_iter().any(|e| {
        matches!(e, RuntimeEvent::Log { level: LogLevel::Warn, text, .. } if text == "This node only handles xml strings or js objects.")
    });
    assert!(warned);
}

/// should just pass through if payload is missing
#[tokio::test(start_paused = true)]
async fn passes_through_without_payload() {
    let mut h = start(json!({})).await;
    h.send_json("n1", json!({"topic":"bar"})).await;
    let m = h.recv_json("n2").await;
    assert_eq!(m["topic"], json!("bar"));
    assert!(m.get("payload").is_none());
}

#[tokio::test(start_paused = true)]
async fn node_attr_and_chr_keys_apply_to_parsing() {
    let mut h = start(json!({"attr":"@","chr":"#"})).await;
    h.send_json("n1", json!({"payload":"<a x=\"1\">hi</a>"}))
        .await;
    assert_eq!(
        h.recv_json("n2").await["payload"],
        json!({"a":{"#":"hi","@":{"x":"1"}}})
    );
}

#[test]
fn parse_maps_attributes_text_and_repeats() {
    assert_eq!(
        xml_to_json(
            "<r a=\"1\" b=\"x &amp; y\">t1<c>1</c>t2<c k=\"v\">2</c><d/><e>  </e><![CDATA[ <cd> ]]></r>",
            "{}"
        ),
        r#"{"r":{"_":"t1t2 <cd> ","$":{"a":"1","b":"x & y"},"c":["1",{"_":"2","$":{"k":"v"}}],"d":[""],"e":["  "]}}"#
    );
    assert_eq!(
        xml_to_json(
            "<?xml version=\"1.0\"?>\n<!-- c --><a>&lt;&#65;&nbsp;</a>",
            "{}"
        ),
        "{\"a\":\"<A\u{a0}\"}"
    );
    assert_eq!(xml_to_json("   ", "{}"), "null");
}

#[test]
fn parse_honours_xml2js_options() {
    let xml = "<Root a=\"1\"><Item>  x  y </Item><Item/></Root>";
    assert_eq!(
        xml_to_json(
            xml,
            r#"{"explicitArray":false,"normalize":true,"normalizeTags":true,"emptyTag":null}"#
        ),
        r#"{"root":{"$":{"a":"1"},"item":["x y",null]}}"#
    );
    assert_eq!(
        xml_to_json(
            xml,
            r#"{"explicitRoot":false,"mergeAttrs":true,"trim":true}"#
        ),
        r#"{"a":["1"],"Item":["x  y",""]}"#
    );
    assert_eq!(
        xml_to_json("<a>t</a>", r#"{"explicitCharkey":true,"ignoreAttrs":true}"#),
        r#"{"a":{"_":"t"}}"#
    );
    assert_eq!(
        xml_to_json("<a x=\"1\"><b>t</b></a>", r#"{"explicitChildren":true}"#),
        r#"{"a":{"$":{"x":"1"},"$$":{"b":["t"]}}}"#
    );
    assert_eq!(
        xml_to_json(
            "<a><b>1</b>t<c/></a>",
            r#"{"explicitChildren":true,"preserveChildrenOrder":true,"charsAsChildren":true}"#
        ),
        concat!(
            r##"{"a":{"_":"t","#name":"a","$$":[{"_":"1","#name":"b","$$":[{"#name":"__text__","_":"1"}]},"##,
            r##"{"#name":"__text__","_":"t"},{"#name":"c"}],"b":[{"_":"1","$$":[{"#name":"__text__","_":"1"}]}],"c":[{}]}}"##
        )
    );
}

#[test]
fn parse_errors_read_like_sax() {
    let e = parse("<a><b></a>", &ParseOptions::from_value(None)).expect_err("mismatch");
    assert!(e.0.starts_with("Unexpected close tag\nLine: 0"), "{}", e.0);
    let e = parse("<a>", &ParseOptions::from_value(None)).expect_err("unclosed");
    assert!(e.0.starts_with("Unclosed root tag"), "{}", e.0);
    let e = parse("hello <a/>", &ParseOptions::from_value(None)).expect_err("text first");
    assert!(
        e.0.starts_with("Non-whitespace before first tag."),
        "{}",
        e.0
    );
    let e = parse("<a>&bogus;</a>", &ParseOptions::from_value(None)).expect_err("entity");
    assert!(e.0.starts_with("Invalid character entity"), "{}", e.0);
}

#[test]
fn build_follows_xml2js_rules() {
    let compact = r#"{"renderOpts":{"pretty":false},"headless":true}"#;
    assert_eq!(
        json_to_xml(r#"{"a":1,"b":"x"}"#, Some(compact)),
        "<root><a>1</a><b>x</b></root>"
    );
    assert_eq!(
        json_to_xml(
            r#"{"r":{"$":{"id":"7","q":"a\"b<"},"_":"t & u","n":null,"e":"","list":[1,"two",{"k":true}]}}"#,
            Some(compact)
        ),
        "<r id=\"7\" q=\"a&quot;b&lt;\">t &amp; u<n/><e/><list>1</list><list>two</list><list><k>true</k></list></r>"
    );
    assert_eq!(
        json_to_xml(r#"{"a":"<b>"}"#, Some(r#"{"headless":true,"cdata":true}"#)),
        "<a><![CDATA[<b>]]></a>"
    );
    assert_eq!(
        json_to_xml(
            r#"{"a":{"b":{"c":"x"},"d":"y"}}"#,
            Some(r#"{"xmldec":{"version":"1.0"}}"#)
        ),
        "<?xml version=\"1.0\"?>\n<a>\n  <b>\n    <c>x</c>\n  </b>\n  <d>y</d>\n</a>"
    );
    let bad = build(
        &from_json_str(r#"{"1a":"x"}"#).expect("json"),
        &BuildOptions::from_value(None),
    )
    .expect_err("name");
    assert_eq!(bad.message, "Invalid character in name");
    assert!(build(&Value::Null, &BuildOptions::from_value(None)).is_err());
}
