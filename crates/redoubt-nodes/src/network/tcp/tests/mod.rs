//! Ported from `test/nodes/core/network/31-tcpin_spec.js` and
//! `31-tcprequest_spec.js`, against real sockets on 127.0.0.1 (ports
//! picked by the OS; a server node logs the port it got).

mod request;
mod tcp_in;
mod tcp_out;
mod tls;

use crate::testing::Harness;
use redoubt_core::engine::RuntimeEvent;
use redoubt_core::value::Value;
use serde_json::{Value as Json, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Node `n1` with `node`'s properties wired to helper `out`.
pub(super) fn flow(node: Json) -> Json {
    let mut n = node;
    n["id"] = json!("n1");
    n["wires"] = json!([["out"]]);
    json!([n, {"id": "out", "type": "helper"}])
}

/// The port server node `id` listens on, from its "listening on port N" log.
pub(super) async fn listening_port(h: &mut Harness, id: &str) -> u16 {
    for _ in 0..500 {
        for e in h.drain_events() {
            if let RuntimeEvent::Log { id: from, text, .. } = e
                && from == id
                && let Some(p) = text.strip_prefix("listening on port ")
            {
                return p.parse().expect("test step");
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{id} is not listening");
}

/// Waits until node `id` shows status text `text`.
pub(super) async fn wait_status(h: &mut Harness, id: &str, text: &str) {
    for _ in 0..500 {
        for e in h.drain_events() {
            if let RuntimeEvent::Status { id: from, status } = e
                && from == id
                && status.text.as_deref() == Some(text)
            {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{id} never showed status {text:?}");
}

/// Connects to `port`, writes `data`, and closes.
pub(super) async fn send_and_close(port: u16, data: &[u8]) {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("test step");
    s.write_all(data).await.expect("test step");
    s.shutdown().await.expect("test step");
    // Wait for the node to close its side, so the next connection's data
    // cannot overtake this one's.
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest).await;
}

/// A server that answers every read with `ACK:` + what it read.
pub(super) async fn ack_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("test step");
    let port = l.local_addr().expect("test step").port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            let mut reply = b"ACK:".to_vec();
                            reply.extend_from_slice(&buf[..n]);
                            if s.write_all(&reply).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    port
}

/// The payload as text (Buffer bytes decoded), for comparisons.
pub(super) fn text(v: &Value) -> String {
    match v {
        Value::Buffer(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.to_js_string(),
    }
}
