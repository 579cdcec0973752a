//! The scripted HTTP/1.1 server the tests talk to: the routes of the
//! upstream spec's express app that the ported tests use.

use serde_json::{Value as Json, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the test server saw it (header names lower-cased).
#[derive(Clone, Debug)]
pub(super) struct Seen {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Seen {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// `{body, headers}` as the upstream `/postInspect` route answers.
    pub(super) fn inspect(&self) -> Reply {
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

pub(super) struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    pub(super) fn new(status: u16, content_type: &str, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }
    pub(super) fn json(status: u16, v: Json) -> Reply {
        Reply::new(status, "application/json; charset=utf-8", &v.to_string())
    }
    pub(super) fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: vec![],
        }
    }
    pub(super) fn with(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

pub(super) struct Server {
    pub(super) base: String,
    pub(super) port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub(super) async fn start() -> Server {
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

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(super) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

pub(super) async fn connection(mut sock: TcpStream, port: u16, seen: Arc<Mutex<Vec<Seen>>>) {
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
pub(super) fn route(req: &Seen, port: u16) -> Option<Reply> {
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
pub(super) fn digest_route(req: &Seen) -> Reply {
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
    let c = |v: &str| super::super::digest::compute(Some(alg), v);
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
