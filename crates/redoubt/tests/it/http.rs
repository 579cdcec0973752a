//! http in / http response through the real listener.

use crate::support::{Redoubt, SETTINGS, client};
use serde_json::json;

#[test]
fn example_flow_answers_hello() {
    let flows: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::support::repo_file("examples/hello/flows.json"))
            .expect("read"),
    )
    .expect("json");
    let r = Redoubt::start(&flows);
    let resp = client().get(r.url("/hello")).send().expect("request");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    let body: serde_json::Value = resp.json().expect("json");
    assert_eq!(body, json!({"hello": "world", "from": "redoubt"}));
}

#[test]
fn unknown_route_is_404_and_post_json_echoes() {
    let r = Redoubt::start(&json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"in","type":"http in","z":"t","url":"/echo/:name","method":"post","x":1,"y":1,"wires":[["out"]]},
        {"id":"out","type":"http response","z":"t","statusCode":"","headers":{"x-by":"redoubt"},"x":1,"y":1,"wires":[]}
    ]));
    let c = client();
    assert_eq!(c.get(r.url("/nope")).send().expect("req").status(), 404);
    let resp = c
        .post(r.url("/echo/bob"))
        .json(&json!({"a":[1,2]}))
        .send()
        .expect("req");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-by"], "redoubt");
    assert_eq!(
        resp.json::<serde_json::Value>().expect("json"),
        json!({"a":[1,2]})
    );
    let bad = c
        .post(r.url("/echo/bob"))
        .header("content-type", "application/json")
        .body("{bad")
        .send()
        .expect("req");
    assert_eq!(bad.status(), 500);
}

/// Under an `httpNodeRoot` of its own, `msg.req`'s URL parts are what
/// Express gives the app mounted there: `url` and `path` below the root,
/// `baseUrl` the root, `originalUrl` the whole URL. Outside the root no
/// node route answers.
#[test]
fn msg_req_url_parts_are_below_http_node_root() {
    let settings = SETTINGS.replace(
        "uiHost: \"127.0.0.1\",",
        "uiHost: \"127.0.0.1\",\n    httpNodeRoot: \"/api/\",",
    );
    let flows = json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"in","type":"http in","z":"t","url":"/echo/:name","method":"get","x":1,"y":1,"wires":[["ch"]]},
        {"id":"top","type":"http in","z":"t","url":"/","method":"get","x":1,"y":1,"wires":[["ch"]]},
        {"id":"ch","type":"change","z":"t","x":1,"y":1,"wires":[["out"]],"rules":[
            {"t":"set","p":"payload","pt":"msg","to":"{\"url\": req.url, \"originalUrl\": req.originalUrl, \"baseUrl\": req.baseUrl, \"path\": req.path}","tot":"jsonata"}
        ]},
        {"id":"out","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]}
    ]);
    let r = Redoubt::start_in(tempfile::tempdir().expect("tempdir"), &flows, &settings);
    let c = client();
    let get = |path: &str| -> serde_json::Value {
        let resp = c.get(r.url(path)).send().expect("req");
        assert_eq!(resp.status(), 200, "{path}");
        resp.json().expect("json")
    };
    assert_eq!(
        get("/api/echo/bob?x=1"),
        json!({"url": "/echo/bob?x=1", "originalUrl": "/api/echo/bob?x=1", "baseUrl": "/api", "path": "/echo/bob"})
    );
    assert_eq!(
        get("/api?x=1"),
        json!({"url": "/?x=1", "originalUrl": "/api?x=1", "baseUrl": "/api", "path": "/"})
    );
    let outside = c.get(r.url("/echo/bob")).send().expect("req");
    assert_eq!(outside.status(), 404);
}

/// msg.req as Express builds it, read by a change node: every property,
/// repeated headers joined, cookies parsed, and `msg.payload` of a GET the
/// very object `msg.req.query` is (a change to one shows in the other).
#[test]
fn msg_req_carries_the_request_and_shares_query_with_payload() {
    let r = Redoubt::start(&json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"in","type":"http in","z":"t","url":"/echo/:name","method":"get","x":1,"y":1,"wires":[["ch"]]},
        {"id":"ch","type":"change","z":"t","x":1,"y":1,"wires":[["out"]],"rules":[
            {"t":"set","p":"req.query.extra","pt":"msg","to":"yes","tot":"str"},
            {"t":"set","p":"out.req","pt":"msg","to":"req","tot":"msg"},
            {"t":"set","p":"out.payload","pt":"msg","to":"payload","tot":"msg"},
            {"t":"set","p":"payload","pt":"msg","to":"out","tot":"msg"}
        ]},
        {"id":"out","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]}
    ]));
    let resp = client()
        .get(r.url("/echo/bob%20b?x=1&y=two"))
        .header("cookie", "a=1; b=two")
        .header("x-rep", "one")
        .header("x-rep", "two")
        .send()
        .expect("req");
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().expect("json");
    let req = &body["req"];
    let keys: Vec<&str> = req
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "method",
            "url",
            "originalUrl",
            "path",
            "baseUrl",
            "hostname",
            "ip",
            "protocol",
            "secure",
            "headers",
            "params",
            "query",
            "cookies",
            "body"
        ]
    );
    assert_eq!(req["method"], "GET");
    assert_eq!(req["url"], "/echo/bob%20b?x=1&y=two");
    assert_eq!(req["originalUrl"], "/echo/bob%20b?x=1&y=two");
    assert_eq!(req["path"], "/echo/bob%20b");
    assert_eq!(req["baseUrl"], "");
    assert_eq!(req["hostname"], "127.0.0.1");
    assert_eq!(req["ip"], "127.0.0.1");
    assert_eq!(req["protocol"], "http");
    assert_eq!(req["secure"], false);
    assert_eq!(req["headers"]["x-rep"], "one, two");
    assert_eq!(req["headers"]["cookie"], "a=1; b=two");
    assert!(
        req["headers"]["host"]
            .as_str()
            .is_some_and(|h| h.starts_with("127.0.0.1:")),
        "{req}"
    );
    assert_eq!(req["params"], json!({"name": "bob b"}));
    assert_eq!(req["query"], json!({"x": "1", "y": "two", "extra": "yes"}));
    assert_eq!(req["cookies"], json!({"a": "1", "b": "two"}));
    assert_eq!(req["body"], "");
    assert_eq!(
        body["payload"],
        json!({"x": "1", "y": "two", "extra": "yes"})
    );
}

/// An `http in` node with uploads on gets the multipart fields as
/// `msg.payload` and the files in `msg.req.files`, as multer leaves them.
#[test]
fn an_upload_gives_fields_as_payload_and_files_in_req() {
    let r = Redoubt::start(&json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"in","type":"http in","z":"t","url":"/up","method":"post","upload":true,"x":1,"y":1,"wires":[["ch"]]},
        {"id":"ch","type":"change","z":"t","x":1,"y":1,"wires":[["out"]],"rules":[
            {"t":"set","p":"out.fields","pt":"msg","to":"payload","tot":"msg"},
            {"t":"set","p":"out.name","pt":"msg","to":"req.files[0].originalname","tot":"msg"},
            {"t":"set","p":"out.field","pt":"msg","to":"req.files[0].fieldname","tot":"msg"},
            {"t":"set","p":"out.size","pt":"msg","to":"req.files[0].size","tot":"msg"},
            {"t":"set","p":"payload","pt":"msg","to":"out","tot":"msg"}
        ]},
        {"id":"out","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]}
    ]));
    let body = "--XyZ\r\n\
        Content-Disposition: form-data; name=\"title\"\r\n\r\n\
        hello\r\n\
        --XyZ\r\n\
        Content-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\
        Content-Type: text/plain\r\n\r\n\
        0123456789\r\n\
        --XyZ--\r\n";
    let resp = client()
        .post(r.url("/up"))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(body)
        .send()
        .expect("req");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<serde_json::Value>().expect("json"),
        json!({"fields": {"title": "hello"}, "name": "a.txt", "field": "doc", "size": 10})
    );
}
