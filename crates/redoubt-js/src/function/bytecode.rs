//! The prelude sources (`buffer.js`, `prelude.js`) compiled once per
//! process to QuickJS bytecode, and the module loader that hands that
//! bytecode to every sandbox.
//!
//! Parsing the two files took about 1.7 ms of the 2 ms a sandbox needed to
//! start (`cargo bench -p redoubt-js --bench sandbox_start`), and a deploy
//! starts one sandbox per function node. Each file is declared as an ES
//! module whose default export is the file's function expression, compiled
//! in a scratch engine the first time a sandbox starts, and kept for the
//! life of the process. Every sandbox's runtime gets a loader over that
//! bytecode and imports the module into its own context, so sandboxes still
//! share nothing at run time: each context loads and instantiates its own
//! copy of the module.

use rquickjs::loader::bundle::Bundle;
use rquickjs::module::WriteOptions;
use rquickjs::{Context, Ctx, Module, Object, Runtime, Value};
use std::sync::OnceLock;

/// The module name of `buffer.js`.
pub(crate) const BUFFER: &str = "redoubt:buffer";
/// The module name of `prelude.js`.
pub(crate) const PRELUDE: &str = "redoubt:prelude";

const SOURCES: [(&str, &str); 2] = [
    (BUFFER, include_str!("buffer.js")),
    (PRELUDE, include_str!("prelude.js")),
];

/// Module name and bytecode of every prelude source.
type Table = [(&'static str, &'static [u8]); 2];

static BYTECODE: [OnceLock<Vec<u8>>; 2] = [OnceLock::new(), OnceLock::new()];
static TABLE: OnceLock<Result<Table, String>> = OnceLock::new();

/// Compiles both sources in a scratch engine (once per process).
fn compile_all() -> Result<Table, String> {
    let text = |e: rquickjs::Error| e.to_string();
    let rt = Runtime::new().map_err(text)?;
    let ctx = Context::full(&rt).map_err(text)?;
    let mut table: Table = [(BUFFER, &[]), (PRELUDE, &[])];
    for (i, (name, src)) in SOURCES.iter().enumerate() {
        // Without their source text (`toString()` of a prelude function shows
        // no body), which saves a sixth of loading; line numbers stay.
        let bytes = ctx.with(|ctx| {
            // Each file is one function expression: as a module it is the
            // default export; declaring a module compiles it without running it.
            let module = Module::declare(ctx.clone(), *name, format!("export default {src};"))
                .map_err(|e| format!("{name}: {}", describe(&ctx, e)))?;
            module
                .write(WriteOptions {
                    strip_source: true,
                    ..WriteOptions::default()
                })
                .map_err(|e| format!("{name}: {e}"))
        })?;
        table[i] = (name, BYTECODE[i].get_or_init(|| bytes).as_slice());
    }
    Ok(table)
}

/// An engine error with the pending exception's text, when there is one.
fn describe(ctx: &Ctx<'_>, e: rquickjs::Error) -> String {
    match e {
        rquickjs::Error::Exception => {
            let ex = ctx.catch();
            match ex.as_exception() {
                Some(ex) => ex.to_string(),
                None => format!("{ex:?}"),
            }
        }
        e => e.to_string(),
    }
}

/// Lets `rt` import the prelude modules (compiling them first if no sandbox
/// has yet).
pub(crate) fn install(rt: &Runtime) -> Result<(), String> {
    let table: &'static Table = match TABLE.get_or_init(compile_all) {
        Ok(t) => t,
        Err(e) => return Err(e.clone()),
    };
    rt.set_loader(Bundle(table.as_slice()), Bundle(table.as_slice()));
    Ok(())
}

/// Imports prelude module `name` into `ctx` and returns its default export.
pub(crate) fn import<'js>(ctx: &Ctx<'js>, name: &str) -> rquickjs::Result<Value<'js>> {
    let namespace: Object<'js> = Module::import(ctx, name)?.finish()?;
    namespace.get("default")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sources_compile_once_and_load_into_separate_contexts() {
        let load = || {
            let rt = Runtime::new().expect("runtime");
            install(&rt).expect("install");
            let ctx = Context::full(&rt).expect("context");
            ctx.with(|ctx| {
                for name in [BUFFER, PRELUDE] {
                    let f = import(&ctx, name).expect(name);
                    assert!(f.is_function(), "{name} exports its function");
                }
            });
        };
        load();
        let first = TABLE
            .get()
            .and_then(|t| t.as_ref().ok())
            .map(|t| t[1].1.as_ptr());
        load();
        let again = TABLE
            .get()
            .and_then(|t| t.as_ref().ok())
            .map(|t| t[1].1.as_ptr());
        assert!(first.is_some());
        assert_eq!(first, again, "compiled once per process");
    }
}
