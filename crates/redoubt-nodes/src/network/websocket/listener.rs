//! websocket-listener (`22-websocket.js`, server side): a config node that
//! serves a websocket endpoint at `httpNodeRoot` + `path` on redoubt's own
//! HTTP server, through the host contract (`HttpHost::add_websocket`).
//! Every accepted connection gets a session id; its messages go to the
//! websocket in nodes with `msg._session`.

use super::hub::{Hub, session_id};
use redoubt_core::Msg;
use redoubt_core::http_host::{HttpHostService, RouteGuard, WsConnection, WsEndpointSpec};
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use std::any::Any;
use std::sync::Arc;

pub(crate) struct WebsocketListenerType;

struct Listener {
    hub: Arc<Hub>,
    _guard: Box<dyn RouteGuard>,
}

/// `subprotocol`: a comma-separated list.
pub(crate) fn subprotocols(cfg: &NodeConfig) -> Vec<String> {
    cfg.str("subprotocol")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn serve(hub: Arc<Hub>, conn: WsConnection) {
    let id = session_id();
    let WsConnection {
        mut incoming,
        outgoing,
        ..
    } = conn;
    hub.opened(&id, outgoing);
    tokio::spawn(async move {
        // The engine's backlog, looked up until an input node has
        // registered (none may have when the client connects).
        let mut backlog = None;
        while let Some(frame) = incoming.recv().await {
            // Flow control: a frame waits here while the flows are behind
            // (checked after it arrived, so one that came in while the node
            // was idle waits too); the frames after it fill the bounded
            // channel and the server stops reading this client's socket.
            if backlog.is_none() {
                backlog = hub.backlog();
            }
            if let Some(b) = &backlog {
                b.room_if_full().await;
            }
            hub.deliver(&id, frame);
        }
        hub.closed(&id);
    });
}

impl NodeType for WebsocketListenerType {
    fn type_name(&self) -> &'static str {
        "websocket-listener"
    }

    fn is_config(&self) -> bool {
        true
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let raw_path = cfg.str("path");
        if raw_path.is_empty() {
            return Err(ConfigError::field(
                "path",
                "a websocket listener needs a path",
            ));
        }
        let lower = raw_path.to_ascii_lowercase();
        if lower.starts_with("ws://") || lower.starts_with("wss://") {
            return Err(ConfigError::field(
                "path",
                format!("{raw_path:?} is a URL; use a websocket-client node to connect out"),
            ));
        }
        let path = if raw_path.starts_with('/') {
            raw_path
        } else {
            format!("/{raw_path}")
        };
        let host = cx
            .service::<HttpHostService>()
            .ok_or_else(|| ConfigError::field("path", "no HTTP server to serve websockets on"))?;
        let hub = Arc::new(Hub::new(true, cfg.str("wholemsg") == "true"));
        let h2 = hub.clone();
        let guard = host
            .0
            .add_websocket(
                WsEndpointSpec {
                    path,
                    subprotocols: subprotocols(cfg),
                    node_id: cfg.id.to_string(),
                },
                Arc::new(move |conn| serve(h2.clone(), conn)),
            )
            .map_err(|e| ConfigError::field("path", e))?;
        Ok(Box::new(Listener { hub, _guard: guard }))
    }
}

impl Node for Listener {
    fn on_input(&mut self, _msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        Ok(())
    }

    fn close(&mut self, _removed: bool, _cx: &mut NodeCtx<'_>) {
        // Dropping the senders closes every open socket.
        self.hub.close_all();
    }

    fn shared(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(self.hub.clone())
    }
}
