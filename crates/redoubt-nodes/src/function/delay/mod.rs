//! delay (`@node-red/nodes/core/function/89-delay.js`).
//!
//! `pauseType` selects the behaviour:
//! - `delay`: every message waits `timeout` (`timeoutUnits`);
//! - `delayv`: the same, but `msg.delay` (milliseconds) overrides it;
//! - `random`: a random wait between `randomFirst` and `randomLast`;
//! - `rate`: at most `rate` messages per `nbRateUnits` `rateUnits`, the rest
//!   queued (or, with `drop`, discarded or sent on a second output when
//!   `outputs` is 2); `allowrate` lets `msg.rate` (ms) change the spacing;
//! - `burst`: up to `rate` messages per period pass, the rest are dropped;
//! - `queue` / `timed`: keep the latest message per `msg.topic` and send
//!   one topic (`queue`) or all of them (`timed`) every period.
//!
//! `msg.reset` empties what is waiting, `msg.flush` sends it now (all, or
//! the first `n` when it is a number); `msg.toFront` queues at the head in
//! rate mode. Status shows how many messages wait. A message's `done()`
//! completes when it leaves the node.
//!
//! Deviations: messages dropped by a reset in rate mode, or skipped by a
//! flush in queue mode, complete (Node-RED leaves them pending); a
//! numeric flush in queue mode never flushes more than is queued (Node-RED
//! throws); timers shorter than 1 ms run after 1 ms, as in Node.js.

mod rate;

use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeEvent, NodeType, Pending,
    Status, TimerId,
};
use redoubt_core::value::Value;
use std::collections::VecDeque;
use std::time::Duration;

pub(crate) struct DelayType;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Delay,
    Delayv,
    Random,
    Rate,
    Burst,
    Queue,
    Timed,
}

/// A message waiting for its own timer (delay, delayv, random).
struct Delayed {
    token: u64,
    timer: TimerId,
    msg: Msg,
    pending: Option<Pending>,
}

/// A queued message (rate, queue, timed).
struct Queued {
    msg: Msg,
    pending: Option<Pending>,
}

struct Delay {
    kind: Kind,
    /// The fixed delay, in ms.
    timeout: f64,
    random_first: f64,
    random_diff: f64,
    /// Milliseconds between messages (changed by `msg.rate`).
    rate: f64,
    fixed_rate: f64,
    /// burst: messages per period, and the period in ms.
    burst: f64,
    burst_period: f64,
    drop: bool,
    allow_rate: bool,
    outputs2: bool,
    next_token: u64,
    list: Vec<Delayed>,
    buffer: VecDeque<Queued>,
    interval: Option<(u64, TimerId)>,
    /// queue/timed after `msg.rate` changed the spacing: Node-RED then ticks
    /// like rate mode (stopping when the queue is empty).
    rate_ticks: bool,
    last_sent: Option<tokio::time::Instant>,
    busy: Option<(u64, TimerId)>,
    inflight: f64,
    burst_timers: Vec<(u64, TimerId)>,
}

const MINUTE: f64 = 60_000.0;

/// Milliseconds per unit of the editor's unit fields (seconds by default).
fn unit_ms(unit: &str) -> f64 {
    match unit {
        "milliseconds" => 1.0,
        "minutes" | "minute" => MINUTE,
        "hours" | "hour" => 60.0 * MINUTE,
        "days" | "day" => 24.0 * 60.0 * MINUTE,
        _ => 1000.0,
    }
}

/// A Node.js timer delay: `NaN`, below 1 or above 2^31-1 ms becomes 1 ms.
pub(super) fn timer_duration(ms: f64) -> Duration {
    if !(1.0..=2_147_483_647.0).contains(&ms) {
        Duration::from_millis(1)
    } else {
        Duration::from_secs_f64(ms / 1000.0)
    }
}

fn num(cfg: &NodeConfig, key: &str) -> f64 {
    Value::from(cfg.str(key)).to_number()
}

impl NodeType for DelayType {
    fn type_name(&self) -> &'static str {
        "delay"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let kind = match cfg.str("pauseType").as_str() {
            "delay" | "" => Kind::Delay,
            "delayv" => Kind::Delayv,
            "random" => Kind::Random,
            "rate" => Kind::Rate,
            "burst" => Kind::Burst,
            "queue" => Kind::Queue,
            "timed" => Kind::Timed,
            other => {
                return Err(ConfigError::field(
                    "pauseType",
                    format!("unknown pause type {other:?}"),
                ));
            }
        };
        let timeout = num(cfg, "timeout") * unit_ms(&cfg.str("timeoutUnits"));
        let rate_unit = match cfg.str("rateUnits").as_str() {
            "minute" => MINUTE,
            "hour" => 60.0 * MINUTE,
            "day" => 24.0 * 60.0 * MINUTE,
            _ => 1000.0,
        };
        let nb = num(cfg, "nbRateUnits");
        let per = num(cfg, "rate");
        let rate = rate_unit / per * if nb > 0.0 { nb } else { 1.0 };
        let random_unit = unit_ms(&cfg.str("randomUnits"));
        let random_first = num(cfg, "randomFirst") * random_unit;
        let random_last = num(cfg, "randomLast") * random_unit;
        Ok(Box::new(Delay {
            kind,
            timeout,
            random_first,
            random_diff: random_last - random_first,
            rate,
            fixed_rate: rate,
            burst: per,
            burst_period: nb * rate_unit,
            drop: cfg.bool("drop"),
            allow_rate: cfg.bool("allowrate"),
            outputs2: cfg.num("outputs").ok().flatten() == Some(2.0),
            next_token: 0,
            list: Vec::new(),
            buffer: VecDeque::new(),
            interval: None,
            rate_ticks: false,
            last_sent: None,
            busy: None,
            inflight: 0.0,
            burst_timers: Vec::new(),
        }))
    }
}

fn blue(shape: &str, n: usize) -> Status {
    Status::new("blue", shape, n.to_string())
}

impl Delay {
    fn token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    fn has(msg: &Msg, key: &str) -> bool {
        msg.object().contains_key(key)
    }

    /// The wait for one message of the delay, delayv and random modes.
    fn wait_for(&self, msg: &Msg) -> f64 {
        match self.kind {
            Kind::Delayv => {
                let mut d = self.timeout;
                if let Some(v) = msg.get("delay") {
                    let n = crate::sequence::jsutil::parse_float_value(&v);
                    if !n.is_nan() {
                        d = n;
                    }
                }
                d.max(0.0)
            }
            Kind::Random => self.random_first + self.random_diff * rand::random::<f64>(),
            _ => self.timeout,
        }
    }

    /// Whether this mode shows the waiting count after each change.
    fn shows_count(&self) -> bool {
        match self.kind {
            Kind::Delay => self.timeout > 1000.0,
            Kind::Random => self.timeout >= 1000.0,
            _ => true,
        }
    }

    fn delay_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) {
        let wait = self.wait_for(&msg);
        let flush_only = Self::has(&msg, "flush") && msg.object().len() == 2;
        if !flush_only {
            let token = self.token();
            let timer = cx.schedule(timer_duration(wait), token);
            let pending = cx.defer();
            self.list.push(Delayed {
                token,
                timer,
                msg: msg.clone(),
                pending,
            });
        }
        let reset = Self::has(&msg, "reset");
        if reset {
            self.clear_list(true, cx);
        }
        if Self::has(&msg, "flush") && !(reset && self.kind == Kind::Delay) {
            self.flush_list(&msg.get("flush").unwrap_or_default(), cx);
        }
        let status_after = match self.kind {
            Kind::Delay => !reset && !Self::has(&msg, "flush") && self.shows_count(),
            _ => self.shows_count(),
        };
        if status_after {
            cx.status(blue("dot", self.list.len()));
        }
    }

    /// `clearDelayList`: drops every waiting message (their `done()` completes).
    fn clear_list(&mut self, show: bool, cx: &mut NodeCtx<'_>) {
        for d in self.list.drain(..) {
            d.timer.cancel();
            if let Some(p) = d.pending {
                cx.complete(p, Ok(()));
            }
        }
        cx.status(if show {
            blue("ring", 0)
        } else {
            Status::clear()
        });
    }

    /// `flushDelayList`: sends the first `n` (or all) waiting messages now.
    fn flush_list(&mut self, n: &Value, cx: &mut NodeCtx<'_>) {
        let mut len = self.list.len() as f64;
        if let Value::Number(n) = n {
            len = n.floor().min(len);
        }
        let mut i = 0.0;
        while i < len && !self.list.is_empty() {
            let d = self.list.remove(0);
            d.timer.cancel();
            self.release(d, cx);
            i += 1.0;
        }
        cx.status(blue("dot", self.list.len()));
    }

    /// A waiting message's timer ran out (or it was flushed): send it.
    fn release(&mut self, d: Delayed, cx: &mut NodeCtx<'_>) {
        match self.kind {
            Kind::Delay | Kind::Random if self.shows_count() => {
                cx.send(0, d.msg);
                cx.status(blue("dot", self.list.len()));
            }
            Kind::Delayv => {
                if self.list.is_empty() {
                    cx.status(Status::clear());
                }
                cx.send(0, d.msg);
                cx.status(blue("dot", self.list.len()));
            }
            _ => cx.send(0, d.msg),
        }
        if let Some(p) = d.pending {
            cx.complete(p, Ok(()));
        }
    }

    /// `reportDepth`: shows the queue length, at most every 500 ms.
    fn report_depth(&mut self, cx: &mut NodeCtx<'_>) {
        if self.busy.is_none() {
            let token = self.token();
            self.busy = Some((token, cx.schedule(Duration::from_millis(500), token)));
        }
    }
}

impl Node for Delay {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        match self.kind {
            Kind::Burst => cx.status(Status::new("green", "ring", "")),
            Kind::Queue | Kind::Timed => self.start_interval(cx),
            _ => {}
        }
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        match self.kind {
            Kind::Delay | Kind::Delayv | Kind::Random => self.delay_input(msg, cx),
            Kind::Rate => self.rate_input(msg, cx),
            Kind::Burst => self.burst_input(msg, cx),
            Kind::Queue | Kind::Timed => self.queue_input(msg, cx),
        }
        Ok(())
    }

    fn on_event(&mut self, ev: NodeEvent, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let NodeEvent::Timer(token) = ev else {
            return Ok(());
        };
        if let Some(i) = self.list.iter().position(|d| d.token == token) {
            let d = self.list.remove(i);
            self.release(d, cx);
        } else if matches!(self.interval, Some((t, _)) if t == token) {
            self.interval = None;
            self.tick(cx);
        } else if matches!(self.busy, Some((t, _)) if t == token) {
            self.busy = None;
            cx.status(blue("dot", self.buffer.len()));
        } else if let Some(i) = self.burst_timers.iter().position(|(t, _)| *t == token) {
            self.burst_timers.remove(i);
            if self.inflight == self.burst {
                cx.status(Status::new("green", "ring", ""));
            }
            self.inflight -= 1.0;
        }
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        match self.kind {
            Kind::Delay | Kind::Delayv | Kind::Random => self.clear_list(false, cx),
            _ => {
                self.stop_interval();
                for q in self.buffer.drain(..) {
                    if let Some(p) = q.pending {
                        cx.complete(p, Ok(()));
                    }
                }
                cx.status(Status::clear());
            }
        }
    }
}

#[cfg(test)]
mod tests;
