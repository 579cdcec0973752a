//! What the redoubt-js benchmarks share: a bare QuickJS engine.

use rquickjs::{Context, Runtime};

/// A new runtime with a full context (all intrinsics), as a sandbox has.
pub(crate) fn context() -> Context {
    let rt = match Runtime::new() {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    };
    match Context::full(&rt) {
        Ok(c) => c,
        Err(e) => panic!("context: {e}"),
    }
}
