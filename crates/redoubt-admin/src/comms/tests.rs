//! `/comms` over a real server on 127.0.0.1:0 with a websocket client.

use super::topic_matches;
use crate::routes::tests::{Fixture, two_tabs};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[test]
fn subscriptions_match_like_node_red() {
    assert!(topic_matches("status/#", "status/abc"));
    assert!(topic_matches("status/#", "status"));
    assert!(!topic_matches("status/#", "statusx/abc"));
    assert!(topic_matches(
        "notification/#",
        "notification/runtime-state"
    ));
    assert!(topic_matches(
        "notification/+/added",
        "notification/node/added"
    ));
    assert!(!topic_matches(
        "notification/+/added",
        "notification/node/removed"
    ));
    assert!(topic_matches("debug", "debug"));
    assert!(!topic_matches("debug", "debug/x"));
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A websocket client that keeps every `{topic, data}` it has read.
struct Client {
    ws: Stream,
    seen: Vec<Value>,
}

impl Client {
    async fn connect(url: &str) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}"));
        Client {
            ws,
            seen: Vec::new(),
        }
    }

    async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap_or_else(|e| panic!("ws send: {e}"));
    }

    /// The first message on `topic` satisfying `pred`, read or still to come.
    async fn wait_for(&mut self, topic: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let hit = |i: &Value| i["topic"] == json!(topic) && pred(&i["data"]);
        if let Some(i) = self.seen.iter().find(|i| hit(i)) {
            return i["data"].clone();
        }
        let read = async {
            while let Some(Ok(m)) = self.ws.next().await {
                let Message::Text(t) = m else { continue };
                let frame: Value =
                    serde_json::from_str(t.as_str()).unwrap_or_else(|e| panic!("frame {t}: {e}"));
                let items = frame
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| panic!("frame is not an array: {frame}"));
                self.seen.extend(items);
                if let Some(i) = self.seen.iter().find(|i| hit(i)) {
                    return i["data"].clone();
                }
            }
            panic!("websocket closed while waiting for {topic}");
        };
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .unwrap_or_else(|_| panic!("no {topic} message within 5 s"))
    }
}

async fn serve(f: &Fixture) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let app = f.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("ws://{addr}/comms")
}

#[tokio::test]
async fn debug_output_of_an_inject_debug_flow_reaches_the_editor() {
    let f = Fixture::start(two_tabs()).await;
    let url = serve(&f).await;
    let mut ws = Client::connect(&url).await;
    ws.send(json!({"subscribe": "notification/#"})).await;
    let state = ws.wait_for("notification/runtime-state", |_| true).await;
    assert_eq!(state, json!({"state": "start"}));
    ws.send(json!({"subscribe": "debug"})).await;
    let (s, _) = f.raw("POST", "/inject/i1", None, "").await;
    assert_eq!(s, axum::http::StatusCode::OK);
    let d = ws.wait_for("debug", |d| d["id"] == json!("d1")).await;
    assert_eq!(
        d,
        json!({"id": "d1", "z": "t1", "path": "t1", "name": "", "property": "payload", "msg": "hello", "format": "string[5]"})
    );
    // The debug node's status was published and is replayed on subscribe.
    ws.wait_for("status/d1", |s| s["text"] == json!("hello"))
        .await;
    let mut ws2 = Client::connect(&url).await;
    ws2.send(json!({"auth": "ignored"})).await;
    ws2.send(json!({"subscribe": "status/#"})).await;
    let st = ws2.wait_for("status/d1", |_| true).await;
    assert_eq!(st, json!({"text": "hello", "fill": "grey", "shape": "dot"}));
}

#[tokio::test]
async fn deploys_are_announced_with_their_revision() {
    let f = Fixture::start(two_tabs()).await;
    let url = serve(&f).await;
    let mut ws = Client::connect(&url).await;
    ws.send(json!({"subscribe": "notification/#"})).await;
    let first = ws.wait_for("notification/runtime-deploy", |_| true).await;
    assert_eq!(first, json!({"revision": f.state.rev()}));
    let (s, body) = f
        .json(
            "POST",
            "/flows",
            &[("Node-RED-API-Version", "v2")],
            &json!({"flows": []}),
        )
        .await;
    assert_eq!(s, axum::http::StatusCode::OK);
    let rev = body["rev"].clone();
    let d = ws
        .wait_for("notification/runtime-deploy", |d| d["revision"] == rev)
        .await;
    assert_eq!(d["revision"], rev);
}

#[tokio::test]
async fn node_warnings_go_to_the_debug_sidebar() {
    let flows = json!([
        {"id":"t1","type":"tab"},
        {"id":"fn1","type":"function","z":"t1","name":"warner","func":"node.warn('careful'); return null;","outputs":1,"x":1,"y":1,"wires":[[]]}
    ]);
    let f = Fixture::start(flows).await;
    let url = serve(&f).await;
    let mut ws = Client::connect(&url).await;
    // A replayed retained message proves the connection is live.
    ws.send(json!({"subscribe": "notification/#"})).await;
    ws.wait_for("notification/runtime-deploy", |_| true).await;
    ws.send(json!({"subscribe": "debug"})).await;
    let (s, _) = f.raw("POST", "/inject/fn1", None, "").await;
    assert_eq!(s, axum::http::StatusCode::OK);
    let d = ws.wait_for("debug", |d| d["level"] == json!(30)).await;
    assert_eq!(d["id"], json!("fn1"));
    assert_eq!(d["z"], json!("t1"));
    assert_eq!(d["type"], json!("function"));
    assert_eq!(d["name"], json!("warner"));
    assert_eq!(d["msg"], json!("careful"));
    assert_eq!(d["format"], json!("string[7]"));
    assert!(d["timestamp"].is_number());
}

#[tokio::test]
async fn idle_connections_get_a_heartbeat() {
    let settings = crate::state::EditorSettings {
        web_socket_keep_alive_ms: 200,
        ..crate::state::EditorSettings::default()
    };
    let f = Fixture::start_with(json!([]), settings).await;
    let url = serve(&f).await;
    let mut ws = Client::connect(&url).await;
    let hb = ws.wait_for("hb", |_| true).await;
    assert!(hb.is_number(), "{hb}");
}

#[tokio::test]
async fn a_startup_deploy_with_missing_types_is_reported_to_the_editor() {
    let f = Fixture::start(json!([])).await;
    // Let the fixture's own deploy announce itself first.
    for _ in 0..100 {
        if f.get_json("/flows/state").await == json!({"state": "start"}) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let err = redoubt_core::engine::FlowsError::MissingTypes(vec!["foo".into()]);
    f.state.report_deploy_result(&Err(err));
    let url = serve(&f).await;
    let mut ws = Client::connect(&url).await;
    ws.send(json!({"subscribe": "notification/#"})).await;
    let st = ws
        .wait_for("notification/runtime-state", |d| {
            d["error"] == json!("missing-types")
        })
        .await;
    assert_eq!(
        st,
        json!({"state": "stop", "error": "missing-types", "type": "warning",
               "text": "notification.warnings.missing-types", "types": ["foo"]})
    );
    assert_eq!(f.get_json("/flows/state").await, json!({"state": "stop"}));
}
