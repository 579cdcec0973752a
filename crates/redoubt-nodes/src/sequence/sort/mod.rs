//! sort (`@node-red/nodes/core/sequence/18-sort.js`): sorts an array
//! property of a message (`targetType: "msg"`), keyed by the element or a
//! JSONata expression evaluated on each element; or a whole message
//! sequence (`targetType: "seq"`), keyed by a message property or a JSONata
//! expression evaluated on each message, re-numbering `parts.index`.
//!
//! The comparison is Node-RED's: `===` is equal, JavaScript `>` orders,
//! optionally after `Number()` (`as_num`); the sort is stable. Sequences
//! are held until `parts.count` messages arrived; their `done()` completes
//! when they are sent. With `nodeMessageBufferMaxLength` set, the oldest
//! incomplete sequence is dropped when too many messages are held.

use crate::sequence::jsutil::{
    get_prop, js_compare, max_kept_msgs, merge_sort_by, parse_prop, set_prop,
};
use indexmap::IndexMap;
use redoubt_core::Msg;
use redoubt_core::expr::jsonata::{JsonataEnv, JsonataExpr};
use redoubt_core::msg::PARTS;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType, Pending,
};
use redoubt_core::propex::Seg;
use redoubt_core::value::{Array, Value};

pub(crate) struct SortType;

enum Key {
    /// The element itself (array mode) or a message property (sequence mode).
    Prop(Vec<Seg>),
    Exp(JsonataExpr),
}

struct Sort {
    descending: bool,
    as_num: bool,
    target: Option<Vec<Seg>>,
    key: Key,
    pending: IndexMap<String, Group>,
    pending_count: usize,
    next_seq: u64,
}

struct Group {
    count: Value,
    msgs: Vec<(Msg, Option<Pending>)>,
    seq: u64,
}

fn invalid_exp(e: impl std::fmt::Display) -> String {
    format!("Invalid JSONata expression in sort node: {e}")
}

impl NodeType for SortType {
    fn type_name(&self) -> &'static str {
        "sort"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let target_is_prop = cfg.str("targetType") == "msg";
        let (key_type, key_field) = if target_is_prop {
            ("msgKeyType", "msgKey")
        } else {
            ("seqKeyType", "seqKey")
        };
        let key = if cfg.str(key_type) == "jsonata" {
            let src = cfg.str(key_field);
            Key::Exp(
                JsonataExpr::compile(&src)
                    .map_err(|e| ConfigError::field(key_field, invalid_exp(e)))?,
            )
        } else if target_is_prop {
            Key::Prop(Vec::new())
        } else {
            let k = cfg.str("seqKey");
            Key::Prop(parse_prop(
                "seqKey",
                if k.is_empty() { "payload" } else { &k },
            )?)
        };
        let target = if target_is_prop {
            let t = cfg.str("target");
            Some(parse_prop(
                "target",
                if t.is_empty() { "payload" } else { &t },
            )?)
        } else {
            None
        };
        let order = cfg.str("order");
        Ok(Box::new(Sort {
            descending: !(order.is_empty() || order == "ascending"),
            as_num: cfg.bool("as_num"),
            target,
            key,
            pending: IndexMap::new(),
            pending_count: 0,
            next_seq: 0,
        }))
    }
}

/// Evaluates a key expression on one element; objects are evaluated as
/// messages so that legacy `msg.` expressions see them as Node-RED does.
fn eval_key(exp: &JsonataExpr, v: &Value, env: &JsonataEnv) -> Result<Value, NodeError> {
    let r = match v {
        Value::Object(o) => exp.eval_msg_with(Some(&Msg::from_object_raw(o.clone())), env, &[]),
        other => exp.eval_value(other, env, &[]),
    };
    r.map_err(|e| NodeError::new(invalid_exp(e.message)))
}

impl Sort {
    fn conv(&self, v: Value) -> Value {
        if self.as_num {
            Value::Number(v.to_number())
        } else {
            v
        }
    }

    /// Sorts `(key, item)` pairs by key.
    fn sorted<T>(&self, items: Vec<(Value, T)>) -> Vec<T> {
        let keyed: Vec<(Value, T)> = items.into_iter().map(|(k, t)| (self.conv(k), t)).collect();
        let desc = self.descending;
        merge_sort_by(keyed, &mut |a: &(Value, T), b: &(Value, T)| {
            js_compare(&a.0, &b.0, desc)
        })
        .into_iter()
        .map(|(_, t)| t)
        .collect()
    }

    fn sort_property(
        &self,
        msg: Msg,
        target: &[Seg],
        cx: &mut NodeCtx<'_>,
    ) -> Result<(), NodeError> {
        let Value::Array(data) = get_prop(&msg, target) else {
            return Ok(());
        };
        let items = data.to_vec();
        match &self.key {
            Key::Exp(exp) => {
                let env = JsonataEnv::for_node(cx.info(), cx.context());
                let mut keyed = Vec::with_capacity(items.len());
                for it in items {
                    keyed.push((eval_key(exp, &it, &env)?, it));
                }
                set_prop(
                    &msg,
                    target,
                    Value::Array(Array::from_vec(self.sorted(keyed))),
                );
            }
            Key::Prop(_) => {
                let sorted = self.sorted(items.into_iter().map(|v| (v.clone(), v)).collect());
                data.with_mut(|v| *v = sorted);
            }
        }
        cx.send(0, msg);
        Ok(())
    }

    /// Sorts and sends a complete sequence.
    fn send_group(&self, group: Group, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let mut keyed = Vec::with_capacity(group.msgs.len());
        let mut failure = None;
        match &self.key {
            Key::Exp(exp) => {
                let env = JsonataEnv::for_node(cx.info(), cx.context());
                for (m, p) in group.msgs {
                    let k = exp.eval_msg_with(Some(&m), &env, &[]);
                    if let Err(e) = &k {
                        failure.get_or_insert_with(|| NodeError::new(invalid_exp(&e.message)));
                    }
                    keyed.push((k.unwrap_or_default(), (m, p)));
                }
            }
            Key::Prop(segs) => {
                for (m, p) in group.msgs {
                    keyed.push((get_prop(&m, segs), (m, p)));
                }
            }
        }
        if let Some(err) = failure {
            // The last message to arrive carries the error; the others just complete.
            let last = keyed.pop().and_then(|(_, (_, p))| p);
            for (_, (_, p)) in keyed {
                if let Some(p) = p {
                    cx.complete(p, Ok(()));
                }
            }
            return match last {
                Some(p) => {
                    cx.complete(p, Err(err));
                    Ok(())
                }
                None => Err(err),
            };
        }
        for (i, (m, p)) in self.sorted(keyed).into_iter().enumerate() {
            if let Some(Value::Object(parts)) = m.get(PARTS) {
                parts.insert("index", Value::Number(i as f64));
            }
            cx.send(0, m);
            if let Some(p) = p {
                cx.complete(p, Ok(()));
            }
        }
        Ok(())
    }

    /// Drops the oldest incomplete sequence; its last message carries the error.
    fn remove_oldest(&mut self, cx: &mut NodeCtx<'_>) -> Option<NodeError> {
        let oldest = self
            .pending
            .iter()
            .min_by_key(|(_, g)| g.seq)
            .map(|(k, _)| k.clone())?;
        let mut group = self.pending.shift_remove(&oldest)?;
        self.pending_count -= group.msgs.len();
        let err = NodeError::new("Too many pending messages in sort node");
        let last = group.msgs.pop();
        for (_, p) in group.msgs {
            if let Some(p) = p {
                cx.complete(p, Ok(()));
            }
        }
        match last {
            Some((_, Some(p))) => {
                cx.complete(p, Err(err));
                None
            }
            _ => Some(err),
        }
    }
}

impl Node for Sort {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        if let Some(target) = &self.target {
            return self.sort_property(msg.clone(), &target.clone(), cx);
        }
        let Some(Value::Object(parts)) = msg.get(PARTS) else {
            return Ok(());
        };
        if !parts.contains_key("id") || !parts.contains_key("index") {
            return Ok(());
        }
        let gid = parts.get("id").unwrap_or_default().to_js_string();
        let seq = self.next_seq;
        let group = self.pending.entry(gid.clone()).or_insert_with(|| Group {
            count: Value::Undefined,
            msgs: Vec::new(),
            seq,
        });
        if group.seq == seq {
            self.next_seq += 1;
        }
        group.msgs.push((msg.clone(), cx.defer()));
        if parts.contains_key("count") {
            group.count = parts.get("count").unwrap_or_default();
        }
        self.pending_count += 1;
        if redoubt_core::value::strict_eq(&group.count, &Value::Number(group.msgs.len() as f64))
            && let Some(group) = self.pending.shift_remove(&gid)
        {
            self.pending_count -= group.msgs.len();
            return self.send_group(group, cx);
        }
        let max = max_kept_msgs(cx);
        if max > 0
            && self.pending_count > max
            && let Some(err) = self.remove_oldest(cx)
        {
            return Err(err);
        }
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        if !self.pending.is_empty() {
            cx.log("clear pending message in sort node");
        }
        for (_, g) in self.pending.drain(..) {
            for p in g.msgs.into_iter().filter_map(|(_, p)| p) {
                cx.complete(p, Ok(()));
            }
        }
        self.pending_count = 0;
    }
}

#[cfg(test)]
mod tests;
