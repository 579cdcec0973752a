//! Sandbox tests with a recording sink (no engine, no tokio).

use super::*;
use indexmap::IndexMap;
use parking_lot::Mutex;
use redoubt_core::context::{ContextManager, ContextStore, MemoryStore, Scope};
use redoubt_core::value::{Handle, Object, Value, to_serde};
use serde_json::{Value as Json, json};
use std::sync::Arc;

#[derive(Debug)]
enum Ev {
    Send(usize, Msg),
    Done(u64, Result<(), NodeError>),
    Discard(u64),
    Status(Status),
    Error(NodeError, Option<Msg>),
    Log(LogLevel, String),
}

struct Rec {
    events: Mutex<Vec<Ev>>,
    context: NodeContext,
}

impl ScriptSink for Rec {
    fn send(&self, port: usize, msg: Msg) {
        self.events.lock().push(Ev::Send(port, msg));
    }
    fn done(&self, id: u64, result: Result<(), NodeError>) {
        self.events.lock().push(Ev::Done(id, result));
    }
    fn discard(&self, id: u64) {
        self.events.lock().push(Ev::Discard(id));
    }
    fn status(&self, status: Status) {
        self.events.lock().push(Ev::Status(status));
    }
    fn error(&self, err: NodeError, msg: Option<Msg>) {
        self.events.lock().push(Ev::Error(err, msg));
    }
    fn log(&self, level: LogLevel, text: &str) {
        self.events.lock().push(Ev::Log(level, text.to_string()));
    }
    fn context(&self) -> NodeContext {
        self.context.clone()
    }
    fn env(&self, name: &str) -> Value {
        match name {
            "FOO" => Value::str("bar"),
            _ => Value::Undefined,
        }
    }
}

struct T {
    sb: Sandbox,
    rec: Arc<Rec>,
}

fn spec(func: &str) -> FunctionSpec {
    FunctionSpec {
        id: "n1".into(),
        name: "fn name".into(),
        path: "f1/n1".into(),
        outputs: 1,
        func: func.into(),
        initialize: String::new(),
        finalize: String::new(),
        timeout: None,
        memory_limit: DEFAULT_MEMORY_LIMIT,
    }
}

fn context() -> NodeContext {
    let mut stores: IndexMap<String, Arc<dyn ContextStore>> = IndexMap::new();
    stores.insert("memory".into(), Arc::new(MemoryStore::default()));
    stores.insert("alt".into(), Arc::new(MemoryStore::default()));
    NodeContext::new(
        ContextManager::new(stores, "memory".into()),
        "n1:f1".into(),
        vec!["f1".into()],
    )
}

fn start(s: FunctionSpec) -> T {
    let rec = Arc::new(Rec {
        events: Mutex::new(Vec::new()),
        context: context(),
    });
    let mut sb = match Sandbox::new(&s, rec.clone()) {
        Ok(sb) => sb,
        Err(e) => panic!("compile: {e}"),
    };
    sb.init();
    T { sb, rec }
}

fn run(func: &str) -> T {
    start(spec(func))
}

impl T {
    fn input(&mut self, id: u64, msg: Json) -> Msg {
        let m = Msg::from_json(&msg);
        self.sb.input(id, m.clone());
        m
    }
    fn take(&self) -> Vec<Ev> {
        std::mem::take(&mut *self.rec.events.lock())
    }
    /// The first message sent since the last take; panics if there is none.
    fn sent(&self) -> Msg {
        match self.take().into_iter().find(|e| matches!(e, Ev::Send(..))) {
            Some(Ev::Send(_, m)) => m,
            other => panic!("nothing sent: {other:?}"),
        }
    }
    /// (port, msg json) of every send, and the done results, in order.
    fn sends(&self) -> Vec<(usize, Json)> {
        self.take()
            .into_iter()
            .filter_map(|e| match e {
                Ev::Send(p, m) => Some((p, m.to_json())),
                _ => None,
            })
            .collect()
    }
    fn tick(&mut self, ms: u64) {
        let now = Duration::from_millis(ms);
        self.sb.set_now(now);
        self.sb.fire_due(now);
    }
}

fn done_of(evs: &[Ev], id: u64) -> Option<&Result<(), NodeError>> {
    evs.iter().find_map(|e| match e {
        Ev::Done(i, r) if *i == id => Some(r),
        _ => None,
    })
}

/// should send returned message
#[test]
fn returned_message_is_sent_and_keeps_its_object() {
    let mut t = run("msg.topic = 'set'; return msg;");
    let m = t.input(
        1,
        json!({"payload": "foo", "topic": "bar", "_msgid": "abc"}),
    );
    let evs = t.take();
    let Ev::Send(0, out) = &evs[0] else {
        panic!("{evs:?}")
    };
    assert!(
        out.object().ptr_eq(m.object()),
        "return msg sends the same object"
    );
    assert_eq!(
        out.to_json(),
        json!({"payload": "foo", "topic": "set", "_msgid": "abc"})
    );
    assert!(matches!(evs[1], Ev::Done(1, Ok(()))));
}

/// Strings written back into the message are compared with what it held
/// without copying them; a lone surrogate never matches and becomes U+FFFD.
#[test]
fn written_back_strings_keep_or_replace_their_text() {
    let mut t = run(
        "msg.a = '\\uD800'; msg.c = 'z' + msg.c.slice(1); msg['\\uDC00k'] = 1;\n\
             msg.d = {['\\uD800n']: 'new \\uDC00', plain: 'é'}; return msg;",
    );
    let m = t.input(1, json!({"a": "x", "b": "y", "c": "é", "_msgid": "abc"}));
    let b_before = m.object().get("b");
    let evs = t.take();
    let Ev::Send(0, out) = &evs[0] else {
        panic!("{evs:?}")
    };
    assert_eq!(
        out.to_json(),
        json!({"a": "\u{FFFD}", "b": "y", "c": "z", "_msgid": "abc", "\u{FFFD}k": 1,
               "d": {"\u{FFFD}n": "new \u{FFFD}", "plain": "é"}})
    );
    let (Some(Value::String(before)), Some(Value::String(after))) =
        (b_before, out.object().get("b"))
    else {
        panic!("b is a string")
    };
    assert!(Arc::ptr_eq(&before, &after), "an unchanged string is kept");
}

/// should send to multiple outputs
#[test]
fn array_sends_one_entry_per_output() {
    let mut t = run("return [{payload: '1'}, null, {payload: '2'}];");
    t.input(1, json!({"_msgid": "m1"}));
    assert_eq!(
        t.sends(),
        vec![
            (0, json!({"payload": "1", "_msgid": "m1"})),
            (2, json!({"payload": "2", "_msgid": "m1"}))
        ]
    );
}

/// should send to multiple messages
#[test]
fn array_of_arrays_sends_in_order() {
    let mut t =
        run("return [[{payload: 1}, {payload: 2}, null, {payload: 3}], {payload: 'single'}];");
    t.input(1, json!({"_msgid": "1234"}));
    let sent = t.sends();
    let payloads: Vec<(usize, Json)> = sent
        .iter()
        .map(|(p, m)| (*p, m["payload"].clone()))
        .collect();
    assert_eq!(
        payloads,
        vec![
            (0, json!(1)),
            (0, json!(2)),
            (0, json!(3)),
            (1, json!("single"))
        ]
    );
    assert!(sent.iter().all(|(_, m)| m["_msgid"] == json!("1234")));
}

/// should allow input to be discarded by returning null
#[test]
fn returning_nothing_sends_nothing() {
    for code in [
        "return null;",
        "return;",
        "return [null];",
        "return [];",
        "return [[null, null]];",
        "",
    ] {
        let mut t = run(code);
        t.input(1, json!({"payload": 1}));
        let evs = t.take();
        assert_eq!(evs.len(), 1, "{code}: {evs:?}");
        assert!(matches!(evs[0], Ev::Done(1, Ok(()))), "{code}");
    }
}

/// should clone single message sent using send()
#[test]
fn send_clones_by_default() {
    for args in [
        "msg",
        "[msg]",
        "[[msg],[null]]",
        "[null,msg]",
        "[null,[msg]]",
    ] {
        let mut t = run(&format!("node.send({args}); msg.payload = 'changed';"));
        t.input(1, json!({"payload": "foo", "topic": "bar"}));
        let sent = t.sends();
        assert_eq!(sent.len(), 1, "{args}");
        assert_eq!(sent[0].1["payload"], json!("foo"), "{args}");
    }
}

/// should not clone single message sent using send(,false)
#[test]
fn send_without_clone_shares_the_message() {
    let mut t = run("node.send(msg, false); msg.payload = 'changed';");
    let m = t.input(1, json!({"payload": "foo", "topic": "bar"}));
    let evs = t.take();
    let Ev::Send(0, out) = &evs[0] else {
        panic!("{evs:?}")
    };
    assert_eq!(out.to_json()["payload"], json!("changed"));
    assert!(out.object().ptr_eq(m.object()));
}

/// A body gets its `node` object and the wrapper's parameters only when its
/// text may name them (see `may_name_node`); every way of naming them must
/// still find them.
#[test]
fn node_is_there_however_the_code_names_it() {
    for code in [
        "msg.payload = node.id; return msg;",
        "msg.payload = eval('no' + 'de').id; return msg;",
        "msg.payload = n\\u006fde.id; return msg;",
    ] {
        let mut t = run(code);
        t.input(1, json!({"_msgid": "m1"}));
        assert_eq!(
            t.sends(),
            vec![(0, json!({"payload": "n1", "_msgid": "m1"}))],
            "{code}"
        );
    }
    // Node-RED's wrapper parameters, by name.
    let mut t = run("__send__({payload: 'sent'}); __done__(); return null;");
    t.input(1, json!({"_msgid": "m1"}));
    let evs = t.take();
    assert!(
        matches!(&evs[0], Ev::Send(0, m) if m.to_json()["payload"] == json!("sent")),
        "{evs:?}"
    );
    assert!(done_of(&evs, 1).is_some_and(Result::is_ok), "{evs:?}");
    // Node-RED's wrapper has three parameters, and a body can count them.
    let mut t = run("msg.payload = arguments.length; return msg;");
    t.input(1, json!({"_msgid": "m1"}));
    assert_eq!(t.sends(), vec![(0, json!({"payload": 3, "_msgid": "m1"}))]);
    // Without any of them the body runs as before, done included.
    let mut t = run("msg.payload = typeof msg; return msg;");
    t.input(1, json!({"_msgid": "m1"}));
    let evs = t.take();
    assert!(
        matches!(&evs[0], Ev::Send(0, m) if m.to_json()["payload"] == json!("object")),
        "{evs:?}"
    );
    assert!(matches!(evs[1], Ev::Done(1, Ok(()))), "{evs:?}");
}

/// should drop and log non-object message types - string/buffer/array/boolean/number
#[test]
fn non_object_results_are_errors() {
    for (code, ty) in [
        ("return 'foo'", "string"),
        ("return Buffer.from('hello')", "Buffer"),
        ("return [[[1,2,3]]]", "Array"),
        ("return true", "boolean"),
        ("return 123", "number"),
    ] {
        let mut t = run(code);
        t.input(1, json!({}));
        let evs = t.take();
        let errs: Vec<String> = evs
            .iter()
            .filter_map(|e| match e {
                Ev::Error(e, None) => Some(e.message.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            errs,
            vec![format!("Function tried to send a message of type {ty}")],
            "{code}"
        );
        assert!(!evs.iter().any(|e| matches!(e, Ev::Send(..))));
    }
}

/// Context keys as Node-RED validates them: a non-empty string, or a
/// non-empty array of them.
#[test]
fn context_keys_are_validated() {
    let mut t = run("const r = [];
        for (const k of ['', 5, null, [], ['a', ''], ['a', 7]]) {
            try { global.get(k); r.push('read'); } catch (e) { r.push(e.message); }
        }
        global.set('k', 1);
        flow.set(['x', 'y'], [2, 3]);
        r.push(global.get('k'), flow.get(['x', 'y']));
        msg.payload = r;
        return msg;");
    t.input(1, json!({}));
    let sends = t.sends();
    let bad = "Invalid context key";
    assert_eq!(
        sends[0].1["payload"],
        json!([bad, bad, bad, bad, bad, bad, 1, [2, 3]]),
        "{sends:?}"
    );
}

/// should handle and log script error
#[test]
fn reference_error_names_line_and_column() {
    let mut t = run("var a = 1;\nretunr");
    let m = t.input(1, json!({"payload": "foo"}));
    let evs = t.take();
    let Some(Err(e)) = done_of(&evs, 1) else {
        panic!("{evs:?}")
    };
    assert_eq!(
        e.message,
        "ReferenceError: ReferenceError: retunr is not defined (line 2, col 1)"
    );
    // Node-RED stores the error on the message before done(err).
    assert!(m.object().contains_key("error"));
}

#[test]
fn thrown_values_become_catch_messages() {
    let mut t = run(
        "const k = msg.payload;\nif (k === 'error') throw new Error('boom');\nif (k === 'string') throw 'plain string';\n\
         if (k === 'number') throw 42;\nif (k === 'object') throw {a: 1};\nif (k === 'type') { const o = undefined; return o.x; }\nreturn msg;",
    );
    for (k, want) in [
        ("error", "Error: boom"),
        ("string", "plain string"),
        ("number", "42"),
        ("object", "{\"a\":1}"),
    ] {
        t.input(1, json!({"payload": k}));
        let evs = t.take();
        let Some(Err(e)) = done_of(&evs, 1) else {
            panic!("{k}: {evs:?}")
        };
        assert_eq!(e.message, want);
    }
    t.input(2, json!({"payload": "type"}));
    let evs = t.take();
    let Some(Err(e)) = done_of(&evs, 2) else {
        panic!("{evs:?}")
    };
    assert!(e.message.starts_with("TypeError: "), "{}", e.message);
    assert!(
        e.stack
            .as_deref()
            .is_some_and(|s| s.contains("Function node:n1")),
        "{:?}",
        e.stack
    );
}

/// should do something with the catch node
#[test]
fn node_error_with_msg_is_routed() {
    let mut t = run("node.error('This is an error', msg); return null;");
    t.input(1, json!({"payload": "foo", "topic": "bar"}));
    let evs = t.take();
    let Ev::Error(e, Some(m)) = &evs[0] else {
        panic!("{evs:?}")
    };
    assert_eq!(e.message, "This is an error");
    assert_eq!(m.to_json()["topic"], json!("bar"));
}

#[test]
fn syntax_errors_name_line_and_column() {
    let e = match Sandbox::new(
        &spec("var a = 1;\n  return (;\n"),
        Arc::new(Rec {
            events: Mutex::new(vec![]),
            context: context(),
        }),
    ) {
        Err(e) => e,
        Ok(_) => panic!("compiled"),
    };
    assert_eq!(e.field, "func");
    assert_eq!((e.line, e.column), (2, 11));
    assert!(e.message.starts_with("SyntaxError: "), "{}", e.message);
    assert!(
        e.message.ends_with("(body:line 2, col 11)"),
        "{}",
        e.message
    );
    let mut s = spec("return msg;");
    s.finalize = "}".into();
    let e = match Sandbox::new(
        &s,
        Arc::new(Rec {
            events: Mutex::new(vec![]),
            context: context(),
        }),
    ) {
        Err(e) => e,
        Ok(_) => panic!("compiled"),
    };
    assert_eq!(e.field, "finalize");
}

/// The deploy-time check remembers only code that compiled: the same code
/// passes again, and code differing in any part is checked afresh.
#[test]
fn syntax_check_remembers_only_code_that_compiled() {
    let good = spec("return msg;");
    assert_eq!(super::check_syntax(&good), Ok(()));
    assert_eq!(super::check_syntax(&good), Ok(()));
    let mut bad_stop = good.clone();
    bad_stop.finalize = "}".into();
    for _ in 0..2 {
        let e = super::check_syntax(&bad_stop).expect_err("On Stop does not compile");
        assert_eq!(e.field, "finalize");
    }
    // The parts are told apart by their lengths, not only their text joined.
    let mut moved = spec("return msg;}");
    moved.finalize = String::new();
    assert_eq!(
        super::check_syntax(&moved).map_err(|e| e.field),
        Err("func")
    );
    let mut split = spec("return msg;");
    split.initialize = "}".into();
    assert_eq!(
        super::check_syntax(&split).map_err(|e| e.field),
        Err("initialize")
    );
}

/// should timeout if timeout is set
#[test]
fn endless_loop_is_interrupted_and_the_node_keeps_working() {
    let mut s = spec("if (msg.payload === 'loop') { while(1==1){} }\nreturn msg;");
    s.timeout = Some(Duration::from_millis(10));
    let mut t = start(s);
    t.input(1, json!({"payload": "loop"}));
    let evs = t.take();
    let Some(Err(e)) = done_of(&evs, 1) else {
        panic!("{evs:?}")
    };
    assert_eq!(e.message, "Error: Script execution timed out after 10ms");
    assert_eq!(e.code.as_deref(), Some("ERR_SCRIPT_EXECUTION_TIMEOUT"));
    t.input(2, json!({"payload": "ok"}));
    assert_eq!(t.sends()[0].1["payload"], json!("ok"));
}

#[test]
fn try_catch_does_not_escape_the_timeout() {
    let mut s = spec("try { while(true){} } catch (e) { return {payload: 'escaped'}; }");
    s.timeout = Some(Duration::from_millis(10));
    let mut t = start(s);
    t.input(1, json!({}));
    let evs = t.take();
    assert!(!evs.iter().any(|e| matches!(e, Ev::Send(..))));
    assert!(matches!(done_of(&evs, 1), Some(Err(_))));
}

/// should handle setTimeout()
#[test]
fn async_function_with_set_timeout_completes_later() {
    let mut t =
        run("await new Promise(r => setTimeout(r, 50));\nmsg.payload = 'later';\nreturn msg;");
    t.input(1, json!({"payload": "now"}));
    assert!(t.take().is_empty());
    assert_eq!(t.sb.next_timer(), Some(Duration::from_millis(50)));
    t.tick(49);
    assert!(t.take().is_empty());
    t.tick(50);
    let evs = t.take();
    assert!(
        matches!(&evs[0], Ev::Send(0, m) if m.to_json()["payload"] == json!("later")),
        "{evs:?}"
    );
    assert!(matches!(evs[1], Ev::Done(1, Ok(()))));
}

/// should handle setInterval() / should handle clearInterval()
#[test]
fn intervals_repeat_until_cleared() {
    let mut t = run(
        "let n = 0; const id = setInterval(() => { n++; node.send({payload: n}); if (n === 3) clearInterval(id); }, 100);",
    );
    t.input(1, json!({}));
    t.take();
    for ms in [100, 200, 300, 400, 500] {
        t.tick(ms);
    }
    let got: Vec<Json> = t
        .sends()
        .into_iter()
        .map(|(_, m)| m["payload"].clone())
        .collect();
    assert_eq!(got, vec![json!(1), json!(2), json!(3)]);
    assert_eq!(t.sb.next_timer(), None);
}

#[test]
fn errors_in_timer_callbacks_reach_catch_with_an_empty_message() {
    let mut t = run("setTimeout(function () { throw new Error('late'); }, 5); return null;");
    t.input(1, json!({}));
    t.take();
    t.tick(5);
    let evs = t.take();
    let Ev::Error(e, Some(m)) = &evs[0] else {
        panic!("{evs:?}")
    };
    assert_eq!(e.message, "Error: late");
    assert_eq!(m.to_json(), json!({}));
}

/// catch/complete: an async function that changes msg then calls node.done()
#[test]
fn node_done_from_a_timer_writes_the_message_back() {
    let mut t = run(
        "setTimeout(function() {\n  msg.payload.done = 'async function';\n  node.done();\n}, 50);\nreturn null;",
    );
    let m = t.input(1, json!({"payload": {"v": 2}}));
    assert!(t.take().is_empty(), "done waits for node.done()");
    t.tick(50);
    let evs = t.take();
    assert!(matches!(evs[0], Ev::Done(1, Ok(()))), "{evs:?}");
    assert_eq!(
        m.to_json()["payload"],
        json!({"v": 2, "done": "async function"})
    );
}

#[test]
fn values_round_trip_with_types_and_key_order() {
    let mut t = run(
        "msg.types = [Buffer.isBuffer(msg.buf), msg.buf.length, msg.buf.toString('hex'), msg.when instanceof Date, \
         msg.when.getTime(), msg.u === undefined, 'u' in msg, Object.keys(msg.obj).join(',')];\n\
         msg.made = Buffer.from('héllo'); msg.date = new Date(5); return msg;",
    );
    let m = Msg::new();
    m.set("buf", Value::Buffer(bytes::Bytes::from(vec![0u8, 1, 255])));
    m.set("when", Value::Date(1000.0));
    m.set("u", Value::Undefined);
    let o = Object::new();
    o.insert("z", Value::from(1.0));
    o.insert("a", Value::from(2.0));
    m.set("obj", Value::Object(o));
    t.sb.input(1, m.clone());
    t.take();
    assert_eq!(
        to_serde(&m.get("types").unwrap_or_default()),
        json!([true, 3, "0001ff", true, 1000, true, true, "z,a"])
    );
    assert!(matches!(m.get("made"), Some(Value::Buffer(b)) if &b[..] == "héllo".as_bytes()));
    assert!(matches!(m.get("date"), Some(Value::Date(d)) if d == 5.0));
    assert!(matches!(m.get("u"), Some(Value::Undefined)));
}

/// A message whose `msg.res._res` is host object `n`, as `http in` makes it.
fn with_response_handle(n: u32) -> Msg {
    let m = Msg::new();
    let res = Object::new();
    res.insert("_res", Value::Handle(Handle::new(n)));
    m.set("res", Value::Object(res));
    m
}

/// The host object at `msg.res._res`, if it is one of [`with_response_handle`]'s.
fn response_handle(m: &Msg) -> Option<u32> {
    match m
        .get("res")
        .and_then(|r| r.as_object().and_then(|o| o.get("_res")))
    {
        Some(Value::Handle(h)) => h.downcast::<u32>().copied(),
        _ => None,
    }
}

#[test]
fn handles_survive_a_round_trip() {
    let mut t = run(
        "const copy = RED.util.cloneMessage(msg); node.send(copy); return {res: msg.res, other: 1};",
    );
    t.sb.input(1, with_response_handle(42));
    let evs = t.take();
    let handles: Vec<u32> = evs
        .iter()
        .filter_map(|e| match e {
            Ev::Send(_, m) => response_handle(m),
            _ => None,
        })
        .collect();
    assert_eq!(handles, vec![42, 42]);
}

#[test]
fn a_handle_placeholder_cannot_be_pointed_at_another_handle() {
    // The script sees msg.res._res as an empty object; what ties it to the
    // host object cannot be listed, changed or removed, and an added
    // property does not break it.
    let mut t = run("const h = msg.res._res;\n\
         const keys = Object.keys(h).length;\n\
         h.__handle = 7;\n\
         const gone = delete h.__handle;\n\
         let redefined = true;\n\
         try { Object.defineProperty(h, '__handle', {value: 7}); } catch (e) { redefined = false; }\n\
         h.extra = 1;\n\
         msg.payload = [keys, gone, redefined, JSON.stringify(h)];\n\
         return msg;");
    t.sb.input(1, with_response_handle(42));
    let out = t.sent();
    assert_eq!(
        out.to_json()["payload"],
        json!([0, false, false, "{\"extra\":1}"])
    );
    assert_eq!(response_handle(&out), Some(42), "{:?}", out.get("res"));
}

#[test]
fn cycles_are_kept() {
    let mut t = run("msg.self = msg; msg.arr = [1]; msg.arr.push(msg.arr); return msg;");
    let m = t.input(1, json!({}));
    t.take();
    let me = m
        .get("self")
        .and_then(|v| v.as_object().cloned())
        .expect("object");
    assert!(me.ptr_eq(m.object()));
}

/// should set/get node, flow and global context (with stores, keys and callbacks)
#[test]
fn context_get_set_keys_with_stores_and_callbacks() {
    let mut t = run(
        "context.set('count', 1);\nflow.set('f', 'default');\nflow.set('f', 'alt', 'alt');\n\
         global.set(['g1', 'g2'], ['a', 'b']);\nflow.set('nested.a.b', 3);\n\
         msg.payload = {count: context.get('count'), f: flow.get('f'), fa: flow.get('f', 'alt'),\n\
           g: global.get(['g1', 'g2']), nested: flow.get('nested.a'), keys: flow.keys(), altKeys: flow.keys('alt'),\n\
           prefixed: flow.get('#:(alt)::f'), viaNode: context.flow.get('f')};\n\
         flow.get('f', 'alt', function (err, v) {\n  msg.payload.cb = v;\n  context.set('x', 5, 'alt', function (err) {\n\
           context.keys('alt', function (err, keys) { msg.payload.cbKeys = keys; node.send(msg); });\n  });\n});\nreturn null;",
    );
    t.input(1, json!({}));
    let sent = t.sends();
    assert_eq!(
        sent[0].1["payload"],
        json!({"count": 1, "f": "default", "fa": "alt", "g": ["a", "b"], "nested": {"b": 3},
               "keys": ["f", "nested"], "altKeys": ["f"], "prefixed": "alt", "viaNode": "default",
               "cb": "alt", "cbKeys": ["x"]})
    );
    let cx = context();
    let _ = cx;
    let stored = t.rec.context.get(Scope::Global, "g2", None).ok().flatten();
    assert_eq!(stored.map(|v| v.to_js_string()), Some("b".into()));
}

/// should handle error on get persistable context
#[test]
fn bad_context_callback_is_an_error() {
    let mut t = run("msg.payload = context.get('count', 'memory', 'callback'); return msg;");
    t.input(1, json!({}));
    let evs = t.take();
    let Some(Err(e)) = done_of(&evs, 1) else {
        panic!("{evs:?}")
    };
    assert_eq!(e.message, "Error: Callback must be a function");
}

/// should allow accessing env vars / node.id / node.name / node.outputCount
#[test]
fn env_and_node_properties() {
    let mut t = run(
        "return {payload: [env.get('FOO'), env.get('NOPE') === undefined, node.id, node.name, node.outputCount, node.path]};",
    );
    t.input(1, json!({}));
    assert_eq!(
        t.sends()[0].1["payload"],
        json!(["bar", true, "n1", "fn name", 1, "f1/n1"])
    );
}

#[test]
fn red_util_helpers() {
    let mut t = run("const c = RED.util.cloneMessage(msg); c.payload.a = 9;\n\
         RED.util.setMessageProperty(msg, 'msg.x.y[1]', 'z');\n\
         return {payload: [msg.payload.a, RED.util.getMessageProperty(msg, 'x.y[1]'), RED.util.generateId().length,\n\
           RED.util.ensureString({a: 1}), RED.util.ensureBuffer('hi').length]};");
    t.input(1, json!({"payload": {"a": 1}}));
    assert_eq!(
        t.sends()[0].1["payload"],
        json!([1, "z", 16, "{\"a\":1}", 2])
    );
}

#[test]
fn buffer_encodings() {
    let mut t = run("const b = Buffer.from('aGVsbG8gd29ybGQ=', 'base64');\n\
         return {payload: [b.toString(), b.toString('hex'), Buffer.from('68656c6c6f', 'hex').toString(), b.toString('base64'),\n\
           Buffer.from([1,2,3]).readUInt16BE(1), Buffer.concat([Buffer.from('a'), Buffer.from('b')]).toString(),\n\
           JSON.stringify(Buffer.from('hi')), Buffer.from('€').length, b.slice(0, 5).toString(), Buffer.alloc(3, 1).toString('hex')]};");
    t.input(1, json!({}));
    assert_eq!(
        t.sends()[0].1["payload"],
        json!([
            "hello world",
            "68656c6c6f20776f726c64",
            "hello",
            "aGVsbG8gd29ybGQ=",
            515,
            "ab",
            "{\"type\":\"Buffer\",\"data\":[104,105]}",
            3,
            "hello",
            "010101"
        ])
    );
}

/// should execute initialization / should wait completion of initialization / finalize should execute
#[test]
fn on_start_and_on_stop() {
    let mut s = spec("return {payload: global.get('X')};");
    s.initialize = "global.set('X', '-'); return new Promise((resolve) => setTimeout(() => { global.set('X', 'bar'); resolve(); }, 500));".into();
    s.finalize = "global.set('X', 'closed ' + node.name);".into();
    let mut t = start(s);
    t.input(1, json!({}));
    assert!(t.sends().is_empty(), "messages wait for On Start");
    t.tick(500);
    assert_eq!(t.sends()[0].1["payload"], json!("bar"));
    t.sb.close(false);
    let x = t.rec.context.get(Scope::Global, "X", None).ok().flatten();
    assert_eq!(x.map(|v| v.to_js_string()), Some("closed fn name".into()));
}

#[test]
fn failed_on_start_drops_messages() {
    let mut s = spec("return msg;");
    s.initialize = "throw new Error('no start');".into();
    let mut t = start(s);
    let evs = t.take();
    assert!(
        matches!(&evs[0], Ev::Error(e, None) if e.message == "Error: no start"),
        "{evs:?}"
    );
    t.input(1, json!({}));
    assert!(matches!(t.take()[..], [Ev::Discard(1)]));
}

#[test]
fn status_and_logs() {
    let mut t = run(
        "node.status({fill: 'red', shape: 'dot', text: 'hi'}); node.status('plain'); node.warn('careful'); node.log({a: 1}); return null;",
    );
    t.input(1, json!({}));
    let evs = t.take();
    assert!(
        matches!(&evs[0], Ev::Log(LogLevel::Warn, s) if s == "careful"),
        "{evs:?}"
    );
    assert!(matches!(&evs[1], Ev::Log(LogLevel::Info, s) if s == "{\"a\":1}"));
    assert!(matches!(&evs[2], Ev::Status(s) if *s == Status::new("red", "dot", "hi")));
    assert!(matches!(&evs[3], Ev::Status(s) if *s == Status::text("plain")));
}

#[test]
fn memory_limit_stops_a_leak_and_the_node_recovers() {
    let mut s = spec(
        "if (msg.payload === 'leak') { const a = []; while (true) a.push(new Array(10000).fill(1)); }\nreturn msg;",
    );
    s.memory_limit = 8 * 1024 * 1024;
    let mut t = start(s);
    t.input(1, json!({"payload": "leak"}));
    let evs = t.take();
    assert!(matches!(done_of(&evs, 1), Some(Err(_))), "{evs:?}");
    t.input(2, json!({"payload": "fine"}));
    assert_eq!(t.sends()[0].1["payload"], json!("fine"));
}

#[test]
fn node_done_detection_skips_comments_and_strings() {
    assert!(calls_node_done("setTimeout(() => node.done(), 1)"));
    assert!(calls_node_done("node.done (err)"));
    assert!(!calls_node_done("// node.done()\nreturn msg;"));
    assert!(!calls_node_done("/* node.done() */ var s = 'node.done()';"));
    assert!(!calls_node_done("mynode.done()"));
}

/// change/context_reference, done by a function: memory context holds
/// references, so a later change to the stored object shows in context.
#[test]
fn context_values_are_shared_like_references() {
    let mut t =
        run("flow.set('obj', msg.payload);\nmsg.payload.mutated = 'after-store';\nreturn msg;");
    t.input(1, json!({"payload": {"orig": 1}}));
    let evs = t.take();
    let Ev::Send(0, out) = &evs[0] else {
        panic!("{evs:?}")
    };
    let stored = t.rec.context.get(Scope::Flow, "obj", None).ok().flatten();
    assert_eq!(
        stored.as_ref().map(to_serde),
        Some(json!({"orig": 1, "mutated": "after-store"}))
    );
    let (Some(Value::Object(a)), Some(Value::Object(b))) = (stored, out.get("payload")) else {
        panic!()
    };
    assert!(
        a.ptr_eq(&b),
        "msg.payload and the context value are one object"
    );

    let mut t = run("const c = flow.get('counts'); c.n++; c.list.push(msg.payload); return null;");
    t.rec
        .context
        .set(
            Scope::Flow,
            "counts",
            Some(Value::from(Object::new())),
            None,
        )
        .ok();
    let counts = Object::new();
    counts.insert("n", Value::from(1.0));
    counts.insert("list", Value::from(Vec::<Value>::new()));
    t.rec
        .context
        .set(
            Scope::Flow,
            "counts",
            Some(Value::Object(counts.clone())),
            None,
        )
        .ok();
    t.input(1, json!({"payload": "x"}));
    assert_eq!(
        to_serde(&Value::Object(counts)),
        json!({"n": 2, "list": ["x"]})
    );
}

#[test]
fn unchanged_context_values_are_left_alone() {
    let mut t = run("const c = flow.get('obj'); msg.payload = c.inner.v; return msg;");
    let inner = Object::new();
    inner.insert("v", Value::from(7.0));
    let obj = Object::new();
    obj.insert("inner", Value::Object(inner.clone()));
    t.rec
        .context
        .set(Scope::Flow, "obj", Some(Value::Object(obj.clone())), None)
        .ok();
    t.input(1, json!({}));
    assert_eq!(t.sends()[0].1["payload"], json!(7));
    let still = obj
        .get("inner")
        .and_then(|v| v.as_object().cloned())
        .expect("inner");
    assert!(still.ptr_eq(&inner), "an unchanged value keeps its objects");
}

#[test]
fn deep_recursion_is_a_range_error_not_a_crash() {
    let mut t = run("function f(n) { return f(n + 1) + 1; }\nreturn {payload: f(0)};");
    t.input(1, json!({}));
    let evs = t.take();
    let Some(Err(e)) = done_of(&evs, 1) else {
        panic!("{evs:?}")
    };
    assert!(
        e.message.contains("RangeError") || e.message.contains("stack"),
        "{}",
        e.message
    );
}

/// should handle node.on()
#[test]
fn close_listeners_run_when_the_node_stops() {
    let mut t = run(
        "node.on('close', function () { node.log('closed'); });\ntry { node.on('input', function () {}); } catch (e) { node.warn(e.message); }\nreturn null;",
    );
    t.input(1, json!({}));
    let evs = t.take();
    assert!(
        matches!(&evs[0], Ev::Log(LogLevel::Warn, s) if s == "Cannot add listener to 'input' event within Function"),
        "{evs:?}"
    );
    t.sb.close(false);
    let evs = t.take();
    assert!(
        matches!(&evs[0], Ev::Log(LogLevel::Info, s) if s == "closed"),
        "{evs:?}"
    );
}

/// init function: should allow accessing node.id and node.name and node.outputCount and sending message
#[test]
fn on_start_can_send_with_a_fresh_msgid() {
    let mut s = spec("return msg;");
    s.initialize =
        "node.send({topic: node.name, payload: node.id, outputCount: node.outputCount});".into();
    let t = start(s);
    let sent = t.sends();
    assert_eq!(sent.len(), 1);
    let m = &sent[0].1;
    assert_eq!(
        (&m["topic"], &m["payload"], &m["outputCount"]),
        (&json!("fn name"), &json!("n1"), &json!(1))
    );
    assert_eq!(m["_msgid"].as_str().map(str::len), Some(16));
}

#[test]
fn a_proto_key_stays_an_own_property() {
    let mut t = run(
        "msg.own = Object.keys(msg.payload); msg.inherited = msg.payload.x === undefined; return msg;",
    );
    let m = Msg::from_json(&json!({"payload": {"__proto__": {"x": 1}, "a": 2}}));
    t.sb.input(1, m.clone());
    t.take();
    assert_eq!(m.to_json()["own"], json!(["__proto__", "a"]));
    assert_eq!(m.to_json()["inherited"], json!(true));
}

/// A message part shared with context (set by reference by a change node)
/// stays shared: the script's change shows in context, as in Node-RED.
#[test]
fn objects_inside_the_message_keep_their_identity() {
    let mut t = run("msg.payload.mutated = 'by function'; return msg;");
    let shared = Object::new();
    shared.insert("orig", Value::from(1.0));
    let untouched = Object::new();
    t.rec
        .context
        .set(
            Scope::Flow,
            "obj",
            Some(Value::Object(shared.clone())),
            None,
        )
        .ok();
    let m = Msg::new();
    m.set("payload", Value::Object(shared.clone()));
    m.set("other", Value::Object(untouched.clone()));
    t.sb.input(1, m);
    let evs = t.take();
    let Ev::Send(0, out) = &evs[0] else {
        panic!("{evs:?}")
    };
    assert_eq!(
        to_serde(&Value::Object(shared.clone())),
        json!({"orig": 1, "mutated": "by function"})
    );
    assert!(matches!(out.get("payload"), Some(Value::Object(p)) if p.ptr_eq(&shared)));
    assert!(matches!(out.get("other"), Some(Value::Object(o)) if o.ptr_eq(&untouched)));
}

mod lazy_req;
mod plain_call;
mod top_up;

/// Sets global `key` to a new object holding `props`.
fn set_global(t: &T, key: &str, props: &[(&str, Value)]) -> Object {
    let obj = Object::new();
    for (k, v) in props {
        obj.insert(*k, v.clone());
    }
    t.rec
        .context
        .set(Scope::Global, key, Some(Value::Object(obj.clone())), None)
        .expect("set");
    obj
}

/// A small context object a script keeps its state in comes back as the
/// same JS object (as from Node-RED's memory store) while nothing else
/// changes it; a change made elsewhere (a change node, another script) or a
/// new object under the key is seen at the next read.
#[test]
fn context_objects_come_back_as_the_same_js_object_until_changed_elsewhere() {
    let mut t = run(
        "const s = global.get('s');\nconst same = context.prev === s;\ncontext.prev = s;\n\
         s.count += 1;\nglobal.set('s', s);\nreturn {payload: {same: same, count: s.count}};",
    );
    let s = set_global(
        &t,
        "s",
        &[("count", Value::from(0.0)), ("name", Value::str("x"))],
    );
    let step = |t: &mut T, id: u64| {
        t.input(id, json!({}));
        let sent = t.sends();
        assert_eq!(sent.len(), 1, "one message per input");
        sent[0].1["payload"].clone()
    };
    assert_eq!(step(&mut t, 1), json!({"same": false, "count": 1}));
    assert_eq!(step(&mut t, 2), json!({"same": true, "count": 2}));
    assert_eq!(step(&mut t, 3), json!({"same": true, "count": 3}));
    assert_eq!(
        to_serde(&Value::Object(s.clone())),
        json!({"count": 3, "name": "x"})
    );

    s.insert("count", Value::from(10.0));
    assert_eq!(step(&mut t, 4), json!({"same": false, "count": 11}));
    s.insert("extra", Value::Bool(true));
    assert_eq!(step(&mut t, 5), json!({"same": false, "count": 12}));
    assert_eq!(step(&mut t, 6), json!({"same": true, "count": 13}));
    assert_eq!(
        to_serde(&Value::Object(s.clone())),
        json!({"count": 13, "name": "x", "extra": true})
    );

    let s2 = set_global(&t, "s", &[("count", Value::from(100.0))]);
    assert_eq!(step(&mut t, 7), json!({"same": false, "count": 101}));
    assert_eq!(to_serde(&Value::Object(s2)), json!({"count": 101}));
    assert_eq!(
        to_serde(&Value::Object(s)),
        json!({"count": 13, "name": "x", "extra": true}),
        "the object no longer stored is left alone"
    );
}

/// Objects holding objects, and more objects than a sandbox keeps, are
/// read and written back correctly turn after turn.
#[test]
fn context_objects_not_kept_as_twins_still_round_trip() {
    let mut t = run(
        "const s = global.get('nested');\nconst same = context.prev === s;\ncontext.prev = s;\n\
         s.inner.n += 1;\nfor (let i = 0; i < 12; i++) { const c = global.get('c' + i); c.n += i; }\n\
         return {payload: {same: same, n: s.inner.n}};",
    );
    let inner = Object::new();
    inner.insert("n", Value::from(0.0));
    set_global(&t, "nested", &[("inner", Value::Object(inner.clone()))]);
    let counters: Vec<Object> = (0..12)
        .map(|i| set_global(&t, &format!("c{i}"), &[("n", Value::from(0.0))]))
        .collect();
    for id in 1..=3 {
        t.input(id, json!({}));
        let sent = t.sends();
        assert_eq!(sent[0].1["payload"], json!({"same": false, "n": id}));
    }
    assert_eq!(to_serde(&Value::Object(inner)), json!({"n": 3}));
    for (i, c) in counters.iter().enumerate() {
        assert_eq!(to_serde(&Value::Object(c.clone())), json!({"n": 3 * i}));
    }
}

/// A kept JS object the script stores under another key in a later turn,
/// without reading it again, becomes a copy under the new key, and the
/// first key's object is read afresh (as before twins were kept).
#[test]
fn a_kept_object_stored_under_a_new_key_stands_for_that_key_only() {
    let mut t = run(
        "if (msg.step === 1) { context.keep = global.get('a'); return null; }\n\
         if (msg.step === 2) { global.set('b', context.keep); context.keep.n = 5; return null; }\n\
         const a = global.get('a'); const b = global.get('b');\n\
         return {payload: {a: a.n, b: b.n, same: a === b}};",
    );
    let a = set_global(&t, "a", &[("n", Value::from(1.0))]);
    t.input(1, json!({"step": 1}));
    t.input(2, json!({"step": 2}));
    t.input(3, json!({"step": 3}));
    let sent = t.sends();
    assert_eq!(sent[0].1["payload"], json!({"a": 1, "b": 5, "same": false}));
    assert_eq!(to_serde(&Value::Object(a)), json!({"n": 1}));
}

/// Writing back a message whose keys did not change replaces the changed
/// values in place; added, removed and reordered keys rebuild the object
/// in the script's order.
#[test]
fn written_back_messages_follow_the_script_keys_and_order() {
    let mut t = run("if (msg.step === 1) { msg.payload = 2; }\n\
         if (msg.step === 2) { delete msg.topic; msg.extra = 1; }\n\
         if (msg.step === 3) { const p = msg.topic; delete msg.topic; msg.topic = p; }\n\
         return msg;");
    let keys = |m: &Msg| {
        m.object()
            .keys()
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
    };
    let m = t.input(
        1,
        json!({"_msgid": "m", "step": 1, "topic": "t", "payload": 1}),
    );
    assert_eq!(keys(&m), ["_msgid", "step", "topic", "payload"]);
    assert_eq!(m.get("payload").map(|v| to_serde(&v)), Some(json!(2)));
    let m = t.input(
        2,
        json!({"_msgid": "m", "step": 2, "topic": "t", "payload": 1}),
    );
    assert_eq!(keys(&m), ["_msgid", "step", "payload", "extra"]);
    let m = t.input(
        3,
        json!({"_msgid": "m", "step": 3, "topic": "t", "payload": 1}),
    );
    assert_eq!(keys(&m), ["_msgid", "step", "payload", "topic"]);
    let sent = t.sends();
    assert_eq!(sent.len(), 3);
}
