//! Websockets end to end: a websocket-listener served by redoubt's own
//! HTTP server (under httpNodeRoot), exercised by real websocket clients.

use crate::support::{Redoubt, SETTINGS, client};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

fn flows() -> Value {
    json!([
        {"id": "t", "type": "tab", "label": "WS"},
        {"id": "l", "type": "websocket-listener", "path": "/ws/echo", "wholemsg": "false"},
        {"id": "in", "type": "websocket in", "z": "t", "server": "l", "client": "",
         "x": 1, "y": 1, "wires": [["up"]]},
        {"id": "up", "type": "function", "z": "t", "x": 1, "y": 1, "outputs": 1, "wires": [["out"]],
         "func": "msg.payload = 'echo: ' + msg.payload; return msg;"},
        {"id": "out", "type": "websocket out", "z": "t", "server": "l", "client": "",
         "x": 1, "y": 1, "wires": []},
        {"id": "b", "type": "http in", "z": "t", "url": "/broadcast", "method": "post",
         "x": 1, "y": 1, "wires": [["strip", "bres"]]},
        {"id": "strip", "type": "function", "z": "t", "x": 1, "y": 1, "outputs": 1, "wires": [["out"]],
         "func": "return {payload: msg.payload.text};"},
        {"id": "bres", "type": "http response", "z": "t", "x": 1, "y": 1, "wires": []},
        {"id": "st", "type": "status", "z": "t", "scope": ["in"], "x": 1, "y": 1, "wires": [["keep"]]},
        {"id": "keep", "type": "function", "z": "t", "x": 1, "y": 1, "outputs": 1, "wires": [[]],
         "func": "const l = global.get('ev') || []; l.push(msg.status); global.set('ev', l); return null;"},
        {"id": "e", "type": "http in", "z": "t", "url": "/events", "method": "get",
         "x": 1, "y": 1, "wires": [["list"]]},
        {"id": "list", "type": "function", "z": "t", "x": 1, "y": 1, "outputs": 1, "wires": [["eres"]],
         "func": "msg.payload = global.get('ev') || []; return msg;"},
        {"id": "eres", "type": "http response", "z": "t", "x": 1, "y": 1, "wires": []}
    ])
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connect");
    ws
}

async fn next_text(ws: &mut Ws) -> String {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("open")
            .expect("frame");
        if let Message::Text(t) = m {
            return t.as_str().to_string();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_replies_to_the_sender_and_broadcasts_reach_everyone() {
    let r = tokio::task::spawn_blocking(|| Redoubt::start(&flows()))
        .await
        .expect("start");
    let url = format!("ws://127.0.0.1:{}/ws/echo", r.port);
    let mut a = connect(&url).await;
    let mut b = connect(&url).await;

    a.send(Message::Text("hello".into())).await.expect("send");
    assert_eq!(next_text(&mut a).await, "echo: hello");
    b.send(Message::Text("from b".into())).await.expect("send");
    assert_eq!(
        next_text(&mut b).await,
        "echo: from b",
        "msg._session routes the reply to b only"
    );
    // a got nothing meanwhile: the next thing it sees is the broadcast.
    let port = r.port;
    tokio::task::spawn_blocking(move || {
        let resp = client()
            .post(format!("http://127.0.0.1:{port}/broadcast"))
            .json(&json!({"text": "to all"}))
            .send()
            .expect("POST");
        assert_eq!(resp.status(), 200);
    })
    .await
    .expect("broadcast");
    assert_eq!(next_text(&mut a).await, "to all");
    assert_eq!(next_text(&mut b).await, "to all");
    tokio::task::spawn_blocking(move || drop(r))
        .await
        .expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_lives_under_http_node_root() {
    let settings = SETTINGS.replace(
        "uiHost: \"127.0.0.1\",",
        "uiHost: \"127.0.0.1\",\n    httpNodeRoot: \"/api\",",
    );
    let r = tokio::task::spawn_blocking(move || {
        Redoubt::start_in(tempfile::tempdir().expect("tempdir"), &flows(), &settings)
    })
    .await
    .expect("start");
    let mut ws = connect(&format!("ws://127.0.0.1:{}/api/ws/echo", r.port)).await;
    ws.send(Message::Text("x".into())).await.expect("send");
    assert_eq!(next_text(&mut ws).await, "echo: x");
    let err = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/ws/echo", r.port))
        .await
        .expect_err("outside httpNodeRoot there is no endpoint");
    assert!(err.to_string().contains("404"), "{err}");
    tokio::task::spawn_blocking(move || drop(r))
        .await
        .expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_and_disconnect_reach_status_nodes_with_the_session() {
    let r = tokio::task::spawn_blocking(|| Redoubt::start(&flows()))
        .await
        .expect("start");
    let mut ws = connect(&format!("ws://127.0.0.1:{}/ws/echo", r.port)).await;
    ws.send(Message::Text("ping".into())).await.expect("send");
    assert_eq!(next_text(&mut ws).await, "echo: ping");
    ws.close(None).await.expect("close");
    let port = r.port;
    let events = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let ev: Vec<Value> = client()
                .get(format!("http://127.0.0.1:{port}/events"))
                .send()
                .expect("GET")
                .json()
                .expect("json");
            if ev.iter().any(|e| e["event"] == "disconnect") {
                return ev;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no disconnect event: {ev:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .expect("events");
    let connect = events
        .iter()
        .find(|e| e["event"] == "connect")
        .expect("a connect event");
    let disconnect = events
        .iter()
        .find(|e| e["event"] == "disconnect")
        .expect("a disconnect event");
    assert_eq!(connect["text"], "connected 1");
    assert_eq!(connect["fill"], "green");
    assert_eq!(disconnect["text"], "common.status.disconnected");
    assert_eq!(connect["_session"]["type"], "websocket");
    assert_eq!(connect["_session"]["id"], disconnect["_session"]["id"]);
    assert_eq!(connect["source"]["id"], "in");
    tokio::task::spawn_blocking(move || drop(r))
        .await
        .expect("stop");
}

#[test]
fn web_socket_node_verify_client_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("settings.js"),
        "module.exports = { webSocketNodeVerifyClient: function(info) { return true; } };\n",
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_redoubt"))
        .arg("-u")
        .arg(dir.path())
        .args(["-p", "0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("webSocketNodeVerifyClient"));
}

/// Flow control end to end: while more than `Backlog::HIGH` messages wait
/// in the flows, the websocket listener stops reading its clients, so a
/// frame sent meanwhile reaches the flow only once the flows caught up.
/// `POST /burst` sends 6,000 messages into a function node whose first
/// message holds it for 3 s before it sets `global.done`; a frame sent in
/// that window is answered with the value of `global.done` when the flow
/// took it: `true` with flow control, `false` without (Node-RED's way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_stops_reading_while_the_flows_are_behind() {
    let flows = json!([
        {"id": "t", "type": "tab", "label": "WS"},
        {"id": "l", "type": "websocket-listener", "path": "/ws/probe", "wholemsg": "false"},
        {"id": "in", "type": "websocket in", "z": "t", "server": "l", "client": "",
         "x": 1, "y": 1, "wires": [["mark"]]},
        {"id": "mark", "type": "change", "z": "t", "x": 1, "y": 1, "wires": [["out"]],
         "rules": [{"t": "set", "p": "payload", "pt": "msg", "to": "{}", "tot": "json"},
                   {"t": "set", "p": "payload.done", "pt": "msg", "to": "done", "tot": "global"}]},
        {"id": "out", "type": "websocket out", "z": "t", "server": "l", "client": "",
         "x": 1, "y": 1, "wires": []},
        {"id": "b", "type": "http in", "z": "t", "url": "/burst", "method": "post",
         "x": 1, "y": 1, "wires": [["burst"]]},
        {"id": "burst", "type": "function", "z": "t", "x": 1, "y": 1, "outputs": 2,
         "wires": [["bres"], ["block"]],
         "func": "global.set('done', false);\nfor (let i = 0; i < 6000; i++) { node.send([null, {payload: i}]); }\nreturn [msg, null];"},
        {"id": "bres", "type": "http response", "z": "t", "x": 1, "y": 1, "wires": []},
        {"id": "block", "type": "function", "z": "t", "x": 1, "y": 1, "outputs": 1, "wires": [[]],
         "func": "if (msg.payload === 0) {\n  const t = Date.now();\n  while (Date.now() - t < 3000) {}\n  global.set('done', true);\n}\nreturn null;"},
        {"id": "s", "type": "http in", "z": "t", "url": "/state", "method": "get",
         "x": 1, "y": 1, "wires": [["state"]]},
        {"id": "state", "type": "change", "z": "t", "x": 1, "y": 1, "wires": [["sres"]],
         "rules": [{"t": "set", "p": "payload", "pt": "msg", "to": "{}", "tot": "json"},
                   {"t": "set", "p": "payload.done", "pt": "msg", "to": "done", "tot": "global"}]},
        {"id": "sres", "type": "http response", "z": "t", "x": 1, "y": 1, "wires": []}
    ]);
    let r = tokio::task::spawn_blocking(move || Redoubt::start(&flows))
        .await
        .expect("start");
    let mut ws = connect(&format!("ws://127.0.0.1:{}/ws/probe", r.port)).await;
    let port = r.port;
    let during = tokio::task::spawn_blocking(move || {
        let burst = client()
            .post(format!("http://127.0.0.1:{port}/burst"))
            .body("go")
            .send()
            .expect("POST /burst");
        assert_eq!(burst.status(), 200);
        client()
            .get(format!("http://127.0.0.1:{port}/state"))
            .send()
            .expect("GET /state")
            .text()
            .expect("body")
    })
    .await
    .expect("burst");
    // The frame below is sent while the function node is still held: the
    // test would prove nothing otherwise.
    assert_eq!(
        during, r#"{"done":false}"#,
        "the function node finished too early"
    );
    ws.send(Message::Text("probe".into())).await.expect("send");
    assert_eq!(
        next_text(&mut ws).await,
        r#"{"done":true}"#,
        "the frame reached the flow while 6,000 messages waited"
    );
    tokio::task::spawn_blocking(move || drop(r))
        .await
        .expect("stop");
}
