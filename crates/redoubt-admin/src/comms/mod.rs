//! The editor's `/comms` websocket (Node-RED's editor-api `comms.js` and
//! runtime `api/comms.js`).
//!
//! Every connected editor receives every published message; a client's
//! `{"subscribe": "topic"}` only replays the *retained* messages matching
//! the topic (MQTT-style `+` and trailing `/#`). Frames are JSON arrays of
//! `{topic, data}`, batched for up to 50 ms or 50 messages, with an `hb`
//! heartbeat when a connection has been idle for `webSocketKeepAliveTime`.
//!
//! [`spawn_event_pump`] turns the engine's runtime events into messages:
//! debug output and node warnings/errors on `debug` (encoded as
//! `encodeObject` does), node status on `status/<id>` (retained; an empty
//! status clears), and flow start/stop on `notification/runtime-state`
//! (retained).

pub mod encode;
mod socket;
#[cfg(test)]
mod tests;

pub(crate) use socket::comms_handler;

use crate::state::Inner;
use indexmap::IndexMap;
use redoubt_core::engine::{LogLevel, RuntimeEvent};
use redoubt_core::node::Status;
use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::broadcast;

/// One message to the editor.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct Frame {
    pub(crate) topic: String,
    pub(crate) data: Json,
}

/// Fan-out of comms messages to every connection, plus the retained ones.
pub(crate) struct CommsHub {
    tx: broadcast::Sender<Arc<Frame>>,
    retained: parking_lot::Mutex<IndexMap<String, Json>>,
    pub(crate) keepalive: Duration,
}

impl CommsHub {
    pub(crate) fn new(keepalive: Duration) -> CommsHub {
        let (tx, _) = broadcast::channel(1024);
        CommsHub {
            tx,
            retained: parking_lot::Mutex::new(IndexMap::new()),
            keepalive,
        }
    }

    /// Sends to every connection; `retain` keeps it for later subscribers,
    /// a non-retained message on the same topic drops the retained one.
    pub(crate) fn publish(&self, topic: &str, data: Json, retain: bool) {
        let mut r = self.retained.lock();
        if retain {
            r.insert(topic.to_string(), data.clone());
        } else {
            r.shift_remove(topic);
        }
        // No receivers is fine: nobody has the editor open.
        let _ = self.tx.send(Arc::new(Frame {
            topic: topic.to_string(),
            data,
        }));
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Frame>> {
        self.tx.subscribe()
    }

    pub(crate) fn retained(&self, topic: &str) -> Option<Json> {
        self.retained.lock().get(topic).cloned()
    }

    /// Retained topics (for status clean-up after a deploy).
    pub(crate) fn retained_topics(&self) -> Vec<String> {
        self.retained.lock().keys().cloned().collect()
    }

    /// Retains `data` on `topic` without sending it (statuses set before
    /// anyone listened).
    pub(crate) fn remember(&self, topic: &str, data: Json) {
        self.retained.lock().insert(topic.to_string(), data);
    }

    /// The retained messages whose topic matches `pattern`.
    pub(crate) fn matching(&self, pattern: &str) -> Vec<Arc<Frame>> {
        self.retained
            .lock()
            .iter()
            .filter(|(t, _)| topic_matches(pattern, t))
            .map(|(t, d)| {
                Arc::new(Frame {
                    topic: t.clone(),
                    data: d.clone(),
                })
            })
            .collect()
    }
}

/// Node-RED's subscription match: `+` is one non-empty level, a trailing
/// `/#` is any number of further levels (including none), anything else
/// is literal.
pub(crate) fn topic_matches(pattern: &str, topic: &str) -> bool {
    let (pat, multi) = match pattern.strip_suffix("/#") {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let pat: Vec<&str> = pat.split('/').collect();
    let top: Vec<&str> = topic.split('/').collect();
    if top.len() < pat.len() || (!multi && top.len() != pat.len()) {
        return false;
    }
    pat.iter()
        .zip(&top)
        .all(|(p, t)| if *p == "+" { !t.is_empty() } else { p == t })
}

/// The `status/<id>` payload: `{text, fill, shape}` without unset parts.
pub(crate) fn status_json(st: &Status) -> Json {
    let mut m = Map::new();
    if let Some(t) = &st.text {
        m.insert("text".into(), Json::String(t.clone()));
    }
    if let Some(f) = &st.fill {
        m.insert("fill".into(), Json::String(f.clone()));
    }
    if let Some(s) = &st.shape {
        m.insert("shape".into(), Json::String(s.clone()));
    }
    Json::Object(m)
}

/// Forwards the engine's runtime events to the comms hub until the state
/// is dropped or the engine stops.
pub(crate) fn spawn_event_pump(inner: Weak<Inner>, mut rx: broadcast::Receiver<Arc<RuntimeEvent>>) {
    tokio::spawn(async move {
        loop {
            let ev = match rx.recv().await {
                Ok(ev) => ev,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("The editor missed {n} runtime events (debug output too fast).");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            let Some(inner) = inner.upgrade() else { break };
            forward(&inner, &ev);
        }
    });
}

fn forward(inner: &Inner, ev: &RuntimeEvent) {
    let hub = &inner.comms;
    match ev {
        RuntimeEvent::Status { id, status } => {
            let topic = format!("status/{id}");
            if status.is_clear() {
                if hub.retained(&topic).is_some() {
                    hub.publish(&topic, json!({}), false);
                }
            } else {
                hub.publish(&topic, status_json(status), true);
            }
        }
        RuntimeEvent::Debug(v) => {
            let max = inner.engine.settings().debug_max_length;
            hub.publish("debug", encode::encode_debug(v, max), false);
        }
        RuntimeEvent::Log {
            level,
            id,
            type_name,
            name,
            text,
            ..
        } => {
            let level = match level {
                LogLevel::Error => 20,
                LogLevel::Warn => 30,
                LogLevel::Info | LogLevel::Debug => return,
            };
            let z = node_z(inner, id);
            let max = inner.engine.settings().debug_max_length;
            let (msg, format) = encode::encode_value(&redoubt_core::Value::str(text), max);
            let mut m = Map::new();
            m.insert("level".into(), json!(level));
            m.insert("id".into(), json!(id));
            m.insert("type".into(), json!(type_name));
            m.insert("msg".into(), json!(msg));
            if let Some(z) = z {
                m.insert("z".into(), json!(z));
            }
            if !name.is_empty() {
                m.insert("name".into(), json!(name));
            }
            m.insert(
                "timestamp".into(),
                json!(chrono::Utc::now().timestamp_millis()),
            );
            m.insert("format".into(), json!(format));
            hub.publish("debug", Json::Object(m), false);
        }
        RuntimeEvent::FlowsState { state } => {
            hub.publish("notification/runtime-state", json!({"state": state}), true);
        }
    }
}

/// The `z` (tab) of a deployed node, for log messages the sidebar filters
/// by flow.
fn node_z(inner: &Inner, id: &str) -> Option<String> {
    let d = inner.deployed.read();
    d.flows
        .iter()
        .find(|n| n.get("id").and_then(Json::as_str) == Some(id))
        .and_then(|n| n.get("z").and_then(Json::as_str))
        .filter(|z| !z.is_empty())
        .map(str::to_string)
}
