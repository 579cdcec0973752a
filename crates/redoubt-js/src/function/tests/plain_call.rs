//! A body without `await` runs as a plain function: every outcome must
//! reach the node exactly as it does from the async function Node-RED
//! wraps the code in. Each case runs twice, once as written and once with
//! `// await` appended (which keeps the async wrapper), and the two event
//! logs must be identical. Also the one-pass write-back of the context
//! objects a turn touched: in place, object by object.

use super::*;

/// The events of one run, comparable across runs.
fn log(evs: Vec<Ev>) -> Vec<Json> {
    evs.into_iter()
        .map(|e| match e {
            Ev::Send(p, m) => json!(["send", p, m.to_json()]),
            Ev::Done(id, Ok(())) => json!(["done", id]),
            Ev::Done(id, Err(e)) => json!(["done", id, e.message, e.code, frames(&e.stack)]),
            Ev::Discard(id) => json!(["discard", id]),
            Ev::Status(s) => json!(["status", format!("{s:?}")]),
            Ev::Error(e, m) => json!(["error", e.message, m.map(|m| m.to_json())]),
            Ev::Log(l, t) => json!(["log", format!("{l:?}"), t]),
        })
        .collect()
}

/// The user-code frames of a stack (the prelude's own lines may move).
fn frames(stack: &Option<String>) -> Vec<String> {
    stack
        .iter()
        .flat_map(|s| s.lines())
        .filter(|l| l.contains("Function node:"))
        .map(|l| l.trim().to_string())
        .collect()
}

/// Runs `func` on `inputs` (then fires timers), as written and forced
/// async; returns the plain run's log after checking both agree.
fn same_both_ways(func: &str, inputs: &[Json]) -> Vec<Json> {
    let mut runs = Vec::new();
    for code in [func.to_string(), format!("{func}\n// await")] {
        let mut t = run(&code);
        t.take();
        for (i, m) in inputs.iter().enumerate() {
            let mut m = m.clone();
            if m.get("_msgid").is_none() {
                m["_msgid"] = json!(format!("in{}", i + 1));
            }
            t.input(i as u64 + 1, m);
        }
        t.tick(10);
        runs.push(log(t.take()));
    }
    assert_eq!(runs[0], runs[1], "plain and async runs of {func:?} differ");
    runs.remove(0)
}

#[test]
fn the_body_is_a_plain_function_only_without_await() {
    let probe = "return {payload: Object.getPrototypeOf(arguments.callee) === Function.prototype};";
    let mut t = run(probe);
    t.input(1, json!({}));
    assert_eq!(t.sends()[0].1["payload"], json!(true));
    for marked in [
        format!("{probe} // await"),
        format!("{probe} const s = 'await';"),
        format!("{probe} const s = '\\u0061';"),
    ] {
        let mut t = run(&marked);
        t.input(1, json!({}));
        assert_eq!(t.sends()[0].1["payload"], json!(false), "{marked}");
    }
}

#[test]
fn returned_values_are_sent_after_the_jobs_the_body_queued() {
    let got = same_both_ways(
        "Promise.resolve().then(() => node.send({payload: 'job'}));\n\
         node.send({payload: 'sync'});\nmsg.payload = 'result';\nreturn msg;",
        &[json!({"payload": 0, "_msgid": "m1"})],
    );
    assert_eq!(
        got,
        vec![
            json!(["send", 0, {"payload": "sync", "_msgid": "m1"}]),
            json!(["send", 0, {"payload": "job", "_msgid": "m1"}]),
            json!(["send", 0, {"payload": "result", "_msgid": "m1"}]),
            json!(["done", 1]),
        ]
    );
}

#[test]
fn returned_promises_and_thenables_are_awaited() {
    for func in [
        "return Promise.resolve(msg);",
        "return new Promise(r => setTimeout(() => r(msg), 1));",
        "Promise.resolve().then(() => node.send({payload: 'a'})).then(() => node.send({payload: 'b'}));\n\
         return Promise.resolve(msg);",
        "return {then(r) { node.send({payload: 'in then'}); r(msg); }};",
        "const t = {}; Object.defineProperty(t, 'then', {get() { node.warn('then read'); return undefined; }});\nreturn t;",
        "return new Proxy(msg, {get(o, k) { if (k === 'then') node.warn('proxy then'); return o[k]; }});",
        "return Object.create({then: undefined, payload: 'inherited'});",
        "return Promise.reject(new Error('rejected'));",
        "return [Promise.resolve(msg)];",
    ] {
        let got = same_both_ways(func, &[json!({"payload": 1, "_msgid": "m"})]);
        assert!(
            got.iter().any(|e| e[0] == "done"),
            "{func}: no done in {got:?}"
        );
    }
}

#[test]
fn thrown_errors_are_reported_as_rejections() {
    for func in [
        "throw new Error('boom');",
        "node.send({payload: 'first'});\nthrow new Error('after send');",
        "Promise.resolve().then(() => node.send({payload: 'job'}));\nthrow 'plain';",
        "throw {a: 1};",
        "var a = 1;\n  retunr;",
        "const o = undefined;\nreturn o.x;",
        "function f(n) { return f(n + 1) + 1; }\nreturn f(0);",
    ] {
        let got = same_both_ways(func, &[json!({"payload": 1})]);
        assert!(
            got.iter().any(|e| e[0] == "done" && e.get(2).is_some()),
            "{func}: no failed done in {got:?}"
        );
    }
    let got = same_both_ways("var a = 1;\n  retunr;", &[json!({})]);
    assert_eq!(
        got[0][2],
        json!("ReferenceError: ReferenceError: retunr is not defined (line 2, col 3)")
    );
}

#[test]
fn node_send_and_done_behave_the_same() {
    for func in [
        "node.send(msg);\nnode.done();",
        "node.send([msg, null], false);\nreturn;",
        "node.send(msg, false);\nmsg.payload = 'changed after send';\nreturn msg;",
        "Promise.resolve().then(() => node.done());\nreturn msg;",
        "setTimeout(() => { node.send(msg); node.done(); }, 1);",
        "node.done('failed by hand');\nreturn msg;",
        "node.status({text: 'x'});\nnode.error('oops', msg);\nreturn null;",
        "return [[msg, {payload: 'second'}], null];",
        "return 'not a message';",
    ] {
        same_both_ways(func, &[json!({"payload": 1}), json!({"payload": 2})]);
    }
}

#[test]
fn messages_queued_behind_on_start_are_settled_in_order() {
    let mut runs = Vec::new();
    for marker in ["", "\n// await"] {
        let mut s = spec(&format!(
            "Promise.resolve().then(() => node.send({{payload: 'job ' + msg.payload}}));\nreturn msg;{marker}"
        ));
        s.initialize = "await new Promise(r => setTimeout(r, 5));".into();
        let mut t = start(s);
        t.input(1, json!({"payload": 1, "_msgid": "a"}));
        t.input(2, json!({"payload": 2, "_msgid": "b"}));
        t.tick(10);
        runs.push(log(t.take()));
    }
    assert_eq!(runs[0], runs[1]);
    let payloads: Vec<&Json> = runs[0]
        .iter()
        .filter(|e| e[0] == "send")
        .map(|e| &e[2]["payload"])
        .collect();
    assert_eq!(
        payloads,
        [&json!("job 1"), &json!(1), &json!("job 2"), &json!(2)]
    );
}

#[test]
fn context_objects_are_written_back_in_place() {
    let mut t = run(
        "const c = global.get('c');\nc.n += 1;\nc.inner.list.push(msg.payload);\n\
         msg.same = global.get('c') === c;\nglobal.set('c', c);\nreturn msg;",
    );
    let list = redoubt_core::value::Array::new();
    let inner = Object::new();
    inner.insert("list", Value::Array(list.clone()));
    let untouched = Object::new();
    untouched.insert("k", Value::str("v"));
    let c = Object::new();
    c.insert("n", Value::from(1.0));
    c.insert("inner", Value::Object(inner.clone()));
    c.insert("untouched", Value::Object(untouched.clone()));
    t.rec
        .context
        .set(Scope::Global, "c", Some(Value::Object(c.clone())), None)
        .ok();
    t.input(1, json!({"payload": "a"}));
    t.input(2, json!({"payload": "b"}));
    let sends = t.sends();
    assert_eq!(
        sends[0].1["same"],
        json!(true),
        "a second get is the same object"
    );
    assert_eq!(
        to_serde(&Value::Object(c.clone())),
        json!({"n": 3, "inner": {"list": ["a", "b"]}, "untouched": {"k": "v"}})
    );
    let stored = t.rec.context.get(Scope::Global, "c", None).ok().flatten();
    assert!(matches!(stored, Some(Value::Object(o)) if o.ptr_eq(&c)));
    let held = |k: &str| c.get(k).and_then(|v| v.as_object().cloned());
    assert!(
        held("inner").is_some_and(|o| o.ptr_eq(&inner)),
        "changed in place"
    );
    assert!(held("untouched").is_some_and(|o| o.ptr_eq(&untouched)));
    assert_eq!(list.len(), 2, "the array other holders share grew");
}

#[test]
fn a_stored_new_object_is_written_back_with_later_changes() {
    let mut t = run(
        "const o = {n: 1, inner: {v: 1}};\nflow.set('o', o);\no.n = 2;\no.inner.v = 2;\nreturn null;",
    );
    t.input(1, json!({}));
    let stored = t.rec.context.get(Scope::Flow, "o", None).ok().flatten();
    assert_eq!(
        stored.as_ref().map(to_serde),
        Some(json!({"n": 2, "inner": {"v": 2}}))
    );
}

#[test]
fn a_context_object_read_again_by_its_path_keeps_its_place() {
    let mut t = run(
        "const c = global.get('c');\nconst inner = global.get('c.inner');\ninner.v = 2;\nc.n = 1;\nreturn null;",
    );
    let inner = Object::new();
    inner.insert("v", Value::from(1.0));
    let c = Object::new();
    c.insert("inner", Value::Object(inner.clone()));
    t.rec
        .context
        .set(Scope::Global, "c", Some(Value::Object(c.clone())), None)
        .ok();
    t.input(1, json!({}));
    assert_eq!(
        to_serde(&Value::Object(c.clone())),
        json!({"inner": {"v": 2}, "n": 1})
    );
    let now = c.get("inner").and_then(|v| v.as_object().cloned());
    assert!(
        now.is_some_and(|o| o.ptr_eq(&inner)),
        "c.inner is still the same object"
    );
}
