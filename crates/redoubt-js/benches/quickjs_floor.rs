//! The floor under any function-node bridge: what QuickJS itself needs to
//! run the chain benchmark's counter script (`global.get`, `s.count += 1`,
//! `Date.now()`, `global.set`) once per message, with no conversion of
//! redoubt values at all. `global` here is a plain JS object over a `Map`.
//!
//! * `rust_to_js_x1000`: Rust builds a three-property message object and
//!   calls the script 1000 times (the least a bridge does per message);
//! * `pure_js_x1000`: the same 1000 calls from a JS loop, the interpreter
//!   alone.
//!
//! `cargo bench -p redoubt-js --bench quickjs_floor`. No test asserts a time.

mod common;

use common::context;
use rquickjs::{Function, Object};

fn main() {
    divan::main();
}

const CALLS: usize = 1000;

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
        let f: Function = match ctx.eval(COUNTER) {
            Ok(f) => f,
            Err(e) => panic!("eval: {e}"),
        };
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
        let counter: Function = match ctx.eval(COUNTER) {
            Ok(f) => f,
            Err(e) => panic!("eval: {e}"),
        };
        let src = format!(
            "(function (counter) {{ for (var i = 0; i < {CALLS}; i++) {{ counter({{ payload: i, topic: 'burst', _msgid: '0123456789abcdef' }}); }} }})"
        );
        let f: Function = match ctx.eval(src) {
            Ok(f) => f,
            Err(e) => panic!("eval: {e}"),
        };
        bencher.bench_local(|| {
            if let Err(e) = f.call::<_, ()>((counter.clone(),)) {
                panic!("call: {e}");
            }
        });
    });
}
