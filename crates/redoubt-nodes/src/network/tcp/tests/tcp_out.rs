//! tcp out in its three modes (Node-RED has no mocha file for it; these
//! follow the help text).

use super::{flow, listening_port, wait_status};
use crate::testing::Harness;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn read_some(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut buf))
        .await
        .expect("no data")
        .expect("test step");
    buf
}

/// Sends `msg` to the connected client node and reads what arrives.
async fn send_when_connected(h: &Harness, s: &mut TcpStream, msg: serde_json::Value, want: &[u8]) {
    h.send_json("n1", msg).await;
    assert_eq!(read_some(s, want.len()).await, want);
}

/// Client mode: connects to the server, writes payloads (Base64-decoded
/// when asked), and with "close after send" ends the connection each time.
#[tokio::test]
async fn client_mode_writes_and_closes_after_send() {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("test step");
    let port = l.local_addr().expect("test step").port();
    let mut h = Harness::start(flow(
        json!({"type":"tcp out","beserver":"client","host":"127.0.0.1",
        "port":port,"base64":true,"end":false}),
    ))
    .await;
    let (mut s, _) = l.accept().await.expect("test step");
    wait_status(&mut h, "n1", "common.status.connected").await;
    send_when_connected(&h, &mut s, json!({"payload":"Zm9v"}), b"foo").await;
    h.send_json("n1", json!({"payload":[1,2]})).await;
    assert_eq!(read_some(&mut s, 3).await, b"1,2");
    h.stop().await;

    let mut h = Harness::start(flow(
        json!({"type":"tcp out","beserver":"client","host":"127.0.0.1",
        "port":port,"base64":false,"end":true}),
    ))
    .await;
    let (mut s, _) = l.accept().await.expect("test step");
    wait_status(&mut h, "n1", "common.status.connected").await;
    send_when_connected(&h, &mut s, json!({"payload":"bye"}), b"bye").await;
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).await.expect("test step");
    assert!(rest.is_empty());
    // It reconnects straight away (20 ms) after closing on purpose.
    let again = tokio::time::timeout(Duration::from_secs(2), l.accept()).await;
    assert!(again.is_ok(), "no reconnect");
    h.stop().await;
}

/// Server mode: every connected client gets each payload; "close after
/// send" ends each connection after the write.
#[tokio::test]
async fn server_mode_writes_to_every_client() {
    let mut h = Harness::start(flow(json!({"type":"tcp out","beserver":"server","port":0,
        "base64":false,"end":false})))
    .await;
    let port = listening_port(&mut h, "n1").await;
    let mut a = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("test step");
    let mut b = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("test step");
    wait_status(&mut h, "n1", "2 connections").await;
    h.send_json("n1", json!({"payload":"hello"})).await;
    assert_eq!(read_some(&mut a, 5).await, b"hello");
    assert_eq!(read_some(&mut b, 5).await, b"hello");
    h.stop().await;

    let mut h = Harness::start(flow(json!({"type":"tcp out","beserver":"server","port":0,
        "base64":false,"end":true})))
    .await;
    let port = listening_port(&mut h, "n1").await;
    let mut a = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("test step");
    wait_status(&mut h, "n1", "1 connection").await;
    h.send_json("n1", json!({"payload":"last"})).await;
    let mut all = Vec::new();
    a.read_to_end(&mut all).await.expect("test step");
    assert_eq!(all, b"last");
}

/// Reply mode answers on the socket a tcp in message came from, and
/// `msg.reset` closes it.
#[tokio::test]
async fn reply_mode_answers_the_tcp_in_session() {
    let mut h = Harness::start(json!([
        {"id":"in","type":"tcp in","server":"server","port":0,"datamode":"stream",
         "datatype":"utf8","newline":"\\n","topic":"","wires":[["fn","out"]]},
        {"id":"fn","type":"change","rules":[{"t":"set","p":"payload","pt":"msg",
         "to":"\"echo:\" & payload & \"\\n\"","tot":"jsonata"}],"wires":[["n1"]]},
        {"id":"n1","type":"tcp out","beserver":"reply","base64":false,"end":false,"wires":[]},
        {"id":"out","type":"helper"}
    ]))
    .await;
    let port = listening_port(&mut h, "in").await;
    let mut a = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("test step");
    let mut b = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("test step");
    a.write_all(b"one\n").await.expect("test step");
    assert_eq!(read_some(&mut a, 9).await, b"echo:one\n");
    b.write_all(b"two\n").await.expect("test step");
    assert_eq!(read_some(&mut b, 9).await, b"echo:two\n");
    let m = h.recv("out").await;
    h.send("n1", {
        let r = m.deep_clone();
        r.set("reset", redoubt_core::value::Value::Bool(true));
        r
    })
    .await;
    let mut rest = Vec::new();
    a.read_to_end(&mut rest).await.expect("test step");
    assert!(rest.is_empty());
}
