//! batch (`@node-red/nodes/core/sequence/19-batch.js`): builds message
//! sequences from a stream of messages.
//!
//! - `count`: every `count` messages form a sequence; with `overlap` the
//!   last `overlap` messages start the next one (sent as copies);
//!   `honourParts` also ends a sequence at the last part of an incoming one.
//! - `interval`: everything received during `interval` seconds; with
//!   `allowEmptySequence` an empty interval sends `{payload: null}` as a
//!   sequence of one.
//! - `concat`: once the first sequence of every topic in `topics` is
//!   complete, they are sent together in the order of `topics`.
//!
//! Sent messages get `parts.id` (the `_msgid` of the sequence's first
//! message), `parts.index` and `parts.count`, in their existing `parts`
//! when they have one. `msg.reset` drops what is held. A message's
//! `done()` completes when it leaves (or is dropped).
//!
//! Deviations: a message in `concat` mode whose topic is not listed
//! completes (Node-RED never calls its done); groups dropped because a
//! topic is listed twice complete their messages.

use crate::sequence::jsutil::max_kept_msgs;
use indexmap::IndexMap;
use redoubt_core::Msg;
use redoubt_core::msg::{MSGID, PARTS};
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeEvent, NodeType, Pending,
    TimerId,
};
use redoubt_core::value::{Object, Value, strict_eq};
use serde_json::Value as Json;
use std::time::Duration;

pub(crate) struct BatchType;

type Entry = (Msg, Option<Pending>);

enum Mode {
    Count {
        count: f64,
        overlap: usize,
        honour_parts: bool,
        eof: bool,
    },
    Interval {
        every: Option<Duration>,
        allow_empty: bool,
        timer: Option<(u64, TimerId)>,
    },
    Concat {
        topics: Vec<String>,
        pending: IndexMap<String, IndexMap<String, ConcatGroup>>,
    },
}

struct ConcatGroup {
    count: Value,
    msgs: Vec<Entry>,
}

struct Batch {
    mode: Mode,
    /// Messages held in count and interval modes.
    queue: Vec<Entry>,
    pending_count: usize,
    next_token: u64,
}

const TOO_MANY: &str = "too many pending messages in batch node";

impl NodeType for BatchType {
    fn type_name(&self) -> &'static str {
        "batch"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let mode_name = cfg.str("mode");
        let mode = match mode_name.as_str() {
            "" | "count" => {
                let count = cfg.num("count")?.filter(|c| *c != 0.0).unwrap_or(1.0);
                let overlap = cfg.num("overlap")?.unwrap_or(0.0);
                if count <= overlap {
                    return Err(ConfigError::field(
                        "overlap",
                        format!("Invalid count and overlap: {count} <= {overlap}"),
                    ));
                }
                Mode::Count {
                    count,
                    overlap: overlap.max(0.0) as usize,
                    honour_parts: cfg.bool("honourParts"),
                    eof: false,
                }
            }
            "interval" => {
                let secs = cfg.num("interval")?.unwrap_or(0.0);
                let every = (secs > 0.0).then(|| Duration::from_secs_f64(secs));
                Mode::Interval {
                    every,
                    allow_empty: cfg.bool("allowEmptySequence"),
                    timer: None,
                }
            }
            "concat" => {
                let topics = match cfg.get("topics") {
                    Some(Json::Array(items)) => items
                        .iter()
                        .map(|t| match t.get("topic") {
                            Some(Json::String(s)) => s.clone(),
                            Some(other) => other.to_string(),
                            None => "undefined".into(),
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                Mode::Concat {
                    topics,
                    pending: IndexMap::new(),
                }
            }
            other => {
                return Err(ConfigError::field(
                    "mode",
                    format!("unexpected mode {other:?}"),
                ));
            }
        };
        Ok(Box::new(Batch {
            mode,
            queue: Vec::new(),
            pending_count: 0,
            next_token: 0,
        }))
    }
}

/// `send_msgs`: numbers the messages as one sequence and sends them.
fn send_sequence(msgs: &[Msg], clone: bool, cx: &mut NodeCtx<'_>) {
    let Some(first) = msgs.first() else { return };
    let id = first.get(MSGID).unwrap_or_default();
    for (i, m) in msgs.iter().enumerate() {
        let m = if clone { m.deep_clone() } else { m.clone() };
        let parts = match m.get(PARTS) {
            Some(Value::Object(o)) => o,
            _ => {
                let o = Object::new();
                m.set(PARTS, Value::Object(o.clone()));
                o
            }
        };
        parts.insert("id", id.clone());
        parts.insert("index", Value::Number(i as f64));
        parts.insert("count", Value::Number(msgs.len() as f64));
        cx.send(0, m);
    }
}

fn complete_all(entries: Vec<Entry>, cx: &mut NodeCtx<'_>) {
    for p in entries.into_iter().filter_map(|(_, p)| p) {
        cx.complete(p, Ok(()));
    }
}

impl Batch {
    /// Drops the held queue when it outgrew `nodeMessageBufferMaxLength`;
    /// the newest message carries the error.
    fn check_overflow(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let max = max_kept_msgs(cx);
        if max == 0 || self.pending_count <= max {
            return Ok(());
        }
        let last = self.queue.pop();
        complete_all(std::mem::take(&mut self.queue), cx);
        self.pending_count = 0;
        match last {
            Some((_, Some(p))) => cx.complete(p, Err(NodeError::new(TOO_MANY))),
            _ => return Err(NodeError::new(TOO_MANY)),
        }
        Ok(())
    }

    fn schedule_interval(&mut self, cx: &mut NodeCtx<'_>) {
        self.next_token += 1;
        let token = self.next_token;
        if let Mode::Interval {
            every: Some(d),
            timer,
            ..
        } = &mut self.mode
        {
            if let Some((_, t)) = timer.take() {
                t.cancel();
            }
            *timer = Some((token, cx.schedule(*d, token)));
        }
    }

    fn count_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let Mode::Count {
            count,
            overlap,
            honour_parts,
            eof,
        } = &mut self.mode
        else {
            return Ok(());
        };
        if *honour_parts
            && let Some(Value::Object(parts)) = msg.get(PARTS)
            && let (Some(Value::Number(i)), Some(Value::Number(c))) =
                (parts.get("index"), parts.get("count"))
            && i + 1.0 == c
        {
            *eof = true;
        }
        self.queue.push((msg, cx.defer()));
        self.pending_count += 1;
        if self.queue.len() as f64 == *count || *eof {
            let msgs: Vec<Msg> = self.queue.iter().map(|(m, _)| m.clone()).collect();
            send_sequence(&msgs, *overlap > 0, cx);
            let keep_from = self.queue.len().saturating_sub(*overlap);
            let kept = self.queue.split_off(keep_from);
            complete_all(std::mem::replace(&mut self.queue, kept), cx);
            self.pending_count = 0;
            *eof = false;
        }
        self.check_overflow(cx)
    }

    fn concat_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let Mode::Concat { topics, pending } = &mut self.mode else {
            return Ok(());
        };
        let topic = match msg.get("topic") {
            Some(Value::String(t)) if topics.iter().any(|x| **x == *t) => t.to_string(),
            _ => return Ok(()),
        };
        let parts = match msg.get(PARTS) {
            Some(Value::Object(p))
                if ["id", "index", "count"].iter().all(|k| p.contains_key(k)) =>
            {
                p
            }
            _ => return Err(NodeError::new("no parts property in message")),
        };
        let gid = parts.get("id").unwrap_or_default().to_js_string();
        let groups = pending.entry(topic).or_default();
        let group = groups.entry(gid).or_insert_with(|| ConcatGroup {
            count: Value::Undefined,
            msgs: Vec::new(),
        });
        group.msgs.push((msg, cx.defer()));
        if group.count.is_undefined() {
            group.count = parts.get("count").unwrap_or_default();
        }
        self.pending_count += 1;
        let max = max_kept_msgs(cx);
        if max > 0 && self.pending_count > max {
            // Node-RED compares `msg.id`, which no message has: every held message fails.
            for (_, groups) in pending.drain(..) {
                for (_, g) in groups {
                    for p in g.msgs.into_iter().filter_map(|(_, p)| p) {
                        cx.complete(p, Err(NodeError::new(TOO_MANY)));
                    }
                }
            }
            self.pending_count = 0;
        }
        self.try_concat(cx);
        Ok(())
    }

    fn try_concat(&mut self, cx: &mut NodeCtx<'_>) {
        let Mode::Concat { topics, pending } = &mut self.mode else {
            return;
        };
        let complete = |t: &String| {
            pending
                .get(t)
                .and_then(|groups| groups.first())
                .is_some_and(|(_, g)| strict_eq(&g.count, &Value::Number(g.msgs.len() as f64)))
        };
        if topics.is_empty() || !topics.iter().all(complete) {
            return;
        }
        let mut msgs = Vec::new();
        for t in topics.iter() {
            if let Some((_, g)) = pending.get(t).and_then(|groups| groups.first()) {
                msgs.extend(g.msgs.iter().map(|(m, _)| m.clone()));
            }
        }
        let mut removed = Vec::new();
        for t in topics.iter() {
            if let Some(groups) = pending.get_mut(t) {
                removed.extend(groups.shift_remove_index(0).map(|(_, g)| g));
            }
        }
        send_sequence(&msgs, true, cx);
        for g in removed {
            self.pending_count = self.pending_count.saturating_sub(g.msgs.len());
            complete_all(g.msgs, cx);
        }
    }

    fn reset(&mut self, cx: &mut NodeCtx<'_>) {
        complete_all(std::mem::take(&mut self.queue), cx);
        if let Mode::Concat { pending, .. } = &mut self.mode {
            for (_, groups) in pending.drain(..) {
                for (_, g) in groups {
                    complete_all(g.msgs, cx);
                }
            }
        }
        self.pending_count = 0;
    }
}

impl Node for Batch {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        self.schedule_interval(cx);
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        if msg.object().contains_key("reset") {
            self.reset(cx);
            if matches!(self.mode, Mode::Interval { .. }) {
                self.schedule_interval(cx);
            }
            return Ok(());
        }
        match self.mode {
            Mode::Count { .. } => self.count_input(msg, cx),
            Mode::Interval { .. } => {
                self.queue.push((msg, cx.defer()));
                self.pending_count += 1;
                self.check_overflow(cx)
            }
            Mode::Concat { .. } => self.concat_input(msg, cx),
        }
    }

    fn on_event(&mut self, ev: NodeEvent, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let NodeEvent::Timer(token) = ev else {
            return Ok(());
        };
        let Mode::Interval {
            timer, allow_empty, ..
        } = &self.mode
        else {
            return Ok(());
        };
        if !matches!(timer, Some((t, _)) if *t == token) {
            return Ok(());
        }
        let allow_empty = *allow_empty;
        self.schedule_interval(cx);
        if self.queue.is_empty() {
            if allow_empty {
                let parts = Object::new();
                parts.insert("id", Value::String(redoubt_core::msg::new_msgid().into()));
                parts.insert("index", Value::Number(0.0));
                parts.insert("count", Value::Number(1.0));
                let m = Msg::with_payload(Value::Null);
                m.set(PARTS, Value::Object(parts));
                cx.send(0, m);
            }
        } else {
            let entries = std::mem::take(&mut self.queue);
            let msgs: Vec<Msg> = entries.iter().map(|(m, _)| m.clone()).collect();
            send_sequence(&msgs, false, cx);
            complete_all(entries, cx);
        }
        self.pending_count = 0;
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        self.reset(cx);
    }
}

#[cfg(test)]
mod tests;
