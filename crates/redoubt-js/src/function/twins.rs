//! JS twins of small context objects, kept from one turn to the next.
//!
//! A script that keeps state in context (`const s = global.get('state');
//! s.count += 1; global.set('state', s)`) would otherwise have the object
//! built anew in JS on every message. When a turn ends and an object it
//! read or stored was written back holding only primitive values (at most
//! [`MAX_KEYS`] of them), the JS object is kept beside a [`Shadow`] of what
//! it held. The next `get` of that same object returns the kept JS object
//! if the object still holds exactly that, so nothing changed it since
//! (another node, another script, the context API); otherwise it is built
//! again, as before. So a twin is never staler than the stored value, and,
//! as with Node-RED's memory store, a script gets the same object back.
//!
//! Each sandbox keeps at most [`MAX_TWINS`], in the prelude's `twins`
//! array and, at the same index, in [`Twins`].

use super::cache::{self, Slot};
use super::convert::same;
use super::host::Shared;
use redoubt_core::value::{Map, Object as RObject, Value};
use rquickjs::{Array, Ctx, Value as JsValue};
use std::sync::Arc;

/// Most twins one sandbox keeps.
const MAX_TWINS: usize = 8;
/// Most properties of an object kept as a twin.
const MAX_KEYS: usize = 32;

/// What a twin held when its turn ended: keys and primitive values in order.
pub(crate) struct Shadow(Vec<(Arc<str>, Value)>);

impl Shadow {
    /// A shadow of `props` when there are at most [`MAX_KEYS`] and every
    /// value is a primitive (objects, arrays, buffers and dates can change
    /// without the object that holds them changing).
    pub(crate) fn of(props: &[(Arc<str>, Value)]) -> Option<Shadow> {
        let primitive = |v: &Value| {
            matches!(
                v,
                Value::Undefined
                    | Value::Null
                    | Value::Bool(_)
                    | Value::Number(_)
                    | Value::String(_)
            )
        };
        (props.len() <= MAX_KEYS && props.iter().all(|(_, v)| primitive(v)))
            .then(|| Shadow(props.to_vec()))
    }

    /// True when `m` holds exactly what the shadow does.
    fn matches(&self, m: &Map) -> bool {
        m.len() == self.0.len()
            && m.iter()
                .zip(&self.0)
                .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
    }
}

struct Twin {
    obj: RObject,
    shadow: Shadow,
}

/// The Rust side of a sandbox's twins; slot `i` pairs with `twins[i]` in
/// the prelude.
#[derive(Default)]
pub(crate) struct Twins {
    slots: Vec<Option<Twin>>,
    /// The slot the next new twin replaces once all are taken (in turn).
    next: usize,
}

impl Twins {
    fn find(&self, obj: &RObject) -> Option<usize> {
        self.slots
            .iter()
            .position(|t| t.as_ref().is_some_and(|t| t.obj.ptr_eq(obj)))
    }

    /// A slot for a new twin: a free one, else the next in turn.
    fn free_slot(&mut self) -> usize {
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            return i;
        }
        if self.slots.len() < MAX_TWINS {
            self.slots.push(None);
            return self.slots.len() - 1;
        }
        let i = self.next % MAX_TWINS;
        self.next = (i + 1) % MAX_TWINS;
        i
    }
}

fn js_twins<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Array<'js>> {
    cache::get::<Array>(ctx, Slot::Twins)
}

/// The kept JS object for context value `v`, if there is one and `v` holds
/// what it held when kept. A twin found stale is dropped.
pub(crate) fn reuse<'js>(
    ctx: &Ctx<'js>,
    sh: &Shared,
    v: &Value,
) -> rquickjs::Result<Option<JsValue<'js>>> {
    let Value::Object(obj) = v else {
        return Ok(None);
    };
    let fresh = {
        let mut st = sh.state.lock();
        let Some(i) = st.twins.find(obj) else {
            return Ok(None);
        };
        // The object's lock is a leaf: nothing else is locked under it.
        let fresh = st.twins.slots[i]
            .as_ref()
            .is_some_and(|t| obj.with(|m| t.shadow.matches(m)));
        if !fresh {
            st.twins.slots[i] = None;
        }
        (i, fresh)
    };
    let arr = js_twins(ctx)?;
    match fresh {
        (i, true) => Ok(Some(arr.get(i)?)),
        (i, false) => {
            arr.set(i, JsValue::new_undefined(ctx.clone()))?;
            Ok(None)
        }
    }
}

/// At the end of a turn: keeps `js` as the twin of context object `obj`,
/// which now holds `shadow`, or, with no shadow (not a small object of
/// primitives, or it could not be written back), drops any twin of `obj`.
pub(crate) fn keep<'js>(
    ctx: &Ctx<'js>,
    sh: &Shared,
    obj: &RObject,
    js: &JsValue<'js>,
    shadow: Option<Shadow>,
) -> rquickjs::Result<()> {
    let arr = js_twins(ctx)?;
    let mut st = sh.state.lock();
    let twins = &mut st.twins;
    // One JS object stands for one context object: a twin of another
    // object with this same JS object (a stale one the script stored under
    // a new key) goes.
    for i in 0..twins.slots.len() {
        let other = twins.slots[i].as_ref().is_some_and(|t| !t.obj.ptr_eq(obj));
        if other && arr.get::<JsValue>(i)? == *js {
            twins.slots[i] = None;
            arr.set(i, JsValue::new_undefined(ctx.clone()))?;
        }
    }
    let found = twins.find(obj);
    let Some(shadow) = shadow else {
        if let Some(i) = found {
            twins.slots[i] = None;
            arr.set(i, JsValue::new_undefined(ctx.clone()))?;
        }
        return Ok(());
    };
    let i = match found {
        Some(i) => i,
        None => twins.free_slot(),
    };
    twins.slots[i] = Some(Twin {
        obj: obj.clone(),
        shadow,
    });
    arr.set(i, js.clone())?;
    Ok(())
}
