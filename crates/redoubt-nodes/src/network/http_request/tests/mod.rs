//! Ported from `test/nodes/core/network/21-httprequest_spec.js`, against a
//! scripted HTTP/1.1 server on 127.0.0.1:0 (real sockets, real time; the
//! one timeout test uses a 200 ms `msg.requestTimeout`).

mod headers;
mod request;
mod server;

use crate::testing::{Harness, HarnessOptions};
use redoubt_core::engine::{LogLevel, RuntimeEvent};
use serde_json::{Value as Json, json};
use server::Server;

fn flow(node: Json) -> Json {
    let mut n = node;
    n["id"] = json!("n1");
    n["type"] = json!("http request");
    n["wires"] = json!([["out"]]);
    json!([
        n,
        {"id": "out", "type": "helper"},
        {"id": "c", "type": "catch", "scope": null, "wires": [["caught"]]},
        {"id": "caught", "type": "helper"}
    ])
}

async fn start(node: Json) -> Harness {
    Harness::start(flow(node)).await
}

/// Sends `msg` to a fresh node and returns what it outputs.
async fn once(node: Json, msg: Json) -> Json {
    let mut h = start(node).await;
    h.send_json("n1", msg).await;
    let out = h.recv_json("out").await;
    h.stop().await;
    out
}

fn warnings(h: &mut Harness) -> Vec<String> {
    h.drain_events()
        .into_iter()
        .filter_map(|e| match e {
            RuntimeEvent::Log {
                level: LogLevel::Warn,
                text,
                ..
            } => Some(text),
            _ => None,
        })
        .collect()
}

fn get(s: &Server, ret: &str, path: &str) -> Json {
    json!({"method": "GET", "ret": ret, "url": s.url(path)})
}

fn with_credentials(user: Option<&str>, password: &str) -> HarnessOptions {
    let mut creds = serde_json::Map::new();
    creds.insert("password".into(), json!(password));
    if let Some(u) = user {
        creds.insert("user".into(), json!(u));
    }
    let mut all = serde_json::Map::new();
    all.insert("n1".into(), Json::Object(creds));
    HarnessOptions {
        credentials: all,
        ..Default::default()
    }
}

async fn once_with(node: Json, opts: HarnessOptions) -> Json {
    let mut h = Harness::start_with(flow(node), opts).await;
    h.send_json("n1", json!({"payload": "foo"})).await;
    let out = h.recv_json("out").await;
    h.stop().await;
    out
}
