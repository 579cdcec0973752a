//! `msg.req` reaches the script as a proxy converting one property at a
//! time (`lazy_req.rs`). The script must not be able to tell: reads, key
//! order, enumeration, changes in place, identity with `msg.payload`,
//! use after the message is done; and the Rust object behind it must come
//! back changed exactly as the script changed it.

use super::*;
use redoubt_core::value::from_serde;

/// A message as `http in` makes it: `msg.payload` is `msg.req.query`.
fn request() -> (Msg, Object) {
    let obj = |j: Json| match from_serde(&j) {
        Value::Object(o) => o,
        other => panic!("{other:?}"),
    };
    let query = obj(json!({"q": "1"}));
    let req = obj(json!({
        "method": "GET",
        "url": "/hello?q=1",
        "path": "/hello",
        "headers": {"host": "localhost", "accept": "*/*"},
        "params": {},
    }));
    req.insert("query", Value::Object(query.clone()));
    let m = Msg::new();
    m.set("_msgid", Value::str("m1"));
    m.set("req", Value::Object(req.clone()));
    m.set("payload", Value::Object(query));
    (m, req)
}

fn req_of(m: &Msg) -> Object {
    match m.get("req") {
        Some(Value::Object(o)) => o,
        other => panic!("msg.req is {other:?}"),
    }
}

#[test]
fn reading_a_property_leaves_the_request_object_as_it_was() {
    let mut t = run("msg.payload = msg.req.path + ' ' + msg.req.headers.host; return msg;");
    let (m, req) = request();
    let before = to_serde(&Value::Object(req.clone()));
    t.sb.input(1, m);
    let out = t.sent();
    assert_eq!(out.to_json()["payload"], json!("/hello localhost"));
    assert!(
        req_of(&out).ptr_eq(&req),
        "msg.req is still the same object"
    );
    assert_eq!(to_serde(&Value::Object(req)), before);
    assert_eq!(t.sb.lazy_count(), 0, "the proxy's entry is dropped with it");
}

#[test]
fn keys_come_in_order_whatever_was_read_first() {
    let mut t = run("const p = msg.req.path;\n\
         msg.payload = {keys: Object.keys(msg.req), json: JSON.parse(JSON.stringify(msg.req)),\n\
                        spread: Object.keys({...msg.req}), has: 'path' in msg.req && !('nope' in msg.req),\n\
                        own: msg.req.hasOwnProperty('url'), missing: msg.req.nope, p: p};\n\
         return msg;");
    let (m, req) = request();
    let whole = to_serde(&Value::Object(req.clone()));
    t.sb.input(1, m);
    let out = t.sent().to_json();
    let keys = json!(["method", "url", "path", "headers", "params", "query"]);
    assert_eq!(out["payload"]["keys"], keys);
    assert_eq!(out["payload"]["spread"], keys);
    assert_eq!(out["payload"]["json"], whole);
    assert_eq!(out["payload"]["has"], json!(true));
    assert_eq!(out["payload"]["own"], json!(true));
    assert_eq!(out["payload"]["missing"], Json::Null);
    assert_eq!(out["payload"]["p"], json!("/hello"));
    assert_eq!(out["req"], whole, "listing changed nothing");
}

/// Runs `script` on [`request`] and returns what it sent and the request
/// object, having checked that msg.req and msg.req.headers are still the
/// objects they were (changes are made in place).
fn changed_in_place(script: &str) -> (Msg, Object) {
    let mut t = run(script);
    let (m, req) = request();
    let headers = match req.get("headers") {
        Some(Value::Object(h)) => h,
        other => panic!("{other:?}"),
    };
    t.sb.input(1, m);
    let out = t.sent();
    assert!(req_of(&out).ptr_eq(&req));
    assert!(matches!(req.get("headers"), Some(Value::Object(h)) if h.ptr_eq(&headers)));
    (out, req)
}

#[test]
fn changes_reach_the_same_objects_in_place() {
    let (_, req) = changed_in_place(
        "msg.req.headers['x-seen'] = 'yes';\n\
         msg.req.extra = 5;\n\
         delete msg.req.method;\n\
         return msg;",
    );
    assert_eq!(
        to_serde(&Value::Object(req)),
        json!({"url": "/hello?q=1", "path": "/hello",
               "headers": {"host": "localhost", "accept": "*/*", "x-seen": "yes"},
               "params": {}, "query": {"q": "1"}, "extra": 5})
    );
}

#[test]
fn a_change_inside_an_object_read_from_the_request_is_written_back_in_place() {
    // Only reads of msg.req itself: the proxy never converts the rest, and
    // what the script changed inside the objects it read comes back.
    let (out, req) = changed_in_place(
        "msg.req.headers['x-seen'] = 'yes';\n\
         delete msg.req.headers.accept;\n\
         msg.req.query.q = '2';\n\
         return msg;",
    );
    assert_eq!(
        to_serde(&Value::Object(req)),
        json!({"method": "GET", "url": "/hello?q=1", "path": "/hello",
               "headers": {"host": "localhost", "x-seen": "yes"},
               "params": {}, "query": {"q": "2"}})
    );
    assert_eq!(out.to_json()["payload"], json!({"q": "2"}));
}

#[test]
fn payload_and_req_query_stay_one_object() {
    let mut t = run("const same = msg.payload === msg.req.query;\n\
         msg.req.query.added = 'via req';\n\
         msg.payload.other = 'via payload';\n\
         msg.same = same;\n\
         return msg;");
    let (m, req) = request();
    t.sb.input(1, m);
    let out = t.sent();
    assert_eq!(out.to_json()["same"], json!(true));
    let want = json!({"q": "1", "added": "via req", "other": "via payload"});
    assert_eq!(out.to_json()["payload"], want);
    assert_eq!(to_serde(&req.get("query").unwrap_or_default()), want);
    assert!(matches!(
        (out.get("payload"), req.get("query")),
        (Some(Value::Object(a)), Some(Value::Object(b))) if a.ptr_eq(&b)
    ));
}

#[test]
fn a_timer_can_read_the_request_after_the_message_is_done() {
    let mut t = run("const r = msg.req;\n\
         setTimeout(() => { node.send({payload: r.path + ' ' + Object.keys(r.headers).length}); }, 5);\n\
         return null;");
    let (m, _req) = request();
    t.sb.input(1, m);
    t.take();
    assert_eq!(t.sb.lazy_count(), 1, "the timer's closure keeps the proxy");
    t.tick(10);
    assert_eq!(t.sends()[0].1["payload"], json!("/hello 2"));
    assert_eq!(t.sb.lazy_count(), 0, "gone once the timer let go of it");
}

#[test]
fn the_request_can_be_stored_in_context_and_sent_on() {
    let mut t = run("context.set('r', msg.req);\n\
         const back = context.get('r');\n\
         node.send({payload: back.path, req: msg.req});\n\
         return null;");
    let (m, req) = request();
    t.sb.input(1, m);
    let out = t.sent();
    assert_eq!(out.to_json()["payload"], json!("/hello"));
    assert!(
        req_of(&out).ptr_eq(&req),
        "a send shares msg.req, as Node-RED's clone does"
    );
}

#[test]
fn freezing_the_request_converts_it_first() {
    let mut t = run(
        "Object.freeze(msg.req); msg.payload = Object.isFrozen(msg.req) && msg.req.url; return msg;",
    );
    let (m, _req) = request();
    t.sb.input(1, m);
    assert_eq!(t.sent().to_json()["payload"], json!("/hello?q=1"));
}

#[test]
fn a_proxy_over_the_request_met_while_writing_back_fails_without_hanging() {
    // The user's proxy asks the request proxy for its keys while the
    // message is being converted; that throws instead of deadlocking.
    let mut t = run("msg.wrapped = new Proxy(msg.req, {}); return msg;");
    let (m, _req) = request();
    t.sb.input(1, m);
    let evs = t.take();
    let text = format!("{evs:?}");
    assert!(
        text.contains("msg.req cannot be read while a message is being converted"),
        "{text}"
    );
    // The node still works.
    let (m, _req) = request();
    t.sb.input(2, m);
    assert!(!t.take().is_empty());
}

#[test]
fn messages_without_req_and_non_object_req_are_unchanged() {
    let mut t = run("msg.payload = typeof msg.req + ':' + JSON.stringify(msg.req); return msg;");
    t.input(1, json!({"req": "text"}));
    assert_eq!(t.sends()[0].1["payload"], json!("string:\"text\""));
    t.input(2, json!({"payload": 1}));
    assert_eq!(t.sends()[0].1["payload"], json!("undefined:undefined"));
    assert_eq!(t.sb.lazy_count(), 0);
}
