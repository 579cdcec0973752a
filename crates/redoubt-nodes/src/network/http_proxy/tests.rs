//! http proxy through the http request node: a recording proxy on
//! 127.0.0.1:0 sees the absolute-form request and the credentials.

use crate::testing::{Harness, HarnessOptions};
use serde_json::{Value as Json, json};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that records each request head and answers `reply`.
async fn recorder(reply: &'static str) -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let seen = s2.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                let mut buf = [0u8; 2048];
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                seen.lock()
                    .expect("lock")
                    .push(String::from_utf8_lossy(&got).into_owned());
                let body = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = s.write_all(body.as_bytes()).await;
            });
        }
    });
    (port, seen)
}

fn flow(url: &str, proxy_port: u16, noproxy: Json) -> Json {
    json!([
        {"id": "n1", "type": "http request", "method": "GET", "ret": "txt", "url": url,
         "proxy": "p1", "wires": [["out"]]},
        {"id": "p1", "type": "http proxy", "url": format!("http://127.0.0.1:{proxy_port}"),
         "noproxy": noproxy},
        {"id": "out", "type": "helper"}
    ])
}

fn proxy_creds() -> serde_json::Map<String, Json> {
    let mut c = serde_json::Map::new();
    c.insert(
        "p1".into(),
        json!({"username": "alice", "password": "s3cret"}),
    );
    c
}

#[tokio::test]
async fn requests_go_through_the_proxy_with_its_credentials() {
    let (pport, seen) = recorder("via proxy").await;
    let url = "http://origin.invalid:8080/thing?x=1";
    let opts = HarnessOptions {
        credentials: proxy_creds(),
        ..Default::default()
    };
    let mut h = Harness::start_with(flow(url, pport, json!([])), opts).await;
    h.send_json("n1", json!({"payload": ""})).await;
    let m = h.recv_json("out").await;
    assert_eq!(m["payload"], "via proxy", "{m}");
    let heads = seen.lock().expect("lock").clone();
    assert!(
        heads[0].starts_with("GET http://origin.invalid:8080/thing?x=1 HTTP/1.1"),
        "{heads:?}"
    );
    // base64("alice:s3cret")
    assert!(
        heads[0]
            .to_ascii_lowercase()
            .contains("proxy-authorization: basic ywxpy2u6cznjcmv0"),
        "{heads:?}"
    );
    h.stop().await;
}

#[tokio::test]
async fn hosts_in_noproxy_are_reached_directly() {
    let (pport, via_proxy) = recorder("via proxy").await;
    let (oport, direct) = recorder("direct").await;
    let url = format!("http://127.0.0.1:{oport}/x");
    let mut h = Harness::start(flow(&url, pport, json!(["127.0.0.1"]))).await;
    h.send_json("n1", json!({"payload": ""})).await;
    let m = h.recv_json("out").await;
    assert_eq!(m["payload"], "direct", "{m}");
    assert!(via_proxy.lock().expect("lock").is_empty());
    assert!(direct.lock().expect("lock")[0].starts_with("GET /x HTTP/1.1"));
    h.stop().await;
}

#[tokio::test]
async fn a_proxy_url_that_is_not_http_is_a_config_error() {
    let mut h = Harness::start(json!([{"id": "p1", "type": "http proxy", "url": "ftp://x"}])).await;
    let logs: Vec<String> = h
        .drain_events()
        .into_iter()
        .filter_map(|e| match e {
            redoubt_core::engine::RuntimeEvent::Log { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    assert!(
        logs.iter()
            .any(|l| l.contains("p1") && l.contains("url") && l.contains("ftp://x")),
        "{logs:?}"
    );
    h.stop().await;
}
