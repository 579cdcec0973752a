//! The tcp nodes over TLS through a tls-config node (Node-RED's `tls`
//! property), with real handshakes on 127.0.0.1: the test CA, and a server
//! certificate for localhost (`testdata/tls`).

use super::{listening_port, text};
use crate::network::tls_config::tests::path;
use crate::testing::Harness;
use serde_json::{Value as Json, json};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// A tls-config node `tls` with the test server certificate and the CA.
fn tls_config() -> Json {
    json!({"id": "tls", "type": "tls-config", "cert": path("server.pem"), "key": path("server.key"),
           "ca": path("ca.pem"), "verifyservercert": true})
}

/// A tls-config node with only the CA (a client).
fn ca_only(id: &str) -> Json {
    json!({"id": id, "type": "tls-config", "ca": path("ca.pem"), "verifyservercert": true})
}

#[tokio::test]
async fn tcp_in_over_tls_serves_a_tls_tcp_request() {
    let mut h = Harness::start(json!([
        tls_config(),
        ca_only("client-tls"),
        {"id": "srv", "type": "tcp in", "server": "server", "port": 0, "datamode": "stream",
         "datatype": "utf8", "newline": "", "tls": "tls", "wires": [["ack"]]},
        {"id": "ack", "type": "change", "rules": [{"t": "set", "p": "payload", "pt": "msg",
         "to": "'ACK:' & payload", "tot": "jsonata"}], "wires": [["reply", "seen"]]},
        {"id": "reply", "type": "tcp out", "beserver": "reply", "wires": []},
        {"id": "seen", "type": "helper"},
        {"id": "req", "type": "tcp request", "server": "localhost", "port": "", "out": "sit",
         "splitc": " ", "tls": "client-tls", "wires": [["out"]]},
        {"id": "out", "type": "helper"}
    ]))
    .await;
    let port = listening_port(&mut h, "srv").await;
    h.send_json("req", json!({"payload": "over tls", "port": port}))
        .await;
    assert_eq!(h.recv_json("seen").await["payload"], json!("ACK:over tls"));
    let m = h.recv("out").await;
    assert_eq!(text(&m.payload()), "ACK:over tls");
}

#[tokio::test]
async fn a_plain_client_gets_nothing_from_a_tls_server() {
    let mut h = Harness::start(json!([
        tls_config(),
        {"id": "srv", "type": "tcp in", "server": "server", "port": 0, "datamode": "stream",
         "datatype": "utf8", "newline": "", "tls": "tls", "wires": [["out"]]},
        {"id": "out", "type": "helper"}
    ]))
    .await;
    let port = listening_port(&mut h, "srv").await;
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    s.write_all(b"plain text, no handshake")
        .await
        .expect("write");
    let _ = s.shutdown().await;
    assert!(h.nothing("out", Duration::from_millis(300)).await);
}

#[tokio::test]
async fn a_server_needs_a_certificate_and_a_client_must_trust_it() {
    // A tls-config without a certificate cannot serve: the node is left
    // out of the deploy with an error saying so.
    let h = Harness::start(json!([])).await;
    let report = h
        .engine
        .deploy(
            vec![
                json!({"id": "t1", "type": "tab"}),
                ca_only("client-tls"),
                json!({"id": "srv", "type": "tcp in", "z": "t1", "server": "server", "port": 0,
                       "tls": "client-tls", "wires": [[]]}),
            ],
            serde_json::Map::new(),
            redoubt_core::engine::DeployKind::Full,
        )
        .await
        .expect("deploy");
    let text: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|e| e.contains("srv") && e.contains("certificate and a private key")),
        "{text:?}"
    );
    // A client that does not trust the server's CA fails to connect.
    let mut h = Harness::start(json!([
        tls_config(),
        {"id": "untrusting", "type": "tls-config", "verifyservercert": true},
        {"id": "srv", "type": "tcp in", "server": "server", "port": 0, "datamode": "stream",
         "datatype": "utf8", "newline": "", "tls": "tls", "wires": [["seen"]]},
        {"id": "seen", "type": "helper"},
        {"id": "req", "type": "tcp request", "server": "localhost", "port": "", "out": "sit",
         "splitc": " ", "tls": "untrusting", "wires": [["out"]]},
        {"id": "out", "type": "helper"}
    ]))
    .await;
    let port = listening_port(&mut h, "srv").await;
    h.send_json("req", json!({"payload": "x", "port": port}))
        .await;
    assert!(h.nothing("seen", Duration::from_millis(300)).await);
    assert!(h.nothing("out", Duration::from_millis(50)).await);
}
