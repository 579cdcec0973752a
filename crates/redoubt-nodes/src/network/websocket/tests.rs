//! websocket-client with websocket in/out against real websocket servers
//! on 127.0.0.1:0 (tokio-tungstenite; TLS through tokio-rustls). The
//! listener side is tested end to end through redoubt's HTTP server
//! (`crates/redoubt/tests/it/websocket.rs`).

use crate::network::tls_config::tests::{path, server_config};
use crate::testing::{Harness, HarnessOptions};
use futures::{SinkExt, StreamExt};
use redoubt_core::engine::RuntimeEvent;
use serde_json::{Value as Json, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// An echo server; records each handshake's request headers. With
/// `tls`, it speaks wss with the test server certificate.
async fn echo_server(tls: bool) -> (u16, Seen) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen: Seen = Arc::default();
    let s2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let seen = s2.clone();
            tokio::spawn(async move {
                #[allow(clippy::result_large_err)] // the signature is tungstenite's
                let cb = |req: &Request, mut resp: Response| {
                    let mut s = seen.lock().expect("lock");
                    for (k, v) in req.headers() {
                        s.push((k.to_string(), v.to_str().unwrap_or("").to_string()));
                    }
                    if let Some(p) = req.headers().get("sec-websocket-protocol") {
                        let first = p
                            .to_str()
                            .unwrap_or("")
                            .split(',')
                            .next()
                            .unwrap_or("")
                            .trim()
                            .to_string();
                        resp.headers_mut()
                            .insert("sec-websocket-protocol", first.parse().expect("header"));
                    }
                    Ok(resp)
                };
                if tls {
                    let acc = tokio_rustls::TlsAcceptor::from(server_config(false));
                    let Ok(s) = acc.accept(tcp).await else { return };
                    let Ok(ws) = tokio_tungstenite::accept_hdr_async(s, cb).await else {
                        return;
                    };
                    echo(ws).await;
                } else {
                    let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, cb).await else {
                        return;
                    };
                    echo(ws).await;
                }
            });
        }
    });
    (port, seen)
}

async fn echo<S>(mut ws: tokio_tungstenite::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    while let Some(Ok(m)) = ws.next().await {
        if (m.is_text() || m.is_binary()) && ws.send(m).await.is_err() {
            return;
        }
    }
}

fn flow(client: Json) -> Json {
    let mut c = client;
    c["id"] = json!("wc");
    c["type"] = json!("websocket-client");
    json!([
        c,
        {"id": "in", "type": "websocket in", "client": "wc", "wires": [["got"]]},
        {"id": "got", "type": "helper"},
        {"id": "out", "type": "websocket out", "client": "wc", "wires": []}
    ])
}

async fn wait_connected(h: &mut Harness, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        for e in h.drain_events() {
            if let RuntimeEvent::Status { id: i, status } = e
                && i == id
                && status.event.as_deref() == Some("connect")
            {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{id} never connected");
}

#[tokio::test]
async fn client_sends_payloads_and_receives_the_echo_with_a_session() {
    let (port, seen) = echo_server(false).await;
    let mut h = Harness::start(flow(json!({
        "path": format!("ws://127.0.0.1:{port}/echo"), "subprotocol": "chat, other",
        "headers": [{"keyType": "other", "keyValue": "x-token", "valueType": "other", "valueValue": "t1"}]
    })))
    .await;
    wait_connected(&mut h, "in").await;
    h.send_json("out", json!({"payload": "hello"})).await;
    let m = h.recv_json("got").await;
    assert_eq!(m["payload"], "hello");
    assert_eq!(m["_session"]["type"], "websocket");
    assert_eq!(m["_session"]["id"].as_str().map(str::len), Some(16));
    h.send_json("out", json!({"payload": {"a": 1}})).await;
    assert_eq!(h.recv_json("got").await["payload"], "{\"a\":1}");
    h.send_json(
        "out",
        json!({"payload": {"type": "Buffer", "data": [1, 2]}}),
    )
    .await;
    h.send(
        "out",
        redoubt_core::Msg::with_payload(redoubt_core::value::Value::Buffer(
            bytes::Bytes::from_static(&[1, 2]),
        )),
    )
    .await;
    let b = h.recv_json("got").await;
    assert_eq!(b["payload"], "{\"type\":\"Buffer\",\"data\":[1,2]}");
    let b = h.recv_json("got").await;
    assert_eq!(
        b["payload"],
        json!({"type": "Buffer", "data": [1, 2]}),
        "binary frames arrive as Buffers"
    );
    let hs = seen.lock().expect("lock").clone();
    assert!(hs.contains(&("x-token".into(), "t1".into())), "{hs:?}");
    assert!(
        hs.contains(&("sec-websocket-protocol".into(), "chat, other".into())),
        "{hs:?}"
    );
    h.stop().await;
}

#[tokio::test]
async fn whole_messages_travel_as_json() {
    let (port, _) = echo_server(false).await;
    let mut h = Harness::start(flow(
        json!({"path": format!("ws://127.0.0.1:{port}/"), "wholemsg": "true"}),
    ))
    .await;
    wait_connected(&mut h, "in").await;
    h.send_json(
        "out",
        json!({"payload": 5, "topic": "t", "_session": {"type": "other", "id": "x"}}),
    )
    .await;
    let m = h.recv_json("got").await;
    assert_eq!(
        (m["payload"].clone(), m["topic"].clone()),
        (json!(5), json!("t"))
    );
    assert_eq!(
        m["_session"]["type"], "websocket",
        "the old session is not sent"
    );
    h.stop().await;
}

#[tokio::test]
async fn wss_through_a_tls_config_node() {
    let (port, _) = echo_server(true).await;
    let mut f = flow(json!({"path": format!("wss://localhost:{port}/"), "tls": "tls1"}));
    f.as_array_mut().expect("flow").push(
        json!({"id": "tls1", "type": "tls-config", "ca": path("ca.pem"), "verifyservercert": true}),
    );
    let mut h = Harness::start_with(f, HarnessOptions::default()).await;
    wait_connected(&mut h, "in").await;
    h.send_json("out", json!({"payload": "secret"})).await;
    assert_eq!(h.recv_json("got").await["payload"], "secret");
    h.stop().await;
}

#[tokio::test]
async fn a_heartbeat_without_answer_drops_the_connection() {
    // Accepts the handshake, then never reads again, so pings go unanswered.
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let mut keep = Vec::new();
        while let Ok((tcp, _)) = l.accept().await {
            if let Ok(ws) = tokio_tungstenite::accept_async(tcp).await {
                keep.push(ws);
            }
        }
    });
    let mut h = Harness::start(flow(
        json!({"path": format!("ws://127.0.0.1:{port}/"), "hb": "1"}),
    ))
    .await;
    wait_connected(&mut h, "in").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut saw_error = false;
    while Instant::now() < deadline && !saw_error {
        saw_error = h.drain_events().into_iter().any(|e| {
            matches!(e, RuntimeEvent::Status { id, status } if id == "in" && status.event.as_deref() == Some("error"))
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        saw_error,
        "the unanswered heartbeat must end the connection"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_url_that_is_not_a_websocket_is_a_config_error() {
    let mut h =
        Harness::start(json!([{"id": "wc", "type": "websocket-client", "path": "http://x/"}]))
            .await;
    let errs: Vec<String> = h
        .drain_events()
        .into_iter()
        .filter_map(|e| match e {
            RuntimeEvent::Log { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    assert!(
        errs.iter()
            .any(|e| e.contains("wc") && e.contains("path") && e.contains("ws://")),
        "{errs:?}"
    );
    h.stop().await;
}

/// Flow control: while the engine holds more than `Backlog::HIGH` messages
/// no node has taken, the client does not read its socket (the server's
/// frames wait in TCP), while its own frames still go out. What waited is
/// read once there is room.
#[tokio::test]
async fn client_does_not_read_while_the_backlog_is_full() {
    let (port, _seen) = echo_server(false).await;
    let mut h = Harness::start(flow(json!({"path": format!("ws://127.0.0.1:{port}/echo")}))).await;
    wait_connected(&mut h, "in").await;
    let full = h.fill_backlog();
    // Sent while reading waits: its echo arriving later shows it went out.
    h.send_json("out", json!({"payload": "held"})).await;
    assert!(
        h.nothing("got", Duration::from_millis(300)).await,
        "read while the backlog was full"
    );
    drop(full);
    assert_eq!(h.recv_json("got").await["payload"], "held");
    h.stop().await;
}
