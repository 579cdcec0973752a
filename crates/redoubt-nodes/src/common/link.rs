//! link in, link out and link call (`60-link.js`).
//!
//! Static link out wires are resolved by the engine when it plans the
//! deploy (like Node-RED's `parseConfig`), so `link out` just sends on port
//! 0. `link call` pushes `{id, node}` onto `msg._linkSource`, sends the
//! message to the target `link in`, and waits for a `link out` in return
//! mode to pop it; after `timeout` seconds it reports the error "timeout".

use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeEvent, NodeType, Pending,
    TimerId,
};
use redoubt_core::value::{Array, Object, Value};
use std::collections::HashMap;
use std::time::Duration;

pub(crate) struct LinkInType;
pub(crate) struct LinkOutType;
pub(crate) struct LinkCallType;

struct LinkIn;

impl NodeType for LinkInType {
    fn type_name(&self) -> &'static str {
        "link in"
    }
    fn build(&self, _cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(LinkIn))
    }
}

impl Node for LinkIn {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        cx.send(0, msg);
        Ok(())
    }
}

struct LinkOut {
    ret: bool,
}

impl NodeType for LinkOutType {
    fn type_name(&self) -> &'static str {
        "link out"
    }
    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(LinkOut {
            ret: cfg.str("mode") == "return",
        }))
    }
}

/// The message a link out in return mode hands back to its link call.
pub(crate) struct LinkReturn {
    pub(crate) event: String,
    pub(crate) msg: Msg,
}

impl Node for LinkOut {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        if !self.ret {
            cx.send(0, msg);
            return Ok(());
        }
        let stack = match msg.get("_linkSource") {
            Some(Value::Array(a)) if !a.is_empty() => a,
            _ => {
                cx.warn("No link-call node to return to");
                return Ok(());
            }
        };
        let top = stack.with_mut(|v| v.pop());
        let Some(Value::Object(ev)) = top else {
            cx.warn("No link-call node to return to");
            return Ok(());
        };
        let node = ev.get("node").map(|v| v.to_js_string()).unwrap_or_default();
        let event = ev.get("id").map(|v| v.to_js_string()).unwrap_or_default();
        cx.event_to(
            &node,
            NodeEvent::Custom(Box::new(LinkReturn { event, msg })),
        );
        Ok(())
    }
}

struct LinkCall {
    dynamic: bool,
    target: String,
    timeout: Duration,
    waiting: HashMap<String, (Msg, Pending, TimerId)>,
    by_token: HashMap<u64, String>,
    next: u64,
}

impl NodeType for LinkCallType {
    fn type_name(&self) -> &'static str {
        "link call"
    }
    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let target = match cfg.get("links") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Array(a)) => {
                a.first().and_then(|v| v.as_str()).unwrap_or("").to_string()
            }
            _ => String::new(),
        };
        let t = cfg.str("timeout");
        let secs = if t.trim().is_empty() {
            30.0
        } else {
            t.trim().parse::<f64>().unwrap_or(30.0)
        };
        Ok(Box::new(LinkCall {
            dynamic: cfg.str("linkType") == "dynamic",
            target,
            timeout: Duration::from_secs_f64(secs.max(0.0)),
            waiting: HashMap::new(),
            by_token: HashMap::new(),
            next: 0,
        }))
    }
}

impl LinkCall {
    fn resolve(&self, msg: &Msg, cx: &NodeCtx<'_>) -> Result<String, NodeError> {
        if !self.dynamic {
            return Ok(self.target.clone());
        }
        let t = msg
            .get("target")
            .map(|v| v.to_js_string())
            .unwrap_or_default();
        let found = cx.find_nodes("link in", &t);
        match found.len() {
            1 => Ok(found[0].clone()),
            0 => Err(NodeError::new(format!(
                "target link-in node '{t}' not found"
            ))),
            _ => Err(NodeError::new(format!(
                "Multiple link-in nodes named '{t}' found"
            ))),
        }
    }
}

impl Node for LinkCall {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let target = self.resolve(&msg, cx)?;
        let stack = match msg.get("_linkSource") {
            Some(Value::Array(a)) => a,
            _ => {
                let a = Array::new();
                msg.set("_linkSource", Value::Array(a.clone()));
                a
            }
        };
        let event = format!("{:028x}", rand::random::<u128>() & ((1u128 << 112) - 1));
        let ev = Object::new();
        ev.insert("id", Value::str(&event));
        ev.insert("node", Value::str(cx.id()));
        let saved = msg.deep_clone();
        stack.push(Value::Object(ev));
        self.next += 1;
        let token = self.next;
        let timer = cx.schedule(self.timeout, token);
        let Some(pending) = cx.defer() else {
            return Ok(());
        };
        self.by_token.insert(token, event.clone());
        self.waiting.insert(event, (saved, pending, timer));
        cx.send_to(&target, msg);
        Ok(())
    }

    fn on_event(&mut self, ev: NodeEvent, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let token = match ev {
            NodeEvent::Custom(b) => {
                if let Ok(ret) = b.downcast::<LinkReturn>() {
                    self.returned(*ret, cx);
                }
                return Ok(());
            }
            NodeEvent::Timer(t) => t,
        };
        {
            if let Some(event) = self.by_token.remove(&token)
                && let Some((saved, pending, _)) = self.waiting.remove(&event)
            {
                cx.complete(pending, Ok(()));
                cx.error(NodeError::new("timeout"), Some(saved));
            }
        }
        Ok(())
    }

    fn close(&mut self, _removed: bool, _cx: &mut NodeCtx<'_>) {
        for (_, (_, _pending, timer)) in self.waiting.drain() {
            timer.cancel();
        }
    }
}

impl LinkCall {
    fn returned(&mut self, ret: LinkReturn, cx: &mut NodeCtx<'_>) {
        let msg = ret.msg;
        if let Some(Value::Array(a)) = msg.get("_linkSource")
            && a.is_empty()
        {
            msg.remove("_linkSource");
        }
        match self.waiting.remove(&ret.event) {
            Some((_, pending, timer)) => {
                timer.cancel();
                self.by_token.retain(|_, e| *e != ret.event);
                cx.send(0, msg);
                cx.complete(pending, Ok(()));
            }
            None => cx.send(0, msg),
        }
    }
}
