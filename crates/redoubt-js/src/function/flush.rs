//! The end of a turn: context values the script changed are written back,
//! then what it did (sends, done, status, errors) is applied in order.
//! Messages sent without cloning are converted only now, as Node-RED
//! delivers them after the script returns, and an input message the script
//! sends or completes is written back into the object the engine holds.

use super::cache::{self, Slot};
use super::convert::{FromJs, Protos};
use super::host::Out;
use super::sandbox::Turn;
use super::twins;
use redoubt_core::Msg;
use redoubt_core::engine::LogLevel;
use redoubt_core::node::NodeError;
use redoubt_core::value::{Object as RObject, Value};
use rquickjs::{Array, Ctx, Function, Value as JsValue};
use rustc_hash::FxHashSet;

/// JS objects already converted this turn (context values), with the
/// redoubt value each stands for.
type Known<'js> = Vec<(JsValue<'js>, Value)>;

impl Turn<'_> {
    /// Writes back the context values the script read or stored this turn,
    /// in place and only where changed: every object made for the script
    /// maps back to the object it was made from, so one pass over the JS
    /// values finds what differs. Returns the values read or stored, so
    /// messages refer to the same objects.
    pub(crate) fn sync_bound<'js>(&mut self, ctx: &Ctx<'js>) -> Known<'js> {
        let bound = std::mem::take(&mut self.sh.state.lock().bound);
        if bound.is_empty() {
            return Vec::new();
        }
        let (Ok(arr), Ok(p)) = (
            cache::get::<Function>(ctx, Slot::TakeBound).and_then(|f| f.call::<_, Array>(())),
            Protos::new(ctx),
        ) else {
            return Vec::new();
        };
        let handles = self.sh.handles.lock();
        let mut conv = FromJs::new(&p, &handles).shadowing();
        let mut roots = Vec::new();
        for (i, (target, root)) in bound.into_iter().enumerate() {
            let Ok(js) = arr.get::<JsValue>(i) else {
                continue;
            };
            // Roots are bound too: one may also sit inside another (a part
            // the script read again by its own key) and must keep its object.
            if root {
                roots.push((js.clone(), target.clone()));
            }
            conv.bind(js, target);
        }
        for (js, target) in &roots {
            if let Err(e) = conv.fill(js, target) {
                self.sh.sink.log(
                    LogLevel::Warn,
                    &format!("Could not update a context value: {e}"),
                );
            }
        }
        let mut shadows = conv.shadows();
        for (js, target) in &roots {
            let Value::Object(obj) = target else {
                continue;
            };
            // The last fill of `obj` is what it holds now.
            let shadow = shadows
                .iter()
                .rposition(|(o, _)| o.ptr_eq(obj))
                .map(|i| shadows.remove(i).1);
            if let Err(e) = twins::keep(ctx, self.sh, obj, js, shadow) {
                self.sh.sink.log(
                    LogLevel::Warn,
                    &format!("Could not keep a context value: {e}"),
                );
            }
        }
        roots
    }

    /// Applies what the turn did, in order.
    pub(crate) fn flush<'js>(&mut self, ctx: &Ctx<'js>, known: &Known<'js>) {
        let out = std::mem::take(&mut self.sh.state.lock().outbox);
        let mut live: Option<Array<'js>> = None;
        // Ids of input messages (our own counter), so FxHash (see convert.rs).
        let mut synced: FxHashSet<u64> = FxHashSet::default();
        for o in out {
            match o {
                Out::Send(port, m) => self.sh.sink.send(port, m),
                Out::Live { port, slot, bound } => {
                    if live.is_none() {
                        live = cache::get::<Function>(ctx, Slot::TakeLive)
                            .and_then(|f| f.call(()))
                            .ok();
                    }
                    match self.materialize(ctx, live.as_ref(), slot, bound, known) {
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
                        forget(ctx, id);
                    } else {
                        self.write_back(ctx, id, known);
                    }
                    self.sh.sink.done(id, result);
                }
                Out::Drop(id) => {
                    self.inflight.shift_remove(&id);
                    forget(ctx, id);
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

    /// Writes the script's view of input message `id` back into the object
    /// the engine holds, so Catch and Complete nodes see its changes.
    pub(crate) fn write_back<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        id: u64,
        known: &Known<'js>,
    ) -> Option<RObject> {
        let entry = self.inflight.shift_remove(&id)?;
        if let Some((obj, parts)) = take(ctx, id)
            && let Ok(p) = Protos::new(ctx)
        {
            let handles = self.sh.handles.lock();
            let mut conv = FromJs::new(&p, &handles);
            seed(&mut conv, known, Some(&parts), &entry.parts);
            if let Err(e) = conv.fill(&obj, &Value::Object(entry.obj.clone())) {
                self.sh.sink.log(
                    LogLevel::Warn,
                    &format!("Could not read back the message: {e}"),
                );
            }
        }
        Some(entry.obj)
    }

    /// A message sent without cloning: the input message object itself when
    /// it is one, so its holders see the same object as in Node-RED. `live`
    /// holds the message at `slot`, then the JS counterparts of its objects
    /// when it is an input message (see the prelude's `emitOne`).
    fn materialize<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        live: Option<&Array<'js>>,
        slot: usize,
        bound: u64,
        known: &Known<'js>,
    ) -> Result<Msg, String> {
        let obj = live
            .and_then(|a| a.get::<JsValue>(slot).ok())
            .ok_or("The message to send was lost")?;
        let p = Protos::new(ctx).map_err(|e| e.to_string())?;
        let handles = self.sh.handles.lock();
        let mut conv = FromJs::new(&p, &handles);
        if let Some(entry) = self.inflight.get(&bound)
            && obj.is_object()
        {
            // A message with no objects inside has only itself as a part, and
            // the fill below starts from it: nothing to bind.
            let only_root = match entry.parts.as_slice() {
                [] => true,
                [Value::Object(o)] => o.ptr_eq(&entry.obj),
                _ => false,
            };
            let parts = match live {
                Some(a) if !only_root => a.get::<Option<Array>>(slot + 1).ok().flatten(),
                _ => None,
            };
            seed(&mut conv, known, parts.as_ref(), &entry.parts);
            conv.fill(&obj, &Value::Object(entry.obj.clone()))
                .map_err(|e| e.describe(ctx))?;
            return Ok(Msg::from_object_raw(entry.obj.clone()));
        }
        seed(&mut conv, known, None, &[]);
        match conv.value(obj).map_err(|e| e.describe(ctx))? {
            Value::Object(o) => Ok(Msg::from_object_raw(o)),
            _ => Ok(Msg::from_object_raw(RObject::new())),
        }
    }
}

/// Tells the converter which JS objects stand for context values (`known`)
/// and for the objects of an input message (`parts`, updated in place).
fn seed<'js>(
    conv: &mut FromJs<'_, 'js>,
    known: &Known<'js>,
    parts_js: Option<&Array<'js>>,
    parts: &[Value],
) {
    for (js, v) in known {
        conv.known(js.clone(), v.clone());
    }
    if let Some(arr) = parts_js {
        for (i, v) in parts.iter().enumerate() {
            if let Ok(js) = arr.get::<JsValue>(i) {
                conv.bind(js, v.clone());
            }
        }
    }
}

/// Removes input message `id` from the prelude's table, when the message
/// went on as itself and there is nothing to read back.
pub(crate) fn forget(ctx: &Ctx<'_>, id: u64) {
    let _ = cache::get::<Function>(ctx, Slot::Forget).and_then(|f| f.call::<_, ()>((id as f64,)));
}

/// Removes input message `id` from the prelude's table, returning the
/// message and the JS counterparts of its objects (the message first).
pub(crate) fn take<'js>(ctx: &Ctx<'js>, id: u64) -> Option<(JsValue<'js>, Array<'js>)> {
    let parts: Array = cache::get::<Function>(ctx, Slot::Take)
        .and_then(|f| f.call::<_, Option<Array>>((id as f64,)))
        .ok()??;
    let msg: JsValue = parts.get(0).ok()?;
    Some((msg, parts))
}
