//! Websocket endpoints registered by `websocket-listener` nodes: the table
//! ([`WsEndpoints`]) and serving one upgraded connection, which is bridged
//! to the node through two channels ([`WsConnection`]).
//!
//! Upgrades arrive through the node request handler (`node_handler`), the
//! same one that serves `http in` routes, so anything wrapped around it
//! applies to websocket endpoints too.

use axum::extract::FromRequestParts;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use parking_lot::RwLock;
use redoubt_core::http_host::{
    IncomingRequest, RouteGuard, WsConnection, WsEndpointSpec, WsFrame, WsHandler,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

pub(crate) struct Endpoint {
    id: u64,
    subprotocols: Vec<String>,
    handler: WsHandler,
}

/// Websocket endpoints by exact path (without `httpNodeRoot`).
#[derive(Default, Clone)]
pub(crate) struct WsEndpoints {
    map: Arc<RwLock<HashMap<String, Arc<Endpoint>>>>,
    next: Arc<AtomicU64>,
}

struct Guard {
    id: u64,
    path: String,
    map: Arc<RwLock<HashMap<String, Arc<Endpoint>>>>,
}

impl RouteGuard for Guard {}

impl Drop for Guard {
    fn drop(&mut self) {
        let mut map = self.map.write();
        if map.get(&self.path).is_some_and(|e| e.id == self.id) {
            map.remove(&self.path);
        }
    }
}

impl WsEndpoints {
    pub(crate) fn add(
        &self,
        spec: WsEndpointSpec,
        handler: WsHandler,
    ) -> Result<Box<dyn RouteGuard>, String> {
        if !spec.path.starts_with('/') {
            return Err(format!("websocket path {:?} must start with /", spec.path));
        }
        let mut map = self.map.write();
        if map.contains_key(&spec.path) {
            return Err(format!(
                "Cannot have two WebSocket listeners on the same path: {}",
                spec.path
            ));
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        map.insert(
            spec.path.clone(),
            Arc::new(Endpoint {
                id,
                subprotocols: spec.subprotocols,
                handler,
            }),
        );
        Ok(Box::new(Guard {
            id,
            path: spec.path,
            map: self.map.clone(),
        }))
    }

    pub(crate) fn find(&self, path: &str) -> Option<Arc<Endpoint>> {
        self.map.read().get(path).cloned()
    }
}

/// True for a websocket upgrade request.
pub(crate) fn is_upgrade(req: &axum::extract::Request) -> bool {
    req.headers()
        .get(http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Frames read from a client that its node has not taken yet: a few, so
/// that a node waiting for room in its flows stops the reading soon.
const INCOMING_FRAMES: usize = 16;

/// Answers the upgrade and hands the connection to the endpoint's node.
pub(crate) async fn upgrade(
    ep: Arc<Endpoint>,
    req: axum::extract::Request,
    info: IncomingRequest,
) -> Response {
    let (mut parts, _body) = req.into_parts();
    let up = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(u) => u,
        Err(rejection) => return rejection.into_response(),
    };
    let up = if ep.subprotocols.is_empty() {
        up
    } else {
        up.protocols(ep.subprotocols.clone())
    };
    up.on_upgrade(move |socket| pump(socket, ep, info))
}

async fn pump(socket: WebSocket, ep: Arc<Endpoint>, request: IncomingRequest) {
    let (in_tx, in_rx) = mpsc::channel(INCOMING_FRAMES);
    let (out_tx, mut out_rx) = mpsc::unbounded_channel();
    (ep.handler)(WsConnection {
        request,
        incoming: in_rx,
        outgoing: out_tx,
    });
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            m = stream.next() => match m {
                // Waits while the node's flows are behind (see
                // `WsConnection::incoming`); frames to the client wait
                // meanwhile in `outgoing`, which is unbounded.
                Some(Ok(Message::Text(t))) => {
                    let _ = in_tx.send(WsFrame::Text(t.as_str().to_string())).await;
                }
                Some(Ok(Message::Binary(b))) => {
                    let _ = in_tx.send(WsFrame::Binary(b)).await;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            o = out_rx.recv() => match o {
                Some(f) => {
                    let m = match f {
                        WsFrame::Text(t) => Message::Text(t.into()),
                        WsFrame::Binary(b) => Message::Binary(b),
                    };
                    if sink.send(m).await.is_err() {
                        break;
                    }
                }
                None => {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
            },
        }
    }
    // Dropping `in_tx` tells the node the client has gone.
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(path: &str) -> WsEndpointSpec {
        WsEndpointSpec {
            path: path.into(),
            subprotocols: vec![],
            node_id: "n".into(),
        }
    }

    #[test]
    fn a_path_is_served_once_and_freed_when_its_guard_drops() {
        let eps = WsEndpoints::default();
        let handler: WsHandler = Arc::new(|_| {});
        let g = eps.add(spec("/ws"), handler.clone()).expect("first");
        let err = eps
            .add(spec("/ws"), handler.clone())
            .err()
            .expect("duplicate");
        assert_eq!(
            err,
            "Cannot have two WebSocket listeners on the same path: /ws"
        );
        assert!(eps.find("/ws").is_some());
        assert!(eps.find("/ws/").is_none(), "paths match exactly");
        drop(g);
        assert!(eps.find("/ws").is_none());
        assert!(eps.add(spec("/ws"), handler).is_ok());
    }
}
