//! `describe('TCP Request Node')`, against a server that answers each read
//! with `ACK:` and the data.

use super::{ack_server, flow, text};
use crate::testing::Harness;
use redoubt_core::value::Value;
use serde_json::{Value as Json, json};

async fn request(node: Json, msgs: &[Json]) -> (Harness, redoubt_core::Msg) {
    let mut h = Harness::start(flow(node)).await;
    for m in msgs {
        h.send_json("n1", m.clone()).await;
    }
    let m = h.recv("out").await;
    (h, m)
}

fn node(port: u16, out: &str, splitc: &str) -> Json {
    json!({"type":"tcp request","server":"localhost","port":port,"out":out,"splitc":splitc})
}

/// it('should send & recv data')
/// it('should retain complete message')
#[tokio::test]
async fn sends_and_receives() {
    let port = ack_server().await;
    let (_h, m) = request(
        node(port, "time", "0"),
        &[json!({"payload":"foo","topic":"bar"})],
    )
    .await;
    assert!(matches!(m.payload(), Value::Buffer(_)));
    assert_eq!(text(&m.payload()), "ACK:foo");
    assert_eq!(m.get("topic").expect("test step").as_str(), Some("bar"));
}

/// it('should send & recv data when specified character received')
/// it('should send & recv data after fixed number of chars received')
#[tokio::test]
async fn returns_at_a_character_or_a_count() {
    let port = ack_server().await;
    let (_h, m) = request(
        node(port, "char", "0"),
        &[json!({"payload":"foo0bar0","topic":"bar"})],
    )
    .await;
    assert_eq!(text(&m.payload()), "ACK:foo0");
    let (_h, m) = request(
        node(port, "count", "7"),
        &[json!({"payload":"foo bar","topic":"bar"})],
    )
    .await;
    assert_eq!(text(&m.payload()), "ACK:foo");
}

/// it('should send & receive, then keep connection')
#[tokio::test]
async fn keeps_the_connection() {
    let port = ack_server().await;
    let (mut h, m) = request(
        node(port, "sit", "5"),
        &[json!({"payload":"foo","topic":"bar"})],
    )
    .await;
    assert_eq!(text(&m.payload()), "ACK:foo");
    h.send_json("n1", json!({"payload":"baz","topic":"q"}))
        .await;
    let m = h.recv("out").await;
    assert_eq!(text(&m.payload()), "ACK:baz");
    assert_eq!(m.get("topic").expect("test step").as_str(), Some("q"));
}

/// it('should send & receive, then keep connection, and split return strings')
/// it('should send & receive, then keep connection, and split return strings and reattach delimiter')
/// it('should send & receive, then keep connection, and not split return strings')
#[tokio::test]
async fn keeps_the_connection_and_splits_strings() {
    let port = ack_server().await;
    let base = json!({"type":"tcp request","server":"localhost","port":port,"out":"sit",
        "ret":"string","newline":"<A>\\n"});
    let (_h, m) = request(
        base.clone(),
        &[json!({"payload":"foobar<A>\nfoo","topic":"boo"})],
    )
    .await;
    assert_eq!(m.payload().as_str(), Some("ACK:foobar"));
    let mut trim = base.clone();
    trim["trim"] = json!(true);
    let (_h, m) = request(trim, &[json!({"payload":"foobar<A>\nfoo","topic":"boo"})]).await;
    assert_eq!(m.payload().as_str(), Some("ACK:foobar<A>\n"));
    let mut whole = base;
    whole["newline"] = json!("");
    let (_h, m) = request(whole, &[json!({"payload":"foobar<A>\nfoo"})]).await;
    assert_eq!(m.payload().as_str(), Some("ACK:foobar<A>\nfoo"));
}

/// Not in Node-RED: while the engine's backlog is full, the reply is not
/// read (it waits in the socket), and arrives once there is room.
#[tokio::test]
async fn does_not_read_the_reply_while_the_backlog_is_full() {
    use std::time::Duration;
    let port = ack_server().await;
    let mut h = Harness::start(flow(node(port, "sit", "5"))).await;
    let full = h.fill_backlog();
    h.send_json("n1", json!({"payload":"held"})).await;
    assert!(
        h.nothing("out", Duration::from_millis(300)).await,
        "read while the backlog was full"
    );
    drop(full);
    assert_eq!(text(&h.recv("out").await.payload()), "ACK:held");
    h.send_json("n1", json!({"payload":"next"})).await;
    assert_eq!(text(&h.recv("out").await.payload()), "ACK:next");
    h.stop().await;
}

/// it('should send & recv data to/from server:port from msg')
/// it('should only retain the latest message')
#[tokio::test]
async fn takes_host_and_port_from_the_message() {
    let port = ack_server().await;
    let (_h, m) = request(
        json!({"type":"tcp request","server":"","port":"","out":"time","splitc":"0"}),
        &[json!({"payload":"foo","host":"localhost","port":port})],
    )
    .await;
    assert_eq!(text(&m.payload()), "ACK:foo");
    assert_eq!(
        m.get("host").expect("test step").as_str(),
        Some("localhost")
    );
}

/// `immed`: send and close without waiting for a reply; a refused
/// connection is an error naming host and port.
#[tokio::test]
async fn immediate_mode_and_connect_failures() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("test step");
    let port = l.local_addr().expect("test step").port();
    let mut h = Harness::start(json!([
        {"id":"n1","type":"tcp request","server":"127.0.0.1","port":port,"out":"immed","splitc":"",
         "wires":[["out"]]},
        {"id":"out","type":"helper"},
        {"id":"c","type":"catch","scope":null,"wires":[["caught"]]},
        {"id":"caught","type":"helper"}
    ]))
    .await;
    h.send_json("n1", json!({"payload":"fire"})).await;
    let (mut s, _) = l.accept().await.expect("test step");
    let mut all = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut s, &mut all)
        .await
        .expect("test step");
    assert_eq!(all, b"fire");
    drop(l);
    h.send_json("n1", json!({"payload":"again"})).await;
    let c = h.recv_json("caught").await;
    assert_eq!(
        c["error"]["message"],
        format!("connect failed 127.0.0.1:{port}")
    );
}
