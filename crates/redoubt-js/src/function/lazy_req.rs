//! `msg.req` of an input message, converted one property at a time as the
//! script reads it. In Node-RED `msg.req` is Express's request object, and
//! most scripts read one or two of its properties (`msg.req.path`,
//! `msg.req.headers`); converting all of it (about 25 properties and five
//! nested objects) into JS and back on every message was a third of a
//! function node's CPU time behind `http in`.
//!
//! The prelude's `mkLazy` makes a proxy over an empty target. Reading a
//! property converts that property (`h.lazyGet`); listing, changing or
//! freezing the object converts the rest first (`h.lazyKeys`), so the
//! script sees an ordinary object. This module owns the table of the Rust
//! objects behind live proxies, the host functions the proxy calls, and
//! building an input message with the proxy in it. Writing back (in
//! `convert.rs`, `FromJs::lazy`) fills only the properties the script
//! converted, in place, unless it changed the object.

use super::cache::{self, Slot};
use super::convert::{HandleTable, ToJs, js_string};
use super::host::{Shared, protos, throw};
use redoubt_core::value::{Object as RObject, Value};
use rquickjs::object::Property;
use rquickjs::{Array, Ctx, Exception, Function, Object, Value as JsValue};
use rustc_hash::FxHashMap;

/// The key of an input message made lazy.
const REQ: &str = "req";

/// Entries kept before the dead ones are looked for: at most this many
/// `msg.req` objects outlive their messages.
const SWEEP_AT: usize = 64;

/// The object behind one proxy.
pub(crate) struct LazyEntry {
    /// The `msg.req` object the proxy stands for.
    pub(crate) obj: RObject,
    /// The redoubt values of the objects converted for the proxy so far, in
    /// the order of the prelude's `made` array (the JS counterparts).
    pub(crate) made: Vec<Value>,
}

/// The objects behind live proxies, by the id the prelude knows them by.
/// An entry is dropped once its proxy's target is garbage (see [`sweep`]),
/// so a proxy a timer or a closure keeps keeps working. Keyed by our own
/// counter, so FxHash (see convert.rs).
#[derive(Default)]
pub(crate) struct LazyTable {
    next: u64,
    entries: FxHashMap<u64, LazyEntry>,
}

impl LazyTable {
    fn insert(&mut self, obj: RObject, made: Vec<Value>) -> u64 {
        self.next += 1;
        self.entries.insert(self.next, LazyEntry { obj, made });
        self.next
    }

    /// The entry with `id`.
    pub(crate) fn get(&self, id: u64) -> Option<&LazyEntry> {
        self.entries.get(&id)
    }

    /// Number of live entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Converts input message `v` as `host::to_js_parts` does, except that an
/// object at `msg.req` becomes a proxy converting its properties on first
/// read. Returns the message and the objects converted with their redoubt
/// values (`msg.req`'s are recorded as the script reads them).
pub(crate) fn to_js_message<'js>(
    ctx: &Ctx<'js>,
    sh: &Shared,
    v: &Value,
) -> rquickjs::Result<(JsValue<'js>, Vec<(JsValue<'js>, Value)>)> {
    let p = protos(ctx)?;
    let mut handles = sh.handles.lock();
    let mut conv = ToJs::new(&p, &mut handles).recording().deferring(REQ);
    let js = conv.value(v).map_err(|e| throw(ctx, e))?;
    let Some(req) = conv.take_deferred() else {
        return Ok((js, conv.parts()));
    };
    // The same object elsewhere in the message (`msg.x = msg.req`) was
    // converted there: keep one object, as the script would expect.
    let existing = conv.converted(req.addr());
    // Objects of msg.req already converted elsewhere (msg.payload is
    // msg.req.query or msg.req.body) are set on the proxy from the start.
    let mut preset = Vec::new();
    if existing.is_none() {
        // Without building msg.req if it is still to be built: only objects
        // that exist already can have been converted elsewhere.
        for (k, child) in req.object_children() {
            let addr = match &child {
                Value::Object(o) => o.addr(),
                Value::Array(a) => a.addr(),
                _ => continue,
            };
            if let Some(js) = conv.converted(addr) {
                preset.push((k, js, child));
            }
        }
    }
    let parts = conv.parts();
    let Some(msg) = js.as_object() else {
        return Ok((js, parts));
    };
    let value = match existing {
        Some(js) => js,
        None => {
            let made = preset.iter().map(|(_, _, v)| v.clone()).collect();
            let id = handles.lazies.insert(req, made);
            drop(handles);
            let list = Array::new(ctx.clone())?;
            for (i, (k, js, _)) in preset.into_iter().enumerate() {
                list.set(2 * i, &*k)?;
                list.set(2 * i + 1, js)?;
            }
            let made = cache::get::<Function>(ctx, Slot::MkLazy)
                .and_then(|f| f.call::<_, JsValue>((id as f64, list)));
            match made {
                Ok(proxy) => proxy,
                Err(e) => {
                    sh.handles.lock().lazies.entries.remove(&id);
                    return Err(e);
                }
            }
        }
    };
    msg.set(REQ, value)?;
    Ok((js, parts))
}

/// The table, unless a conversion holds it: a proxy read from inside one
/// (a user's proxy over `msg.req` met while writing a message back) throws
/// rather than waiting for itself.
fn table<'a>(
    ctx: &Ctx<'_>,
    sh: &'a Shared,
) -> rquickjs::Result<parking_lot::MutexGuard<'a, HandleTable>> {
    sh.handles.try_lock().ok_or_else(|| {
        Exception::throw_type(
            ctx,
            "msg.req cannot be read while a message is being converted",
        )
    })
}

/// Adds `h.lazyGet(id, key, target, made)`, which converts property `key`
/// of entry `id` onto `target` (if the object has it) and appends the
/// objects it converted to `made`, and `h.lazyKeys(id)`.
pub(crate) fn build<'js>(ctx: &Ctx<'js>, sh: &Shared, h: &Object<'js>) -> rquickjs::Result<()> {
    let s = sh.clone();
    h.set(
        "lazyGet",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  id: f64,
                  key: rquickjs::String<'js>,
                  target: Object<'js>,
                  made: Array<'js>| {
                let key = js_string(&key)?;
                let id = id as u64;
                let p = protos(&ctx)?;
                let mut handles = table(&ctx, &s)?;
                let Some(v) = handles.lazies.get(id).and_then(|e| e.obj.get(&key)) else {
                    return Ok::<_, rquickjs::Error>(());
                };
                let mut conv = ToJs::new(&p, &mut handles).recording();
                let js = conv.value(&v).map_err(|e| throw(&ctx, e))?;
                let parts = conv.parts();
                let base = made.len();
                let mut values = Vec::with_capacity(parts.len());
                for (i, (j, rv)) in parts.into_iter().enumerate() {
                    made.set(base + i, j)?;
                    values.push(rv);
                }
                if let Some(e) = handles.lazies.entries.get_mut(&id) {
                    e.made.extend(values);
                }
                drop(handles);
                if key == "__proto__" {
                    // An own property, not the prototype (as `convert.rs` does).
                    let prop = Property::from(js).writable().enumerable().configurable();
                    target.prop(key.as_str(), prop)?;
                } else {
                    target.set(key.as_str(), js)?;
                }
                Ok(())
            },
        )?,
    )?;
    let s = sh.clone();
    h.set(
        "lazyKeys",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, id: f64| {
            let handles = table(&ctx, &s)?;
            let keys: Vec<String> = handles
                .lazies
                .get(id as u64)
                .map(|e| e.obj.keys().iter().map(|k| k.to_string()).collect())
                .unwrap_or_default();
            Ok::<_, rquickjs::Error>(keys)
        })?,
    )?;
    Ok(())
}

/// Drops the entries whose proxies are garbage. QuickJS frees an object
/// as soon as nothing refers to it, so after a turn this finds the
/// `msg.req` of every message the script let go of.
/// Runs once [`SWEEP_AT`] entries have piled up, so the check costs
/// nothing per message.
pub(crate) fn sweep(ctx: &Ctx<'_>, sh: &Shared) {
    if sh.handles.lock().lazies.entries.len() < SWEEP_AT {
        return;
    }
    sweep_now(ctx, sh);
}

/// [`sweep`] whatever the table's size.
pub(crate) fn sweep_now(ctx: &Ctx<'_>, sh: &Shared) {
    let gone: Vec<f64> = cache::get::<Function>(ctx, Slot::LazySweep)
        .and_then(|f| f.call(()))
        .unwrap_or_default();
    let mut handles = sh.handles.lock();
    for id in gone {
        handles.lazies.entries.remove(&(id as u64));
    }
}
