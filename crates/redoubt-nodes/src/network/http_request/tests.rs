//! Ported from `test/nodes/core/network/21-httprequest_spec.js`, against a
//! scripted HTTP/1.1 server on 127.0.0.1:0 (real sockets, real time; the
//! one timeout test uses a 200 ms `msg.requestTimeout`).

use crate::testing::{Harness, HarnessOptions};
use redoubt_core::engine::{LogLevel, RuntimeEvent};
use serde_json::{Value as Json, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the test server saw it (header names lower-cased).
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// `{body, headers}` as the upstream `/postInspect` route answers.
    fn inspect(&self) -> Reply {
        let headers: serde_json::Map<String, Json> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        Reply::json(
            200,
            json!({"body": String::from_utf8_lossy(&self.body), "headers": headers}),
        )
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }
    fn json(status: u16, v: Json) -> Reply {
        Reply::new(status, "application/json; charset=utf-8", &v.to_string())
    }
    fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: vec![],
        }
    }
    fn with(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

struct Server {
    base: String,
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(connection(sock, port, s2.clone()));
            }
        });
        Server {
            base: format!("http://127.0.0.1:{port}"),
            port,
            seen,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

async fn connection(mut sock: TcpStream, port: u16, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let req = Seen {
        method,
        target,
        headers,
        body,
    };
    seen.lock().expect("lock").push(req.clone());
    let Some(reply) = route(&req, port) else {
        tokio::time::sleep(Duration::from_secs(30)).await;
        return;
    };
    let mut out = format!("HTTP/1.1 {} X\r\n", reply.status);
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    let mut bytes = out.into_bytes();
    if req.method != "HEAD" {
        bytes.extend_from_slice(&reply.body);
    }
    let _ = sock.write_all(&bytes).await;
    let _ = sock.shutdown().await;
}

/// The upstream spec's express app, reduced to what the tests use.
fn route(req: &Seen, port: u16) -> Option<Reply> {
    let local = |p: &str| format!("http://localhost:{port}{p}");
    let other = |p: &str| format!("http://127.0.0.1:{port}{p}");
    Some(match req.path() {
        "/text" => Reply::new(200, "text/html; charset=utf-8", "hello"),
        "/json-valid" => Reply::json(200, json!({"a": 1})),
        "/json-invalid" => Reply::new(200, "application/json", "{a:1"),
        "/headersInspect" => Reply::new(200, "text/html", "a").with("x-test-header", "bar"),
        "/statusCode204" | "/headInspect" => Reply::empty(204),
        "/redirectToText" => Reply::empty(302).with("Location", &other("/text")),
        "/timeout" => return None,
        "/setCookie" => Reply::new(200, "text/html", "").with("Set-Cookie", "data=hello; Path=/"),
        "/checkCookie" => {
            let pairs: serde_json::Map<String, Json> = req
                .header("cookie")
                .unwrap_or("")
                .split("; ")
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            Reply::json(200, Json::Object(pairs))
        }
        "/postInspect" | "/putInspect" | "/rawHeaders" | "/authenticate" => req.inspect(),
        "/getQueryParams" => Reply::json(200, json!({"url": req.target})),
        "/returnError/404" => Reply::json(404, json!({"gotError": "404"})),
        "/digest" => digest_route(req),
        "/redirectToSameDomain" => Reply::empty(302)
            .with("Set-Cookie", "redirectToSameDomainCookie=same1; Path=/")
            .with("Location", &local("/redirectReturn")),
        "/redirectToDifferentDomain" => Reply::empty(302)
            .with("Set-Cookie", "redirectToDifferentDomain=different1; Path=/")
            .with("Location", &other("/redirectReturn")),
        "/redirectMultipleTimes" => Reply::empty(302)
            .with("Set-Cookie", "redirectMultipleTimes=multiple1; Path=/")
            .with("Location", &local("/redirectToDifferentDomain")),
        "/redirectReturn" => {
            Reply::new(200, "text/plain", "").with("Set-Cookie", "redirectReturn=return1; Path=/")
        }
        _ => Reply::new(404, "text/plain", "not found"),
    })
}

/// RFC 2617 digest with `qop=auth`, MD5 or SHA-256 by query.
fn digest_route(req: &Seen) -> Reply {
    let alg = if req.target.contains("sha") {
        "SHA-256"
    } else {
        "MD5"
    };
    let Some(auth) = req.header("authorization") else {
        return Reply::empty(401).with(
            "WWW-Authenticate",
            &format!(
                "Digest qop=\"auth\", realm=\"node-red\", nonce=\"123456\", algorithm=\"{alg}\""
            ),
        );
    };
    let field = |k: &str| {
        auth.split(", ")
            .find_map(|p| {
                p.trim_start_matches("Digest ")
                    .strip_prefix(&format!("{k}="))
            })
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_default()
    };
    let c = |v: &str| super::digest::compute(Some(alg), v);
    let ha1 = c(&format!(
        "{}:node-red:digest-test-password",
        field("username")
    ));
    let ha2 = c(&format!("GET:{}", req.target));
    let expected = c(&format!(
        "{ha1}:123456:00000001:{}:auth:{ha2}",
        field("cnonce")
    ));
    if field("response") == expected && field("algorithm") == alg {
        Reply::empty(201)
    } else {
        Reply::empty(401)
    }
}

fn flow(node: Json) -> Json {
    let mut n = node;
    n["id"] = json!("n1");
    n["type"] = json!("http request");
    n["wires"] = json!([["out"]]);
    json!([
        n,
        {"id": "out", "type": "helper"},
        {"id": "c", "type": "catch", "scope": null, "wires": [["caught"]]},
        {"id": "caught", "type": "helper"}
    ])
}

async fn start(node: Json) -> Harness {
    Harness::start(flow(node)).await
}

/// Sends `msg` to a fresh node and returns what it outputs.
async fn once(node: Json, msg: Json) -> Json {
    let mut h = start(node).await;
    h.send_json("n1", msg).await;
    let out = h.recv_json("out").await;
    h.stop().await;
    out
}

fn warnings(h: &mut Harness) -> Vec<String> {
    h.drain_events()
        .into_iter()
        .filter_map(|e| match e {
            RuntimeEvent::Log {
                level: LogLevel::Warn,
                text,
                ..
            } => Some(text),
            _ => None,
        })
        .collect()
}

fn get(s: &Server, ret: &str, path: &str) -> Json {
    json!({"method": "GET", "ret": ret, "url": s.url(path)})
}

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
        .remove(super::REQUEST_NODE_HEADER)
        .expect("x-node-red-request-node");
    assert_eq!(mark.as_str(), Some(super::headers_hash(o).as_str()));
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
    let mark = super::headers_hash(&h);
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

fn with_credentials(user: Option<&str>, password: &str) -> HarnessOptions {
    let mut creds = serde_json::Map::new();
    creds.insert("password".into(), json!(password));
    if let Some(u) = user {
        creds.insert("user".into(), json!(u));
    }
    let mut all = serde_json::Map::new();
    all.insert("n1".into(), Json::Object(creds));
    HarnessOptions {
        credentials: all,
        ..Default::default()
    }
}

async fn once_with(node: Json, opts: HarnessOptions) -> Json {
    let mut h = Harness::start_with(flow(node), opts).await;
    h.send_json("n1", json!({"payload": "foo"})).await;
    let out = h.recv_json("out").await;
    h.stop().await;
    out
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
