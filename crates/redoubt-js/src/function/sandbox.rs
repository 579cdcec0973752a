//! [`Sandbox`]: one function node's QuickJS runtime and context, with its
//! compiled code, and the turn loop: call into the prelude, run the promise
//! jobs that call queued, then apply what the script did (sends, done,
//! status, errors) in order.
//!
//! A plain (no `await`) body's outcome is settled at once when the body
//! queued no promise job and its value has no `then` to look up, since the
//! async function's settling job would then run next anyway; otherwise it
//! is queued as that job would be.
//!
//! Every turn runs under the node's timeout through the runtime's interrupt
//! handler; the synchronous part of a message gets Node-RED's "Script
//! execution timed out" error, routed to Catch nodes with the message.

use super::cache::{self, Slot};
use super::convert::HandleTable;
use super::host::{HostState, Out, Shared};
use super::lazy_req;
use super::{CompileError, FunctionSpec, ScriptSink};
use indexmap::IndexMap;
use parking_lot::Mutex;
use redoubt_core::Msg;
use redoubt_core::node::NodeError;
use redoubt_core::value::{Object as RObject, format_number};
use rquickjs::{
    Array, CatchResultExt, CaughtError, Context, Ctx, Function, Runtime, Value as JsValue,
};
use rustc_hash::FxBuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The global holding the prelude's control object.
pub(crate) const RD_GLOBAL: &str = "__rd__";
/// Messages whose `done()` may be pending at once; older ones are forgotten.
const MAX_INFLIGHT: usize = 10_000;
/// How long On Stop may run when the node has no timeout.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// The interrupt handler's view: a per-turn deadline and a close request.
pub(crate) struct Limits {
    base: Instant,
    /// Nanoseconds after `base`; `u64::MAX` for none.
    deadline: AtomicU64,
    fired: AtomicBool,
    pub(crate) closing: AtomicBool,
}

impl Limits {
    fn new() -> Limits {
        Limits {
            base: Instant::now(),
            deadline: AtomicU64::new(u64::MAX),
            fired: AtomicBool::new(false),
            closing: AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn arm(&self, limit: Option<Duration>) {
        self.fired.store(false, Ordering::Relaxed);
        let at = match limit {
            Some(d) => self
                .now()
                .saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
            None => u64::MAX,
        };
        self.deadline.store(at, Ordering::Relaxed);
    }

    /// Stops the deadline; true when it interrupted the script.
    fn disarm(&self) -> bool {
        self.deadline.store(u64::MAX, Ordering::Relaxed);
        self.fired.swap(false, Ordering::Relaxed)
    }

    fn interrupt(&self) -> bool {
        if self.closing.load(Ordering::Relaxed) {
            return true;
        }
        let at = self.deadline.load(Ordering::Relaxed);
        if at != u64::MAX && self.now() > at {
            self.fired.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }
}

/// What one turn calls.
pub(crate) enum Call {
    Input(u64, Msg),
    Fire(u64),
    Init,
    Close(bool),
}

/// A function node's JavaScript engine.
pub struct Sandbox {
    ctx: Context,
    sh: Shared,
    pub(crate) limits: Arc<Limits>,
    timeout: Option<Duration>,
    auto_done: bool,
    /// Input messages whose `done` is pending, by their id (the engine's
    /// own counter, so FxHash; see convert.rs).
    inflight: IndexMap<u64, Inflight, FxBuildHasher>,
    closing: bool,
    /// The node has On Stop code.
    has_finalize: bool,
}

/// An input message whose `done()` is pending: the object the engine holds
/// and the objects and arrays inside it, as the prelude's `parts(id)` holds
/// their JS counterparts at the same indices.
pub(crate) struct Inflight {
    pub(crate) obj: RObject,
    pub(crate) parts: Vec<redoubt_core::Value>,
}

impl Sandbox {
    /// Builds the runtime, evaluates the prelude and compiles the node's
    /// code; a syntax error names the part, line and column.
    pub fn new(spec: &FunctionSpec, sink: Arc<dyn ScriptSink>) -> Result<Sandbox, CompileError> {
        let engine = |e: rquickjs::Error| CompileError::engine(e.to_string());
        let rt = Runtime::new().map_err(engine)?;
        rt.set_memory_limit(spec.memory_limit);
        super::bytecode::install(&rt).map_err(CompileError::engine)?;
        let limits = Arc::new(Limits::new());
        let l = limits.clone();
        rt.set_interrupt_handler(Some(Box::new(move || l.interrupt())));
        let ctx = Context::full(&rt).map_err(engine)?;
        let sh = Shared {
            state: Arc::new(Mutex::new(HostState::default())),
            handles: Arc::new(Mutex::new(HandleTable::default())),
            sink,
        };
        ctx.with(|ctx| {
            super::compile::setup(&ctx, spec, &sh)?;
            super::cache::store(&ctx).map_err(engine)
        })?;
        Ok(Sandbox {
            ctx,
            sh,
            limits,
            timeout: spec.timeout,
            auto_done: !super::calls_node_done(&spec.func),
            inflight: IndexMap::default(),
            closing: false,
            has_finalize: !spec.finalize.trim().is_empty(),
        })
    }

    /// Runs On Start.
    /// Where the script's effects go.
    pub(crate) fn sink(&self) -> &Arc<dyn ScriptSink> {
        &self.sh.sink
    }

    pub(crate) fn init(&mut self) {
        self.turn(Call::Init);
    }

    /// Handles one input message.
    pub(crate) fn input(&mut self, id: u64, msg: Msg) {
        self.turn(Call::Input(id, msg));
    }

    /// How many `msg.req` proxies the sandbox still backs after a sweep (tests
    /// check that the table empties).
    #[cfg(test)]
    pub(crate) fn lazy_count(&self) -> usize {
        self.ctx.with(|ctx| lazy_req::sweep_now(&ctx, &self.sh));
        self.sh.handles.lock().lazies.len()
    }

    /// Fires every timer due at `now`, one turn each.
    pub(crate) fn fire_due(&mut self, now: Duration) {
        loop {
            if self.limits.closing.load(Ordering::Relaxed) {
                return;
            }
            let due = self.sh.state.lock().timers.pop_due(now);
            match due {
                Some(id) => self.turn(Call::Fire(id)),
                None => return,
            }
        }
    }

    /// Sets the clock timers are scheduled from (relative to the runner's epoch).
    pub(crate) fn set_now(&self, now: Duration) {
        self.sh.state.lock().now = now;
    }

    /// When the next timer is due.
    pub(crate) fn next_timer(&self) -> Option<Duration> {
        self.sh.state.lock().timers.next()
    }

    /// Runs On Stop and `node.on('close')` handlers, then drops every timer.
    /// A node with neither, and no promise job waiting, needs no turn: the
    /// engine and the prelude's own timers are freed with the sandbox, so a
    /// deploy does not call into each plain function node it stops.
    pub(crate) fn close(&mut self, removed: bool) {
        self.closing = true;
        let listening = self.sh.state.lock().close_listeners;
        if self.has_finalize || listening || self.ctx.runtime().is_job_pending() {
            self.turn(Call::Close(removed));
        }
        self.sh.state.lock().timers.clear_all();
        for (id, _) in std::mem::take(&mut self.inflight) {
            self.sh.sink.discard(id);
        }
    }

    fn turn(&mut self, call: Call) {
        let _end = super::consistency::TurnEnd;
        let Sandbox {
            ctx,
            sh,
            limits,
            timeout,
            auto_done,
            inflight,
            closing,
            has_finalize: _,
        } = self;
        let mut t = Turn {
            sh,
            limits,
            timeout: *timeout,
            inflight,
            closing: *closing,
        };
        // A plain body's outcome waits in the prelude until it is known
        // whether the body queued promise jobs, which only the runtime can
        // tell, outside `with`.
        let settle = ctx.with(|ctx| t.call(&ctx, call, *auto_done));
        let direct = settle.map(|plain| plain && !ctx.runtime().is_job_pending());
        ctx.with(|ctx| {
            if let Some(direct) = direct {
                t.settle(&ctx, direct);
            }
            t.drain(&ctx);
            let known = t.sync_bound(&ctx);
            t.flush(&ctx, &known);
            drop(known);
            lazy_req::sweep(&ctx, t.sh);
        });
        if self.inflight.is_empty() && self.sh.state.lock().timers.is_empty() {
            self.sh.handles.lock().clear();
        }
        self.sh.sink.flush(false);
    }

    /// Passes on everything the sink gathered (see [`ScriptSink::flush`]).
    pub(crate) fn flush(&self) {
        self.sh.sink.flush(true);
    }
}

/// One turn's borrowed state.
pub(crate) struct Turn<'a> {
    pub(crate) sh: &'a Shared,
    limits: &'a Limits,
    timeout: Option<Duration>,
    pub(crate) inflight: &'a mut IndexMap<u64, Inflight, FxBuildHasher>,
    pub(crate) closing: bool,
}

impl Turn<'_> {
    fn timeout_error(&self, limit: Option<Duration>) -> NodeError {
        let ms = limit.unwrap_or_default().as_secs_f64() * 1000.0;
        let text = format!(
            "Error: Script execution timed out after {}ms",
            format_number(ms)
        );
        NodeError {
            stack: Some(text.clone()),
            ..NodeError::new(text).with_code("ERR_SCRIPT_EXECUTION_TIMEOUT")
        }
    }

    fn limit(&self) -> Option<Duration> {
        if self.closing {
            Some(self.timeout.unwrap_or(CLOSE_LIMIT))
        } else {
            self.timeout
        }
    }

    /// Calls into the prelude under the deadline; `Some` when a plain body
    /// returned and its outcome must be settled (see [`Turn::settle`]),
    /// `Some(true)` when that can happen at once if no job is pending.
    fn call(&mut self, ctx: &Ctx<'_>, call: Call, auto_done: bool) -> Option<bool> {
        let limit = self.limit();
        match call {
            Call::Input(id, msg) => return self.input(ctx, id, msg, auto_done, limit),
            Call::Fire(id) => {
                self.limits.arm(limit);
                let r = cache::get::<Function>(ctx, Slot::Fire)
                    .and_then(|f| f.call::<_, ()>((id as f64,)));
                let fired = self.limits.disarm();
                if let Err(e) = r {
                    let err = describe(ctx, Err::<(), _>(e), fired, || self.timeout_error(limit));
                    self.report(err, Some(Msg::from_object_raw(RObject::new())));
                }
            }
            Call::Init => {
                self.limits.arm(limit);
                let r = cache::get::<Function>(ctx, Slot::Init).and_then(|f| f.call::<_, ()>(()));
                let fired = self.limits.disarm();
                if let Err(e) = r {
                    let err = describe(ctx, Err::<(), _>(e), fired, || self.timeout_error(limit));
                    let _ = cache::get::<Function>(ctx, Slot::FailInit)
                        .and_then(|f| f.call::<_, ()>((err.message,)));
                }
            }
            Call::Close(removed) => {
                self.limits.arm(limit);
                let r = cache::get::<Function>(ctx, Slot::Close)
                    .and_then(|f| f.call::<_, ()>((removed,)));
                let fired = self.limits.disarm();
                if let Err(e) = r {
                    let err = describe(ctx, Err::<(), _>(e), fired, || self.timeout_error(limit));
                    self.report(err, None);
                }
            }
        }
        None
    }

    /// Settles a plain body's outcome: at once when `direct`, else as a
    /// promise job. Like a promise callback, it reports only a timeout.
    fn settle(&mut self, ctx: &Ctx<'_>, direct: bool) {
        let limit = self.limit();
        self.limits.arm(limit);
        let r = cache::get::<Function>(ctx, Slot::Settle).and_then(|f| f.call::<_, ()>((direct,)));
        let fired = self.limits.disarm();
        let _ = r.catch(ctx);
        if fired {
            let err = self.timeout_error(limit);
            self.report(err, None);
        }
    }

    /// Hands input message `id` to the prelude with the JS counterparts of
    /// its objects, so they can be written back in place.
    fn input<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        id: u64,
        msg: Msg,
        auto_done: bool,
        limit: Option<Duration>,
    ) -> Option<bool> {
        if self.inflight.len() >= MAX_INFLIGHT
            && let Some((old, _)) = self.inflight.shift_remove_index(0)
        {
            super::flush::forget(ctx, old);
            self.sh.sink.discard(old);
        }
        let converted =
            lazy_req::to_js_message(ctx, self.sh, &msg.to_value()).and_then(|(js, parts)| {
                let arr = Array::new(ctx.clone())?;
                let mut values = Vec::with_capacity(parts.len());
                for (i, (j, v)) in parts.into_iter().enumerate() {
                    arr.set(i, j)?;
                    values.push(v);
                }
                Ok((js, arr, values))
            });
        let (js, arr, parts) = match converted {
            Ok(x) => x,
            Err(e) => {
                let err = describe(ctx, Err::<(), _>(e), false, || self.timeout_error(limit));
                self.sh.sink.done(id, Err(err));
                return None;
            }
        };
        let obj = msg.object().clone();
        self.inflight.insert(id, Inflight { obj, parts });
        self.limits.arm(limit);
        let r = cache::get::<Function>(ctx, Slot::Input)
            .and_then(|f| f.call::<_, JsValue>((id as f64, js, auto_done, arr)));
        let fired = self.limits.disarm();
        match r {
            Ok(v) => match v.as_bool() {
                Some(true) => None,
                Some(false) => {
                    self.inflight.shift_remove(&id);
                    self.sh.sink.discard(id);
                    None
                }
                None => Some(plain_outcome(&v)),
            },
            Err(e) => {
                let err = describe(ctx, Err::<(), _>(e), fired, || self.timeout_error(limit));
                self.write_back(ctx, id, &Vec::new());
                self.sh.sink.done(id, Err(err));
                None
            }
        }
    }

    /// Runs the promise jobs the call queued, each under the deadline; the
    /// whole drain is bounded by the timeout too (an endless `await` loop).
    fn drain(&mut self, ctx: &Ctx<'_>) {
        let limit = self.limit();
        let started = Instant::now();
        loop {
            if self.limits.closing.load(Ordering::Relaxed) && !self.closing {
                return;
            }
            self.limits.arm(limit);
            let ran = ctx.execute_pending_job();
            if self.limits.disarm() {
                let err = self.timeout_error(limit);
                self.report(err, None);
            }
            if !ran {
                return;
            }
            if limit.is_some_and(|l| started.elapsed() > l) {
                let err = self.timeout_error(limit);
                self.report(err, None);
                return;
            }
        }
    }

    fn report(&mut self, err: NodeError, msg: Option<Msg>) {
        self.sh.state.lock().outbox.push(Out::Error(err, msg));
    }
}

/// True when a plain body's outcome (the prelude's `pend`: threw, value)
/// settles without running any of the script's code: a throw, or a value
/// whose `then` resolving a promise would not find (no `then` anywhere on
/// its prototype chain, and no proxy there whose traps would run).
fn plain_outcome(pend: &JsValue<'_>) -> bool {
    let Some(pend) = pend.as_array() else {
        return false;
    };
    if pend.get::<bool>(0).unwrap_or(false) {
        return true;
    }
    let Ok(value) = pend.get::<JsValue>(1) else {
        return false;
    };
    let Some(obj) = value.as_object() else {
        return true;
    };
    let mut link = Some(obj.clone());
    while let Some(o) = link {
        if o.is_proxy() {
            return false;
        }
        link = o.get_prototype();
    }
    !obj.contains_key("then").unwrap_or(true)
}

/// Node-RED's message for a failed call: the timeout text when the
/// deadline interrupted it, else the exception as JS would print it.
fn describe<T>(
    ctx: &Ctx<'_>,
    r: Result<T, rquickjs::Error>,
    fired: bool,
    timeout: impl FnOnce() -> NodeError,
) -> NodeError {
    let caught = match r.catch(ctx) {
        Ok(_) => return NodeError::new("Error"),
        Err(c) => c,
    };
    if fired {
        return timeout();
    }
    match caught {
        CaughtError::Exception(ex) => {
            let name: String = ex
                .as_object()
                .get("name")
                .unwrap_or_else(|_| "Error".to_string());
            let message = ex.message().unwrap_or_default();
            let text = if message.is_empty() {
                name
            } else {
                format!("{name}: {message}")
            };
            NodeError {
                stack: ex.stack().map(|s| format!("{text}\n{}", s.trim_end())),
                ..NodeError::new(text)
            }
        }
        CaughtError::Value(v) => NodeError::new(
            v.as_string()
                .and_then(|s| s.to_string().ok())
                .unwrap_or_else(|| format!("{:?}", v.type_of())),
        ),
        CaughtError::Error(e) => NodeError::new(e.to_string()),
    }
}
