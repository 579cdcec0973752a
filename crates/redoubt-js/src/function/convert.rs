//! Converts redoubt [`Value`]s to JS values and back, directly (no JSON
//! round trip): object key order, `Buffer`, `Date`, `undefined` and cycles
//! survive, and host handles (the HTTP response behind `msg.res`) travel as
//! placeholder objects that map back to the same handle.
//!
//! JS values with no redoubt counterpart follow `RED.util.cloneMessage` then
//! `JSON.stringify` as closely as a value type allows: functions and symbols
//! become `undefined`, other typed arrays, maps, sets and errors become
//! objects of their own enumerable properties.

use super::cache::{self, Slot};
use super::lazy_req::LazyTable;
use super::twins::Shadow;
use bytes::Bytes;
use redoubt_core::value::{Array as RArray, Handle, Map, Object as RObject, Value};
use rquickjs::function::This;
use rquickjs::object::Property;
use rquickjs::{Array, Ctx, Function, Object, Type, TypedArray, Value as JsValue};
use rustc_hash::FxHashMap;
use std::cell::OnceCell;
use std::sync::Arc;

// Every map here is keyed by an address or a number of our own (a JS
// value's tag and pointer, a handle's id), never by text from a message, so
// the fast FxHash replaces SipHash, whose only gain, resisting keys chosen
// to collide, does not apply (bench/HISTORY.md, item 49).

/// An object's own enumerable properties, in order, as converted.
type Props = Vec<(Arc<str>, Value)>;

/// Deepest nesting converted (guards the Rust stack against JS linked lists).
const MAX_DEPTH: usize = 1000;
/// Most values converted in one call (guards against exponential DAGs).
const MAX_VALUES: usize = 4_000_000;

/// Why a value could not be converted.
#[derive(Debug)]
pub(crate) enum ConvertError {
    /// The engine failed (an exception, out of memory, interrupted).
    Js(rquickjs::Error),
    /// The value is nested deeper than [`MAX_DEPTH`] or has more than
    /// [`MAX_VALUES`] values.
    TooLarge,
}

impl From<rquickjs::Error> for ConvertError {
    fn from(e: rquickjs::Error) -> Self {
        ConvertError::Js(e)
    }
}

impl ConvertError {
    /// The error as text, with the message of a pending JS exception (a
    /// trap that threw) rather than rquickjs's generic text.
    pub(crate) fn describe(self, ctx: &Ctx<'_>) -> String {
        match self {
            ConvertError::Js(rquickjs::Error::Exception) => match ctx.catch().into_exception() {
                Some(ex) => ex.message().unwrap_or_else(|| "exception".to_string()),
                None => "exception".to_string(),
            },
            e => e.to_string(),
        }
    }
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConvertError::Js(e) => write!(f, "{e}"),
            ConvertError::TooLarge => f.write_str("value too large or nested too deeply"),
        }
    }
}

/// Host objects seen by the script, by placeholder number. Entries are
/// dropped when the node is idle; a stale placeholder converts to `undefined`.
#[derive(Default)]
pub(crate) struct HandleTable {
    by_id: FxHashMap<u64, Handle>,
    by_ptr: FxHashMap<usize, u64>,
    next: u64,
    /// The objects behind live `msg.req` proxies; unlike handles, kept
    /// until the proxy itself is gone (see `lazy_req.rs`).
    pub(crate) lazies: LazyTable,
}

impl HandleTable {
    fn insert(&mut self, h: &Handle) -> u64 {
        let ptr = Arc::as_ptr(&h.0) as *const () as usize;
        if let Some(id) = self.by_ptr.get(&ptr) {
            return *id;
        }
        self.next += 1;
        self.by_id.insert(self.next, h.clone());
        self.by_ptr.insert(ptr, self.next);
        self.next
    }

    fn get(&self, id: u64) -> Option<Handle> {
        self.by_id.get(&id).cloned()
    }

    /// Forgets every handle (nothing in flight refers to them any more).
    pub(crate) fn clear(&mut self) {
        self.by_id.clear();
        self.by_ptr.clear();
    }
}

/// The sandbox objects conversion needs (see `cache`), each fetched when
/// first needed: most conversions need only `Object.prototype`.
pub(crate) struct Protos<'js> {
    ctx: Ctx<'js>,
    buffer: OnceCell<Object<'js>>,
    handle: OnceCell<Object<'js>>,
    object: OnceCell<Object<'js>>,
    date: OnceCell<rquickjs::Constructor<'js>>,
    get_time: OnceCell<Function<'js>>,
    latin1: OnceCell<Function<'js>>,
}

/// The value of `cell`, fetched from `slot` the first time.
fn lazy<'c, 'js, T: rquickjs::FromJs<'js>>(
    ctx: &Ctx<'js>,
    cell: &'c OnceCell<T>,
    slot: Slot,
) -> rquickjs::Result<&'c T> {
    if let Some(v) = cell.get() {
        return Ok(v);
    }
    let v = cache::get(ctx, slot)?;
    Ok(cell.get_or_init(|| v))
}

impl<'js> Protos<'js> {
    /// The prototypes and helpers of the prelude, fetched as needed.
    pub(crate) fn new(ctx: &Ctx<'js>) -> rquickjs::Result<Self> {
        Ok(Protos {
            ctx: ctx.clone(),
            buffer: OnceCell::new(),
            handle: OnceCell::new(),
            object: OnceCell::new(),
            date: OnceCell::new(),
            get_time: OnceCell::new(),
            latin1: OnceCell::new(),
        })
    }

    fn object(&self) -> rquickjs::Result<&Object<'js>> {
        lazy(&self.ctx, &self.object, Slot::ObjectProto)
    }

    fn handle(&self) -> rquickjs::Result<&Object<'js>> {
        lazy(&self.ctx, &self.handle, Slot::HandleProto)
    }

    fn date(&self) -> rquickjs::Result<&rquickjs::Constructor<'js>> {
        lazy(&self.ctx, &self.date, Slot::DateCtor)
    }

    fn get_time(&self) -> rquickjs::Result<&Function<'js>> {
        lazy(&self.ctx, &self.get_time, Slot::GetTime)
    }

    /// The placeholder for host object number `id`: an empty object on
    /// the handle prototype whose `__handle` is not listed and cannot be
    /// changed or removed, made here rather than by a call into the prelude.
    fn handle_object(&self, id: u64) -> rquickjs::Result<JsValue<'js>> {
        let obj = Object::new(self.ctx.clone())?;
        obj.set_prototype(Some(self.handle()?))?;
        // No flags: read-only, not enumerable, not configurable.
        obj.prop("__handle", Property::from(id as f64))?;
        Ok(obj.into_value())
    }

    /// A JS `Buffer` holding a copy of `bytes`.
    pub(crate) fn buffer(&self, bytes: &[u8]) -> rquickjs::Result<JsValue<'js>> {
        let arr = TypedArray::<u8>::new_copy(self.ctx.clone(), bytes)?;
        let obj = arr.into_object();
        obj.set_prototype(Some(lazy(&self.ctx, &self.buffer, Slot::BufferProto)?))?;
        Ok(obj.into_value())
    }

    /// The bytes of a `Uint8Array` (read through a latin1 string, since
    /// reading typed array memory directly needs `unsafe`).
    pub(crate) fn bytes(&self, obj: &Object<'js>) -> rquickjs::Result<Vec<u8>> {
        let latin1 = lazy(&self.ctx, &self.latin1, Slot::Latin1)?;
        let s: rquickjs::String = latin1.call((obj.clone(),))?;
        let text = s.to_string()?;
        // Every char is below 256, so the cast is exact.
        Ok(text.chars().map(|c| c as u32 as u8).collect())
    }
}

/// Converts redoubt values into JS values.
pub(crate) struct ToJs<'a, 'js> {
    p: &'a Protos<'js>,
    handles: &'a mut HandleTable,
    seen: FxHashMap<usize, JsValue<'js>>,
    parts: Option<Vec<(JsValue<'js>, Value)>>,
    depth: usize,
    /// A key of the top-level object whose object value is left out
    /// (`undefined`, keeping the key's place) and kept in `deferred`.
    defer: Option<&'static str>,
    deferred: Option<RObject>,
}

impl<'a, 'js> ToJs<'a, 'js> {
    /// Leaves the object at top-level key `key` out (see [`ToJs::deferred`]).
    pub(crate) fn deferring(mut self, key: &'static str) -> Self {
        self.defer = Some(key);
        self
    }

    /// The object left out by [`ToJs::deferring`], if the value had one.
    pub(crate) fn take_deferred(&mut self) -> Option<RObject> {
        self.deferred.take()
    }

    /// The JS value an object or array with address `addr` became, if it
    /// was converted.
    pub(crate) fn converted(&self, addr: usize) -> Option<JsValue<'js>> {
        self.seen.get(&addr).cloned()
    }

    /// Also records every object and array converted, with its redoubt
    /// handle (see [`ToJs::parts`]).
    pub(crate) fn recording(mut self) -> Self {
        self.parts = Some(Vec::new());
        self
    }

    /// The objects and arrays converted, when [`ToJs::recording`].
    pub(crate) fn parts(self) -> Vec<(JsValue<'js>, Value)> {
        self.parts.unwrap_or_default()
    }

    pub(crate) fn new(p: &'a Protos<'js>, handles: &'a mut HandleTable) -> Self {
        ToJs {
            p,
            handles,
            seen: FxHashMap::default(),
            parts: None,
            depth: 0,
            defer: None,
            deferred: None,
        }
    }

    /// Converts one value; shared objects stay shared and cycles are kept.
    pub(crate) fn value(&mut self, v: &Value) -> Result<JsValue<'js>, ConvertError> {
        let ctx = self.p.ctx.clone();
        Ok(match v {
            Value::Undefined => JsValue::new_undefined(ctx),
            Value::Null => JsValue::new_null(ctx),
            Value::Bool(b) => JsValue::new_bool(ctx, *b),
            Value::Number(n) => JsValue::new_number(ctx, *n),
            Value::String(s) => rquickjs::String::from_str(ctx, s)?.into_value(),
            Value::Buffer(b) => self.p.buffer(b)?,
            Value::Date(ms) => self.p.date()?.construct((*ms,))?,
            Value::Handle(h) => {
                let id = self.handles.insert(h);
                self.p.handle_object(id)?
            }
            Value::Array(a) => {
                if let Some(done) = self.seen.get(&a.addr()) {
                    return Ok(done.clone());
                }
                let arr = Array::new(ctx)?;
                self.seen.insert(a.addr(), arr.clone().into_value());
                if let Some(parts) = &mut self.parts {
                    parts.push((arr.clone().into_value(), v.clone()));
                }
                self.enter()?;
                for (i, item) in a.to_vec().iter().enumerate() {
                    let js = self.value(item)?;
                    arr.set(i, js)?;
                }
                self.depth -= 1;
                arr.into_value()
            }
            Value::Object(o) => {
                if let Some(done) = self.seen.get(&o.addr()) {
                    return Ok(done.clone());
                }
                let obj = Object::new(ctx)?;
                self.seen.insert(o.addr(), obj.clone().into_value());
                if let Some(parts) = &mut self.parts {
                    parts.push((obj.clone().into_value(), v.clone()));
                }
                self.enter()?;
                for (k, item) in o.entries() {
                    if self.depth == 1
                        && self.defer == Some(&*k)
                        && let Value::Object(d) = &item
                    {
                        self.deferred = Some(d.clone());
                        obj.set(&*k, JsValue::new_undefined(self.p.ctx.clone()))?;
                        continue;
                    }
                    let js = self.value(&item)?;
                    if &*k == "__proto__" {
                        // An own property, as JSON.parse makes it, not the prototype.
                        let prop = Property::from(js).writable().enumerable().configurable();
                        obj.prop(&*k, prop)?;
                    } else {
                        obj.set(&*k, js)?;
                    }
                }
                self.depth -= 1;
                obj.into_value()
            }
        })
    }

    fn enter(&mut self) -> Result<(), ConvertError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ConvertError::TooLarge);
        }
        Ok(())
    }
}

/// Converts JS values into redoubt values.
pub(crate) struct FromJs<'a, 'js> {
    p: &'a Protos<'js>,
    handles: &'a HandleTable,
    seen: FxHashMap<JsValue<'js>, Value>,
    bound: FxHashMap<JsValue<'js>, Value>,
    parts: Option<Vec<(JsValue<'js>, Value)>>,
    shadows: Option<Vec<(RObject, Shadow)>>,
    count: usize,
    depth: usize,
}

impl<'a, 'js> FromJs<'a, 'js> {
    pub(crate) fn new(p: &'a Protos<'js>, handles: &'a HandleTable) -> Self {
        FromJs {
            p,
            handles,
            seen: FxHashMap::default(),
            bound: FxHashMap::default(),
            parts: None,
            shadows: None,
            count: 0,
            depth: 0,
        }
    }

    /// Also records, for every object [`FromJs::fill`] is called on (not the
    /// objects inside it) that holds only primitive values (see
    /// [`Shadow::of`]), what it now holds (see [`FromJs::shadows`]).
    pub(crate) fn shadowing(mut self) -> Self {
        self.shadows = Some(Vec::new());
        self
    }

    /// The objects filled and what each now holds, when [`FromJs::shadowing`].
    pub(crate) fn shadows(&mut self) -> Vec<(RObject, Shadow)> {
        self.shadows.take().unwrap_or_default()
    }

    /// Also records every object and array made, with the JS object it was
    /// made from (see [`FromJs::parts`]).
    pub(crate) fn recording(mut self) -> Self {
        self.parts = Some(Vec::new());
        self
    }

    /// The objects and arrays made, when [`FromJs::recording`].
    pub(crate) fn parts(&mut self) -> Vec<(JsValue<'js>, Value)> {
        self.parts.take().unwrap_or_default()
    }

    /// Declares `js` already converted to `v` (an object bound to a context
    /// value), so references to it convert to the same handle.
    pub(crate) fn known(&mut self, js: JsValue<'js>, v: Value) {
        self.seen.insert(js, v);
    }

    /// Declares that `js` was made from the object or array `v` (a part of
    /// an input message): converting it updates `v` in place and returns it,
    /// so the message keeps its objects (and what shares them) as in Node-RED.
    pub(crate) fn bind(&mut self, js: JsValue<'js>, v: Value) {
        self.bound.insert(js, v);
    }

    /// Converts `js` into the existing object or array `into`, replacing
    /// its content in place so every holder of `into` sees the result (the
    /// message a function node received, a context value it changed).
    pub(crate) fn fill(&mut self, js: &JsValue<'js>, into: &Value) -> Result<(), ConvertError> {
        if js.as_object().is_some_and(|o| o.is_proxy()) && self.lazy(js)?.is_some() {
            // A `msg.req` proxy writes back into the object it stands for.
            return Ok(());
        }
        self.seen.insert(js.clone(), into.clone());
        match into {
            Value::Object(target) => {
                let Some(obj) = js.as_object() else {
                    return Ok(());
                };
                let props = self.props(obj, &target.entries())?;
                // Only a fill called from outside (depth 0: a context value
                // the turn read or stored) is a candidate twin, not the
                // objects filled inside it.
                if self.depth == 0
                    && let Some(shadows) = &mut self.shadows
                    && let Some(shadow) = Shadow::of(&props)
                {
                    shadows.push((target.clone(), shadow));
                }
                target.with_mut(|m| update(m, props));
            }
            Value::Array(target) => {
                let Some(arr) = js.clone().into_array() else {
                    return Ok(());
                };
                let items = self.items(&arr)?;
                let unchanged = target.with(|v| {
                    v.len() == items.len() && v.iter().zip(items.iter()).all(|(a, b)| same(a, b))
                });
                if !unchanged {
                    target.with_mut(|v| *v = items);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Converts one value.
    pub(crate) fn value(&mut self, v: JsValue<'js>) -> Result<Value, ConvertError> {
        self.count += 1;
        if self.count > MAX_VALUES {
            return Err(ConvertError::TooLarge);
        }
        Ok(match v.type_of() {
            Type::Uninitialized | Type::Undefined | Type::Symbol => Value::Undefined,
            Type::Function | Type::Constructor | Type::Module | Type::Unknown => Value::Undefined,
            Type::Null => Value::Null,
            Type::Bool => Value::Bool(v.as_bool().unwrap_or(false)),
            Type::Int => Value::Number(f64::from(v.as_int().unwrap_or(0))),
            Type::Float => Value::Number(v.as_float().unwrap_or(f64::NAN)),
            Type::String => match v.as_string() {
                Some(s) => Value::String(js_shared_string(s)?),
                None => Value::Undefined,
            },
            Type::BigInt => match v.as_big_int().map(|b| b.clone().to_i64()) {
                Some(Ok(n)) => Value::Number(n as f64),
                _ => Value::Number(f64::NAN),
            },
            Type::Array => match v.clone().into_array() {
                Some(arr) => self.array(v, arr)?,
                None => Value::Undefined,
            },
            Type::Object | Type::Exception | Type::Proxy | Type::Promise => {
                match v.clone().into_object() {
                    Some(obj) => self.object(v, obj)?,
                    None => Value::Undefined,
                }
            }
        })
    }

    fn array(&mut self, key: JsValue<'js>, arr: Array<'js>) -> Result<Value, ConvertError> {
        if let Some(done) = self.seen.get(&key) {
            return Ok(done.clone());
        }
        if let Some(target @ Value::Array(_)) = self.bound.get(&key).cloned() {
            self.fill(&key, &target)?;
            return Ok(target);
        }
        let out = RArray::new();
        if let Some(parts) = &mut self.parts {
            parts.push((key.clone(), Value::Array(out.clone())));
        }
        self.seen.insert(key, Value::Array(out.clone()));
        let items = self.items(&arr)?;
        out.with_mut(|v| *v = items);
        Ok(Value::Array(out))
    }

    fn items(&mut self, arr: &Array<'js>) -> Result<Vec<Value>, ConvertError> {
        self.enter()?;
        let mut items = Vec::with_capacity(arr.len());
        for i in 0..arr.len() {
            let item: JsValue<'js> = arr.get(i)?;
            items.push(self.value(item)?);
        }
        self.depth -= 1;
        Ok(items)
    }

    fn object(&mut self, key: JsValue<'js>, obj: Object<'js>) -> Result<Value, ConvertError> {
        if let Some(done) = self.seen.get(&key) {
            return Ok(done.clone());
        }
        if let Some(target @ Value::Object(_)) = self.bound.get(&key).cloned() {
            self.fill(&key, &target)?;
            return Ok(target);
        }
        if obj.is_proxy()
            && let Some(v) = self.lazy(&key)?
        {
            return Ok(v);
        }
        let proto = obj.get_prototype();
        let plain = proto.as_ref() == Some(self.p.object()?);
        if !plain {
            // A Buffer, or a plain Uint8Array (kept as bytes too).
            if obj.is_typed_array::<u8>() {
                return Ok(Value::Buffer(Bytes::from(self.p.bytes(&obj)?)));
            }
            if proto.as_ref() == Some(self.p.handle()?) {
                let id: f64 = obj.get("__handle")?;
                return Ok(self
                    .handles
                    .get(id as u64)
                    .map(Value::Handle)
                    .unwrap_or_default());
            }
            if obj.is_instance_of(self.p.date()?) {
                let ms: f64 = self.p.get_time()?.call((This(obj),))?;
                return Ok(Value::Date(ms));
            }
        }
        let out = RObject::new();
        if let Some(parts) = &mut self.parts {
            parts.push((key.clone(), Value::Object(out.clone())));
        }
        self.seen.insert(key, Value::Object(out.clone()));
        let map: Map = self.props(&obj, &[])?.into_iter().collect();
        out.with_mut(|m| *m = map);
        Ok(Value::Object(out))
    }

    /// A `msg.req` proxy (see `lazy_req.rs`), written back into the object
    /// it stands for: the objects converted for the script are filled in
    /// place, and every property once it changed the object (`full`). Reads
    /// the proxy's state and target, never the proxy, so none of its traps
    /// run. `None` for any other proxy.
    fn lazy(&mut self, key: &JsValue<'js>) -> Result<Option<Value>, ConvertError> {
        let state: Option<Object<'js>> =
            cache::get::<Function>(&self.p.ctx, Slot::LazyInfo)?.call((key.clone(),))?;
        let Some(state) = state else {
            return Ok(None);
        };
        let id: f64 = state.get("id")?;
        let full: bool = state.get("full")?;
        let made: Array<'js> = state.get("made")?;
        let handles = self.handles;
        let Some(entry) = handles.lazies.get(id as u64) else {
            return Ok(Some(Value::Undefined));
        };
        let v = Value::Object(entry.obj.clone());
        let mut objects = Vec::with_capacity(entry.made.len());
        for (i, part) in entry.made.iter().enumerate() {
            let js: JsValue<'js> = made.get(i)?;
            if js.is_object() {
                self.bound.entry(js.clone()).or_insert_with(|| part.clone());
                objects.push(js);
            }
        }
        self.seen.insert(key.clone(), v.clone());
        if full {
            let target: Object<'js> =
                cache::get::<Function>(&self.p.ctx, Slot::LazyTarget)?.call((key.clone(),))?;
            self.fill(&target.into_value(), &v)?;
        } else {
            // Until it is full the target holds only what was converted for
            // it, and each of those objects is in `made`: filling them all
            // (in any order: one met again inside another is `seen`) writes
            // back what the script changed inside them, without listing the
            // target's properties.
            for js in objects {
                self.value(js)?;
            }
        }
        Ok(Some(v))
    }

    /// The object's own enumerable properties. `old` is what the object
    /// being filled held: keys and strings that did not change are reused
    /// rather than allocated again.
    fn props(
        &mut self,
        obj: &Object<'js>,
        old: &[(Arc<str>, Value)],
    ) -> Result<Props, ConvertError> {
        self.enter()?;
        let mut map = Props::with_capacity(old.len());
        for (i, prop) in obj
            .props::<rquickjs::String<'js>, JsValue<'js>>()
            .enumerate()
        {
            let (k, v) = prop?;
            let prev = match old.get(i) {
                Some(p @ (was, _)) if same_text(&k, was)? => Some(p),
                _ => None,
            };
            let val = match (prev, v.as_string()) {
                (Some((_, Value::String(was))), Some(js)) => {
                    self.count += 1;
                    if same_text(js, was)? {
                        Value::String(was.clone())
                    } else {
                        Value::String(js_shared_string(js)?)
                    }
                }
                _ => self.value(v)?,
            };
            let key = match prev {
                Some((was, _)) => was.clone(),
                None => js_shared_string(&k)?,
            };
            map.push((key, val));
        }
        self.depth -= 1;
        Ok(map)
    }

    fn enter(&mut self) -> Result<(), ConvertError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ConvertError::TooLarge);
        }
        Ok(())
    }
}

/// True when JS string `s` is exactly `text`, compared in QuickJS's own
/// UTF-8 bytes (no Rust copy is made: for ASCII strings QuickJS hands out
/// its buffer). A string with lone surrogates comes out as WTF-8, whose
/// surrogate bytes no valid UTF-8 `text` contains, so it is never equal.
fn same_text(s: &rquickjs::String<'_>, text: &str) -> rquickjs::Result<bool> {
    let c = s.clone().to_cstring()?;
    let bytes: &[u8] = c.as_ref();
    Ok(bytes == text.as_bytes())
}

/// A JS string as shared Rust text ([`js_string`]'s), copied once from
/// QuickJS's UTF-8 bytes into its final allocation instead of through a
/// `String` first.
fn js_shared_string(s: &rquickjs::String<'_>) -> rquickjs::Result<Arc<str>> {
    let c = s.clone().to_cstring()?;
    match std::str::from_utf8(c.as_ref()) {
        Ok(text) => Ok(Arc::from(text)),
        Err(_) => Ok(Arc::from(without_lone_surrogates(s)?)),
    }
}

/// A JS string as Rust text; lone surrogates become U+FFFD.
pub(crate) fn js_string(s: &rquickjs::String<'_>) -> rquickjs::Result<String> {
    match s.to_string() {
        Ok(t) => Ok(t),
        Err(_) => without_lone_surrogates(s),
    }
}

/// The slow path of [`js_string`]: QuickJS hands lone surrogates out as
/// WTF-8, which is not UTF-8, so the text is rebuilt one UTF-16 unit at a
/// time, each lone surrogate becoming U+FFFD.
fn without_lone_surrogates(s: &rquickjs::String<'_>) -> rquickjs::Result<String> {
    let f: Function = s.ctx().eval(
        "(function (s) { const a = []; for (let i = 0; i < s.length; i++) a.push(s.charCodeAt(i)); return a; })",
    )?;
    let units: Vec<u16> = f.call((s.clone(),))?;
    Ok(String::from_utf16_lossy(&units))
}

/// Makes `m` hold `props`. When the keys are the ones it has, in the same
/// order (a script that changed values, the usual case), changed values are
/// replaced where they are, with no new map; otherwise the map is rebuilt.
/// An unchanged object is left as it is, so one that other nodes share is
/// untouched unless the script changed it.
fn update(m: &mut Map, props: Props) {
    let same_keys = m.len() == props.len() && m.keys().zip(&props).all(|(a, (b, _))| a == b);
    if !same_keys {
        *m = props.into_iter().collect();
        return;
    }
    for ((_, slot), (_, v)) in m.iter_mut().zip(props) {
        if !same(slot, &v) {
            *slot = v;
        }
    }
}

/// True when `a` and `b` are the same JS value: equal primitives, or the
/// same object (so a parent whose children were updated in place is itself
/// unchanged).
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Undefined, Value::Undefined) | (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) | (Value::Date(x), Value::Date(y)) => {
            x.to_bits() == y.to_bits()
        }
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Buffer(x), Value::Buffer(y)) => x == y,
        (Value::Handle(x), Value::Handle(y)) => Arc::ptr_eq(&x.0, &y.0),
        (Value::Object(x), Value::Object(y)) => x.ptr_eq(y),
        (Value::Array(x), Value::Array(y)) => x.ptr_eq(y),
        _ => false,
    }
}
