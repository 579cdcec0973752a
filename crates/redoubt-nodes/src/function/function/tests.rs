//! Function node tests on a real engine (ported from `10-function_spec.js`
//! and the function conformance cases).

use crate::testing::{Harness, HarnessOptions};
use redoubt_core::engine::RuntimeEvent;
use serde_json::{Value as Json, json};
use std::time::Duration;

async fn one(func: &str, msg: Json) -> Json {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","func":func,"outputs":1,"wires":[["h"]]},
        {"id":"h","type":"helper"}
    ]))
    .await;
    h.send_json("f", msg).await;
    h.recv_json("h").await
}

/// should send returned message
#[tokio::test(start_paused = true)]
async fn sends_returned_message() {
    let m = one(
        "return msg;",
        json!({"payload":"foo","topic":"bar","_topic":"baz"}),
    )
    .await;
    assert_eq!(
        (&m["payload"], &m["topic"], &m["_topic"]),
        (&json!("foo"), &json!("bar"), &json!("baz"))
    );
}

/// should send to multiple outputs
#[tokio::test(start_paused = true)]
async fn multiple_outputs() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","outputs":3,"wires":[["h1"],["h2"],["h3"]],
         "func":"const v = msg.payload.v;\nreturn [\n  v > 0 ? {payload: 'pos ' + v} : null,\n  v < 0 ? {payload: 'neg ' + v} : null,\n  {payload: 'always ' + v}\n];"},
        {"id":"h1","type":"helper"}, {"id":"h2","type":"helper"}, {"id":"h3","type":"helper"}
    ]))
    .await;
    h.send_json("f", json!({"payload": {"v": 5}, "_msgid": "m5"}))
        .await;
    let m = h.recv_json("h1").await;
    assert_eq!(
        (&m["payload"], &m["_msgid"]),
        (&json!("pos 5"), &json!("m5"))
    );
    assert_eq!(h.recv_json("h3").await["payload"], json!("always 5"));
    h.send_json("f", json!({"payload": {"v": -2}})).await;
    assert_eq!(h.recv_json("h2").await["payload"], json!("neg -2"));
    assert_eq!(h.recv_json("h3").await["payload"], json!("always -2"));
    assert!(h.nothing("h1", Duration::from_millis(50)).await);
}

/// should send to multiple messages
#[tokio::test(start_paused = true)]
async fn arrays_of_arrays() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","outputs":2,"wires":[["h1"],["h2"]],
         "func":"return [\n  [{payload: 1}, {payload: 2}, null, {payload: 3}],\n  {payload: 'single'}\n];"},
        {"id":"h1","type":"helper"}, {"id":"h2","type":"helper"}
    ]))
    .await;
    h.send_json("f", json!({"_msgid": "1234"})).await;
    for want in [1, 2, 3] {
        let m = h.recv_json("h1").await;
        assert_eq!(
            (&m["payload"], &m["_msgid"]),
            (&json!(want), &json!("1234"))
        );
    }
    assert_eq!(h.recv_json("h2").await["payload"], json!("single"));
}

/// should allow input to be discarded by returning null
#[tokio::test(start_paused = true)]
async fn returning_nothing_sends_nothing() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","wires":[["h"]],
         "func":"const k = msg.payload.k;\nif (k === 'null') { return null; }\nif (k === 'undefined') { return; }\nif (k === 'arraynull') { return [null]; }\nif (k === 'emptyarray') { return []; }\nif (k === 'nestednull') { return [[null, null]]; }\nmsg.payload = k;\nreturn msg;"},
        {"id":"h","type":"helper"}
    ]))
    .await;
    for k in [
        "null",
        "undefined",
        "arraynull",
        "emptyarray",
        "nestednull",
        "passes",
    ] {
        h.send_json("f", json!({"payload": {"k": k}})).await;
    }
    assert_eq!(h.recv_json("h").await["payload"], json!("passes"));
    assert!(h.nothing("h", Duration::from_millis(100)).await);
}

/// should clone single message sent using send()
#[tokio::test(start_paused = true)]
async fn send_clones_the_message() {
    let m = one(
        "node.send(msg); msg.payload = 'changed';",
        json!({"payload":"foo","topic":"bar"}),
    )
    .await;
    assert_eq!((&m["payload"], &m["topic"]), (&json!("foo"), &json!("bar")));
}

/// should not clone single message sent using send(,false)
#[tokio::test(start_paused = true)]
async fn send_without_clone_shares_the_message() {
    let m = one(
        "node.send(msg, false); msg.payload = 'changed';",
        json!({"payload":"foo","topic":"bar"}),
    )
    .await;
    assert_eq!(
        (&m["payload"], &m["topic"]),
        (&json!("changed"), &json!("bar"))
    );
}

/// should handle setTimeout()
#[tokio::test(start_paused = true)]
async fn async_await_with_set_timeout() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","wires":[["h"]],
         "func":"await new Promise(resolve => setTimeout(resolve, 700));\nmsg.payload = 'after ' + msg.payload;\nreturn msg;"},
        {"id":"h","type":"helper"}
    ]))
    .await;
    let start = tokio::time::Instant::now();
    h.send_json("f", json!({"payload":"wait"})).await;
    assert!(h.nothing("h", Duration::from_millis(600)).await);
    assert_eq!(h.recv_json("h").await["payload"], json!("after wait"));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_millis(800),
        "{waited:?}"
    );
}

/// should set two persistable node context (single call, w callback) / context.json
#[tokio::test(start_paused = true)]
async fn context_with_stores_and_callbacks() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","wires":[["h"]],
         "func":"const n = (context.get('n') || 0) + 1;\ncontext.set('n', n);\nflow.set('f', (flow.get('f') || 0) + 10);\nflow.set('k', 'in-alt', 'alt');\nglobal.set(['a','b'], [1,2], 'alt', function (err) {\n  msg.payload = {n: n, f: flow.get('f'), alt: flow.get('k', 'alt'), def: flow.get('k') === undefined, g: global.get(['a','b'], 'alt'), keys: flow.keys('alt')};\n  flow.get('k', 'alt', function (err, v) { msg.payload.cb = v; node.send(msg); });\n});\nreturn null;"},
        {"id":"h","type":"helper"}
    ]))
    .await;
    h.send_json("f", json!({})).await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!({"n": 1, "f": 10, "alt": "in-alt", "def": true, "g": [1, 2], "keys": ["k"], "cb": "in-alt"})
    );
    h.send_json("f", json!({})).await;
    let p = h.recv_json("h").await["payload"].clone();
    assert_eq!((&p["n"], &p["f"]), (&json!(2), &json!(20)));
}

/// should allow accessing env vars
#[tokio::test(start_paused = true)]
async fn env_get() {
    let opts = HarnessOptions {
        env: vec![("_TEST_FOO_".into(), "hello".into())],
        ..Default::default()
    };
    let mut h = Harness::start_with(
        json!([
            {"id":"f","type":"function","wires":[["h"]],
             "func":"msg.payload = [env.get('_TEST_FOO_'), env.get('NOT_SET') === undefined, env.get('NR_NODE_ID')]; return msg;"},
            {"id":"h","type":"helper"}
        ]),
        opts,
    )
    .await;
    h.send_json("f", json!({})).await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!(["hello", true, "f"])
    );
}

/// should do something with the catch node / errors.json
#[tokio::test(start_paused = true)]
async fn thrown_errors_reach_a_catch_node() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","name":"thrower","wires":[["h"]],
         "func":"const k = msg.payload.k;\nif (k === 'error') { throw new Error('boom'); }\nif (k === 'string') { throw 'plain string'; }\nif (k === 'nodeerror') { node.error('reported via node.error', msg); return null; }\nif (k === 'reference') { return notDefinedAnywhere; }\nreturn msg;"},
        {"id":"c","type":"catch","scope":null,"uncaught":false,"wires":[["hc"]]},
        {"id":"h","type":"helper"}, {"id":"hc","type":"helper"}
    ]))
    .await;
    for (k, want) in [
        ("error", "Error: boom"),
        ("string", "plain string"),
        ("nodeerror", "reported via node.error"),
        (
            "reference",
            "ReferenceError: ReferenceError: notDefinedAnywhere is not defined (line 5, col 33)",
        ),
    ] {
        h.send_json("f", json!({"payload": {"k": k}})).await;
        let m = h.recv_json("hc").await;
        assert_eq!(m["error"]["message"], json!(want), "{k}");
        assert_eq!(
            m["error"]["source"],
            json!({"id": "f", "type": "function", "name": "thrower", "count": 1})
        );
        assert_eq!(m["payload"], json!({"k": k}));
    }
    h.send_json("f", json!({"payload": {"k": "none"}})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!({"k": "none"}));
    assert!(h.nothing("hc", Duration::from_millis(50)).await);
}

/// should timeout if timeout is set, while another flow keeps answering
#[tokio::test(start_paused = true)]
async fn endless_loop_is_interrupted_while_other_flows_answer() {
    let mut h = Harness::start(json!([
        {"id":"loop","type":"function","timeout":1,"wires":[["h1"]],
         "func":"if (msg.payload === 'spin') { while (1 == 1) {} }\nreturn msg;"},
        {"id":"c","type":"catch","scope":["loop"],"uncaught":false,"wires":[["hc"]]},
        {"id":"other","type":"function","wires":[["h2"]],"func":"msg.payload = 'answered'; return msg;"},
        {"id":"h1","type":"helper"}, {"id":"h2","type":"helper"}, {"id":"hc","type":"helper"}
    ]))
    .await;
    let started = std::time::Instant::now();
    h.send_json("loop", json!({"payload":"spin"})).await;
    for _ in 0..3 {
        h.send_json("other", json!({})).await;
        assert_eq!(h.recv_json("h2").await["payload"], json!("answered"));
    }
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "other flow waited {:?}",
        started.elapsed()
    );
    let m = h.recv_json("hc").await;
    assert!(started.elapsed() >= Duration::from_millis(1000));
    assert_eq!(
        m["error"]["message"],
        json!("Error: Script execution timed out after 1000ms")
    );
    assert_eq!(m["error"]["code"], json!("ERR_SCRIPT_EXECUTION_TIMEOUT"));
    assert_eq!(m["payload"], json!("spin"));
    h.send_json("loop", json!({"payload":"fine"})).await;
    assert_eq!(h.recv_json("h1").await["payload"], json!("fine"));
}

/// check if default function timeout settings are recognized
#[tokio::test(start_paused = true)]
async fn global_function_timeout_applies_without_a_node_timeout() {
    let mut opts = HarnessOptions::default();
    opts.settings
        .raw
        .insert("globalFunctionTimeout".into(), json!(0.01));
    let mut h = Harness::start_with(
        json!([
            {"id":"f","type":"function","timeout":0,"wires":[["h"]],"func":"while(1==1){};\nreturn msg;"},
            {"id":"c","type":"catch","scope":null,"wires":[["hc"]]},
            {"id":"h","type":"helper"}, {"id":"hc","type":"helper"}
        ]),
        opts,
    )
    .await;
    h.send_json("f", json!({})).await;
    assert_eq!(
        h.recv_json("hc").await["error"]["message"],
        json!("Error: Script execution timed out after 10ms")
    );
}

/// should execute initialization / finalize function should execute
#[tokio::test(start_paused = true)]
async fn on_start_and_on_stop() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","name":"test-function","outputs":2,"wires":[["h"]],
         "initialize":"global.set('X', '-'); return new Promise((resolve) => setTimeout(() => { global.set('X','bar'); resolve(); }, 500));",
         "func":"msg.payload = global.get('X'); return msg;",
         "finalize":"global.set('finalize-data', {topic: node.name, payload: node.id, outputCount: node.outputCount});"},
        {"id":"h","type":"helper"}
    ]))
    .await;
    h.send_json("f", json!({"payload":"foo"})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!("bar"));
    let cx = h.engine.context().clone();
    h.stop().await;
    let data = cx
        .get(None, "global", "finalize-data")
        .ok()
        .flatten()
        .map(|v| redoubt_core::value::to_serde(&v));
    assert_eq!(
        data,
        Some(json!({"topic": "test-function", "payload": "f", "outputCount": 2}))
    );
}

/// catch/complete.json: an async function calling node.done() completes the message
#[tokio::test(start_paused = true)]
async fn node_done_from_async_code_feeds_a_complete_node() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","wires":[],
         "func":"setTimeout(function() {\n  msg.payload.done = 'async function';\n  node.done();\n}, 50);\nreturn null;"},
        {"id":"cmp","type":"complete","scope":["f"],"wires":[["h"]]},
        {"id":"h","type":"helper"}
    ]))
    .await;
    h.send_json("f", json!({"payload": {"v": 2}})).await;
    assert_eq!(
        h.recv_json("h").await["payload"],
        json!({"v": 2, "done": "async function"})
    );
}

#[tokio::test(start_paused = true)]
async fn status_and_warnings_reach_the_runtime() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","wires":[["h"]],
         "func":"node.status({fill:'green', shape:'dot', text:'ok'}); node.warn('careful'); return msg;"},
        {"id":"h","type":"helper"}
    ]))
    .await;
    h.send_json("f", json!({})).await;
    h.recv_json("h").await;
    let evs = h.drain_events();
    assert!(evs.iter().any(|e| matches!(e, RuntimeEvent::Status { id, status } if id == "f" && status.text.as_deref() == Some("ok"))));
    assert!(evs.iter().any(
        |e| matches!(e, RuntimeEvent::Log { id, text, .. } if id == "f" && text == "careful")
    ));
}

#[tokio::test(start_paused = true)]
async fn syntax_errors_and_external_modules_are_config_errors() {
    let h = Harness::start(json!([
        {"id":"bad","type":"function","func":"var a = 1;\n  return (;","wires":[[]]},
        {"id":"libs","type":"function","func":"return msg;","libs":[{"var":"os","module":"os"}],"wires":[[]]},
        {"id":"good","type":"function","func":"return msg;","wires":[[]]}
    ]))
    .await;
    assert!(!h.engine.input("bad", redoubt_core::Msg::new()).await);
    assert!(!h.engine.input("libs", redoubt_core::Msg::new()).await);
    assert!(h.engine.input("good", redoubt_core::Msg::new()).await);
}

#[tokio::test(start_paused = true)]
async fn http_response_handles_survive_the_script() {
    let handle = redoubt_core::value::Handle::new(7u8);
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","wires":[["h"]],"func":"msg.payload = typeof msg.res; return msg;"},
        {"id":"h","type":"helper"}
    ]))
    .await;
    let m = redoubt_core::Msg::new();
    let res = redoubt_core::value::Object::new();
    res.insert("_res", redoubt_core::Value::Handle(handle));
    m.set("res", redoubt_core::Value::Object(res));
    h.send("f", m).await;
    let out = h.recv("h").await;
    let back = out
        .get("res")
        .and_then(|r| r.as_object().and_then(|o| o.get("_res")));
    assert!(matches!(back, Some(redoubt_core::Value::Handle(h)) if h.downcast::<u8>() == Some(&7)));
    assert_eq!(out.payload().to_js_string(), "object");
}

#[tokio::test(start_paused = true)]
async fn messages_are_handled_in_arrival_order() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","wires":[["h"]],"func":"msg.payload = msg.payload * 2; return msg;"},
        {"id":"h","type":"helper"}
    ]))
    .await;
    for i in 0..500 {
        h.send_json("f", json!({"payload": i})).await;
    }
    for i in 0..500 {
        assert_eq!(h.recv_json("h").await["payload"], json!(i * 2));
    }
}

/// The node passes what a script does on to the engine in batches (at most
/// 8 effects each, the rest at the end of the turn): many sends of one turn
/// and the status set after them arrive complete and in order.
#[tokio::test(start_paused = true)]
async fn many_sends_of_one_turn_arrive_in_order_before_a_later_status() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","wires":[["h"]],
         "func":"for (let i = 0; i < 300; i++) { node.send({payload: i}); }\nnode.status({text: 'sent'});\nreturn null;"},
        {"id":"st","type":"status","scope":["f"],"wires":[["h"]]},
        {"id":"h","type":"helper"}
    ]))
    .await;
    h.send_json("f", json!({})).await;
    for i in 0..300 {
        assert_eq!(h.recv_json("h").await["payload"], json!(i));
    }
    assert_eq!(h.recv_json("h").await["status"]["text"], json!("sent"));
}

/// Real time: a paused clock cannot advance while a script spins forever
/// on the blocking pool.
#[tokio::test]
async fn stopping_interrupts_a_script_without_timeout() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","timeout":0,"wires":[["h"]],
         "func":"if (msg.payload === 'spin') { while (true) {} }\nreturn msg;",
         "finalize":"global.set('stopped', true);"},
        {"id":"h","type":"helper"}
    ]))
    .await;
    h.send_json("f", json!({"payload":"spin"})).await;
    assert!(h.nothing("h", Duration::from_millis(100)).await);
    let cx = h.engine.context().clone();
    let started = std::time::Instant::now();
    h.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        started.elapsed()
    );
    let stopped = cx.get(None, "global", "stopped").ok().flatten();
    assert!(matches!(stopped, Some(redoubt_core::Value::Bool(true))));
}

/// Two function nodes updating one object in global context never lose an
/// update: in Node-RED scripts never interleave, and redoubt keeps that
/// for scripts that hold context objects (real time: turns run on the
/// blocking pool, in parallel).
#[tokio::test]
async fn scripts_sharing_a_context_object_never_lose_updates() {
    let inc = "const s = global.get('c');\ns.n += 1;\nglobal.set('c', s);\nreturn msg;";
    let mut h = Harness::start(json!([
        {"id":"f1","type":"function","func":inc,"initialize":"global.set('c', {n: 0});","wires":[["h"]]},
        {"id":"f2","type":"function","func":inc,"wires":[["h"]]},
        {"id":"h","type":"helper"}
    ]))
    .await;
    // f1's On Start creates the object; the two sandboxes start in
    // parallel, so wait for f1 to have handled a message before f2 gets
    // any (f2 alone would find no object and throw).
    h.send_json("f1", json!({"payload": -1})).await;
    h.recv_json("h").await;
    const N: usize = 300;
    for i in 0..N {
        h.send_json("f1", json!({"payload": i})).await;
        h.send_json("f2", json!({"payload": i})).await;
    }
    for _ in 0..2 * N {
        h.recv_json("h").await;
    }
    let cx = h.engine.context().clone();
    let c = cx.get(None, "global", "c").ok().flatten().expect("c");
    assert_eq!(redoubt_core::value::to_serde(&c), json!({"n": 2 * N + 1}));
}

/// A script emitting from its timers faster than the flow behind it takes
/// the messages waits while the engine's backlog is full (flow control,
/// `redoubt_core::engine::Backlog`), and no message is lost. Node-RED
/// queues them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_wait_while_the_backlog_is_full_and_nothing_is_lost() {
    use redoubt_core::engine::Backlog;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    const N: usize = 100_000;
    const BATCH: usize = 2_000;
    let producer = format!(
        "let sent = 0;\nfunction pump() {{\n  const end = Math.min(sent + {BATCH}, {N});\n  for (; sent < end; sent++) {{ node.send({{payload: sent}}, false); }}\n  if (sent < {N}) {{ setTimeout(pump, 0); }}\n}}\nsetTimeout(pump, 0);\nreturn null;"
    );
    let consumer = format!(
        "let x = 0;\nfor (let i = 0; i < 50; i++) {{ x += i; }}\nconst n = (context.get('n') || 0) + 1;\ncontext.set('n', n);\nif (msg.payload !== n - 1) {{ node.warn('out of order: ' + msg.payload); }}\nreturn n === {N} ? {{payload: n}} : null;"
    );
    let mut h = Harness::start(json!([
        {"id":"p","type":"function","func":producer,"wires":[["c"]]},
        {"id":"c","type":"function","func":consumer,"wires":[["h"]]},
        {"id":"h","type":"helper"}
    ]))
    .await;
    let backlog = h.engine.backlog().clone();
    let peak = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = std::thread::spawn({
        let (peak, stop) = (peak.clone(), stop.clone());
        move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(backlog.len(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(100));
            }
        }
    });
    h.send_json("p", json!({})).await;
    let got = h.recv_within("h", Duration::from_secs(120)).await;
    stop.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");
    let got = got.expect("the consumer counted every message").to_json();
    assert_eq!(got["payload"], json!(N));
    let warned = h.drain_events().into_iter().any(
        |e| matches!(e, RuntimeEvent::Log { ref text, .. } if text.starts_with("out of order")),
    );
    assert!(!warned, "messages arrived out of order");
    let peak = peak.load(Ordering::Relaxed);
    // The backlog filled (the producer is faster), so the bound below
    // was tested; it allows for the producer's last turns whose messages
    // were still on their way to the executor when it looked.
    assert!(peak > Backlog::LOW, "the backlog never filled: {peak}");
    assert!(
        peak <= Backlog::HIGH + 4 * BATCH,
        "{peak} messages waited at once"
    );
}

/// While the backlog is full a node's due timer waits, but its inputs are
/// still handled: taking input is what empties the backlog.
#[tokio::test]
async fn inputs_are_handled_while_a_timer_waits_for_room() {
    let mut h = Harness::start(json!([
        {"id":"f","type":"function","wires":[["h"]],
         "func":"if (msg.payload === 'arm') { setTimeout(() => node.send({payload: 'timer'}), 0); }\nreturn msg;"},
        {"id":"h","type":"helper"}
    ]))
    .await;
    let full = h.fill_backlog();
    h.send_json("f", json!({"payload": "arm"})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!("arm"));
    h.send_json("f", json!({"payload": "input"})).await;
    assert_eq!(h.recv_json("h").await["payload"], json!("input"));
    assert!(h.nothing("h", Duration::from_millis(200)).await);
    drop(full);
    assert_eq!(h.recv_json("h").await["payload"], json!("timer"));
}
