//! The delay node's queueing modes: rate limit (queue or drop), burst, and
//! the per-topic `queue` / `timed` modes, all driven by one repeating
//! interval timer (`setInterval` in Node-RED).

use super::{Delay, Kind, Queued, blue, timer_duration};
use crate::sequence::jsutil::{max_kept_msgs, parse_float_value};
use redoubt_core::Msg;
use redoubt_core::node::{NodeCtx, NodeError, Status};
use redoubt_core::value::{Value, strict_eq};

impl Delay {
    pub(super) fn start_interval(&mut self, cx: &mut NodeCtx<'_>) {
        self.stop_interval();
        let token = self.token();
        self.interval = Some((token, cx.schedule(timer_duration(self.rate), token)));
    }

    pub(super) fn stop_interval(&mut self) {
        if let Some((_, t)) = self.interval.take() {
            t.cancel();
        }
    }

    /// `msg.rate` when `allowrate` is set and it is numeric.
    fn msg_rate(&self, msg: &Msg) -> Option<f64> {
        if !self.allow_rate {
            return None;
        }
        let n = parse_float_value(&msg.get("rate")?);
        (!n.is_nan()).then_some(n)
    }

    fn complete(q: Queued, cx: &mut NodeCtx<'_>) {
        if let Some(p) = q.pending {
            cx.complete(p, Ok(()));
        }
    }

    /// One beat of the interval.
    pub(super) fn tick(&mut self, cx: &mut NodeCtx<'_>) {
        if self.kind == Kind::Rate || self.rate_ticks {
            // `sendMsgFromBuffer`: the interval stops once the queue is empty.
            if let Some(q) = self.buffer.pop_front() {
                self.start_interval(cx);
                if q.msg.object().len() > 1 {
                    cx.send(0, q.msg.clone());
                }
                Self::complete(q, cx);
            }
        } else {
            self.start_interval(cx);
            let n = if self.kind == Kind::Queue {
                1
            } else {
                self.buffer.len()
            };
            for _ in 0..n {
                if let Some(q) = self.buffer.pop_front() {
                    cx.send(0, q.msg.clone());
                    Self::complete(q, cx);
                }
            }
        }
        self.report_depth(cx);
    }

    pub(super) fn rate_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) {
        if !self.drop {
            self.rate_queue(&msg, cx);
        } else if !Self::has(&msg, "reset") {
            if let Some(r) = self.msg_rate(&msg) {
                self.rate = r;
            }
            let now = tokio::time::Instant::now();
            let due = match self.last_sent {
                None => true,
                Some(t) => now.duration_since(t).as_secs_f64() * 1000.0 > self.rate,
            };
            if due {
                self.last_sent = Some(now);
                cx.send(0, msg.clone());
            } else if self.outputs2 {
                cx.send(1, msg.clone());
            }
        }
        if Self::has(&msg, "reset") {
            if msg.get("flush").is_none_or(|f| f.is_undefined()) {
                self.stop_interval();
                self.last_sent = None;
            }
            for q in self.buffer.drain(..) {
                if let Some(p) = q.pending {
                    cx.complete(p, Ok(()));
                }
            }
            self.rate = self.fixed_rate;
            cx.status(blue("ring", 0));
        }
    }

    /// Rate limiting with a queue.
    fn rate_queue(&mut self, msg: &Msg, cx: &mut NodeCtx<'_>) {
        let m = msg.deep_clone();
        m.remove("flush");
        if m.object().len() > 1 {
            if self.interval.is_some() {
                if let Some(r) = self.msg_rate(&m)
                    && r != self.rate
                {
                    self.rate = r;
                    self.start_interval(cx);
                }
                let max = max_kept_msgs(cx);
                if max > 0 && self.buffer.len() >= max {
                    for q in self.buffer.drain(..) {
                        if let Some(p) = q.pending {
                            cx.complete(p, Ok(()));
                        }
                    }
                    cx.error(
                        NodeError::new("too many pending messages in delay node"),
                        Some(m),
                    );
                } else {
                    let q = Queued {
                        msg: m,
                        pending: cx.defer(),
                    };
                    if matches!(msg.get("toFront"), Some(Value::Bool(true))) {
                        self.buffer.push_front(q);
                    } else {
                        self.buffer.push_back(q);
                    }
                    self.report_depth(cx);
                }
            } else {
                if let Some(r) = self.msg_rate(&m) {
                    self.rate = r;
                }
                if Self::has(msg, "reset") {
                    if Self::has(msg, "flush") {
                        let pending = cx.defer();
                        self.buffer.push_back(Queued { msg: m, pending });
                    }
                } else {
                    cx.send(0, m);
                }
                self.report_depth(cx);
                self.start_interval(cx);
            }
        }
        if let Some(flush) = msg.get("flush") {
            let mut len = self.buffer.len();
            if let Value::Number(n) = flush {
                len = n.floor().clamp(0.0, len as f64) as usize;
            }
            if len == 0 {
                self.stop_interval();
            } else {
                for _ in 0..len {
                    let Some(q) = self.buffer.pop_front() else {
                        break;
                    };
                    q.msg.remove("flush");
                    q.msg.remove("reset");
                    if q.msg.object().len() > 1 {
                        cx.send(0, q.msg.clone());
                    }
                    Self::complete(q, cx);
                }
                self.start_interval(cx);
            }
            cx.status(blue("dot", self.buffer.len()));
        }
    }

    pub(super) fn burst_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) {
        if Self::has(&msg, "reset") {
            for (_, t) in self.burst_timers.drain(..) {
                t.cancel();
            }
            self.inflight = 0.0;
            cx.status(Status::new("green", "ring", ""));
            return;
        }
        if self.inflight < self.burst {
            self.inflight += 1.0;
            cx.send(0, msg);
            let token = self.token();
            let t = cx.schedule(timer_duration(self.burst_period), token);
            self.burst_timers.push((token, t));
        } else {
            if self.outputs2 {
                cx.send(1, msg);
            }
            cx.status(Status::new("red", "dot", ""));
        }
    }

    pub(super) fn queue_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) {
        if let Some(r) = self.msg_rate(&msg)
            && r != self.rate
        {
            self.rate = r;
            self.rate_ticks = true;
            self.start_interval(cx);
        }
        if !Self::has(&msg, "topic") {
            msg.set("topic", Value::str("_none_"));
        }
        let topic = msg.get("topic").unwrap_or_default();
        let hit = self
            .buffer
            .iter()
            .position(|q| strict_eq(&q.msg.get("topic").unwrap_or_default(), &topic));
        let q = Queued {
            msg: msg.clone(),
            pending: cx.defer(),
        };
        match hit {
            Some(i) => {
                let old = std::mem::replace(&mut self.buffer[i], q);
                if self.outputs2 {
                    cx.send(1, old.msg.clone());
                }
                Self::complete(old, cx);
            }
            None => {
                self.buffer.push_back(q);
                self.report_depth(cx);
            }
        }
        if let Some(flush) = msg.get("flush") {
            let mut len = self.buffer.len();
            if let Value::Number(n) = flush {
                len = n.floor().clamp(0.0, len as f64) as usize;
            }
            for _ in 0..len {
                let Some(q) = self.buffer.pop_front() else {
                    break;
                };
                q.msg.remove("flush");
                q.msg.remove("reset");
                if q.msg.object().len() > 2 {
                    cx.send(0, q.msg.clone());
                }
                Self::complete(q, cx);
            }
            cx.status(Status::clear());
        }
        if Self::has(&msg, "reset") {
            for q in self.buffer.drain(..) {
                if let Some(p) = q.pending {
                    cx.complete(p, Ok(()));
                }
            }
            self.rate = self.fixed_rate;
            cx.status(Status::text("reset"));
        }
    }
}
