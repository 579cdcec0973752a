//! What starting one function node's engine costs, and its parts: the
//! deploy of the benchmark's 200-node flow starts 35 of them.
//!
//! * `sandbox_new`: a whole [`Sandbox::new`] for a one-line script (runtime,
//!   context, prelude, the node's code);
//! * `runtime_and_context`: `Runtime::new` + `Context::full` alone;
//! * `compile_buffer_js`, `compile_prelude_js`: parsing the two prelude
//!   sources (each is one function expression, so evaluating it compiles
//!   it without running it). A sandbox no longer pays this: the sources
//!   are compiled once per process and each sandbox loads the bytecode.
//!
//! Measured here (2 cores, `CARGO_PROFILE_BENCH_LTO=off`): `sandbox_new`
//! 2.05 ms when every sandbox parsed the prelude (1.07 + 0.67 ms of it),
//! 0.28 ms loading bytecode (without the prelude's source text).
//!
//! `cargo bench -p redoubt-js --bench sandbox_start`. No test asserts a time.

mod common;

use common::context;
use indexmap::IndexMap;
use redoubt_core::Msg;
use redoubt_core::context::{ContextManager, ContextStore, MemoryStore, NodeContext};
use redoubt_core::engine::LogLevel;
use redoubt_core::node::{NodeError, Status};
use redoubt_core::value::Value;
use redoubt_js::function::{DEFAULT_MEMORY_LIMIT, FunctionSpec, Sandbox, ScriptSink};
use rquickjs::Context;
use std::sync::Arc;

fn main() {
    divan::main();
}

const BUFFER_JS: &str = include_str!("../src/function/buffer.js");
const PRELUDE_JS: &str = include_str!("../src/function/prelude.js");

/// A sink that drops everything (nothing runs in these benchmarks).
struct Quiet {
    context: NodeContext,
}

impl ScriptSink for Quiet {
    fn send(&self, _port: usize, _msg: Msg) {}
    fn done(&self, _id: u64, _result: Result<(), NodeError>) {}
    fn discard(&self, _id: u64) {}
    fn status(&self, _status: Status) {}
    fn error(&self, _err: NodeError, _msg: Option<Msg>) {}
    fn log(&self, _level: LogLevel, _text: &str) {}
    fn context(&self) -> NodeContext {
        self.context.clone()
    }
    fn env(&self, _name: &str) -> Value {
        Value::Undefined
    }
}

fn sink() -> Arc<Quiet> {
    let mut stores: IndexMap<String, Arc<dyn ContextStore>> = IndexMap::new();
    stores.insert("memory".into(), Arc::new(MemoryStore::default()));
    Arc::new(Quiet {
        context: NodeContext::new(
            ContextManager::new(stores, "memory".into()),
            "n1:f1".into(),
            vec!["f1".into()],
        ),
    })
}

fn spec() -> FunctionSpec {
    FunctionSpec {
        id: "n1".into(),
        name: String::new(),
        path: "f1/n1".into(),
        outputs: 1,
        func: "msg.payload = msg.payload + 1;\nreturn msg;".into(),
        initialize: String::new(),
        finalize: String::new(),
        timeout: None,
        memory_limit: DEFAULT_MEMORY_LIMIT,
    }
}

#[divan::bench(sample_count = 50)]
fn sandbox_new(bencher: divan::Bencher) {
    let spec = spec();
    let sink = sink();
    bencher.bench_local(|| match Sandbox::new(&spec, sink.clone()) {
        Ok(sb) => sb,
        Err(e) => panic!("sandbox: {e}"),
    });
}

#[divan::bench(sample_count = 50)]
fn runtime_and_context() -> Context {
    context()
}

fn compile(bencher: divan::Bencher, src: &'static str) {
    let ctx = context();
    ctx.with(|ctx| {
        bencher.bench_local(|| {
            if let Err(e) = ctx.eval::<rquickjs::Value, _>(src) {
                panic!("compile: {e}");
            }
        });
    });
}

#[divan::bench(sample_count = 50)]
fn compile_buffer_js(bencher: divan::Bencher) {
    compile(bencher, BUFFER_JS);
}

#[divan::bench(sample_count = 50)]
fn compile_prelude_js(bencher: divan::Bencher) {
    compile(bencher, PRELUDE_JS);
}
