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

use super::jsutil::max_kept_msgs;
use indexmap::IndexMap;
use redoubt_core::Msg;
use redoubt_core::msg::{MSGID, PARTS};
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeEvent, NodeType, Pending, TimerId};
use redoubt_core::value::{Object, Value, strict_eq};
use serde_json::Value as Json;
use std::time::Duration;

pub(crate) struct BatchType;

type Entry = (Msg, Option<Pending>);

enum Mode {
    Count { count: f64, overlap: usize, honour_parts: bool, eof: bool },
    Interval { every: Option<Duration>, allow_empty: bool, timer: Option<(u64, TimerId)> },
    Concat { topics: Vec<String>, pending: IndexMap<String, IndexMap<String, ConcatGroup>> },
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
                    return Err(ConfigError::field("overlap", format!("Invalid count and overlap: {count} <= {overlap}")));
                }
                Mode::Count { count, overlap: overlap.max(0.0) as usize, honour_parts: cfg.bool("honourParts"), eof: false }
            }
            "interval" => {
                let secs = cfg.num("interval")?.unwrap_or(0.0);
                let every = (secs > 0.0).then(|| Duration::from_secs_f64(secs));
                Mode::Interval { every, allow_empty: cfg.bool("allowEmptySequence"), timer: None }
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
                Mode::Concat { topics, pending: IndexMap::new() }
            }
            other => return Err(ConfigError::field("mode", format!("unexpected mode {other:?}"))),
        };
        Ok(Box::new(Batch { mode, queue: Vec::new(), pending_count: 0, next_token: 0 }))
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
        if let Mode::Interval { every: Some(d), timer, .. } = &mut self.mode {
            if let Some((_, t)) = timer.take() {
                t.cancel();
            }
            *timer = Some((token, cx.schedule(*d, token)));
        }
    }

    fn count_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let Mode::Count { count, overlap, honour_parts, eof } = &mut self.mode else { return Ok(()) };
        if *honour_parts {
            if let Some(Value::Object(parts)) = msg.get(PARTS) {
                if let (Some(Value::Number(i)), Some(Value::Number(c))) = (parts.get("index"), parts.get("count")) {
                    if i + 1.0 == c {
                        *eof = true;
                    }
                }
            }
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
        let Mode::Concat { topics, pending } = &mut self.mode else { return Ok(()) };
        let topic = match msg.get("topic") {
            Some(Value::String(t)) if topics.iter().any(|x| **x == *t) => t.to_string(),
            _ => return Ok(()),
        };
        let parts = match msg.get(PARTS) {
            Some(Value::Object(p)) if ["id", "index", "count"].iter().all(|k| p.contains_key(k)) => p,
            _ => return Err(NodeError::new("no parts property in message")),
        };
        let gid = parts.get("id").unwrap_or_default().to_js_string();
        let groups = pending.entry(topic).or_default();
        let group = groups.entry(gid).or_insert_with(|| ConcatGroup { count: Value::Undefined, msgs: Vec::new() });
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
        let Mode::Concat { topics, pending } = &mut self.mode else { return };
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
        let NodeEvent::Timer(token) = ev else { return Ok(()) };
        let Mode::Interval { timer, allow_empty, .. } = &self.mode else { return Ok(()) };
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
mod tests {
    use crate::testing::{Harness, HarnessOptions};
    use serde_json::{Value as Json, json};
    use std::time::Duration;

    async fn batch(cfg: Json) -> Harness {
        let mut node = cfg;
        node["id"] = json!("b");
        node["type"] = json!("batch");
        node["wires"] = json!([["h"]]);
        Harness::start(json!([node, {"id":"h","type":"helper"}])).await
    }

    /// Receives sequences and checks their parts; returns the payloads.
    async fn recv_seqs(h: &mut Harness, sizes: &[usize]) -> Vec<Vec<Json>> {
        let mut out = Vec::new();
        for &n in sizes {
            let mut seq = Vec::new();
            let mut id = None;
            for i in 0..n {
                let m = h.recv_json("h").await;
                assert_eq!(m["parts"]["index"], json!(i));
                assert_eq!(m["parts"]["count"], json!(n));
                let this = m["parts"]["id"].clone();
                assert_eq!(id.get_or_insert(this.clone()), &this);
                seq.push(m["payload"].clone());
            }
            out.push(seq);
        }
        out
    }

    async fn send_count_inputs(h: &Harness) {
        for i in 0..6 {
            h.send_json("b", json!({"payload":i,"parts":{"count":6,"index":i}})).await;
        }
    }

    /// should create seq. with count
    #[tokio::test(start_paused = true)]
    async fn sequences_by_count() {
        let mut h = batch(json!({"mode":"count","count":2,"overlap":0})).await;
        send_count_inputs(&h).await;
        let s = recv_seqs(&mut h, &[2, 2, 2]).await;
        assert_eq!(s, vec![vec![json!(0), json!(1)], vec![json!(2), json!(3)], vec![json!(4), json!(5)]]);
    }

    /// should create seq. with count and terminate early if parts honoured
    #[tokio::test(start_paused = true)]
    async fn sequences_end_with_honoured_parts() {
        let mut h = batch(json!({"mode":"count","count":4,"overlap":0,"honourParts":true})).await;
        send_count_inputs(&h).await;
        let s = recv_seqs(&mut h, &[4, 2]).await;
        assert_eq!(s[1], vec![json!(4), json!(5)]);
    }

    /// should create seq. with count and overlap
    #[tokio::test(start_paused = true)]
    async fn sequences_with_overlap() {
        let mut h = batch(json!({"mode":"count","count":3,"overlap":2})).await;
        send_count_inputs(&h).await;
        let s = recv_seqs(&mut h, &[3, 3, 3, 3]).await;
        assert_eq!(s[3], vec![json!(3), json!(4), json!(5)]);
        assert_eq!(s[1], vec![json!(1), json!(2), json!(3)]);
    }

    /// should handle reset
    #[tokio::test(start_paused = true)]
    async fn count_reset_drops_held_messages() {
        let mut h = batch(json!({"mode":"count","count":2,"overlap":0})).await;
        for m in [json!({"payload":0}), json!({"payload":1}), json!({"payload":2}), json!({"payload":3,"reset":true})] {
            h.send_json("b", m).await;
        }
        h.send_json("b", json!({"payload":4})).await;
        h.send_json("b", json!({"payload":5})).await;
        let s = recv_seqs(&mut h, &[2, 2]).await;
        assert_eq!(s[1], vec![json!(4), json!(5)]);
    }

    /// should create seq. with interval & send empty seq
    #[tokio::test(start_paused = true)]
    async fn sequences_by_interval_with_empty() {
        let mut h = batch(json!({"mode":"interval","interval":1,"allowEmptySequence":true})).await;
        let start = tokio::time::Instant::now();
        let m = h.recv_json("h").await;
        assert_eq!(m["payload"], json!(null));
        assert_eq!(m["parts"]["count"], json!(1));
        assert!(start.elapsed() >= Duration::from_millis(1000));
        h.send_json("b", json!({"payload":"a"})).await;
        h.send_json("b", json!({"payload":"b"})).await;
        assert_eq!(recv_seqs(&mut h, &[2]).await[0], vec![json!("a"), json!("b")]);
    }

    /// should create seq. with interval & not send empty seq
    #[tokio::test(start_paused = true)]
    async fn empty_intervals_send_nothing() {
        let mut h = batch(json!({"mode":"interval","interval":0.5,"allowEmptySequence":false})).await;
        assert!(h.nothing("h", Duration::from_millis(1200)).await);
        h.send_json("b", json!({"payload":0})).await;
        assert_eq!(recv_seqs(&mut h, &[1]).await[0], vec![json!(0)]);
    }

    /// should concat two seq. (mixed)
    #[tokio::test(start_paused = true)]
    async fn concatenates_sequences_in_topic_order() {
        let mut h = batch(json!({"mode":"concat","topics":[{"topic":"TA"},{"topic":"TB"}]})).await;
        for (t, p, i, c) in [("TA", 2, 0, 2), ("TB", 0, 0, 2), ("TA", 3, 1, 2), ("TB", 1, 1, 2)] {
            h.send_json("b", json!({"topic":t,"payload":p,"parts":{"id":t,"index":i,"count":c}})).await;
        }
        assert_eq!(recv_seqs(&mut h, &[4]).await[0], vec![json!(2), json!(3), json!(0), json!(1)]);
    }

    /// should concat same seq.
    #[tokio::test(start_paused = true)]
    async fn concatenates_a_repeated_topic() {
        let mut h = batch(json!({"mode":"concat","topics":[{"topic":"TA"},{"topic":"TA"}]})).await;
        for (p, i) in [(9, 0), (8, 1)] {
            h.send_json("b", json!({"topic":"TA","payload":p,"parts":{"id":"TA","index":i,"count":2}})).await;
        }
        assert_eq!(recv_seqs(&mut h, &[4]).await[0], vec![json!(9), json!(8), json!(9), json!(8)]);
    }

    /// should handle too many pending messages
    #[tokio::test(start_paused = true)]
    async fn too_many_pending_messages() {
        let mut opts = HarnessOptions::default();
        opts.settings.raw.insert("nodeMessageBufferMaxLength".into(), json!(2));
        let mut h = Harness::start_with(
            json!([
                {"id":"b","type":"batch","mode":"count","count":5,"overlap":0,"wires":[["h"]]},
                {"id":"c","type":"catch","scope":["b"],"uncaught":false,"wires":[["e"]]},
                {"id":"h","type":"helper"},{"id":"e","type":"helper"}
            ]),
            opts,
        )
        .await;
        for i in 0..3 {
            h.send_json("b", json!({"payload":i})).await;
        }
        let e = h.recv_json("e").await;
        assert_eq!(e["error"]["message"], json!("too many pending messages in batch node"));
        assert_eq!(e["payload"], json!(2));
    }

    /// Invalid count and overlap
    #[tokio::test(start_paused = true)]
    async fn overlap_must_be_below_count() {
        let h = batch(json!({"mode":"count","count":2,"overlap":2})).await;
        assert!(!h.engine.input("b", redoubt_core::Msg::new()).await);
    }

    /// should call done() when message is sent (mode: count)
    #[tokio::test(start_paused = true)]
    async fn done_waits_for_the_sequence() {
        let mut h = Harness::start(json!([
            {"id":"b","type":"batch","mode":"count","count":2,"overlap":0,"wires":[[]]},
            {"id":"c","type":"complete","scope":["b"],"uncaught":false,"wires":[["h"]]},
            {"id":"h","type":"helper"}
        ]))
        .await;
        h.send_json("b", json!({"payload":0})).await;
        assert!(h.nothing("h", Duration::from_millis(100)).await);
        h.send_json("b", json!({"payload":1})).await;
        assert_eq!(h.recv_json("h").await["payload"], json!(0));
        assert_eq!(h.recv_json("h").await["payload"], json!(1));
    }
}
