//! The request side: methods, URLs, bodies, redirects, timeouts, errors.

use super::server::Server;
use super::{get, once, start, warnings};
use serde_json::json;
use std::time::Duration;

/// should get plain text content
#[tokio::test]
async fn gets_plain_text() {
    let s = Server::start().await;
    let m = once(get(&s, "txt", "/text"), json!({"payload": "foo"})).await;
    assert_eq!(m["payload"], "hello");
    assert_eq!(m["statusCode"], 200);
    assert_eq!(m["headers"]["content-length"], "5");
    assert!(
        m["headers"]["content-type"]
            .as_str()
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert_eq!(m["redirectList"], json!([]));
    assert_eq!(m["responseUrl"], s.url("/text"));
    assert_eq!(m["retry"], 0);
    assert_eq!(s.seen()[0].body, b"", "GET sends no body");
}

/// should get JSON content
#[tokio::test]
async fn gets_json() {
    let s = Server::start().await;
    let m = once(get(&s, "obj", "/json-valid"), json!({"payload": "foo"})).await;
    assert_eq!(m["payload"], json!({"a": 1}));
    assert!(
        m["headers"]["content-type"]
            .as_str()
            .is_some_and(|t| t.starts_with("application/json"))
    );
}

/// should get Buffer content
#[tokio::test]
async fn gets_a_buffer() {
    let s = Server::start().await;
    let mut h = start(get(&s, "bin", "/text")).await;
    h.send_json("n1", json!({"payload": "foo"})).await;
    let m = h.recv("out").await;
    assert!(matches!(m.payload(), redoubt_core::value::Value::Buffer(b) if &b[..] == b"hello"));
    h.stop().await;
}

/// should return plain text when JSON fails to parse
#[tokio::test]
async fn keeps_text_when_json_fails() {
    let s = Server::start().await;
    let mut h = start(get(&s, "obj", "/json-invalid")).await;
    h.send_json("n1", json!({"payload": "foo"})).await;
    let m = h.recv_json("out").await;
    assert_eq!(m["payload"], "{a:1");
    assert!(warnings(&mut h).contains(&"JSON parse error".to_string()));
    h.stop().await;
}

/// should return the status code
#[tokio::test]
async fn returns_204() {
    let s = Server::start().await;
    let m = once(get(&s, "txt", "/statusCode204"), json!({"payload": "foo"})).await;
    assert_eq!(m["payload"], "");
    assert_eq!(m["statusCode"], 204);
    let m = once(get(&s, "obj", "/statusCode204"), json!({})).await;
    assert_eq!(m["payload"], json!({}), "204 with ret=obj parses as {{}}");
}

/// should send a msg for non-2xx response status - 404
#[tokio::test]
async fn passes_404_through() {
    let s = Server::start().await;
    let m = once(get(&s, "obj", "/returnError/404"), json!({})).await;
    assert_eq!(m["payload"], json!({"gotError": "404"}));
    assert_eq!(m["statusCode"], 404);
}

/// should send the payload as the body of a POST as application/json
#[tokio::test]
async fn posts_objects_as_json() {
    let s = Server::start().await;
    let node = json!({"method": "POST", "ret": "obj", "url": s.url("/postInspect")});
    let m = once(node, json!({"payload": {"foo": "abcde"}, "topic": "kept"})).await;
    assert_eq!(m["payload"]["body"], r#"{"foo":"abcde"}"#);
    assert_eq!(m["payload"]["headers"]["content-type"], "application/json");
    assert_eq!(m["payload"]["headers"]["content-length"], "15");
    assert_eq!(m["topic"], "kept", "the input message travels on");
}

/// should send a payload of 0 as the body of a POST as text/plain
#[tokio::test]
async fn posts_numbers_as_text() {
    let s = Server::start().await;
    let node = json!({"method": "POST", "ret": "obj", "url": s.url("/postInspect")});
    let m = once(
        node,
        json!({"payload": 0, "headers": {"content-type": "text/plain"}}),
    )
    .await;
    assert_eq!(m["payload"]["body"], "0");
    assert_eq!(m["payload"]["headers"]["content-length"], "1");
    assert_eq!(m["payload"]["headers"]["content-type"], "text/plain");
}

/// should send form-based request
#[tokio::test]
async fn posts_forms() {
    let s = Server::start().await;
    let node = json!({"method": "POST", "ret": "obj", "url": s.url("/postInspect")});
    let msg = json!({"payload": {"foo": "1 2 3", "bar": ""}, "headers": {"content-type": "application/x-www-form-urlencoded"}});
    let m = once(node, msg).await;
    assert_eq!(m["payload"]["body"], "foo=1%202%203&bar=");
    assert_eq!(
        m["payload"]["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
}

/// should upload a file
#[tokio::test]
async fn uploads_files() {
    let s = Server::start().await;
    let node = json!({"method": "POST", "ret": "obj", "url": s.url("/postInspect"), "headers": [
        {"keyType": "Content-Type", "keyValue": "", "valueType": "multipart/form-data", "valueValue": ""}
    ]});
    let mut h = start(node).await;
    let msg = redoubt_core::Msg::from_json(
        &json!({"payload": {"file": {"options": {"filename": "file.txt"}}, "other": 123}}),
    );
    let file = msg
        .get_path("payload.file")
        .ok()
        .flatten()
        .and_then(|v| v.as_object().cloned())
        .expect("file");
    file.insert(
        "value",
        redoubt_core::value::Value::Buffer(bytes::Bytes::from_static(b"Hello World")),
    );
    h.send("n1", msg).await;
    let m = h.recv_json("out").await;
    let ct = m["payload"]["headers"]["content-type"]
        .as_str()
        .unwrap_or("");
    let boundary = ct
        .strip_prefix("multipart/form-data; boundary=")
        .expect("multipart content type");
    let body = m["payload"]["body"].as_str().unwrap_or("");
    assert!(body.contains("Content-Disposition: form-data; name=\"file\"; filename=\"file.txt\"\r\nContent-Type: text/plain\r\n\r\nHello World\r\n"));
    assert!(body.contains("name=\"other\"\r\n\r\n123\r\n"));
    assert!(body.ends_with(&format!("--{boundary}--\r\n")));
    h.stop().await;
}

/// should send HEAD request
#[tokio::test]
async fn uses_msg_method_when_set_to_use() {
    let s = Server::start().await;
    let m = once(
        json!({"method": "use", "ret": "txt", "url": s.url("/headInspect")}),
        json!({"payload": "foo", "method": "head"}),
    )
    .await;
    assert_eq!(m["payload"], "");
    assert_eq!(m["statusCode"], 204);
    let m = once(
        json!({"method": "use", "ret": "obj", "url": s.url("/putInspect")}),
        json!({"payload": "foo", "method": "put"}),
    )
    .await;
    assert_eq!(m["payload"]["body"], "foo");
    let seen = s.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[1].method.as_str()),
        ("HEAD", "PUT")
    );
}

/// should use msg.method
#[tokio::test]
async fn node_method_wins_over_msg_method() {
    let s = Server::start().await;
    let mut h = start(get(&s, "obj", "/text")).await;
    h.send_json("n1", json!({"payload": "foo", "method": "POST"}))
        .await;
    let m = h.recv_json("out").await;
    assert_eq!(m["payload"], "hello");
    assert_eq!(s.seen()[0].method, "GET");
    assert!(
        warnings(&mut h)
            .iter()
            .any(|w| w.contains("can no longer override"))
    );
    h.stop().await;
}

/// should use msg.url
#[tokio::test]
async fn node_url_wins_over_msg_url() {
    let s = Server::start().await;
    let m = once(
        get(&s, "obj", "/text"),
        json!({"payload": "foo", "url": "/foo"}),
    )
    .await;
    assert_eq!(m["payload"], "hello");
}

/// should allow the message to provide the url
#[tokio::test]
async fn msg_url_is_used_when_the_node_has_none() {
    let s = Server::start().await;
    let m = once(
        json!({"method": "GET", "ret": "txt"}),
        json!({"payload": "foo", "url": s.url("/text")}),
    )
    .await;
    assert_eq!(m["payload"], "hello");
    assert_eq!(m["headers"]["content-length"], "5");
}

/// should allow the url to contain mustache placeholders
#[tokio::test]
async fn url_templates_use_msg_properties() {
    let s = Server::start().await;
    let node = json!({"method": "GET", "ret": "txt", "url": "{{{base}}}/te{{placeholder}}"});
    let m = once(
        node,
        json!({"payload": "foo", "placeholder": "xt", "base": s.base}),
    )
    .await;
    assert_eq!(m["payload"], "hello");
}

/// should allow the url to be missing the http:// prefix
#[tokio::test]
async fn adds_the_missing_scheme() {
    let s = Server::start().await;
    let node = json!({"method": "GET", "ret": "txt", "url": format!("127.0.0.1:{}/text", s.port)});
    let m = once(node, json!({"payload": "foo"})).await;
    assert_eq!(m["payload"], "hello");
}

/// should output an error when URL is not provided
#[tokio::test]
async fn missing_url_is_an_error() {
    let mut h = start(json!({"method": "GET", "ret": "obj", "url": ""})).await;
    h.send_json("n1", json!({"payload": "foo"})).await;
    let c = h.recv_json("caught").await;
    assert_eq!(c["error"]["message"], "No url specified");
    assert!(h.nothing("out", Duration::from_millis(50)).await);
    h.stop().await;
}

/// should reject non http:// schemes - msg.url
#[tokio::test]
async fn non_http_schemes_are_refused() {
    let mut h = start(json!({"method": "GET", "ret": "txt"})).await;
    h.send_json("n1", json!({"payload": "foo", "url": "ftp://foo"}))
        .await;
    assert!(h.nothing("out", Duration::from_millis(50)).await);
    assert!(warnings(&mut h).contains(&"non-http transport requested".to_string()));
    h.stop().await;
}

/// should receive msg.responseUrl when redirected
#[tokio::test]
async fn follows_redirects() {
    let s = Server::start().await;
    let m = once(get(&s, "txt", "/redirectToText"), json!({"payload": "foo"})).await;
    assert_eq!(m["payload"], "hello");
    assert_eq!(m["statusCode"], 200);
    assert_eq!(m["responseUrl"], s.url("/text"));
    assert_eq!(m["redirectList"], json!([{"location": s.url("/text")}]));
}

/// should prevent following redirect when msg.followRedirects is false
#[tokio::test]
async fn follow_redirects_false_stops_at_the_redirect() {
    let s = Server::start().await;
    let m = once(
        get(&s, "txt", "/redirectToText"),
        json!({"payload": "foo", "followRedirects": false}),
    )
    .await;
    assert_eq!(m["statusCode"], 302);
    assert_eq!(m["responseUrl"], s.url("/redirectToText"));
}

/// should output an error when request timeout occurred when set via msg.requestTimeout
#[tokio::test]
async fn request_timeout_reaches_catch_and_output() {
    let s = Server::start().await;
    let mut h = start(get(&s, "obj", "/timeout")).await;
    h.send_json("n1", json!({"payload": "foo", "requestTimeout": 200}))
        .await;
    let c = h.recv_json("caught").await;
    assert_eq!(c["error"]["message"], "no response from server");
    assert_eq!(c["payload"], "foo", "Catch sees the message as it arrived");
    let m = h.recv_json("out").await;
    assert_eq!(m["statusCode"], "ETIMEDOUT");
    assert_eq!(
        m["payload"],
        format!(
            "TimeoutError: Timeout awaiting 'request' for 200ms : {}",
            s.url("/timeout")
        )
    );
    h.stop().await;
}

/// should output an error when request timeout occurred
#[tokio::test]
async fn settings_request_timeout_applies() {
    let s = Server::start().await;
    let mut settings = redoubt_core::engine::RuntimeSettings::default();
    settings
        .raw
        .insert("httpRequestTimeout".into(), json!("150"));
    let opts = crate::testing::HarnessOptions {
        settings,
        ..Default::default()
    };
    let mut h =
        crate::testing::Harness::start_with(super::flow(get(&s, "obj", "/timeout")), opts).await;
    h.send_json("n1", json!({"payload": "foo"})).await;
    let m = h.recv_json("out").await;
    assert_eq!(m["statusCode"], "ETIMEDOUT");
    assert_eq!(
        h.recv_json("caught").await["error"]["message"],
        "no response from server"
    );
    h.stop().await;
}

/// should show a warning if msg.requestTimeout is not a number
#[tokio::test]
async fn bad_request_timeouts_are_warned_about() {
    let s = Server::start().await;
    let mut h = start(get(&s, "obj", "/text")).await;
    h.send_json("n1", json!({"payload": "foo", "requestTimeout": "foo"}))
        .await;
    assert_eq!(h.recv_json("out").await["statusCode"], 200);
    h.send_json("n1", json!({"payload": "foo", "requestTimeout": 0}))
        .await;
    assert_eq!(h.recv_json("out").await["statusCode"], 200);
    let w = warnings(&mut h);
    assert!(
        w.contains(&"Timeout value is not a valid number, ignoring".to_string()),
        "{w:?}"
    );
    assert!(
        w.contains(&"Timeout value is negative, ignoring".to_string()),
        "{w:?}"
    );
    h.stop().await;
}

/// Connection failures are reported with Node's error text and code; with
/// `senderr` they only reach Catch nodes.
#[tokio::test]
async fn connection_refused_is_reported() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}/x");
    let mut h = start(json!({"method": "GET", "ret": "txt", "url": url})).await;
    h.send_json("n1", json!({"payload": "foo"})).await;
    let c = h.recv_json("caught").await;
    assert_eq!(
        c["error"]["message"],
        format!("RequestError: connect ECONNREFUSED 127.0.0.1:{port}")
    );
    assert_eq!(c["error"]["code"], "ECONNREFUSED");
    let m = h.recv_json("out").await;
    assert_eq!(m["statusCode"], "ECONNREFUSED");
    assert_eq!(
        m["payload"],
        format!("RequestError: connect ECONNREFUSED 127.0.0.1:{port} : {url}")
    );
    h.stop().await;
    let mut h = start(json!({"method": "GET", "ret": "txt", "url": url, "senderr": true})).await;
    h.send_json("n1", json!({"payload": "foo"})).await;
    h.recv_json("caught").await;
    assert!(h.nothing("out", Duration::from_millis(100)).await);
    h.stop().await;
}

/// should append query params to url - obj
#[tokio::test]
async fn paytoqs_appends_the_payload() {
    let s = Server::start().await;
    let node =
        json!({"method": "GET", "ret": "obj", "paytoqs": true, "url": s.url("/getQueryParams")});
    let m = once(node, json!({"payload": {"a": 1, "b": 2, "c": 3}})).await;
    assert_eq!(m["payload"]["url"], "/getQueryParams?a=1&b=2&c=3");
    let node =
        json!({"method": "GET", "ret": "obj", "paytoqs": "body", "url": s.url("/postInspect")});
    once(node, json!({"payload": {"a": 1}})).await;
    assert_eq!(s.seen()[1].body, br#"{"a":1}"#);
}

/// should encode the url to handle special characters
#[tokio::test]
async fn encodes_special_characters() {
    let s = Server::start().await;
    let url = format!(
        "{}?a=b&c[0].Text=T24,0°|H80%|W%20S8,3m/s",
        s.url("/getQueryParams")
    );
    let m = once(json!({"method": "GET", "ret": "obj"}), json!({"url": url})).await;
    assert_eq!(
        m["payload"]["url"],
        "/getQueryParams?a=b&c[0].Text=T24,0%C2%B0|H80%25|W%20S8,3m/s"
    );
}
