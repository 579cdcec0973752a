//! trigger (`@node-red/nodes/core/function/89-trigger.js`): on a message,
//! sends `op1` at once, then `op2` after `duration` (in `units`), ignoring
//! further messages meanwhile, or extending the wait (`extend`). A
//! duration of 0 waits for a reset; a negative one resends `op1` every
//! `|duration|` until reset.
//!
//! `op1type` / `op2type`: `pay` (the message's payload; for op2 the first
//! message's), `payl` (op2: the latest message received), `nul` (send
//! nothing), or a typed value (`str`, `num`, `json`, `bool`, `date`, `env`,
//! `flow`, `global`, `bin`, ...; `str` values containing `{{` are mustache
//! templates rendered against the message). `bytopic: "topic"` runs one
//! trigger per value of the `topic` property. `msg.reset`, or a payload
//! equal to `reset`, stops the topic's trigger. `overrideDelay` takes
//! `msg.delay` (ms). `outputs: 2` sends op2 on a second output.
//!
//! Node-RED quirks kept: `op1`/`op2` left empty become `"1"`/`"0"`;
//! `overrideDelay: "false"` (a non-empty string) is on; when re-reading
//! op2 from context at the end fails, the topic stays blocked until reset.

use crate::function::delay::timer_duration;
use crate::function::template::mustache::{self, Plain, Template};
use crate::sequence::jsutil::{get_prop, parse_float, parse_float_value, parse_prop};
use indexmap::IndexMap;
use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeEvent, NodeType, Status,
    TimerId,
};
use redoubt_core::propex::Seg;
use redoubt_core::typed::TypedValue;
use redoubt_core::value::Value;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::time::Duration;

pub(crate) struct TriggerType;

/// What to send.
enum Op {
    /// op1: the payload as received; op2: the first message's payload.
    Pay,
    /// op2: the latest message received while waiting.
    Payl,
    /// Nothing.
    Nul,
    /// A mustache template, or why it does not parse.
    Template(Result<Template, String>),
    Value(TypedValue),
}

/// The state of one topic's trigger.
#[derive(Default)]
enum Tout {
    /// Not triggered.
    #[default]
    Idle,
    /// Triggered with a duration of 0: blocked until reset.
    Blocked,
    /// Waiting to send op2. `msg` is the message the timer was armed with;
    /// `extended` when a later message re-armed it.
    Wait {
        token: u64,
        timer: TimerId,
        msg: Msg,
        extended: bool,
    },
    /// Resending `msg` every `every`.
    Loop {
        token: u64,
        timer: TimerId,
        msg: Msg,
        every: Duration,
    },
}

#[derive(Default)]
struct TopicState {
    tout: Tout,
    m2: Value,
}

struct Trigger {
    op1: Op,
    op1_date: bool,
    op2: Op,
    /// op2 is read again when the wait ends (flow, global, date).
    op2_reread: bool,
    /// op2 is read again when an extended wait ends (flow, global).
    op2_reread_extended: bool,
    duration: f64,
    looping: bool,
    extend: bool,
    override_delay: bool,
    reset: String,
    by_topic: bool,
    topic: Vec<Seg>,
    second: bool,
    topics: IndexMap<String, TopicState>,
    npay: HashMap<String, Msg>,
    next_token: u64,
}

/// JavaScript truthiness of a raw config value.
fn truthy(v: Option<&Json>) -> bool {
    match v {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(Json::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        Some(Json::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

fn parse_op(value: &str, ty: &str, field: &str) -> Result<Op, ConfigError> {
    let (value, ty) = match ty {
        "val" if value == "true" || value == "false" => (value, "bool"),
        "val" if value == "null" => (value, "null"),
        "val" => (value, "str"),
        other => (value, other),
    };
    Ok(match ty {
        "pay" => Op::Pay,
        "payl" => Op::Payl,
        "nul" => Op::Nul,
        "null" => Op::Value(TypedValue::Const(Value::Null)),
        "str" if value.contains("{{") => Op::Template(mustache::parse(value).map_err(|e| e.0)),
        "str" | "num" | "json" | "bin" | "date" | "msg" | "flow" | "global" | "env" | "jsonata"
        | "bool" | "re" => Op::Value(TypedValue::compile(ty, value, field)?),
        // evaluateNodeProperty gives other types' values back as they are.
        _ => Op::Value(TypedValue::Const(Value::str(value))),
    })
}

impl NodeType for TriggerType {
    fn type_name(&self) -> &'static str {
        "trigger"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let or = |key: &str, default: &str| {
            let v = cfg.str(key);
            if v.is_empty() { default.to_string() } else { v }
        };
        let (op1type, op2type) = (or("op1type", "str"), or("op2type", "str"));
        let mut op1 = or("op1", "1");
        let mut op2 = or("op2", "0");
        if op1type == "date" && op1 == "1" {
            op1.clear();
        }
        if op2type == "date" && op2 == "0" {
            op2.clear();
        }
        let mut duration = parse_float(&cfg.str("duration"));
        if duration.is_nan() {
            duration = 250.0;
        }
        let looping = duration < 0.0;
        duration = duration.abs()
            * match cfg.str("units").as_str() {
                "s" => 1000.0,
                "min" => 60_000.0,
                "hr" => 3_600_000.0,
                _ => 1.0,
            };
        let extend =
            matches!(cfg.get("extend"), Some(Json::Bool(true))) || cfg.str("extend") == "true";
        Ok(Box::new(Trigger {
            op1: parse_op(&op1, &op1type, "op1")?,
            op1_date: op1type == "date",
            op2: parse_op(&op2, &op2type, "op2")?,
            op2_reread: matches!(op2type.as_str(), "flow" | "global" | "date"),
            op2_reread_extended: matches!(op2type.as_str(), "flow" | "global"),
            duration,
            looping,
            extend: extend && !looping,
            override_delay: truthy(cfg.get("overrideDelay")),
            reset: cfg.str("reset"),
            by_topic: !matches!(cfg.str("bytopic").as_str(), "" | "all"),
            topic: parse_prop("topic", &or("topic", "topic"))?,
            second: cfg.num("outputs").ok().flatten() == Some(2.0),
            topics: IndexMap::new(),
            npay: HashMap::new(),
            next_token: 0,
        }))
    }
}

impl Trigger {
    fn eval(op: &Op, msg: &Msg, cx: &NodeCtx<'_>) -> Result<Value, NodeError> {
        match op {
            Op::Template(Ok(t)) => Ok(Value::from(mustache::render(t, msg.to_value(), &Plain))),
            Op::Template(Err(e)) => Err(NodeError::new(e.clone())),
            Op::Value(v) => v.evaluate(Some(msg), cx.info(), &cx.context()),
            Op::Pay | Op::Payl | Op::Nul => Ok(Value::Undefined),
        }
    }

    fn status(&self, cx: &mut NodeCtx<'_>) {
        let st = match self.topics.len() {
            0 => Status::clear(),
            1 => Status {
                fill: Some("blue".into()),
                shape: Some("dot".into()),
                text: None,
                ..Status::default()
            },
            n => Status::new("blue", "dot", n.to_string()),
        };
        cx.status(st);
    }

    fn is_reset(&self, msg: &Msg) -> bool {
        if msg.object().contains_key("reset") {
            return true;
        }
        if self.reset.is_empty() {
            return false;
        }
        match msg.get("payload") {
            None | Some(Value::Null) | Some(Value::Undefined) => false,
            Some(p) => p.to_js_string() == self.reset,
        }
    }

    fn schedule(&mut self, d: Duration, cx: &mut NodeCtx<'_>) -> (u64, TimerId) {
        self.next_token += 1;
        (self.next_token, cx.schedule(d, self.next_token))
    }

    /// The resend loop's next tick: it waits while the flows are behind
    /// (`NodeCtx::schedule_paced`).
    fn schedule_loop(&mut self, every: Duration, cx: &mut NodeCtx<'_>) -> (u64, TimerId) {
        self.next_token += 1;
        (self.next_token, cx.schedule_paced(every, self.next_token))
    }

    fn cancel(tout: &Tout) {
        if let Tout::Wait { timer, .. } | Tout::Loop { timer, .. } = tout {
            timer.cancel();
        }
    }

    /// The first message of a trigger (or any message while looping).
    fn fire(
        &mut self,
        topic: &str,
        msg: Msg,
        delay: f64,
        cx: &mut NodeCtx<'_>,
    ) -> Result<(), NodeError> {
        let m2 = match &self.op2 {
            Op::Pay => Some(msg.payload().deep_clone()),
            Op::Template(_) | Op::Value(_) => Some(Self::eval(&self.op2, &msg, cx)?),
            Op::Payl | Op::Nul => None,
        };
        if let Op::Template(_) | Op::Value(_) = &self.op1 {
            msg.set("payload", Self::eval(&self.op1, &msg, cx)?);
        }
        let tout = if delay == 0.0 {
            Tout::Blocked
        } else if self.looping {
            if matches!(self.op1, Op::Nul) {
                Tout::Idle
            } else {
                let every = timer_duration(delay);
                let (token, timer) = self.schedule_loop(every, cx);
                Tout::Loop {
                    token,
                    timer,
                    msg: msg.deep_clone(),
                    every,
                }
            }
        } else {
            let (token, timer) = self.schedule(timer_duration(delay), cx);
            Tout::Wait {
                token,
                timer,
                msg: msg.clone(),
                extended: false,
            }
        };
        if let Some(state) = self.topics.get_mut(topic) {
            Self::cancel(&state.tout);
            state.tout = tout;
            if let Some(m2) = m2 {
                state.m2 = m2;
            }
        }
        self.status(cx);
        if !matches!(self.op1, Op::Nul) {
            cx.send(0, msg.deep_clone());
        }
        Ok(())
    }

    /// The end of a wait: sends op2 and forgets the topic.
    fn finish(&mut self, topic: String, msg: Msg, extended: bool, cx: &mut NodeCtx<'_>) {
        let mut out = None;
        if !matches!(self.op2, Op::Nul) {
            let reread = if extended {
                self.op2_reread_extended
            } else {
                self.op2_reread
            };
            if reread {
                match Self::eval(&self.op2, &msg, cx) {
                    Ok(v) => {
                        if let Some(s) = self.topics.get_mut(&topic) {
                            s.m2 = v;
                        }
                    }
                    Err(e) => {
                        // Node-RED leaves the topic triggered: it stays blocked until reset.
                        if let Some(s) = self.topics.get_mut(&topic) {
                            s.tout = Tout::Blocked;
                        }
                        cx.error(e, None);
                        return;
                    }
                }
            }
            let m2 = self
                .topics
                .get(&topic)
                .map(|s| s.m2.clone())
                .unwrap_or_default();
            out = if matches!(self.op2, Op::Payl) && !extended {
                self.npay.remove(&topic)
            } else {
                let m = msg.deep_clone();
                m.set("payload", m2);
                Some(m)
            };
        }
        self.topics.shift_remove(&topic);
        self.status(cx);
        if let Some(m) = out {
            cx.send(if self.second { 1 } else { 0 }, m);
        }
    }
}

impl Node for Trigger {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let t = get_prop(&msg, &self.topic);
        let mut topic = if t.truthy() {
            t.to_js_string()
        } else {
            "_none".to_string()
        };
        if !self.by_topic {
            topic = "_none".into();
        }
        let mut delay = self.duration;
        if self.override_delay
            && let Some(d) = msg.get("delay")
        {
            let n = parse_float_value(&d);
            if !n.is_nan() {
                delay = n;
            }
        }
        self.topics.entry(topic.clone()).or_default();
        if self.is_reset(&msg) {
            if let Some(s) = self.topics.shift_remove(&topic) {
                Self::cancel(&s.tout);
            }
            self.status(cx);
            return Ok(());
        }
        if matches!(self.op2, Op::Payl) {
            self.npay.insert(topic.clone(), msg.deep_clone());
        }
        let idle = self
            .topics
            .get(&topic)
            .is_some_and(|s| matches!(s.tout, Tout::Idle));
        if idle || self.looping {
            return self.fire(&topic, msg, delay, cx);
        }
        if self.extend && delay > 0.0 {
            let (token, timer) = self.schedule(timer_duration(delay), cx);
            if let Some(s) = self.topics.get_mut(&topic) {
                if matches!(self.op2, Op::Payl) {
                    s.m2 = msg.payload().deep_clone();
                }
                Self::cancel(&s.tout);
                s.tout = Tout::Wait {
                    token,
                    timer,
                    msg,
                    extended: true,
                };
            }
        }
        Ok(())
    }

    fn on_event(&mut self, ev: NodeEvent, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let NodeEvent::Timer(token) = ev else {
            return Ok(());
        };
        let found = self.topics.iter().find_map(|(k, s)| match &s.tout {
            Tout::Wait {
                token: t,
                msg,
                extended,
                ..
            } if *t == token => Some((k.clone(), msg.clone(), Some(*extended))),
            Tout::Loop { token: t, msg, .. } if *t == token => Some((k.clone(), msg.clone(), None)),
            _ => None,
        });
        match found {
            Some((topic, msg, Some(extended))) => self.finish(topic, msg, extended, cx),
            Some((topic, msg, None)) => {
                let out = msg.deep_clone();
                if self.op1_date {
                    out.set(
                        "payload",
                        Value::Number(chrono::Utc::now().timestamp_millis() as f64),
                    );
                }
                cx.send(0, out);
                let every = match self.topics.get(&topic).map(|s| &s.tout) {
                    Some(Tout::Loop { every, .. }) => *every,
                    _ => return Ok(()),
                };
                let (token, timer) = self.schedule_loop(every, cx);
                if let Some(s) = self.topics.get_mut(&topic) {
                    s.tout = Tout::Loop {
                        token,
                        timer,
                        msg,
                        every,
                    };
                }
            }
            None => {}
        }
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        for (_, s) in self.topics.drain(..) {
            Self::cancel(&s.tout);
        }
        self.status(cx);
    }
}

#[cfg(test)]
mod tests;
