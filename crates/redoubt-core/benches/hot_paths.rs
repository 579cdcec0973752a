//! Micro-benchmarks of core hot paths: message cloning on fan-out and
//! JSONata evaluation with Node-RED's bindings.
//!
//! `cargo bench -p redoubt-core` measures; `cargo test --benches` runs each
//! once (CI's quick mode). No test asserts a time.

use redoubt_core::Msg;
use redoubt_core::expr::jsonata::{JsonataEnv, JsonataExpr};
use redoubt_core::value::from_json_str;

fn main() {
    divan::main();
}

/// A small message like an inject node's.
fn small() -> Msg {
    Msg::from_json(&serde_json::json!({"payload": 21.5, "topic": "sensors/kitchen"}))
}

/// A 3.5 KB message: an object with 40 nested records.
fn medium() -> Msg {
    let items: Vec<serde_json::Value> = (0..54)
        .map(|i| serde_json::json!({"id": i, "name": format!("item-{i}"), "price": i as f64 * 1.25, "qty": i % 7, "tags": ["a", "b"]}))
        .collect();
    let m = Msg::from_json(
        &serde_json::json!({"payload": {"items": items, "temperature": 21.5}, "topic": "orders"}),
    );
    let len = m.to_json().to_string().len();
    assert!((3000..4500).contains(&len), "medium message is {len} bytes");
    m
}

#[divan::bench(args = ["small", "medium"])]
fn fan_out_clone(bencher: divan::Bencher, size: &str) {
    let m = if size == "small" { small() } else { medium() };
    bencher.bench(|| divan::black_box(&m).deep_clone());
}

#[divan::bench(args = ["celsius", "sum", "object"])]
fn jsonata_eval(bencher: divan::Bencher, which: &str) {
    let src = match which {
        "celsius" => "payload.temperature * 1.8 + 32",
        "sum" => "$sum(payload.items.(price*qty))",
        _ => {
            "{\"cheap\": payload.items[price < 10].$uppercase(name), \"n\": $count(payload.items)}"
        }
    };
    let e = JsonataExpr::compile(src).expect("compile");
    let m = medium();
    let env = JsonataEnv::default();
    bencher.bench(|| e.eval_msg(Some(divan::black_box(&m)), &env).expect("eval"));
}

#[divan::bench]
fn json_parse_medium(bencher: divan::Bencher) {
    let text = medium().to_json().to_string();
    bencher.bench(|| from_json_str(divan::black_box(&text)).expect("parse"));
}
