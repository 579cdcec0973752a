//! [`Sandbox`]: one function node's QuickJS runtime and context, with its
//! compiled code, and the turn loop: call into the prelude, run the promise
//! jobs that call queued, then apply what the script did (sends, done,
//! status, errors) in order.
//!
//! Every turn runs under the node's timeout through the runtime's interrupt
//! handler; the synchronous part of a message gets Node-RED's "Script
//! execution timed out" error, routed to Catch nodes with the message.

use super::convert::{FromJs, HandleTable, Protos};
use super::host::{self, HostState, Out, Shared};
use super::{CompileError, FunctionSpec, ScriptSink};
use indexmap::IndexMap;
use parking_lot::Mutex;
use redoubt_core::Msg;
use redoubt_core::engine::LogLevel;
use redoubt_core::node::NodeError;
use redoubt_core::value::{Object as RObject, format_number};
use rquickjs::context::EvalOptions;
use rquickjs::{Array, CatchResultExt, CaughtError, Context, Ctx, Function, Object, Runtime, Value as JsValue};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The global holding the prelude's control object.
pub(crate) const RD_GLOBAL: &str = "__rd__";
/// Messages whose `done()` may be pending at once; older ones are forgotten.
const MAX_INFLIGHT: usize = 10_000;
/// How long On Stop may run when the node has no timeout.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

const BUFFER_JS: &str = include_str!("buffer.js");
const PRELUDE_JS: &str = include_str!("prelude.js");

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
            Some(d) => self.now().saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
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
    inflight: IndexMap<u64, RObject>,
    closing: bool,
}

impl Sandbox {
    /// Builds the runtime, evaluates the prelude and compiles the node's
    /// code; a syntax error names the part, line and column.
    pub fn new(spec: &FunctionSpec, sink: Arc<dyn ScriptSink>) -> Result<Sandbox, CompileError> {
        let engine = |e: rquickjs::Error| CompileError::engine(e.to_string());
        let rt = Runtime::new().map_err(engine)?;
        rt.set_memory_limit(spec.memory_limit);
        let limits = Arc::new(Limits::new());
        let l = limits.clone();
        rt.set_interrupt_handler(Some(Box::new(move || l.interrupt())));
        let ctx = Context::full(&rt).map_err(engine)?;
        let sh = Shared {
            state: Arc::new(Mutex::new(HostState::default())),
            handles: Arc::new(Mutex::new(HandleTable::default())),
            sink,
        };
        ctx.with(|ctx| setup(&ctx, spec, &sh))?;
        Ok(Sandbox {
            ctx,
            sh,
            limits,
            timeout: spec.timeout,
            auto_done: !super::calls_node_done(&spec.func),
            inflight: IndexMap::new(),
            closing: false,
        })
    }

    /// Runs On Start.
    pub(crate) fn init(&mut self) {
        self.turn(Call::Init);
    }

    /// Handles one input message.
    pub(crate) fn input(&mut self, id: u64, msg: Msg) {
        self.turn(Call::Input(id, msg));
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
    pub(crate) fn close(&mut self, removed: bool) {
        self.closing = true;
        self.turn(Call::Close(removed));
        self.sh.state.lock().timers.clear_all();
        for (id, _) in std::mem::take(&mut self.inflight) {
            self.sh.sink.discard(id);
        }
    }

    fn turn(&mut self, call: Call) {
        let Sandbox { ctx, sh, limits, timeout, auto_done, inflight, closing } = self;
        let mut t = Turn { sh, limits, timeout: *timeout, inflight, closing: *closing };
        ctx.with(|ctx| {
            let rd: Object = match ctx.globals().get(RD_GLOBAL) {
                Ok(rd) => rd,
                Err(e) => {
                    t.sh.sink.log(LogLevel::Error, &format!("Function sandbox is broken: {e}"));
                    return;
                }
            };
            t.call(&ctx, &rd, call, *auto_done);
            t.drain(&ctx);
            t.flush(&ctx, &rd);
        });
        if self.inflight.is_empty() && self.sh.state.lock().timers.is_empty() {
            self.sh.handles.lock().clear();
        }
    }
}

/// One turn's borrowed state.
struct Turn<'a> {
    sh: &'a Shared,
    limits: &'a Limits,
    timeout: Option<Duration>,
    inflight: &'a mut IndexMap<u64, RObject>,
    closing: bool,
}

impl Turn<'_> {
    fn timeout_error(&self, limit: Option<Duration>) -> NodeError {
        let ms = limit.unwrap_or_default().as_secs_f64() * 1000.0;
        let text = format!("Error: Script execution timed out after {}ms", format_number(ms));
        NodeError { stack: Some(text.clone()), ..NodeError::new(text).with_code("ERR_SCRIPT_EXECUTION_TIMEOUT") }
    }

    fn limit(&self) -> Option<Duration> {
        if self.closing { Some(self.timeout.unwrap_or(CLOSE_LIMIT)) } else { self.timeout }
    }

    /// Calls into the prelude under the deadline.
    fn call<'js>(&mut self, ctx: &Ctx<'js>, rd: &Object<'js>, call: Call, auto_done: bool) {
        let limit = self.limit();
        match call {
            Call::Input(id, msg) => {
                if self.inflight.len() >= MAX_INFLIGHT {
                    if let Some((old, _)) = self.inflight.shift_remove_index(0) {
                        let _ = rd.get::<_, Function>("take").and_then(|f| f.call::<_, JsValue>((old as f64,)));
                        self.sh.sink.discard(old);
                    }
                }
                let js = match host::to_js(ctx, self.sh, &msg.to_value()) {
                    Ok(js) => js,
                    Err(e) => {
                        let err = describe(ctx, Err::<(), _>(e), false, || self.timeout_error(limit));
                        self.sh.sink.done(id, Err(err));
                        return;
                    }
                };
                self.inflight.insert(id, msg.object().clone());
                self.limits.arm(limit);
                let r = rd.get::<_, Function>("input").and_then(|f| f.call::<_, bool>((id as f64, js, auto_done)));
                let fired = self.limits.disarm();
                match r {
                    Ok(true) => {}
                    Ok(false) => {
                        self.inflight.shift_remove(&id);
                        self.sh.sink.discard(id);
                    }
                    Err(e) => {
                        let err = describe(ctx, Err::<(), _>(e), fired, || self.timeout_error(limit));
                        self.write_back(ctx, rd, id);
                        self.sh.sink.done(id, Err(err));
                    }
                }
            }
            Call::Fire(id) => {
                self.limits.arm(limit);
                let r = rd.get::<_, Function>("fire").and_then(|f| f.call::<_, ()>((id as f64,)));
                let fired = self.limits.disarm();
                if let Err(e) = r {
                    let err = describe(ctx, Err::<(), _>(e), fired, || self.timeout_error(limit));
                    self.report(err, Some(Msg::from_object_raw(RObject::new())));
                }
            }
            Call::Init => {
                self.limits.arm(limit);
                let r = rd.get::<_, Function>("init").and_then(|f| f.call::<_, ()>(()));
                let fired = self.limits.disarm();
                if let Err(e) = r {
                    let err = describe(ctx, Err::<(), _>(e), fired, || self.timeout_error(limit));
                    let _ = rd.get::<_, Function>("failInit").and_then(|f| f.call::<_, ()>((err.message,)));
                }
            }
            Call::Close(removed) => {
                self.limits.arm(limit);
                let r = rd.get::<_, Function>("close").and_then(|f| f.call::<_, ()>((removed,)));
                let fired = self.limits.disarm();
                if let Err(e) = r {
                    let err = describe(ctx, Err::<(), _>(e), fired, || self.timeout_error(limit));
                    self.report(err, None);
                }
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

    /// Writes the script's view of input message `id` back into the object
    /// the engine holds, so Catch and Complete nodes see its changes.
    fn write_back<'js>(&mut self, ctx: &Ctx<'js>, rd: &Object<'js>, id: u64) -> Option<RObject> {
        let orig = self.inflight.shift_remove(&id)?;
        let js = rd.get::<_, Function>("take").and_then(|f| f.call::<_, JsValue>((id as f64,)));
        if let Ok(Some(obj)) = js.map(|v| v.into_object()) {
            if let Ok(p) = Protos::from_rd(ctx, rd) {
                let handles = self.sh.handles.lock();
                if let Err(e) = FromJs::new(&p, &handles).into_object(&obj, &orig) {
                    self.sh.sink.log(LogLevel::Warn, &format!("Could not read back the message: {e}"));
                }
            }
        }
        Some(orig)
    }

    /// Applies what the turn did, in order.
    fn flush<'js>(&mut self, ctx: &Ctx<'js>, rd: &Object<'js>) {
        let out = std::mem::take(&mut self.sh.state.lock().outbox);
        let mut live: Option<Array<'js>> = None;
        let mut synced: HashSet<u64> = HashSet::new();
        for o in out {
            match o {
                Out::Send(port, m) => self.sh.sink.send(port, m),
                Out::Live { port, slot, bound } => {
                    if live.is_none() {
                        live = rd.get::<_, Function>("takeLive").and_then(|f| f.call(())).ok();
                    }
                    let obj = live.as_ref().and_then(|a| a.get::<JsValue>(slot).ok());
                    match self.materialize(ctx, rd, obj, bound) {
                        Ok(m) => {
                            if bound != 0 && self.inflight.contains_key(&bound) {
                                synced.insert(bound);
                            }
                            self.sh.sink.send(port, m)
                        }
                        Err(e) => self.sh.sink.error(NodeError::new(e), None),
                    }
                }
                Out::Done(id, result) => {
                    if !self.inflight.contains_key(&id) {
                        continue;
                    }
                    if synced.contains(&id) {
                        self.inflight.shift_remove(&id);
                        let _ = rd.get::<_, Function>("take").and_then(|f| f.call::<_, JsValue>((id as f64,)));
                    } else {
                        self.write_back(ctx, rd, id);
                    }
                    self.sh.sink.done(id, result);
                }
                Out::Drop(id) => {
                    self.inflight.shift_remove(&id);
                    let _ = rd.get::<_, Function>("take").and_then(|f| f.call::<_, JsValue>((id as f64,)));
                    self.sh.sink.discard(id);
                }
                Out::Status(st) => self.sh.sink.status(st),
                Out::Error(err, msg) => {
                    if self.closing {
                        self.sh.sink.log(LogLevel::Error, &err.message);
                    } else {
                        self.sh.sink.error(err, msg);
                    }
                }
            }
        }
    }

    /// A message sent without cloning: the input message object itself when
    /// it is one, so its holders see the same object as in Node-RED.
    fn materialize<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        rd: &Object<'js>,
        obj: Option<JsValue<'js>>,
        bound: u64,
    ) -> Result<Msg, String> {
        let obj = obj.ok_or("The message to send was lost")?;
        let p = Protos::from_rd(ctx, rd).map_err(|e| e.to_string())?;
        let handles = self.sh.handles.lock();
        let mut conv = FromJs::new(&p, &handles);
        if let (Some(orig), Some(o)) = (self.inflight.get(&bound), obj.as_object()) {
            conv.into_object(o, orig).map_err(|e| e.to_string())?;
            return Ok(Msg::from_object_raw(orig.clone()));
        }
        match conv.value(obj).map_err(|e| e.to_string())? {
            redoubt_core::Value::Object(o) => Ok(Msg::from_object_raw(o)),
            _ => Ok(Msg::from_object_raw(RObject::new())),
        }
    }
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
            let name: String = ex.as_object().get("name").unwrap_or_else(|_| "Error".to_string());
            let message = ex.message().unwrap_or_default();
            let text = if message.is_empty() { name } else { format!("{name}: {message}") };
            NodeError { stack: ex.stack().map(|s| format!("{text}\n{}", s.trim_end())), ..NodeError::new(text) }
        }
        CaughtError::Value(v) => NodeError::new(
            v.as_string().and_then(|s| s.to_string().ok()).unwrap_or_else(|| format!("{:?}", v.type_of())),
        ),
        CaughtError::Error(e) => NodeError::new(e.to_string()),
    }
}

/// Evaluates the prelude and compiles the node's code.
fn setup<'js>(ctx: &Ctx<'js>, spec: &FunctionSpec, sh: &Shared) -> Result<(), CompileError> {
    let engine = |e: rquickjs::Error| CompileError::engine(e.to_string());
    let internal = |r: rquickjs::Result<JsValue<'js>>| -> Result<JsValue<'js>, CompileError> {
        r.catch(ctx).map_err(|e| CompileError::engine(e.to_string()))
    };
    let h = host::build(ctx, sh).map_err(engine)?;
    let bufmod = internal(eval(ctx, BUFFER_JS, "<redoubt buffer>"))?;
    let bufmod = internal(call1(&bufmod, (h.clone(),)))?;
    let meta = Object::new(ctx.clone()).map_err(engine)?;
    meta.set("id", spec.id.as_str()).map_err(engine)?;
    meta.set("name", spec.name.as_str()).map_err(engine)?;
    meta.set("path", spec.path.as_str()).map_err(engine)?;
    meta.set("outputCount", spec.outputs as f64).map_err(engine)?;
    let prelude = internal(eval(ctx, PRELUDE_JS, "<redoubt prelude>"))?;
    let rd = internal(call1(&prelude, (h, meta, bufmod)))?;
    let label = if spec.name.is_empty() { String::new() } else { format!(" [{}]", spec.name) };
    let body = compile(
        ctx,
        "func",
        "body",
        &format!(
            "(async function(msg,__send__,__done__){{ var __msgid__ = msg._msgid; var node = __node__.make(__send__,__done__);\n{}\n}})",
            spec.func
        ),
        &format!("Function node:{}{label}", spec.id),
    )?;
    let init = match spec.initialize.trim() {
        "" => JsValue::new_null(ctx.clone()),
        code => compile(
            ctx,
            "initialize",
            "setup",
            &format!("(async function(__send__){{ var node = __node__.makeInit(__send__);\n{code}\n}})"),
            &format!("Function node setup:{}{label}", spec.id),
        )?,
    };
    let fin = match spec.finalize.trim() {
        "" => JsValue::new_null(ctx.clone()),
        code => compile(
            ctx,
            "finalize",
            "cleanup",
            &format!("(function(){{ var node = __node__.makeFin();\n{code}\n}})"),
            &format!("Function node cleanup:{}{label}", spec.id),
        )?,
    };
    let rd = rd.into_object().ok_or_else(|| CompileError::engine("prelude returned no object".into()))?;
    let set: Function = rd.get("setCode").map_err(engine)?;
    set.call::<_, ()>((body, init, fin)).catch(ctx).map_err(|e| CompileError::engine(e.to_string()))?;
    Ok(())
}

fn eval<'js>(ctx: &Ctx<'js>, src: &str, file: &str) -> rquickjs::Result<JsValue<'js>> {
    let mut opts = EvalOptions::default();
    opts.global = true;
    opts.strict = false;
    opts.filename = Some(file.to_string());
    ctx.eval_with_options(src, opts)
}

fn call1<'js, A: rquickjs::function::IntoArgs<'js>>(f: &JsValue<'js>, args: A) -> rquickjs::Result<JsValue<'js>> {
    match f.as_function() {
        Some(f) => f.call(args),
        None => Err(rquickjs::Error::new_from_js("value", "function")),
    }
}

/// Compiles one part of the node's code; syntax errors carry the line and
/// column within the user's text.
fn compile<'js>(ctx: &Ctx<'js>, field: &'static str, part: &'static str, src: &str, file: &str) -> Result<JsValue<'js>, CompileError> {
    match eval(ctx, src, file).catch(ctx) {
        Ok(v) => Ok(v),
        Err(CaughtError::Exception(ex)) => {
            let name: String = ex.as_object().get("name").unwrap_or_else(|_| "SyntaxError".to_string());
            let message = ex.message().unwrap_or_default();
            let (line, column) = ex.stack().as_deref().and_then(location).unwrap_or((0, 0));
            Err(CompileError {
                field,
                message: format!("{name}: {message} ({part}:line {}, col {column})", line.saturating_sub(1)),
                line: line.saturating_sub(1),
                column,
            })
        }
        Err(e) => Err(CompileError::engine(e.to_string())),
    }
}

/// `line:col` at the end of the first stack frame.
fn location(stack: &str) -> Option<(usize, usize)> {
    let first = stack.lines().find(|l| !l.trim().is_empty())?;
    let first = first.trim_end().trim_end_matches(')');
    let mut parts = first.rsplitn(3, ':');
    let col = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    Some((line, col))
}
