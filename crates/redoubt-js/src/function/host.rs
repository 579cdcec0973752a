//! The host object `h` the prelude calls into: sends, done, status, logs,
//! context, env, timers and a few helpers. Sends and completions are queued
//! in [`HostState::outbox`] and applied, in order, when the current JS turn
//! ends (see `sandbox.rs`); context, env and logs act immediately.

use super::ScriptSink;
use super::cache::{self, Slot};
use super::convert::{ConvertError, FromJs, HandleTable, Protos, ToJs, js_string};
use parking_lot::Mutex;
use redoubt_core::Msg;
use redoubt_core::context::{ContextError, Scope, parse_key};
use redoubt_core::engine::LogLevel;
use redoubt_core::node::{NodeError, Status};
use redoubt_core::propex::{self, Seg};
use redoubt_core::value::{Object as RObject, Value};
use rquickjs::function::Opt;
use rquickjs::{Array, Ctx, Exception, Function, Object, TypedArray, Value as JsValue};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// Something the script did, applied in order when the turn ends.
pub(crate) enum Out {
    /// A message converted when it was sent (a clone).
    Send(usize, Msg),
    /// A message sent without cloning: converted at the end of the turn from
    /// the prelude's `live[slot]` (followed by the JS counterparts of its
    /// objects); `bound` is the id of the input message it is, if any (0 for
    /// none), so the original object is reused.
    Live {
        port: usize,
        slot: usize,
        bound: u64,
    },
    /// `done()` of an input message.
    Done(u64, Result<(), NodeError>),
    /// An input message dropped without `done()` (On Start failed).
    Drop(u64),
    /// `node.status(...)`.
    Status(Status),
    /// `node.error(err, msg)`.
    Error(NodeError, Option<Msg>),
}

/// Pending JS timers, by due time (relative to the runner's epoch).
#[derive(Default)]
pub(crate) struct Timers {
    queue: BTreeMap<(Duration, u64), Option<Duration>>,
    due: HashMap<u64, Duration>,
}

impl Timers {
    fn set(&mut self, id: u64, at: Duration, every: Option<Duration>) {
        self.clear(id);
        self.queue.insert((at, id), every);
        self.due.insert(id, at);
    }

    fn clear(&mut self, id: u64) {
        if let Some(at) = self.due.remove(&id) {
            self.queue.remove(&(at, id));
        }
    }

    /// When the next timer is due.
    pub(crate) fn next(&self) -> Option<Duration> {
        self.queue.keys().next().map(|(at, _)| *at)
    }

    /// The next timer due at `now`; an interval is rescheduled from `now`.
    pub(crate) fn pop_due(&mut self, now: Duration) -> Option<u64> {
        let (&(at, id), &every) = self.queue.iter().next()?;
        if at > now {
            return None;
        }
        self.queue.remove(&(at, id));
        self.due.remove(&id);
        if let Some(every) = every {
            self.set(id, now + every, Some(every));
        }
        Some(id)
    }

    /// True when no timer is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Drops every timer (the node is closing).
    pub(crate) fn clear_all(&mut self) {
        self.queue.clear();
        self.due.clear();
    }
}

/// State the host functions share with the sandbox.
#[derive(Default)]
pub(crate) struct HostState {
    pub(crate) outbox: Vec<Out>,
    pub(crate) timers: Timers,
    /// The time of the current turn, relative to the runner's epoch.
    pub(crate) now: Duration,
    /// Context values the script read or stored this turn (`true`), and
    /// the objects and arrays inside them (`false`); the prelude's `bound`
    /// array holds the JS side at the same index. Changes the script makes
    /// to them are written back in place when the turn ends, as a memory
    /// store shares the object in Node-RED.
    pub(crate) bound: Vec<(Value, bool)>,
    /// JS objects kept for small context objects across turns (see
    /// `twins.rs`).
    pub(crate) twins: super::twins::Twins,
    /// The script registered a `node.on('close')` handler, so closing the
    /// node needs a turn to run it.
    pub(crate) close_listeners: bool,
}

/// Everything a host function needs.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) state: Arc<Mutex<HostState>>,
    pub(crate) handles: Arc<Mutex<HandleTable>>,
    pub(crate) sink: Arc<dyn ScriptSink>,
}

/// The prelude's prototypes and helpers, as conversion needs them.
pub(crate) fn protos<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Protos<'js>> {
    Protos::new(ctx)
}

/// A conversion failure as a JS exception.
pub(crate) fn throw(ctx: &Ctx<'_>, e: ConvertError) -> rquickjs::Error {
    match e {
        ConvertError::Js(e) => e,
        ConvertError::TooLarge => {
            Exception::throw_range(ctx, "Value too large or nested too deeply")
        }
    }
}

/// Converts a JS value with fresh identities (a clone).
pub(crate) fn snapshot<'js>(
    ctx: &Ctx<'js>,
    sh: &Shared,
    v: JsValue<'js>,
) -> rquickjs::Result<Value> {
    let p = protos(ctx)?;
    let handles = sh.handles.lock();
    FromJs::new(&p, &handles)
        .value(v)
        .map_err(|e| throw(ctx, e))
}

/// The prelude's array of bound context values.
fn bound_array<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Array<'js>> {
    cache::get::<Function>(ctx, Slot::BoundList)?.call(())
}

/// Remembers that the script holds context value `v` as `js`, and the
/// objects inside it as `parts` (from the conversion that made one from the
/// other), so changes it makes to them this turn reach the stored value.
fn bind<'js>(
    ctx: &Ctx<'js>,
    sh: &Shared,
    js: &JsValue<'js>,
    v: &Value,
    parts: Vec<(JsValue<'js>, Value)>,
) -> rquickjs::Result<()> {
    if !matches!(v, Value::Object(_) | Value::Array(_)) {
        return Ok(());
    }
    // Before the node's own state lock: the order is always this one first.
    super::consistency::hold();
    let arr = bound_array(ctx)?;
    let mut st = sh.state.lock();
    if let Some(i) = st.bound.iter().position(|(b, _)| same_handle(b, v)) {
        st.bound[i].1 = true;
        return Ok(());
    }
    arr.set(st.bound.len(), js.clone())?;
    st.bound.push((v.clone(), true));
    for (pj, pv) in parts {
        if !same_handle(&pv, v) {
            arr.set(st.bound.len(), pj)?;
            st.bound.push((pv, false));
        }
    }
    Ok(())
}

/// The JS object the script already holds for context value `v` this turn
/// (a second `get` of the same object returns the same object, as the
/// memory store does in Node-RED); from now on it is written back as a
/// value of its own.
fn held<'js>(ctx: &Ctx<'js>, sh: &Shared, v: &Value) -> rquickjs::Result<Option<JsValue<'js>>> {
    if !matches!(v, Value::Object(_) | Value::Array(_)) {
        return Ok(None);
    }
    let i = {
        let mut st = sh.state.lock();
        let i = st.bound.iter().position(|(b, _)| same_handle(b, v));
        if let Some(i) = i {
            st.bound[i].1 = true;
        }
        i
    };
    match i {
        Some(i) => Ok(Some(bound_array(ctx)?.get(i)?)),
        None => Ok(None),
    }
}

fn same_handle(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x.ptr_eq(y),
        (Value::Array(x), Value::Array(y)) => x.ptr_eq(y),
        _ => false,
    }
}

/// Converts a value the script stores in context: objects it already holds
/// from context keep their identity, the rest is copied (returned with the
/// objects made, see [`bind`]).
#[allow(clippy::type_complexity)]
fn stored<'js>(
    ctx: &Ctx<'js>,
    sh: &Shared,
    v: JsValue<'js>,
) -> rquickjs::Result<(Value, Vec<(JsValue<'js>, Value)>)> {
    let p = protos(ctx)?;
    let arr = bound_array(ctx)?;
    let handles = sh.handles.lock();
    let mut conv = FromJs::new(&p, &handles).recording();
    let roots: Vec<(usize, Value)> = sh
        .state
        .lock()
        .bound
        .iter()
        .enumerate()
        .filter(|(_, (_, root))| *root)
        .map(|(i, (v, _))| (i, v.clone()))
        .collect();
    for (i, b) in roots {
        conv.known(arr.get(i)?, b);
    }
    let v = conv.value(v).map_err(|e| throw(ctx, e))?;
    Ok((v, conv.parts()))
}

/// Converts a redoubt value for the script.
pub(crate) fn to_js<'js>(ctx: &Ctx<'js>, sh: &Shared, v: &Value) -> rquickjs::Result<JsValue<'js>> {
    let p = protos(ctx)?;
    let mut handles = sh.handles.lock();
    ToJs::new(&p, &mut handles)
        .value(v)
        .map_err(|e| throw(ctx, e))
}

/// Converts a redoubt value for the script, with every object and array
/// converted and its JS counterpart.
#[allow(clippy::type_complexity)]
pub(crate) fn to_js_parts<'js>(
    ctx: &Ctx<'js>,
    sh: &Shared,
    v: &Value,
) -> rquickjs::Result<(JsValue<'js>, Vec<(JsValue<'js>, Value)>)> {
    let p = protos(ctx)?;
    let mut handles = sh.handles.lock();
    let mut conv = ToJs::new(&p, &mut handles).recording();
    let js = conv.value(v).map_err(|e| throw(ctx, e))?;
    Ok((js, conv.parts()))
}

/// A message from a converted value: objects as they are, anything else
/// (a Date or Uint8Array sent as a message) as an empty object.
fn as_msg(v: Value) -> Msg {
    match v {
        Value::Object(o) => Msg::from_object_raw(o),
        _ => Msg::from_object_raw(RObject::new()),
    }
}

/// `{message, stack, code}` from the prelude's `errorInfo`.
pub(crate) fn node_error(info: &Value) -> NodeError {
    let Some(o) = info.as_object() else {
        return NodeError::new(info.to_js_string());
    };
    let text = |k: &str| {
        o.get(k)
            .filter(|v| !v.is_nullish())
            .map(|v| v.to_js_string())
    };
    let mut err = NodeError::new(text("message").unwrap_or_default());
    err.stack = text("stack");
    err.code = text("code");
    err
}

fn scope_of(ctx: &Ctx<'_>, name: &str) -> rquickjs::Result<Scope> {
    match name {
        "node" => Ok(Scope::Node),
        "flow" => Ok(Scope::Flow),
        "global" => Ok(Scope::Global),
        other => Err(Exception::throw_type(
            ctx,
            &format!("Unknown context scope {other}"),
        )),
    }
}

/// The store named by the call, or by a `#:(store)::` key prefix.
fn store_and_key(
    key: &str,
    store: &Opt<JsValue<'_>>,
) -> rquickjs::Result<(Option<String>, String)> {
    let parsed = parse_key(key);
    let explicit = match &store.0 {
        Some(v) if !v.is_undefined() && !v.is_null() => match v.as_string() {
            Some(s) => Some(js_string(s)?),
            None => None,
        },
        _ => None,
    };
    Ok((explicit.or(parsed.store), parsed.key))
}

/// Runs a context operation; a store that is not configured falls back to
/// the default store, as Node-RED does (with a warning).
fn with_store<T>(
    sh: &Shared,
    store: Option<String>,
    op: impl Fn(Option<&str>) -> Result<T, ContextError>,
) -> Result<T, ContextError> {
    match op(store.as_deref()) {
        Err(ContextError::UnknownStore(name)) => {
            sh.sink.log(
                LogLevel::Warn,
                &format!("Unknown context store '{name}' specified. Using default store."),
            );
            op(None)
        }
        other => other,
    }
}

fn ctx_error(ctx: &Ctx<'_>, e: ContextError) -> rquickjs::Error {
    Exception::throw_message(ctx, &e.to_string())
}

fn segs_to_js<'js>(ctx: &Ctx<'js>, segs: &[Seg]) -> rquickjs::Result<Array<'js>> {
    let arr = Array::new(ctx.clone())?;
    for (i, s) in segs.iter().enumerate() {
        match s {
            Seg::Key(k) => arr.set(i, &**k)?,
            Seg::Index(n) => arr.set(i, *n as f64)?,
            Seg::Nested(inner) => arr.set(i, segs_to_js(ctx, inner)?)?,
        }
    }
    Ok(arr)
}

fn num_id(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        v as u64
    } else {
        0
    }
}

/// Builds the `h` object for the prelude.
pub(crate) fn build<'js>(ctx: &Ctx<'js>, sh: &Shared) -> rquickjs::Result<Object<'js>> {
    let h = Object::new(ctx.clone())?;
    build_sends(ctx, sh, &h)?;
    build_context(ctx, sh, &h)?;
    build_misc(ctx, sh, &h)?;
    super::lazy_req::build(ctx, sh, &h)?;
    Ok(h)
}

fn build_sends<'js>(ctx: &Ctx<'js>, sh: &Shared, h: &Object<'js>) -> rquickjs::Result<()> {
    let s = sh.clone();
    h.set(
        "emit",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, port: f64, msg: JsValue<'js>, msgid: JsValue<'js>| {
                let m = as_msg(snapshot(&ctx, &s, msg)?);
                m.set(redoubt_core::msg::MSGID, snapshot(&ctx, &s, msgid)?);
                s.state.lock().outbox.push(Out::Send(port as usize, m));
                Ok::<_, rquickjs::Error>(())
            },
        )?,
    )?;
    let s = sh.clone();
    h.set(
        "emitLive",
        Function::new(ctx.clone(), move |port: f64, slot: f64, bound: f64| {
            s.state.lock().outbox.push(Out::Live {
                port: port as usize,
                slot: slot as usize,
                bound: num_id(bound),
            });
        })?,
    )?;
    let s = sh.clone();
    h.set(
        "done",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, id: f64, info: JsValue<'js>| {
                let result = if info.is_null() || info.is_undefined() {
                    Ok(())
                } else {
                    Err(node_error(&snapshot(&ctx, &s, info)?))
                };
                s.state.lock().outbox.push(Out::Done(num_id(id), result));
                Ok::<_, rquickjs::Error>(())
            },
        )?,
    )?;
    let s = sh.clone();
    h.set(
        "drop",
        Function::new(ctx.clone(), move |id: f64| {
            s.state.lock().outbox.push(Out::Drop(num_id(id)));
        })?,
    )?;
    let s = sh.clone();
    h.set(
        "status",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, status: JsValue<'js>| {
            let st = Status::from_value(&snapshot(&ctx, &s, status)?);
            s.state.lock().outbox.push(Out::Status(st));
            Ok::<_, rquickjs::Error>(())
        })?,
    )?;
    let s = sh.clone();
    h.set(
        "error",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, info: JsValue<'js>, msg: Opt<JsValue<'js>>| {
                let err = node_error(&snapshot(&ctx, &s, info)?);
                let msg = match msg.0 {
                    Some(m) if m.is_object() => Some(as_msg(snapshot(&ctx, &s, m)?)),
                    _ => None,
                };
                s.state.lock().outbox.push(Out::Error(err, msg));
                Ok::<_, rquickjs::Error>(())
            },
        )?,
    )?;
    Ok(())
}

fn build_context<'js>(ctx: &Ctx<'js>, sh: &Shared, h: &Object<'js>) -> rquickjs::Result<()> {
    let s = sh.clone();
    h.set(
        "ctxGet",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, scope: String, key: String, store: Opt<JsValue<'js>>| {
                let scope = scope_of(&ctx, &scope)?;
                let (store, key) = store_and_key(&key, &store)?;
                // Read under the lock, so no other turn is half-way through
                // changing the object being copied.
                super::consistency::hold();
                let cx = s.sink.context();
                let v = with_store(&s, store, |st| cx.get(scope, &key, st))
                    .map_err(|e| ctx_error(&ctx, e))?
                    .unwrap_or_default();
                if let Some(js) = held(&ctx, &s, &v)? {
                    return Ok(js);
                }
                if let Some(js) = super::twins::reuse(&ctx, &s, &v)? {
                    bind(&ctx, &s, &js, &v, Vec::new())?;
                    return Ok(js);
                }
                let (js, parts) = to_js_parts(&ctx, &s, &v)?;
                bind(&ctx, &s, &js, &v, parts)?;
                Ok::<_, rquickjs::Error>(js)
            },
        )?,
    )?;
    let s = sh.clone();
    h.set(
        "ctxSet",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  scope: String,
                  key: String,
                  value: JsValue<'js>,
                  store: Opt<JsValue<'js>>| {
                let scope = scope_of(&ctx, &scope)?;
                let (store, key) = store_and_key(&key, &store)?;
                super::consistency::hold();
                let (v, parts) = stored(&ctx, &s, value.clone())?;
                bind(&ctx, &s, &value, &v, parts)?;
                let v = if v.is_undefined() { None } else { Some(v) };
                let cx = s.sink.context();
                with_store(&s, store, |st| cx.set(scope, &key, v.clone(), st))
                    .map_err(|e| ctx_error(&ctx, e))
            },
        )?,
    )?;
    let s = sh.clone();
    h.set(
        "ctxKeys",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, scope: String, store: Opt<JsValue<'js>>| {
                let scope = scope_of(&ctx, &scope)?;
                let (store, _) = store_and_key("", &store)?;
                let cx = s.sink.context();
                with_store(&s, store, |st| cx.keys(scope, st)).map_err(|e| ctx_error(&ctx, e))
            },
        )?,
    )?;
    let s = sh.clone();
    h.set(
        "env",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, name: String| {
            to_js(&ctx, &s, &s.sink.env(&name))
        })?,
    )?;
    Ok(())
}

fn build_misc<'js>(ctx: &Ctx<'js>, sh: &Shared, h: &Object<'js>) -> rquickjs::Result<()> {
    let s = sh.clone();
    h.set(
        "log",
        Function::new(ctx.clone(), move |level: String, text: String| {
            let level = match level.as_str() {
                "warn" => LogLevel::Warn,
                "debug" | "trace" => LogLevel::Debug,
                "console" => {
                    tracing::info!(target: "redoubt::function::console", "{text}");
                    return;
                }
                "console-warn" => {
                    tracing::warn!(target: "redoubt::function::console", "{text}");
                    return;
                }
                _ => LogLevel::Info,
            };
            s.sink.log(level, &text);
        })?,
    )?;
    let s = sh.clone();
    h.set(
        "closeListener",
        Function::new(ctx.clone(), move || {
            s.state.lock().close_listeners = true;
        })?,
    )?;
    let s = sh.clone();
    h.set(
        "setTimer",
        Function::new(ctx.clone(), move |id: f64, delay: f64, repeat: bool| {
            let every = Duration::from_secs_f64(delay.max(1.0) / 1000.0);
            let mut st = s.state.lock();
            let at = st.now + every;
            st.timers.set(num_id(id), at, repeat.then_some(every));
        })?,
    )?;
    let s = sh.clone();
    h.set(
        "clearTimer",
        Function::new(ctx.clone(), move |id: f64| {
            s.state.lock().timers.clear(num_id(id));
        })?,
    )?;
    h.set(
        "parsePath",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, expr: String| {
            let segs =
                propex::parse(&expr).map_err(|e| Exception::throw_message(&ctx, &e.to_string()))?;
            segs_to_js(&ctx, &segs)
        })?,
    )?;
    h.set(
        "generateId",
        Function::new(ctx.clone(), redoubt_core::msg::new_msgid)?,
    )?;
    h.set(
        "utf8Encode",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, text: String| {
            TypedArray::<u8>::new_copy(ctx, text.as_bytes())
        })?,
    )?;
    h.set(
        "utf8Decode",
        Function::new(ctx.clone(), |latin1: String| {
            let bytes: Vec<u8> = latin1.chars().map(|c| c as u32 as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        })?,
    )?;
    Ok(())
}
