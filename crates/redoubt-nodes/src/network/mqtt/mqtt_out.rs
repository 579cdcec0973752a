//! mqtt out (`10-mqtt.js`, `MQTTOutNode`): publishes `msg.payload` to
//! `msg.topic` (or the node's topic), with the node's or the message's QoS
//! and retain flag and, on MQTT 5, `responseTopic`, `correlationData`,
//! `contentType`, `messageExpiryInterval`, `userProperties` and
//! `payloadFormatIndicator`. `msg.action` `connect`/`disconnect` control
//! the broker connection.
//!
//! Deviation: a message published while the connection is down waits for
//! the reconnect instead of being dropped, and `done()` is called once it
//! is queued (Node-RED waits for the broker's acknowledgement).

use super::actions;
use super::conn::{Broker, disconnected};
use super::convert;
use super::settings::{int, user_props};
use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use redoubt_core::value::{Object, Value};
use std::sync::Arc;

pub(crate) struct MqttOutType;

struct MqttOut {
    broker: Arc<Broker>,
    topic: String,
    /// The node's QoS; `None` (empty) lets `msg.qos` decide.
    qos: Option<u8>,
    /// The node's retain; `None` (empty) lets `msg.retain` decide.
    retain: Option<bool>,
    response_topic: String,
    correlation: String,
    content_type: String,
    expiry: Option<i64>,
    user: Vec<(String, String)>,
    id: String,
}

impl NodeType for MqttOutType {
    fn type_name(&self) -> &'static str {
        "mqtt out"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let broker = actions::lookup(cx)?;
        let qos = int(cfg.get("qos"))
            .filter(|q| (0..=2).contains(q))
            .map(|q| q as u8);
        // As `node.retain || msg.retain`: any non-empty string ("false"
        // too) or `true` decides; boolean false or empty defers to the msg.
        let retain = match cfg.get("retain") {
            Some(serde_json::Value::Bool(true)) => Some(true),
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s == "true"),
            _ => None,
        };
        Ok(Box::new(MqttOut {
            broker,
            topic: cfg.str("topic"),
            qos,
            retain,
            response_topic: cfg.str("respTopic"),
            correlation: cfg.str("correl"),
            content_type: cfg.str("contentType"),
            expiry: int(cfg.get("expiry")).filter(|v| *v != 0),
            user: user_props(cfg.get("userProps")),
            id: cfg.id.to_string(),
        }))
    }
}

impl MqttOut {
    /// `doPublish`: the node's settings override the message's.
    fn apply(&self, msg: &Msg) {
        let msg_qos = msg
            .get("qos")
            .map(|q| q.to_number())
            .filter(|q| [0.0, 1.0, 2.0].contains(q));
        if !self.topic.is_empty() {
            msg.set("topic", Value::str(&self.topic));
        }
        let qos = self
            .qos
            .map(f64::from)
            .or(msg_qos.filter(|q| *q != 0.0))
            .unwrap_or(0.0);
        msg.set("qos", Value::Number(qos));
        let retain = self.retain.unwrap_or_else(|| {
            matches!(msg.get("retain"), Some(Value::Bool(true)))
                || matches!(msg.get("retain"), Some(Value::String(s)) if s.as_ref() == "true")
        });
        msg.set("retain", Value::Bool(retain));
        if self.broker.is_v5() {
            if !self.user.is_empty() {
                let o = Object::new();
                for (k, v) in &self.user {
                    o.insert(k.as_str(), Value::str(v));
                }
                msg.set("userProperties", Value::Object(o));
            }
            if !self.response_topic.is_empty() {
                msg.set("responseTopic", Value::str(&self.response_topic));
            }
            if !self.correlation.is_empty() {
                msg.set("correlationData", Value::str(&self.correlation));
            }
            if !self.content_type.is_empty() {
                msg.set("contentType", Value::str(&self.content_type));
            }
            if let Some(e) = self.expiry {
                msg.set("messageExpiryInterval", Value::Number(e as f64));
            }
        }
    }
}

impl Node for MqttOut {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        cx.status(disconnected());
        self.broker.register(&self.id, cx.handle());
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        if let Some(a) = msg.get("action").filter(|a| a.truthy()) {
            return match a.as_str() {
                Some("connect") => actions::connect(&self.broker, &msg),
                Some("disconnect") => {
                    actions::disconnect(&self.broker);
                    Ok(())
                }
                _ => Err(NodeError::new("Invalid action specified")),
            };
        }
        self.apply(&msg);
        if !msg.object().contains_key("payload") {
            return Ok(());
        }
        match convert::to_publish(&msg, self.broker.is_v5()) {
            Some(m) => self.broker.publish(&m),
            None => {
                cx.warn("Invalid topic specified");
                Ok(())
            }
        }
    }

    fn close(&mut self, removed: bool, cx: &mut NodeCtx<'_>) {
        self.broker.deregister(&self.id, removed);
        cx.status(disconnected());
    }
}
