//! The floor under any function-node bridge: what QuickJS itself needs to
//! run the side-by-side benchmark's two scripts once per message, with no
//! conversion of redoubt values at all. First the chain's counter
//! (`global.get`, `s.count += 1`, `Date.now()`, `global.set`; `global` here
//! is a plain JS object over a `Map`):
//!
//! * `rust_to_js_x1000`: Rust builds a three-property message object and
//!   calls the script 1000 times (the least a bridge does per message);
//! * `pure_js_x1000`: the same 1000 calls from a JS loop, the interpreter
//!   alone.
//!
//! The same two for the http-function workload's script (a 100-step loop and
//! a new three-key payload that reads `msg.req.path`):
//!
//! * `function_rust_to_js_x1000`: Rust builds the message with a plain
//!   `req` object, calls the script and reads the new payload's three
//!   values back (the least a bridge does per request);
//! * `function_pure_js_x1000`: the same 1000 calls from a JS loop.
//!
//! `cargo bench -p redoubt-js --bench quickjs_floor`. No test asserts a time.

mod common;

use common::context;
use rquickjs::{Ctx, Function, Object};

fn main() {
    divan::main();
}

const CALLS: usize = 1000;

/// Evaluates `src`, one function expression, into that function.
fn function<'js>(ctx: &Ctx<'js>, src: &str) -> Function<'js> {
    match ctx.eval(src) {
        Ok(f) => f,
        Err(e) => panic!("eval: {e}"),
    }
}

const COUNTER: &str = r#"
var store = new Map();
store.set('bench', { mode: 'burst', n: 1e12, k: 0, t0: 0, first: 0, last: 0, count: 0 });
var global = { get: function (k) { return store.get(k); }, set: function (k, v) { store.set(k, v); } };
(function (msg) {
    const s = global.get('bench');
    if (!s) { return null; }
    s.count += 1;
    if (s.count === 1) { s.first = Date.now(); }
    if (s.count === s.n) { s.last = Date.now(); }
    global.set('bench', s);
    if (s.mode === 'loop' && s.count <= s.n - s.k) { return msg; }
    return null;
})
"#;

#[divan::bench(sample_count = 30)]
fn rust_to_js_x1000(bencher: divan::Bencher) {
    let ctx = context();
    ctx.with(|ctx| {
        let f = function(&ctx, COUNTER);
        bencher.bench_local(|| {
            for i in 0..CALLS {
                let run = || -> rquickjs::Result<()> {
                    let m = Object::new(ctx.clone())?;
                    m.set("payload", i as f64)?;
                    m.set("topic", "burst")?;
                    m.set("_msgid", "0123456789abcdef")?;
                    f.call::<_, rquickjs::Value>((m,))?;
                    Ok(())
                };
                if let Err(e) = run() {
                    panic!("call: {e}");
                }
            }
        });
    });
}

#[divan::bench(sample_count = 30)]
fn pure_js_x1000(bencher: divan::Bencher) {
    let ctx = context();
    ctx.with(|ctx| {
        let counter = function(&ctx, COUNTER);
        let src = format!(
            "(function (counter) {{ for (var i = 0; i < {CALLS}; i++) {{ counter({{ payload: i, topic: 'burst', _msgid: '0123456789abcdef' }}); }} }})"
        );
        let f = function(&ctx, &src);
        bencher.bench_local(|| {
            if let Err(e) = f.call::<_, ()>((counter.clone(),)) {
                panic!("call: {e}");
            }
        });
    });
}

const FUNCTION_SCRIPT: &str = r#"
(function (msg) {
    // computed field: small loop + request-derived value
    let sum = 0;
    for (let i = 1; i <= 100; i++) { sum += i; }
    msg.payload = { hello: "world", sum: sum, pathLen: msg.req.path.length };
    return msg;
})
"#;

#[divan::bench(sample_count = 30)]
fn function_rust_to_js_x1000(bencher: divan::Bencher) {
    let ctx = context();
    ctx.with(|ctx| {
        let f = function(&ctx, FUNCTION_SCRIPT);
        bencher.bench_local(|| {
            let mut total = 0.0;
            for _ in 0..CALLS {
                let run = || -> rquickjs::Result<f64> {
                    let req = Object::new(ctx.clone())?;
                    req.set("path", "/hello")?;
                    let m = Object::new(ctx.clone())?;
                    m.set("_msgid", "0123456789abcdef")?;
                    m.set("payload", "")?;
                    m.set("req", req)?;
                    let out: Object = f.call((m,))?;
                    let payload: Object = out.get("payload")?;
                    let hello: String = payload.get("hello")?;
                    let sum: f64 = payload.get("sum")?;
                    let path_len: f64 = payload.get("pathLen")?;
                    Ok(hello.len() as f64 + sum + path_len)
                };
                match run() {
                    Ok(v) => total += v,
                    Err(e) => panic!("call: {e}"),
                }
            }
            divan::black_box(total)
        });
    });
}

#[divan::bench(sample_count = 30)]
fn function_pure_js_x1000(bencher: divan::Bencher) {
    let ctx = context();
    ctx.with(|ctx| {
        let script = function(&ctx, FUNCTION_SCRIPT);
        let src = format!(
            "(function (script) {{ var t = 0; for (var i = 0; i < {CALLS}; i++) {{ var m = script({{ _msgid: '0123456789abcdef', payload: '', req: {{ path: '/hello' }} }}); t += m.payload.sum; }} return t; }})"
        );
        let f = function(&ctx, &src);
        bencher.bench_local(|| match f.call::<_, f64>((script.clone(),)) {
            Ok(t) => divan::black_box(t),
            Err(e) => panic!("call: {e}"),
        });
    });
}
