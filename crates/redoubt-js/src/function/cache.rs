//! The prelude objects the Rust side uses on every message (the control
//! functions of `rd`, the prototypes conversion compares against), read
//! once when the sandbox is built and kept in the runtime's userdata, so a
//! turn does not look each one up by name (interning the name as an atom
//! and walking `rd`'s properties) every time it needs it.
//!
//! The userdata is dropped before the runtime is freed, so holding JS values
//! there is allowed; a context without it (never in a built sandbox) falls
//! back to the lookup by name.

use super::sandbox::RD_GLOBAL;
use rquickjs::{Ctx, FromJs, Object, Value as JsValue};

/// The cached values, by position in the userdata vector.
#[derive(Clone, Copy)]
pub(crate) enum Slot {
    Input,
    Settle,
    Fire,
    Init,
    FailInit,
    Close,
    Take,
    Forget,
    BoundList,
    TakeBound,
    TakeLive,
    BufferProto,
    HandleProto,
    ObjectProto,
    DateCtor,
    GetTime,
    Latin1,
    MkLazy,
    LazyInfo,
    LazyTarget,
    LazySweep,
    Twins,
}

/// The property of `rd` each slot holds, in slot order.
const NAMES: [&str; 22] = [
    "input",
    "settle",
    "fire",
    "init",
    "failInit",
    "close",
    "take",
    "forget",
    "boundList",
    "takeBound",
    "takeLive",
    "BufferProto",
    "HandleProto",
    "ObjectProto",
    "DateCtor",
    "getTime",
    "latin1Of",
    "mkLazy",
    "lazyInfo",
    "lazyTarget",
    "lazySweep",
    "twins",
];

/// The userdata type: one value per [`Slot`].
type Cached<'js> = Vec<JsValue<'js>>;

/// Reads every slot from the prelude's control object and keeps them.
pub(crate) fn store(ctx: &Ctx<'_>) -> rquickjs::Result<()> {
    let rd: Object = ctx.globals().get(RD_GLOBAL)?;
    let mut values: Cached = Vec::with_capacity(NAMES.len());
    for name in NAMES {
        values.push(rd.get(name)?);
    }
    // Err only while the userdata is borrowed, which nothing does yet.
    let _ = ctx.store_userdata(values);
    Ok(())
}

/// The value in `slot`, as `T`.
pub(crate) fn get<'js, T: FromJs<'js>>(ctx: &Ctx<'js>, slot: Slot) -> rquickjs::Result<T> {
    let cached = ctx
        .userdata::<Cached>()
        .and_then(|c| c.get(slot as usize).cloned());
    let v = match cached {
        Some(v) => v,
        None => {
            let rd: Object = ctx.globals().get(RD_GLOBAL)?;
            rd.get(NAMES[slot as usize])?
        }
    };
    T::from_js(ctx, v)
}
