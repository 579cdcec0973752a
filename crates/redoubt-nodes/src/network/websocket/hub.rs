//! [`Hub`]: what a websocket-listener or websocket-client config node shares
//! with its websocket in/out nodes: the open connections (by session id),
//! the nodes to feed and to show status on, and the message conversions
//! of `22-websocket.js` (`handleEvent`, `broadcast`, `reply`).

use indexmap::IndexMap;
use parking_lot::Mutex;
use redoubt_core::Msg;
use redoubt_core::engine::Backlog;
use redoubt_core::http_host::WsFrame;
use redoubt_core::node::{NodeHandle, Status};
use redoubt_core::value::{Object, Value, from_json_str, to_json};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

#[derive(Default)]
struct HubState {
    /// websocket in nodes: they receive messages.
    inputs: IndexMap<String, NodeHandle>,
    /// websocket in and out nodes: they show the connection status.
    watchers: IndexMap<String, NodeHandle>,
    /// Open connections by session id.
    clients: IndexMap<String, UnboundedSender<WsFrame>>,
}

/// The shared state of one websocket config node.
pub(crate) struct Hub {
    /// True for websocket-listener, false for websocket-client.
    pub(crate) server: bool,
    /// `wholemsg`: messages travel as whole JSON msgs, not payloads.
    pub(crate) wholemsg: bool,
    st: Mutex<HubState>,
    /// Starts the client connection (websocket-client only), once.
    starter: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

/// `RED.util.generateId()`: 16 hex digits.
pub(crate) fn session_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

impl Hub {
    pub(crate) fn new(server: bool, wholemsg: bool) -> Hub {
        Hub {
            server,
            wholemsg,
            st: Mutex::new(HubState::default()),
            starter: Mutex::new(None),
        }
    }

    /// Sets what starts the client connection (called at most once).
    pub(crate) fn set_starter(&self, f: Box<dyn FnOnce() + Send>) {
        *self.starter.lock() = Some(f);
    }

    fn start(&self) {
        let f = self.starter.lock().take();
        if let Some(f) = f {
            f();
        }
    }

    /// A websocket in node registers (the first one starts a client).
    pub(crate) fn register_input(&self, id: &str, h: NodeHandle) {
        {
            let mut st = self.st.lock();
            st.inputs.insert(id.to_string(), h.clone());
            st.watchers.insert(id.to_string(), h);
        }
        if !self.server {
            self.start();
        }
    }

    /// A websocket out node registers (a client starts when nothing else did).
    pub(crate) fn register_output(&self, id: &str, h: NodeHandle) {
        self.st.lock().watchers.insert(id.to_string(), h);
        if !self.server {
            self.start();
        }
    }

    pub(crate) fn remove(&self, id: &str) {
        let mut st = self.st.lock();
        st.inputs.shift_remove(id);
        st.watchers.shift_remove(id);
    }

    /// Closes every connection (the config node is stopping).
    pub(crate) fn close_all(&self) {
        let mut st = self.st.lock();
        st.clients.clear();
        st.inputs.clear();
        st.watchers.clear();
    }

    fn count_text(&self, n: usize) -> String {
        if self.server {
            format!("connected {n}")
        } else {
            "connected ".to_string()
        }
    }

    fn status_all(&self, status: Status) {
        for w in self.st.lock().watchers.values() {
            w.status(status.clone());
        }
    }

    /// A connection opened.
    pub(crate) fn opened(&self, id: &str, tx: UnboundedSender<WsFrame>) {
        let n = {
            let mut st = self.st.lock();
            st.clients.insert(id.to_string(), tx);
            st.clients.len()
        };
        let mut s = Status::new("green", "dot", self.count_text(n));
        s.event = Some("connect".into());
        s.session = Some(("websocket".into(), id.to_string()));
        self.status_all(s);
    }

    /// A connection closed.
    pub(crate) fn closed(&self, id: &str) {
        let n = {
            let mut st = self.st.lock();
            st.clients.shift_remove(id);
            st.clients.len()
        };
        let mut s = if self.server && n > 0 {
            Status::new("green", "dot", self.count_text(n))
        } else {
            Status::new("red", "ring", "common.status.disconnected")
        };
        s.event = Some("disconnect".into());
        s.session = Some(("websocket".into(), id.to_string()));
        self.status_all(s);
    }

    /// A connection failed.
    pub(crate) fn errored(&self, id: &str) {
        let mut s = Status::new("red", "ring", "common.status.error");
        s.event = Some("error".into());
        s.session = Some(("websocket".into(), id.to_string()));
        self.status_all(s);
    }

    /// The engine's backlog, for flow control (`Backlog::room_if_full`).
    /// Every input node of the hub shares one engine, so any of them can
    /// tell; with none, there is nobody to feed and nothing to wait for.
    pub(crate) fn backlog(&self) -> Option<Arc<Backlog>> {
        let st = self.st.lock();
        st.inputs.values().next().map(|h| h.backlog().clone())
    }

    /// `handleEvent`: a message from connection `id` goes to every websocket in node.
    pub(crate) fn deliver(&self, id: &str, frame: WsFrame) {
        let inputs: Vec<NodeHandle> = self.st.lock().inputs.values().cloned().collect();
        for h in inputs {
            let msg = self.to_msg(&frame);
            let session = Object::new();
            session.insert("type", Value::str("websocket"));
            session.insert("id", Value::str(id));
            msg.set("_session", Value::Object(session));
            h.send(0, msg);
        }
    }

    fn to_msg(&self, frame: &WsFrame) -> Msg {
        let data = match frame {
            WsFrame::Text(t) => Value::str(t),
            WsFrame::Binary(b) => Value::Buffer(b.clone()),
        };
        if self.wholemsg {
            let text = match frame {
                WsFrame::Text(t) => Some(t.clone()),
                WsFrame::Binary(b) => std::str::from_utf8(b).ok().map(str::to_string),
            };
            match text.map(|t| from_json_str(&t)) {
                Some(Ok(Value::Object(o))) => return Msg::from_object(o),
                Some(Ok(other)) => return Msg::with_payload(other),
                _ => {}
            }
        }
        Msg::with_payload(data)
    }

    /// The frame websocket out sends for `msg`, if any (`payload` empty: none).
    pub(crate) fn frame_for(&self, msg: &Msg) -> Option<WsFrame> {
        if self.wholemsg {
            let copy = Object::new();
            for (k, v) in msg.object().entries() {
                if k.as_ref() != "_session" {
                    copy.insert(k, v);
                }
            }
            return to_json(&Value::Object(copy)).ok().map(WsFrame::Text);
        }
        if !msg.object().contains_key("payload") {
            return None;
        }
        match msg.payload() {
            Value::Buffer(b) => Some(WsFrame::Binary(b)),
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(WsFrame::Text(s.to_string())),
            v @ (Value::Object(_) | Value::Array(_)) => to_json(&v).ok().map(WsFrame::Text),
            Value::Undefined => None,
            other => Some(WsFrame::Text(other.to_js_string())),
        }
    }

    /// `reply`: to session `id` only (dropped when it has gone).
    pub(crate) fn reply(&self, id: &str, frame: WsFrame) {
        if let Some(tx) = self.st.lock().clients.get(id) {
            let _ = tx.send(frame);
        }
    }

    /// `broadcast`: to every open connection.
    pub(crate) fn broadcast(&self, frame: WsFrame) {
        for tx in self.st.lock().clients.values() {
            let _ = tx.send(frame.clone());
        }
    }
}
