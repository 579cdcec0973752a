//! websocket out (`22-websocket.js`, `WebSocketOutNode`): sends
//! `msg.payload` (or, with `wholemsg`, the whole message as JSON) to the
//! session in `msg._session`, or to every connection when there is none.

use super::hub::Hub;
use super::ws_in::lookup;
use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType, Status,
};
use redoubt_core::value::Value;
use std::sync::Arc;

pub(crate) struct WebsocketOutType;

struct WsOut {
    hub: Arc<Hub>,
    id: String,
}

impl NodeType for WebsocketOutType {
    fn type_name(&self) -> &'static str {
        "websocket out"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(WsOut {
            hub: lookup(cfg, cx)?,
            id: cfg.id.to_string(),
        }))
    }
}

impl Node for WsOut {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        self.hub.register_output(&self.id, cx.handle());
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let Some(frame) = self.hub.frame_for(&msg) else {
            return Ok(());
        };
        let session = msg.get("_session").and_then(|s| match s {
            Value::Object(o)
                if o.get("type")
                    .and_then(|t| t.as_str().map(|t| t == "websocket"))
                    == Some(true) =>
            {
                o.get("id").map(|i| i.to_js_string())
            }
            _ => None,
        });
        match session {
            Some(id) => self.hub.reply(&id, frame),
            None => self.hub.broadcast(frame),
        }
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        self.hub.remove(&self.id);
        cx.status(Status::clear());
    }
}
