//! join (`@node-red/nodes/core/sequence/17-split.js`, `JoinNode`): turns a
//! sequence back into one message.
//!
//! - `auto`: the group, type, count, separator and key come from
//!   `msg.parts` as split (or any node building it) set them.
//! - `custom` (manual): the node's `build` (`string`, `buffer`, `array`,
//!   `object`, `merged`) with `count`, `timeout` (seconds) and
//!   `msg.complete`; `accumulate` keeps object groups after each send.
//! - `reduce`: a JSONata expression folds the sequence (see [`reduce`]).
//!
//! `msg.reset` drops a group, `msg.restartTimeout` restarts its timer. The
//! `done()` of every message of a group completes when the group is sent
//! or reset, as in Node-RED.
//!
//! Deviations: a buffer group that is kept by `accumulate` keeps its parts
//! (Node-RED replaces them by the joined Buffer and then fails on the next
//! message); array indexes that are not non-negative integers are counted
//! but their values dropped; a reset of all groups in auto mode completes
//! their messages (Node-RED forgets them); messages whose property cannot
//! be joined into a buffer complete once, with the error.

mod group;
mod reduce;

use super::jsutil::{get_prop, get_prop_strict, parse_prop};
use super::split::{parse_bin_array, unescape};
use group::{Group, Info, Payload, add_to_group, joined_value};
use indexmap::IndexMap;
use redoubt_core::Msg;
use redoubt_core::msg::PARTS;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeEvent, NodeType,
};
use redoubt_core::propex::{self, Seg};
use redoubt_core::value::{Object, Value};
use reduce::Reduce;
use std::time::Duration;

pub(crate) struct JoinType;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Auto,
    Custom,
}

struct Join {
    mode: Mode,
    property: String,
    segs: Vec<Seg>,
    /// `propertyType: "full"`: join whole messages.
    full: bool,
    key: String,
    key_segs: Vec<Seg>,
    timer: Option<Duration>,
    count: f64,
    /// `count` is exactly `""`: then `msg.parts.count` (and id) is used in manual mode.
    count_from_parts: bool,
    joiner: Value,
    build: String,
    accumulate: bool,
    use_parts: bool,
    inflight: IndexMap<String, Group>,
    next_token: u64,
    /// `mode: "reduce"`.
    reduce: Option<Reduce>,
}

impl NodeType for JoinType {
    fn type_name(&self) -> &'static str {
        "join"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let mode_str = cfg.str("mode");
        let (mode, reduce) = match mode_str.as_str() {
            "" | "auto" => (Mode::Auto, None),
            "custom" => (Mode::Custom, None),
            "reduce" => (Mode::Custom, Some(Reduce::build(cfg)?)),
            other => {
                return Err(ConfigError::field(
                    "mode",
                    format!("unknown mode {other:?}"),
                ));
            }
        };
        let full = cfg.str("propertyType") == "full";
        let mut property = cfg.str("property");
        if property.is_empty() || full {
            property = "payload".into();
        }
        let mut key = cfg.str("key");
        if key.is_empty() {
            key = "topic".into();
        }
        let timeout = if mode == Mode::Auto {
            0.0
        } else {
            cfg.num("timeout")?.unwrap_or(0.0) * 1000.0
        };
        let joiner = cfg.str("joiner");
        let joiner = match cfg.str("joinerType").as_str() {
            "bin" => {
                let text = if joiner.is_empty() { "[]" } else { &joiner };
                Value::Buffer(parse_bin_array("joiner", text)?.0.into())
            }
            _ => Value::from(unescape(&joiner)),
        };
        let mut build = cfg.str("build");
        if build.is_empty() {
            build = "array".into();
        }
        Ok(Box::new(Join {
            mode,
            segs: parse_prop("property", &property)?,
            property,
            full,
            key_segs: parse_prop("key", &key)?,
            key,
            timer: (timeout > 0.0).then(|| Duration::from_secs_f64(timeout / 1000.0)),
            count: cfg.num("count")?.unwrap_or(0.0),
            count_from_parts: cfg.get("count") == Some(&serde_json::Value::String(String::new())),
            joiner,
            build,
            accumulate: cfg.get("accumulate") == Some(&serde_json::Value::Bool(true)),
            use_parts: cfg.get("useparts").is_none() || cfg.bool("useparts"),
            inflight: IndexMap::new(),
            next_token: 0,
            reduce,
        }))
    }
}

/// JavaScript `typeof`.
fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Undefined => "undefined",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        _ => "object",
    }
}

fn get_of(v: &Option<Value>, key: &str) -> Value {
    match v {
        Some(Value::Object(o)) => o.get(key).unwrap_or_default(),
        _ => Value::Undefined,
    }
}

fn has_of(v: &Option<Value>, key: &str) -> bool {
    matches!(v, Some(Value::Object(o)) if o.contains_key(key))
}

impl Join {
    fn has(msg: &Msg, key: &str) -> bool {
        msg.object().contains_key(key)
    }

    fn reset_all(&mut self, cx: &mut NodeCtx<'_>) {
        for (_, g) in self.inflight.drain(..) {
            if let Some((_, t)) = &g.timer {
                t.cancel();
            }
            for p in g.dones {
                cx.complete(p, Ok(()));
            }
        }
    }

    fn start_timer(&mut self, part_id: &str, cx: &mut NodeCtx<'_>) {
        let Some(d) = self.timer else { return };
        self.next_token += 1;
        let token = self.next_token;
        if let Some(g) = self.inflight.get_mut(part_id) {
            if let Some((_, t)) = g.timer.take() {
                t.cancel();
            }
            g.timer = Some((token, cx.schedule(d, token)));
        }
    }

    /// Reads the group information from `msg.parts` (auto) or the node (manual).
    fn info(&self, msg: &Msg, property: Value) -> Result<Info, NodeError> {
        let parts = msg.get(PARTS);
        if self.mode == Mode::Auto {
            let prop = get_of(&parts, "property");
            let path = if prop.truthy() {
                prop.to_js_string()
            } else {
                "payload".into()
            };
            let property = msg.get_path(propex::strip_msg(&path))?.unwrap_or_default();
            return Ok(Info {
                part_id: get_of(&parts, "id").to_js_string(),
                ty: get_of(&parts, "type"),
                target: get_of(&parts, "count"),
                join_char: get_of(&parts, "ch"),
                key: get_of(&parts, "key"),
                array_len: get_of(&parts, "len"),
                index: get_of(&parts, "index"),
                property,
            });
        }
        let mut info = Info {
            part_id: "_".into(),
            ty: Value::str(&self.build),
            target: Value::Number(self.count),
            join_char: self.joiner.clone(),
            key: Value::Undefined,
            array_len: Value::Undefined,
            index: Value::Undefined,
            property,
        };
        if self.count_from_parts && parts.is_some() {
            let c = get_of(&parts, "count");
            info.target = if c.truthy() { c } else { Value::Number(0.0) };
            if has_of(&parts, "id") {
                info.part_id = get_of(&parts, "id").to_js_string();
            }
        }
        if self.build == "object" {
            info.key = get_prop(msg, &self.key_segs);
        }
        Ok(info)
    }

    fn new_group(&self, msg: &Msg, info: &Info) -> Group {
        let ty = info.ty.as_str().unwrap_or("");
        let is_obj = ty == "object" || ty == "merged";
        Group {
            ty: if is_obj {
                Value::str("object")
            } else {
                info.ty.clone()
            },
            payload: if is_obj {
                Payload::Map(Object::new())
            } else {
                Payload::List(Vec::new())
            },
            current: 0,
            target: info.target.clone(),
            join_char: info.join_char.clone(),
            array_len: info.array_len.clone(),
            msg: msg.deep_clone(),
            prop: if self.mode == Mode::Auto {
                get_of(&msg.get(PARTS), "property")
            } else {
                Value::str(&self.property)
            },
            timer: None,
            dones: Vec::new(),
        }
    }

    fn handle(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let property = if self.full {
            msg.to_value()
        } else {
            match get_prop_strict(&msg, &self.segs) {
                Ok(v) => v,
                Err(()) => {
                    cx.warn(&format!("Message property {} not found", self.property));
                    return Ok(());
                }
            }
        };
        if let Some(r) = self.reduce.as_mut() {
            return r.input(msg, cx);
        }
        if self.mode == Mode::Auto && !has_of(&msg.get(PARTS), "id") {
            if Self::has(&msg, "reset") {
                self.reset_all(cx);
            } else {
                cx.warn("Message missing msg.parts property - cannot join in 'auto' mode");
            }
            return Ok(());
        }
        if self.mode == Mode::Custom && Self::has(&msg, PARTS) && !self.use_parts {
            let parts = msg.get(PARTS);
            if has_of(&parts, "parts") {
                let o = Object::new();
                o.insert("parts", get_of(&parts, "parts"));
                msg.set(PARTS, Value::Object(o));
            } else {
                msg.remove(PARTS);
            }
        }
        let info = self.info(&msg, property)?;
        let id = info.part_id.clone();
        if Self::has(&msg, "restartTimeout") && self.inflight.contains_key(&id) {
            self.start_timer(&id, cx);
        }
        if Self::has(&msg, "reset") {
            if let Some(g) = self.inflight.shift_remove(&id) {
                if let Some((_, t)) = &g.timer {
                    t.cancel();
                }
                for p in g.dones {
                    cx.complete(p, Ok(()));
                }
            }
            return Ok(());
        }
        let ty = info.ty.as_str().unwrap_or("").to_string();
        if ty == "object" && (info.key.is_nullish() || info.key.as_str() == Some("")) {
            if self.mode == Mode::Auto {
                cx.warn("Message missing 'msg.parts.key' property - cannot add to object");
            } else if Self::has(&msg, "complete") {
                if let Some(g) = self.inflight.get(&id) {
                    g.msg
                        .set("complete", msg.get("complete").unwrap_or_default());
                    self.complete_send(&id, cx)?;
                }
            } else {
                cx.warn(&format!(
                    "Message missing key property 'msg.{}' - cannot add to object",
                    self.key
                ));
            }
            return Ok(());
        }
        if !self.inflight.contains_key(&id) {
            let g = self.new_group(&msg, &info);
            self.inflight.insert(id.clone(), g);
            self.start_timer(&id, cx);
        }
        if ty == "buffer"
            && !info.property.is_undefined()
            && !matches!(
                info.property,
                Value::Buffer(_) | Value::String(_) | Value::Array(_)
            )
        {
            return Err(NodeError::new(format!(
                "Cannot join {} to buffer",
                type_of(&info.property)
            )));
        }
        let pending = cx.defer();
        let complete = Self::has(&msg, "complete");
        let Some(group) = self.inflight.get_mut(&id) else {
            return Ok(());
        };
        group.dones.extend(pending);
        add_to_group(group, &ty, &info, complete, cx);
        for (k, v) in msg.object().entries() {
            group.msg.set(&k, v);
        }
        let mut target = group.target.clone();
        if Self::has(&msg, PARTS) {
            if !target.truthy() {
                target = get_of(&msg.get(PARTS), "count");
            }
            group.target = target.clone();
        }
        let t = target.to_number();
        if (t > 0.0 && group.current as f64 >= t) || complete {
            self.complete_send(&id, cx)?;
        }
        Ok(())
    }

    /// `completeSend`: builds the joined message and sends it.
    fn complete_send(&mut self, id: &str, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let Some(group) = self.inflight.get_mut(id) else {
            return Ok(());
        };
        if let Some((_, t)) = group.timer.take() {
            t.cancel();
        }
        let keep = self.mode == Mode::Custom
            && self.accumulate
            && !group.msg.object().contains_key("complete");
        let joined = joined_value(group);
        let mut out = group.msg.clone();
        let prop = if group.prop.truthy() {
            group.prop.to_js_string()
        } else {
            "payload".into()
        };
        let result = match joined {
            Ok(v) => {
                if self.full && group.ty.as_str() != Some("string") {
                    out = out.deep_clone();
                    group.msg = out.clone();
                }
                out.set_path(propex::strip_msg(&prop), v)
                    .map_err(NodeError::from)
            }
            Err(e) => Err(e),
        };
        let dones = std::mem::take(&mut group.dones);
        if !keep {
            self.inflight.shift_remove(id);
        }
        if result.is_ok() {
            let parts = out.get(PARTS);
            if has_of(&parts, "parts") {
                out.set(PARTS, get_of(&parts, "parts"));
            } else {
                out.remove(PARTS);
            }
            out.remove("complete");
            cx.send(0, out.deep_clone());
        }
        for p in dones {
            cx.complete(p, Ok(()));
        }
        result
    }
}

impl Node for Join {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        self.handle(msg, cx)
    }

    fn on_event(&mut self, ev: NodeEvent, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let NodeEvent::Timer(token) = ev else {
            return Ok(());
        };
        let id = self
            .inflight
            .iter()
            .find(|(_, g)| matches!(g.timer, Some((t, _)) if t == token))
            .map(|(k, _)| k.clone());
        if let Some(id) = id {
            if let Some(g) = self.inflight.get_mut(&id) {
                g.timer = None;
            }
            if let Err(e) = self.complete_send(&id, cx) {
                cx.error(e, None);
            }
        }
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        self.reset_all(cx);
        if let Some(r) = self.reduce.as_mut() {
            r.close(cx);
        }
    }
}

#[cfg(test)]
mod tests;
