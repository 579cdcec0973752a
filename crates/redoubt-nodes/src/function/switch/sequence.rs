//! Message sequences in the switch node: holding back the parts of a
//! sequence until its count is known (`tail` rules and "recreate message
//! sequences"), and rebuilding `msg.parts` per output when repairing.

use redoubt_core::Msg;
use redoubt_core::msg::{PARTS, new_msgid};
use redoubt_core::value::Value;
use std::collections::HashMap;

/// Too many messages were held: "too many pending messages in switch node".
#[derive(Debug)]
pub(super) struct Overflow;

#[derive(Default)]
struct Incoming {
    count: Option<Value>,
    msgs: Vec<Msg>,
}

/// Pending sequence state of one switch node.
#[derive(Default)]
pub(super) struct Sequences {
    incoming: HashMap<String, Incoming>,
    outgoing: HashMap<String, Vec<(Vec<bool>, Msg)>>,
    received: HashMap<String, usize>,
    /// Messages held, as Node-RED counts them for `nodeMessageBufferMaxLength`.
    pending: usize,
}

/// `msg.parts`, when it has an `id` and an `index`.
pub(super) fn parts_of(msg: &Msg) -> Option<redoubt_core::value::Object> {
    match msg.get(PARTS) {
        Some(Value::Object(p)) if p.contains_key("id") && p.contains_key("index") => Some(p),
        _ => None,
    }
}

fn group_id(parts: &redoubt_core::value::Object) -> String {
    parts.get("id").unwrap_or_default().to_js_string()
}

/// `count === n` with JS strictness (a number equal to `n`).
fn count_is(count: &Value, n: usize) -> bool {
    matches!(count, Value::Number(c) if *c == n as f64)
}

impl Sequences {
    pub(super) fn clear(&mut self) {
        *self = Sequences::default();
    }

    /// Holds `msg` until its whole sequence arrived; then returns the
    /// sequence (in arrival order) and its count. `Err` when more than
    /// `max` messages are held (everything pending is dropped).
    pub(super) fn hold(
        &mut self,
        msg: Msg,
        max: usize,
    ) -> Result<Option<(Vec<Msg>, Value)>, Overflow> {
        let Some(parts) = parts_of(&msg) else {
            return Ok(None);
        };
        let gid = group_id(&parts);
        let group = self.incoming.entry(gid.clone()).or_default();
        group.msgs.push(msg);
        self.pending += 1;
        if max > 0 && self.pending > max {
            self.clear();
            return Err(Overflow);
        }
        let Some(group) = self.incoming.get_mut(&gid) else {
            return Ok(None);
        };
        if parts.contains_key("count") {
            group.count = parts.get("count");
        }
        let complete = group
            .count
            .as_ref()
            .is_some_and(|c| count_is(c, group.msgs.len()));
        if !complete {
            return Ok(None);
        }
        let Some(group) = self.incoming.remove(&gid) else {
            return Ok(None);
        };
        self.pending = self.pending.saturating_sub(group.msgs.len());
        Ok(group.count.map(|c| (group.msgs, c)))
    }

    /// Collects the routing of one message of a sequence being repaired;
    /// when the last one arrived, returns the messages to send per port.
    /// With `Some(Overflow)` when more than `max` messages are held
    /// afterwards (everything pending is then dropped).
    pub(super) fn collect(
        &mut self,
        onward: Vec<bool>,
        msg: Msg,
        max: usize,
    ) -> (Vec<(usize, Msg)>, Option<Overflow>) {
        let out = self.collect_inner(onward, msg);
        if max > 0 && self.pending > max {
            self.clear();
            return (out, Some(Overflow));
        }
        (out, None)
    }

    fn collect_inner(&mut self, onward: Vec<bool>, msg: Msg) -> Vec<(usize, Msg)> {
        let Some(parts) = parts_of(&msg) else {
            return Vec::new();
        };
        let gid = group_id(&parts);
        let received = self.received.entry(gid.clone()).or_insert(0);
        *received += 1;
        let done = count_is(&parts.get("count").unwrap_or_default(), *received);
        let width = onward.len();
        self.outgoing
            .entry(gid.clone())
            .or_default()
            .push((onward, msg));
        self.pending += 1;
        if !done {
            return Vec::new();
        }
        self.received.remove(&gid);
        let group = self.outgoing.remove(&gid).unwrap_or_default();
        self.pending = self.pending.saturating_sub(width);
        rebuild(group, width)
    }
}

/// New sequences per port: fresh ids, indexes and counts.
fn rebuild(group: Vec<(Vec<bool>, Msg)>, width: usize) -> Vec<(usize, Msg)> {
    let mut counts = vec![0usize; width];
    for (onward, _) in &group {
        for (j, c) in counts.iter_mut().enumerate() {
            if onward.get(j).copied().unwrap_or(false) {
                *c += 1;
            }
        }
    }
    let ids: Vec<String> = (0..width).map(|_| new_msgid()).collect();
    let mut indexes = vec![0usize; width];
    let mut out = Vec::new();
    for (onward, msg) in &group {
        for j in 0..width {
            if !onward.get(j).copied().unwrap_or(false) {
                continue;
            }
            let m = msg.deep_clone();
            if let Some(Value::Object(p)) = m.get(PARTS) {
                p.insert("id", Value::str(&ids[j]));
                p.insert("index", Value::Number(indexes[j] as f64));
                p.insert("count", Value::Number(counts[j] as f64));
            }
            indexes[j] += 1;
            out.push((j, m));
        }
    }
    out
}
