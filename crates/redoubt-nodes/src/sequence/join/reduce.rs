//! join's reduce mode (`reduceMessage` in `17-split.js`): messages are held
//! per `msg.parts.id` until `msg.parts.count` of them arrived, sorted by
//! `parts.index` (reversed with `reduceRight`), and folded with the
//! `reduceExp` JSONata expression, which sees the message as input and
//! `$A` (accumulator, starting at `reduceInit`), `$I` (the part index) and
//! `$N` (the count). The optional `reduceFixup` then sees `$A` and `$N`.
//! The last message of the sorted group is sent with the result as
//! `msg.payload`, its `parts` untouched. Messages without `parts` pass.

use crate::sequence::jsutil::{js_gt, max_kept_msgs, merge_sort_by};
use indexmap::IndexMap;
use redoubt_core::Msg;
use redoubt_core::expr::jsonata::{JsonataEnv, JsonataExpr};
use redoubt_core::msg::{MSGID, PARTS};
use redoubt_core::node::{ConfigError, NodeConfig, NodeCtx, NodeError, Pending};
use redoubt_core::typed::TypedValue;
use redoubt_core::value::{Object, Value, strict_eq};
use std::cmp::Ordering;

pub(super) struct Reduce {
    exp: JsonataExpr,
    fixup: Option<JsonataExpr>,
    init: TypedValue,
    right: bool,
    pending: IndexMap<String, Group>,
    pending_count: usize,
}

struct Group {
    count: Value,
    msgs: Vec<(Msg, Option<Pending>)>,
}

fn invalid(e: impl std::fmt::Display) -> String {
    format!("Invalid JSONata expression: {e}")
}

impl Reduce {
    pub(super) fn build(cfg: &NodeConfig) -> Result<Reduce, ConfigError> {
        let exp_src = cfg.str("reduceExp");
        let exp = JsonataExpr::compile(&exp_src)
            .map_err(|e| ConfigError::field("reduceExp", invalid(e)))?;
        let fixup_src = cfg.str("reduceFixup");
        let fixup = if fixup_src.is_empty() {
            None
        } else {
            Some(
                JsonataExpr::compile(&fixup_src)
                    .map_err(|e| ConfigError::field("reduceFixup", invalid(e)))?,
            )
        };
        let init = TypedValue::compile(
            &cfg.str("reduceInitType"),
            &cfg.str("reduceInit"),
            "reduceInit",
        )?;
        Ok(Reduce {
            exp,
            fixup,
            init,
            right: cfg.bool("reduceRight"),
            pending: IndexMap::new(),
            pending_count: 0,
        })
    }

    pub(super) fn input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let parts = match msg.get(PARTS) {
            None => {
                cx.send(0, msg);
                return Ok(());
            }
            Some(Value::Object(o)) => o,
            Some(_) => Object::new(),
        };
        let gid = parts.get("id").unwrap_or_default().to_js_string();
        let has_count = parts.contains_key("count");
        let group = self.pending.entry(gid.clone()).or_insert_with(|| Group {
            count: Value::Undefined,
            msgs: Vec::new(),
        });
        if has_count && group.count.is_undefined() {
            group.count = parts.get("count").unwrap_or_default();
        }
        group.msgs.push((msg.clone(), cx.defer()));
        self.pending_count += 1;
        if strict_eq(&Value::Number(group.msgs.len() as f64), &group.count)
            && let Some(group) = self.pending.shift_remove(&gid)
        {
            self.pending_count -= group.msgs.len();
            return self.reduce_and_send(group, cx);
        }
        let max = max_kept_msgs(cx);
        if max > 0 && self.pending_count > max {
            let id = msg.get(MSGID).unwrap_or_default();
            let mut current = None;
            for (_, g) in self.pending.drain(..) {
                for (m, p) in g.msgs {
                    if strict_eq(&m.get(MSGID).unwrap_or_default(), &id) {
                        current = current.or(p);
                    } else if let Some(p) = p {
                        cx.complete(p, Ok(()));
                    }
                }
            }
            self.pending_count = 0;
            let err = NodeError::new("too many pending messages in join node");
            match current {
                Some(p) => cx.complete(p, Err(err)),
                None => return Err(err),
            }
        }
        Ok(())
    }

    /// Folds a complete group and sends the result; the message that
    /// completed the group (the last to arrive) carries any error.
    fn reduce_and_send(&mut self, group: Group, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let mut dones: Vec<Option<Pending>> = Vec::new();
        let mut msgs = Vec::new();
        for (m, p) in group.msgs {
            msgs.push(m);
            dones.push(p);
        }
        let last_done = dones.pop().flatten();
        let result = self.fold(msgs, &group.count, cx);
        for p in dones.into_iter().flatten() {
            cx.complete(p, Ok(()));
        }
        match (last_done, result) {
            (Some(p), r) => cx.complete(p, r),
            (None, r) => return r,
        }
        Ok(())
    }

    fn fold(&self, msgs: Vec<Msg>, count: &Value, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let empty = Msg::from_object_raw(Object::new());
        let init = self
            .init
            .evaluate(Some(&empty), cx.info(), &cx.context())
            .map_err(|e| NodeError::new(invalid(e.message)))?;
        let index = |m: &Msg| match m.get(PARTS) {
            Some(Value::Object(o)) => o.get("index").unwrap_or_default(),
            _ => Value::Undefined,
        };
        let right = self.right;
        let sorted = merge_sort_by(msgs, &mut |x: &Msg, y: &Msg| {
            let (ix, iy) = (index(x), index(y));
            let o = if js_gt(&iy, &ix) {
                Ordering::Less
            } else if js_gt(&ix, &iy) {
                Ordering::Greater
            } else {
                Ordering::Equal
            };
            if right { o.reverse() } else { o }
        });
        let env = JsonataEnv::for_node(cx.info(), cx.context());
        let mut acc = init;
        for m in &sorted {
            let vars = [("I", index(m)), ("N", count.clone()), ("A", acc)];
            acc = self
                .exp
                .eval_msg_with(Some(m), &env, &vars)
                .map_err(|e| NodeError::new(e.message))?;
        }
        if let Some(f) = &self.fixup {
            let vars = [("N", count.clone()), ("A", acc)];
            acc = f
                .eval_msg_with(Some(&empty), &env, &vars)
                .map_err(|e| NodeError::new(e.message))?;
        }
        if let Some(last) = sorted.last() {
            last.set("payload", acc);
            cx.send(0, last.clone());
        }
        Ok(())
    }

    pub(super) fn close(&mut self, cx: &mut NodeCtx<'_>) {
        for (_, g) in self.pending.drain(..) {
            for p in g.msgs.into_iter().filter_map(|(_, p)| p) {
                cx.complete(p, Ok(()));
            }
        }
        self.pending_count = 0;
    }
}
