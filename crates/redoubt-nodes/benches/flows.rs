//! Micro-benchmarks of node hot paths through the real engine: a chain of
//! 10 change nodes, a function node call (small and 3.5 KB messages) and
//! template (mustache) rendering.
//!
//! `cargo bench -p redoubt-nodes --features testing` measures;
//! `cargo test -p redoubt-nodes --features testing --benches` runs each once.
//! No test asserts a time.

use redoubt_core::Msg;
use redoubt_nodes::testing::Harness;
use serde_json::json;

fn main() {
    divan::main();
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    }
}

fn medium_payload() -> serde_json::Value {
    let items: Vec<serde_json::Value> = (0..54)
        .map(|i| json!({"id": i, "name": format!("item-{i}"), "price": i as f64 * 1.25, "qty": i % 7, "tags": ["a", "b"]}))
        .collect();
    json!({"items": items, "n": 0})
}

/// Messages per iteration, so per-message cost is the time divided by this.
const BATCH: usize = 1000;

/// The messages of one iteration, built before the timer starts so only
/// the flow's own work is measured.
fn messages(payload: &serde_json::Value) -> Vec<Msg> {
    (0..BATCH)
        .map(|_| Msg::from_json(&json!({"payload": payload})))
        .collect()
}

fn run_batch(rt: &tokio::runtime::Runtime, h: &mut Harness, entry: &str, msgs: Vec<Msg>) {
    rt.block_on(async {
        for m in msgs {
            h.send(entry, m).await;
        }
        for _ in 0..BATCH {
            h.recv("out").await;
        }
    });
}

#[divan::bench(sample_count = 20)]
fn chain_of_10_change_nodes_x1000(bencher: divan::Bencher) {
    let rt = runtime();
    let mut nodes = vec![];
    for i in 0..10 {
        let next = if i == 9 {
            "out".to_string()
        } else {
            format!("c{}", i + 1)
        };
        nodes.push(
            json!({"id": format!("c{i}"), "type": "change", "wires": [[next]],
            "rules": [{"t":"set","p":"topic","pt":"msg","to":format!("hop-{i}"),"tot":"str"}]}),
        );
    }
    nodes.push(json!({"id":"out","type":"helper"}));
    let mut h = rt.block_on(Harness::start(json!(nodes)));
    let p = json!(1);
    bencher
        .with_inputs(|| messages(&p))
        .bench_local_values(|m| run_batch(&rt, &mut h, "c0", m));
}

#[divan::bench(args = ["small", "medium"], sample_count = 10)]
fn function_call_x1000(bencher: divan::Bencher, size: &str) {
    let rt = runtime();
    let mut h = rt.block_on(Harness::start(json!([
        {"id":"f","type":"function","func":"msg.topic = 'seen'; return msg;","outputs":1,"wires":[["out"]]},
        {"id":"out","type":"helper"}
    ])));
    let p = if size == "small" {
        json!({"n": 1})
    } else {
        medium_payload()
    };
    bencher
        .with_inputs(|| messages(&p))
        .bench_local_values(|m| run_batch(&rt, &mut h, "f", m));
}

#[divan::bench(sample_count = 20)]
fn template_render_x1000(bencher: divan::Bencher) {
    let rt = runtime();
    let mut h = rt.block_on(Harness::start(json!([
        {"id":"t","type":"template","field":"payload","fieldType":"msg","format":"handlebars","syntax":"mustache",
         "template":"<ul>{{#payload.items}}<li>{{name}}: {{price}} x {{qty}}</li>{{/payload.items}}</ul>","output":"str","wires":[["out"]]},
        {"id":"out","type":"helper"}
    ])));
    let p = medium_payload();
    bencher
        .with_inputs(|| messages(&p))
        .bench_local_values(|m| run_batch(&rt, &mut h, "t", m));
}
