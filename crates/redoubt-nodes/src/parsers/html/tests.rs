//! Ported from `test/nodes/core/parsers/70-HTML_spec.js` (with its
//! `test/resources/70-HTML-test-file.html`), plus the conformance case.

use crate::testing::Harness;
use serde_json::{Value as Json, json};
use std::time::Duration;

const PAGE: &str = r#"<!DOCTYPE html>
<html>
<body>

<h1>This is a test page for node 70-HTML</h1>

<p>There's nothing to read here.</p>

<ol id="colours">
    <li>Blue</li>
    <li>Red</li>
</ol>

<ul id="fruits">
    <li>Apple</li>
    <li>Pear</li>
</ul>

<ul id="vegetables">
    <li>Potato</li>
    <li>Parsnip</li>
</ul>

<span>
    <img src="foo.png">
</span>

</body>
</html>
"#;

const LIST: &str = r#"<html><body><ul id="list"><li class="c1">one</li><li class="c2"><b>two</b> 2</li></ul><a href="/x" title="t">link</a></body></html>"#;

async fn start(extra: Json) -> Harness {
    let mut node = json!({"id":"n1","type":"html","wires":[["n2"]]});
    if let (Some(n), Some(e)) = (node.as_object_mut(), extra.as_object()) {
        n.extend(e.clone());
    }
    Harness::start(json!([node, {"id":"n2","type":"helper"}, {"id":"c","type":"catch","wires":[["hc"]]}, {"id":"hc","type":"helper"}])).await
}

async fn one(cfg: Json, msg: Json) -> Json {
    let mut h = start(cfg).await;
    h.send_json("n1", msg).await;
    h.recv_json("n2").await
}

/// should retrieve header contents if asked to by msg.select
#[tokio::test(start_paused = true)]
async fn header_by_msg_select() {
    let m = one(
        json!({}),
        json!({"payload":PAGE,"topic":"bar","select":"body h1"}),
    )
    .await;
    assert_eq!(m["topic"], json!("bar"));
    assert_eq!(
        m["payload"],
        json!(["This is a test page for node 70-HTML"])
    );
}

/// should retrieve header contents if asked to by msg.select - alternative in property
#[tokio::test(start_paused = true)]
async fn header_by_msg_select_other_property() {
    let m = one(
        json!({"property":"foo"}),
        json!({"foo":PAGE,"topic":"bar","select":"h1"}),
    )
    .await;
    assert_eq!(m["foo"][0], json!("This is a test page for node 70-HTML"));
}

/// should retrieve header contents if asked to by msg.select - alternative in and out properties
#[tokio::test(start_paused = true)]
async fn header_into_other_out_property() {
    let m = one(
        json!({"property":"foo","outproperty":"bar","tag":"h1"}),
        json!({"foo":PAGE,"topic":"bar"}),
    )
    .await;
    assert_eq!(m["bar"][0], json!("This is a test page for node 70-HTML"));
    assert_eq!(m["foo"], json!(PAGE));
}

/// should emit an empty array if no matching elements
#[tokio::test(start_paused = true)]
async fn empty_array_without_matches() {
    let m = one(
        json!({}),
        json!({"payload":PAGE,"topic":"bar","select":"h4"}),
    )
    .await;
    assert_eq!(m["payload"], json!([]));
}

/// should retrieve paragraph contents when specified
#[tokio::test(start_paused = true)]
async fn paragraph_text() {
    let m = one(
        json!({"ret":"text","tag":"p"}),
        json!({"payload":PAGE,"topic":"bar"}),
    )
    .await;
    assert_eq!(m["payload"], json!(["There's nothing to read here."]));
    // As html, cheerio's xml() escapes the apostrophe.
    let m = one(json!({"tag":"p"}), json!({"payload":PAGE})).await;
    assert_eq!(m["payload"], json!(["There&apos;s nothing to read here."]));
}

/// should retrieve list contents as an array of html as default
#[tokio::test(start_paused = true)]
async fn list_as_html() {
    let m = one(json!({"tag":"ol"}), json!({"payload":PAGE,"topic":"bar"})).await;
    assert_eq!(m["payload"], json!(["<li>Blue</li>\n    <li>Red</li>"]));
}

/// should retrieve list contents as an array of text
#[tokio::test(start_paused = true)]
async fn list_as_text() {
    let m = one(
        json!({"tag":"ol","ret":"text"}),
        json!({"payload":PAGE,"topic":"bar"}),
    )
    .await;
    assert_eq!(m["payload"], json!(["\n    Blue\n    Red\n"]));
}

/// should fix up a unclosed tag
#[tokio::test(start_paused = true)]
async fn unclosed_tag_is_self_closed() {
    let m = one(json!({"tag":"span"}), json!({"payload":PAGE,"topic":"bar"})).await;
    assert_eq!(m["payload"], json!(["<img src=\"foo.png\"/>"]));
}

/// should retrieve an attribute from a tag
#[tokio::test(start_paused = true)]
async fn attribute_of_a_tag() {
    let m = one(
        json!({"ret":"attr","tag":"span img"}),
        json!({"payload":PAGE,"topic":"bar"}),
    )
    .await;
    assert_eq!(m["payload"], json!([{"src":"foo.png"}]));
}

/// should log on error
#[tokio::test(start_paused = true)]
async fn null_payload_is_an_error() {
    let mut h = start(json!({"tag":"p"})).await;
    h.send_json("n1", json!({"payload":null,"topic":"bar"}))
        .await;
    assert!(h.recv_json("hc").await["error"]["message"].is_string());
    assert!(h.nothing("n2", Duration::from_millis(50)).await);
}

/// should pass through if payload empty
#[tokio::test(start_paused = true)]
async fn passes_through_without_payload() {
    let m = one(json!({}), json!({"topic":"bar"})).await;
    assert_eq!(m["topic"], json!("bar"));
    assert!(m.get("payload").is_none());
}

fn check_parts(m: &Json, index: usize, count: usize) {
    assert_eq!(m["parts"]["index"], json!(index));
    assert_eq!(m["parts"]["count"], json!(count));
    assert_eq!(m["parts"]["type"], json!("string"));
    assert_eq!(m["parts"]["ch"], json!(""));
}

/// should retrieve list contents as html as default with output as multiple msgs
#[tokio::test(start_paused = true)]
async fn lists_as_multiple_html_messages() {
    let mut h = start(json!({"tag":"ul","as":"multi"})).await;
    h.send_json("n1", json!({"payload":PAGE,"topic":"bar"}))
        .await;
    let a = h.recv_json("n2").await;
    let b = h.recv_json("n2").await;
    check_parts(&a, 0, 2);
    check_parts(&b, 1, 2);
    assert_eq!(a["parts"]["id"], b["parts"]["id"]);
    assert_eq!(a["payload"], json!("<li>Apple</li>\n    <li>Pear</li>"));
    assert_eq!(b["payload"], json!("<li>Potato</li>\n    <li>Parsnip</li>"));
    assert_eq!(a["topic"], json!("bar"));
}

/// should retrieve list contents as html as default with output as multiple msgs - alternative property
#[tokio::test(start_paused = true)]
async fn lists_as_multiple_messages_other_property() {
    let mut h = start(json!({"property":"foo","tag":"ul","as":"multi"})).await;
    h.send_json("n1", json!({"foo":PAGE,"topic":"bar"})).await;
    assert!(
        h.recv_json("n2").await["foo"]
            .as_str()
            .unwrap_or_default()
            .contains("<li>Apple</li>")
    );
    assert!(
        h.recv_json("n2").await["foo"]
            .as_str()
            .unwrap_or_default()
            .contains("<li>Parsnip</li>")
    );
}

/// should retrieve list contents as text with output as multiple msgs
#[tokio::test(start_paused = true)]
async fn lists_as_multiple_text_messages() {
    let mut h = start(json!({"tag":"ul","ret":"text","as":"multi"})).await;
    h.send_json("n1", json!({"payload":PAGE,"topic":"bar"}))
        .await;
    let a = h.recv_json("n2").await;
    check_parts(&a, 0, 2);
    assert_eq!(a["payload"], json!("\n    Apple\n    Pear\n"));
    let b = h.recv_json("n2").await;
    check_parts(&b, 1, 2);
}

/// should retrieve an attribute from a tag
#[tokio::test(start_paused = true)]
async fn attribute_as_multiple_messages() {
    let m = one(
        json!({"ret":"attr","tag":"span img","as":"multi"}),
        json!({"payload":PAGE,"topic":"bar"}),
    )
    .await;
    assert_eq!(m["payload"], json!({"src":"foo.png"}));
    check_parts(&m, 0, 1);
}

/// should not reuse message
#[tokio::test(start_paused = true)]
async fn multiple_messages_are_copies() {
    let mut h = start(json!({"tag":"ul","ret":"text","as":"multi"})).await;
    h.send_json("n1", json!({"payload":PAGE,"topic":"bar"}))
        .await;
    let a = h.recv("n2").await;
    let b = h.recv("n2").await;
    assert!(!a.object().ptr_eq(b.object()));
    assert_ne!(a.id(), "");
}

/// Conformance `parsers/html`: text, inner html, attributes.
#[tokio::test(start_paused = true)]
async fn conformance_outputs() {
    assert_eq!(
        one(json!({"tag":"li","ret":"text"}), json!({"payload":LIST})).await["payload"],
        json!(["one", "two 2"])
    );
    assert_eq!(
        one(json!({"tag":"ul li","ret":"html"}), json!({"payload":LIST})).await["payload"],
        json!(["one", "<b>two</b> 2"])
    );
    assert_eq!(
        one(json!({"tag":"a","ret":"attr"}), json!({"payload":LIST})).await["payload"],
        json!([{"href":"/x","title":"t"}])
    );
    let m = one(
        json!({"tag":"li","ret":"compl","chr":"c"}),
        json!({"payload":LIST}),
    )
    .await;
    assert_eq!(
        m["payload"],
        json!([{"c":"one","class":"c1"},{"c":"<b>two</b> 2","class":"c2"}])
    );
}

#[tokio::test(start_paused = true)]
async fn xml_output_encodes_and_self_closes() {
    let page = "<div id=\"d\"><p title=\"a&amp;b\">caf\u{e9} &lt;ok&gt;<br><i></i></p><script>if (a < b) {}</script><!-- c --></div>";
    let m = one(json!({"tag":"#d"}), json!({"payload":page})).await;
    assert_eq!(
        m["payload"],
        json!([
            "<p title=\"a&amp;b\">caf&#xE9; &lt;ok&gt;<br/><i/></p><script>if (a &lt; b) {}</script><!-- c -->"
        ])
    );
    let m = one(json!({"tag":"#d","ret":"text"}), json!({"payload":page})).await;
    assert_eq!(m["payload"], json!(["caf\u{e9} <ok>"]));
}

#[tokio::test(start_paused = true)]
async fn positional_filters_and_bad_selectors() {
    assert_eq!(
        one(
            json!({"tag":"li:first","ret":"text"}),
            json!({"payload":PAGE})
        )
        .await["payload"],
        json!(["Blue"])
    );
    assert_eq!(
        one(
            json!({"tag":"ul li:eq(2)","ret":"text"}),
            json!({"payload":PAGE})
        )
        .await["payload"],
        json!(["Potato"])
    );
    assert_eq!(
        one(
            json!({"tag":"li:last","ret":"text"}),
            json!({"payload":PAGE})
        )
        .await["payload"],
        json!(["Parsnip"])
    );
    let mut h = start(json!({"tag":"li[","ret":"text"})).await;
    h.send_json("n1", json!({"payload":PAGE})).await;
    assert!(h.recv_json("hc").await["error"]["message"].is_string());
}

#[tokio::test(start_paused = true)]
async fn empty_texts_are_counted_but_not_sent() {
    let mut h = start(json!({"tag":"li","ret":"text","as":"multi"})).await;
    h.send_json("n1", json!({"payload":"<ul><li></li><li>x</li></ul>"}))
        .await;
    let m = h.recv_json("n2").await;
    assert_eq!(m["payload"], json!("x"));
    check_parts(&m, 1, 2);
    assert!(h.nothing("n2", Duration::from_millis(50)).await);
}
