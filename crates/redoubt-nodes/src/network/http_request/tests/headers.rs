//! Headers, cookies, authentication and status.

use super::super::{REQUEST_NODE_HEADER, headers_hash};
use super::server::Server;
use super::{get, once, once_with, start, with_credentials};
use redoubt_core::engine::RuntimeEvent;
use serde_json::json;
use std::time::Duration;

/// should receive cookie
#[tokio::test]
async fn receives_cookies() {
    let s = Server::start().await;
    let m = once(get(&s, "obj", "/setCookie"), json!({"payload": "foo"})).await;
    assert_eq!(
        m["responseCookies"],
        json!({"data": {"Path": "/", "value": "hello"}})
    );
    assert_eq!(m["headers"]["set-cookie"], json!(["data=hello; Path=/"]));
}

/// should send cookie with string; should send cookie with object data;
/// should encode cookie value; should not encode cookie when encode option is false
#[tokio::test]
async fn sends_msg_cookies() {
    let s = Server::start().await;
    let special = ";,/?:@ &=+$#";
    let cookies = json!({"data": "abc", "obj": {"value": "x y"}, "enc": special, "raw": {"value": "a b", "encode": false}, "gone": null});
    let m = once(
        get(&s, "obj", "/checkCookie"),
        json!({"payload": "foo", "cookies": cookies}),
    )
    .await;
    assert_eq!(
        m["payload"],
        json!({"data": "abc", "obj": "x%20y", "enc": "%3B%2C%2F%3F%3A%40%20%26%3D%2B%24%23", "raw": "a b"})
    );
}

/// should send multiple cookies by msg.headers
#[tokio::test]
async fn sends_cookie_headers() {
    let s = Server::start().await;
    let msg = json!({"payload": "foo", "cookies": {"boo": "123"}, "headers": {"cookie": "data=abc; foo=bar;"}});
    let m = once(get(&s, "obj", "/checkCookie"), msg).await;
    assert_eq!(
        m["payload"],
        json!({"data": "abc", "foo": "bar", "boo": "123"})
    );
}

/// should return all redirect information when redirected multiple times
#[tokio::test]
async fn records_every_redirect_and_scopes_cookies() {
    let s = Server::start().await;
    let node = json!({"method": "GET", "ret": "obj", "url": format!("http://localhost:{}/redirectMultipleTimes", s.port)});
    let m = once(
        node,
        json!({"headers": {"cookie": "requestCookie=request1"}}),
    )
    .await;
    let list = &m["redirectList"];
    assert_eq!(
        list[0]["location"],
        format!("http://localhost:{}/redirectToDifferentDomain", s.port)
    );
    assert_eq!(
        list[0]["cookies"]["redirectMultipleTimes"],
        json!({"Path": "/", "value": "multiple1"})
    );
    assert_eq!(list[1]["location"], s.url("/redirectReturn"));
    assert_eq!(
        list[1]["cookies"]["redirectToDifferentDomain"]["value"],
        "different1"
    );
    let seen = s.seen();
    assert_eq!(
        seen[1].header("cookie"),
        Some("requestCookie=request1; redirectMultipleTimes=multiple1")
    );
    assert_eq!(
        seen[2].header("cookie"),
        None,
        "no cookies cross to another host"
    );
    assert_eq!(m["responseCookies"]["redirectReturn"]["value"], "return1");
}

/// should receive HTTP header
#[tokio::test]
async fn response_headers_are_lower_case_and_marked() {
    let s = Server::start().await;
    let m = once(get(&s, "txt", "/headersInspect"), json!({"payload": "foo"})).await;
    assert_eq!(m["headers"]["x-test-header"], "bar");
    let headers = redoubt_core::value::from_serde(&m["headers"]);
    let o = headers.as_object().expect("object");
    let mark = o
        .remove(REQUEST_NODE_HEADER)
        .expect("x-node-red-request-node");
    assert_eq!(mark.as_str(), Some(headers_hash(o).as_str()));
}

/// should ignore unmodified x-node-red-request-node header; should use modified msg.headers property
#[tokio::test]
async fn request_node_marker_decides_whether_msg_headers_are_used() {
    let s = Server::start().await;
    let node = json!({"method": "POST", "ret": "obj", "url": s.url("/postInspect")});
    let h = redoubt_core::value::Object::new();
    h.insert(
        "content-type",
        redoubt_core::value::Value::str("text/plain"),
    );
    let mark = headers_hash(&h);
    let unmodified = json!({"payload": {"foo": "bar"}, "headers": {"content-type": "text/plain", "x-node-red-request-node": mark}});
    let m = once(node.clone(), unmodified).await;
    assert_eq!(m["payload"]["headers"]["content-type"], "application/json");
    assert!(
        m["payload"]["headers"]
            .get("x-node-red-request-node")
            .is_none()
    );
    let modified = json!({"payload": {"foo": "bar"}, "headers": {"content-type": "text/plain", "x-node-red-request-node": "INVALID_SUM"}});
    let m = once(node, modified).await;
    assert_eq!(m["payload"]["headers"]["content-type"], "text/plain");
    assert!(
        m["payload"]["headers"]
            .get("x-node-red-request-node")
            .is_none()
    );
}

/// should use ui headers
#[tokio::test]
async fn node_headers_override_msg_headers() {
    let s = Server::start().await;
    let node = json!({"method": "GET", "ret": "obj", "url": s.url("/rawHeaders"), "headers": [
        {"keyType": "Accept", "keyValue": "", "valueType": "application/json", "valueValue": ""},
        {"keyType": "Content-Type", "keyValue": "", "valueType": "application/json", "valueValue": ""},
        {"keyType": "msg", "keyValue": "dynamicHeaderName", "valueType": "msg", "valueValue": "dynamicHeaderValue"},
        {"keyType": "other", "keyValue": "static-header-name", "valueType": "other", "valueValue": "static-header-value"},
        {"keyType": "Location", "keyValue": "", "valueType": "other", "valueValue": ""}
    ]});
    let msg = json!({"payload": {"foo": "bar"}, "dynamicHeaderName": "dyn-header-name", "dynamicHeaderValue": "dyn-header-value",
        "headers": {"content-type": "text/plain", "location": "london", "X-Test-HEAD": "foo"}});
    let m = once(node, msg).await;
    let got = &m["payload"]["headers"];
    assert_eq!(got["accept"], "application/json");
    assert_eq!(got["content-type"], "application/json");
    assert_eq!(got["dyn-header-name"], "dyn-header-value");
    assert_eq!(got["static-header-name"], "static-header-value");
    assert_eq!(got["x-test-head"], "foo");
    assert!(got.get("location").is_none());
    assert_eq!(
        got["user-agent"],
        "got (https://github.com/sindresorhus/got)"
    );
}

/// should authenticate on server - basic; should authenticate on server - bearer
#[tokio::test]
async fn basic_and_bearer_auth_headers() {
    let s = Server::start().await;
    let node = get(&s, "obj", "/authenticate");
    let m = once_with(
        node.clone(),
        with_credentials(Some("foo@example.com"), "passwordfoo"),
    )
    .await;
    assert_eq!(
        m["payload"]["headers"]["authorization"],
        "Basic Zm9vQGV4YW1wbGUuY29tOnBhc3N3b3JkZm9v"
    );
    let mut bearer = node.clone();
    bearer["authType"] = json!("bearer");
    let m = once_with(bearer, with_credentials(None, "passwordfoo")).await;
    assert_eq!(
        m["payload"]["headers"]["authorization"],
        "Bearer passwordfoo"
    );
    let m = once(node, json!({"payload": "foo"})).await;
    assert!(m["payload"]["headers"].get("authorization").is_none());
}

/// should authenticate on server - digest MD5 qop; should authenticate on server - digest SHA-256
#[tokio::test]
async fn digest_auth_retries_once() {
    let s = Server::start().await;
    for path in ["/digest", "/digest?sha"] {
        let mut node = get(&s, "txt", path);
        node["authType"] = json!("digest");
        let m = once_with(
            node,
            with_credentials(Some("xxxuser"), "digest-test-password"),
        )
        .await;
        assert_eq!(m["statusCode"], 201, "{path}");
    }
    assert_eq!(s.seen().len(), 4);
}

/// The status shows "requesting" while busy and clears afterwards.
#[tokio::test]
async fn status_is_cleared_after_the_response() {
    let s = Server::start().await;
    let mut h = start(get(&s, "txt", "/text")).await;
    h.send_json("n1", json!({"payload": "foo"})).await;
    h.recv("out").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let statuses: Vec<_> = h
        .drain_events()
        .into_iter()
        .filter_map(|e| match e {
            RuntimeEvent::Status { id, status } if id == "n1" => Some(status.text),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, vec![Some("requesting".to_string()), None]);
    h.stop().await;
}
