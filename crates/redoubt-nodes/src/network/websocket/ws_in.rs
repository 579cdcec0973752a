//! websocket in (`22-websocket.js`, `WebSocketInNode`): sends what arrives
//! on its listener's or client's connections, with `msg._session`.

use super::hub::Hub;
use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType, Status,
};
use std::sync::Arc;

pub(crate) struct WebsocketInType;

struct WsIn {
    hub: Arc<Hub>,
    id: String,
}

/// The hub of the config node named in `client` (or else `server`).
pub(crate) fn lookup(cfg: &NodeConfig, cx: &BuildCtx) -> Result<Arc<Hub>, ConfigError> {
    let (field, id) = match cfg.str("client") {
        c if !c.is_empty() => ("client", c),
        _ => ("server", cfg.str("server")),
    };
    cx.config_node(&id)
        .and_then(|h| h.downcast::<Hub>().ok())
        .ok_or_else(|| ConfigError::field(field, format!("Missing server configuration ({id:?})")))
}

impl NodeType for WebsocketInType {
    fn type_name(&self) -> &'static str {
        "websocket in"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(WsIn {
            hub: lookup(cfg, cx)?,
            id: cfg.id.to_string(),
        }))
    }
}

impl Node for WsIn {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        self.hub.register_input(&self.id, cx.handle());
        Ok(())
    }

    fn on_input(&mut self, _msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        self.hub.remove(&self.id);
        cx.status(Status::clear());
    }
}
