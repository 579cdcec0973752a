//! mqtt in (`10-mqtt.js`, `MQTTInNode`): subscribes to a topic (wildcards
//! and `$share/…` allowed) and sends each received message, with its v5
//! properties, converted by `datatype` (auto-detect, auto, utf8, buffer,
//! json, base64). With `inputs: 1` the node is dynamic: `msg.action`
//! `connect`, `disconnect`, `subscribe`, `unsubscribe`, `getSubscriptions`.

use super::actions;
use super::client::SubOptions;
use super::conn::{Broker, Sink, disconnected};
use super::convert::Datatype;
use super::settings::int;
use super::topic;
use indexmap::IndexMap;
use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use redoubt_core::value::{Object, Value};
use std::sync::Arc;

pub(crate) struct MqttInType;

struct MqttIn {
    broker: Arc<Broker>,
    /// The static topic (empty when dynamic).
    topic: String,
    opts: SubOptions,
    datatype: Datatype,
    dynamic: bool,
    /// Dynamic subscriptions by topic, as `msg.subscriptions` lists them.
    subs: IndexMap<String, Object>,
    id: String,
}

fn flag(v: Option<&serde_json::Value>) -> Option<bool> {
    match v? {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) if s == "true" => Some(true),
        serde_json::Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

impl NodeType for MqttInType {
    fn type_name(&self) -> &'static str {
        "mqtt in"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let broker = actions::lookup(cx)?;
        let dynamic = int(cfg.get("inputs")) == Some(1);
        let topic = cfg.str("topic");
        if !dynamic {
            if topic.is_empty() {
                return Err(ConfigError::field("topic", "topic not defined"));
            }
            if !topic::valid_filter(&topic) {
                return Err(ConfigError::field(
                    "topic",
                    format!("Invalid topic specified: {topic:?}"),
                ));
            }
        }
        let qos = int(cfg.get("qos"))
            .filter(|q| (0..=2).contains(q))
            .unwrap_or(2) as u8;
        let dt = cfg.str("datatype");
        let datatype = Datatype::parse(&dt)
            .ok_or_else(|| ConfigError::field("datatype", format!("unknown output type {dt:?}")))?;
        let opts = SubOptions {
            qos,
            nl: flag(cfg.get("nl")).unwrap_or(false),
            rap: flag(cfg.get("rap")).unwrap_or(false),
            rh: int(cfg.get("rh"))
                .filter(|v| (0..=2).contains(v))
                .unwrap_or(0) as u8,
        };
        Ok(Box::new(MqttIn {
            broker,
            topic: if dynamic { String::new() } else { topic },
            opts,
            datatype,
            dynamic,
            subs: IndexMap::new(),
            id: cfg.id.to_string(),
        }))
    }
}

/// One entry of `msg.topic` for subscribe/unsubscribe.
fn entries(v: Option<Value>) -> Result<Vec<Object>, NodeError> {
    let bad = || NodeError::new("msg.topic is missing or invalid");
    let list = match v {
        Some(Value::Array(a)) => a.to_vec(),
        Some(v @ (Value::String(_) | Value::Object(_))) => vec![v],
        _ => return Err(bad()),
    };
    let mut out = Vec::new();
    for item in list {
        let o = match item {
            Value::String(s) => {
                let o = Object::new();
                o.insert("topic", Value::String(s));
                o
            }
            v @ Value::Object(_) => match v.deep_clone() {
                Value::Object(o) => o,
                _ => return Err(bad()),
            },
            _ => return Err(NodeError::new("Invalid topic specified")),
        };
        match o.get("topic") {
            Some(Value::String(t)) if !t.is_empty() && topic::valid_filter(&t) => out.push(o),
            _ => return Err(NodeError::new("Invalid topic specified")),
        }
    }
    Ok(out)
}

fn num(o: &Object, k: &str) -> Option<i64> {
    match o.get(k)? {
        Value::Number(n) => Some(n.trunc() as i64),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|n| n.trunc() as i64),
        _ => None,
    }
}

impl MqttIn {
    fn sink(&self, cx: &NodeCtx<'_>, datatype: Datatype) -> Sink {
        Sink {
            node: cx.handle(),
            datatype,
        }
    }

    fn list(&self) -> Value {
        Value::from(
            self.subs
                .values()
                .map(|o| Value::Object(o.clone()))
                .collect::<Vec<_>>(),
        )
    }

    fn subscribe(&mut self, msg: &Msg, cx: &NodeCtx<'_>) -> Result<(), NodeError> {
        let v5 = self.broker.is_v5();
        for sub in entries(msg.get("topic"))? {
            let t = sub
                .get("topic")
                .map(|v| v.to_js_string())
                .unwrap_or_default();
            if self.subs.shift_remove(&t).is_some() {
                self.broker.unsubscribe(&t, &self.id, true);
            }
            let qos = num(&sub, "qos")
                .filter(|q| (0..=2).contains(q))
                .unwrap_or(2);
            sub.insert("qos", Value::Number(qos as f64));
            let mut opts = SubOptions {
                qos: qos as u8,
                nl: false,
                rap: true,
                rh: 0,
            };
            if v5 {
                let rh = num(&sub, "rh").filter(|v| (0..=2).contains(v)).unwrap_or(0);
                sub.insert("rh", Value::Number(rh as f64));
                let rap = match sub.get("rap") {
                    Some(Value::Bool(b)) => b,
                    Some(Value::String(s)) => s.as_ref() != "false",
                    _ => true,
                };
                sub.insert("rap", Value::Bool(rap));
                opts.rh = rh as u8;
                opts.rap = rap;
                match sub.get("nl") {
                    Some(Value::Bool(b)) => opts.nl = b,
                    Some(Value::String(s)) if matches!(s.as_ref(), "true" | "false") => {
                        opts.nl = s.as_ref() == "true";
                        sub.insert("nl", Value::Bool(opts.nl));
                    }
                    _ => {
                        sub.remove("nl");
                    }
                }
            }
            let dt = match sub.get("datatype") {
                Some(Value::String(s)) => Datatype::parse(&s).unwrap_or(self.datatype),
                _ => self.datatype,
            };
            self.broker.subscribe(&t, &self.id, opts, self.sink(cx, dt));
            self.subs.insert(t, sub);
        }
        msg.set("subscriptions", self.list());
        Ok(())
    }

    fn unsubscribe(&mut self, msg: &Msg) -> Result<(), NodeError> {
        let topics: Vec<String> = match msg.get("topic") {
            Some(Value::Bool(true)) => self.subs.keys().cloned().collect(),
            other => entries(other)?
                .iter()
                .map(|o| o.get("topic").map(|v| v.to_js_string()).unwrap_or_default())
                .collect(),
        };
        for t in topics {
            self.broker.unsubscribe(&t, &self.id, true);
            self.subs.shift_remove(&t);
        }
        msg.set("subscriptions", self.list());
        Ok(())
    }
}

impl Node for MqttIn {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        cx.status(disconnected());
        if !self.dynamic {
            let sink = self.sink(cx, self.datatype);
            self.broker
                .subscribe(&self.topic, &self.id, self.opts, sink);
        }
        self.broker.register(&self.id, cx.handle());
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let action = msg
            .get("action")
            .and_then(|a| a.as_str().map(str::to_string));
        match action.as_deref() {
            Some("connect") => actions::connect(&self.broker, &msg),
            Some("disconnect") => {
                actions::disconnect(&self.broker);
                Ok(())
            }
            Some("subscribe") => self.subscribe(&msg, cx),
            Some("unsubscribe") => self.unsubscribe(&msg),
            Some("getSubscriptions") => {
                msg.set("topic", Value::str("subscriptions"));
                msg.set("payload", self.list());
                cx.send(0, msg);
                Ok(())
            }
            _ => Err(NodeError::new("Invalid action specified")),
        }
    }

    fn close(&mut self, removed: bool, cx: &mut NodeCtx<'_>) {
        if self.dynamic {
            for t in std::mem::take(&mut self.subs).keys() {
                self.broker.unsubscribe(t, &self.id, removed);
            }
        } else {
            self.broker.unsubscribe(&self.topic, &self.id, removed);
        }
        self.broker.deregister(&self.id, removed);
        cx.status(disconnected());
    }
}
