//! Performs one prepared request the way the node drives `got`: redirects
//! followed by hand (so every hop's `Location` and cookies are recorded),
//! a fresh cookie jar per message, one digest-auth retry on 401, one
//! timeout over the whole exchange, and failures named with Node's error
//! names and codes (`ECONNREFUSED`, `ETIMEDOUT`, ...).

use super::digest;
use super::jar::Jar;
use redoubt_core::node::NodeHandle;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use std::time::Duration;

/// `got`'s `maxRedirects` as the node sets it.
const MAX_REDIRECTS: usize = 21;
/// Statuses `got` follows when a `Location` is present.
const REDIRECT_CODES: [u16; 7] = [300, 301, 302, 303, 304, 307, 308];

/// Everything the background task needs; plain data, no message handles.
pub(super) struct Job {
    pub(super) client: reqwest::Client,
    pub(super) method: String,
    pub(super) url: Url,
    /// Names as the user gave them (sent lower-case), values as text.
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Option<bytes::Bytes>,
    pub(super) jar: Jar,
    pub(super) follow: bool,
    /// Digest credentials (user, password) when `authType` is `digest`.
    pub(super) digest: Option<(String, String)>,
    pub(super) timeout_ms: f64,
}

/// One redirect the request went through.
pub(super) struct Hop {
    pub(super) location: String,
    pub(super) set_cookies: Vec<String>,
}

/// The final response.
pub(super) struct Reply {
    pub(super) status: u16,
    /// Lower-case names in arrival order, each with all its values.
    pub(super) headers: Vec<(String, Vec<String>)>,
    pub(super) url: String,
    pub(super) body: bytes::Bytes,
    pub(super) redirects: Vec<Hop>,
}

/// A request that produced no response, described as `got` would.
#[derive(Debug)]
pub(super) struct Failure {
    /// `TimeoutError`, `RequestError`, `MaxRedirectsError`.
    pub(super) name: &'static str,
    pub(super) message: String,
    pub(super) code: Option<String>,
}

impl Failure {
    fn request(message: impl Into<String>, code: Option<&str>) -> Failure {
        Failure {
            name: "RequestError",
            message: message.into(),
            code: code.map(str::to_string),
        }
    }

    /// True for the request timeout.
    pub(super) fn is_timeout(&self) -> bool {
        self.name == "TimeoutError"
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.message)
    }
}

/// Runs the job under its timeout.
pub(super) async fn run(job: Job, node: NodeHandle) -> Result<Reply, Failure> {
    let ms = job.timeout_ms;
    let limit = Duration::try_from_secs_f64(ms / 1000.0)
        .unwrap_or(Duration::MAX)
        .min(Duration::from_secs(86_400 * 365));
    match tokio::time::timeout(limit, perform(job, &node)).await {
        Ok(r) => r,
        Err(_) => Err(Failure {
            name: "TimeoutError",
            message: format!(
                "Timeout awaiting 'request' for {}ms",
                redoubt_core::value::format_number(ms)
            ),
            code: Some("ETIMEDOUT".into()),
        }),
    }
}

async fn perform(job: Job, node: &NodeHandle) -> Result<Reply, Failure> {
    let Job {
        client,
        method,
        url,
        headers,
        body,
        mut jar,
        follow,
        digest,
        ..
    } = job;
    let mut method = Method::from_bytes(method.as_bytes()).map_err(|_| {
        Failure::request(
            format!("Invalid method {method:?}"),
            Some("ERR_INVALID_HTTP_TOKEN"),
        )
    })?;
    let mut headers = header_map(&headers)?;
    let mut url = url;
    let mut body = body;
    let mut redirects = Vec::new();
    let mut digest_sent = false;
    loop {
        let mut req = reqwest::Request::new(method.clone(), url.clone());
        *req.headers_mut() = headers.clone();
        if let Some(c) = jar.header_for(&url) {
            req.headers_mut()
                .insert(header::COOKIE, header_value("cookie", &c)?);
        }
        if let Some(b) = &body {
            *req.body_mut() = Some(b.clone().into());
        }
        let resp = client.execute(req).await.map_err(|e| failure(&e, &url))?;
        let status = resp.status().as_u16();
        let set_cookies: Vec<String> = resp
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(latin1)
            .collect();
        for c in &set_cookies {
            jar.set(c, &url);
        }
        if status == 401
            && !digest_sent
            && let Some((user, pass)) = &digest
        {
            digest_sent = true;
            let challenge = resp.headers().get(header::WWW_AUTHENTICATE).map(latin1);
            let uri = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            };
            let answer = challenge
                .ok_or_else(|| "Invalid or missing WWW-Authenticate header".to_string())
                .and_then(|c| digest::authorization(user, pass, method.as_str(), &uri, &c));
            match answer {
                Ok(h) => {
                    headers.insert(header::AUTHORIZATION, header_value("authorization", &h)?);
                    continue;
                }
                Err(e) => node.warn(&format!("Digest authentication failed: {e}")),
            }
        }
        let location = resp.headers().get(header::LOCATION).map(latin1);
        if let Some(location) = location.filter(|_| follow && REDIRECT_CODES.contains(&status)) {
            if redirects.len() >= MAX_REDIRECTS {
                return Err(Failure {
                    name: "MaxRedirectsError",
                    message: format!("Redirected {MAX_REDIRECTS} times. Aborting."),
                    code: Some("ERR_TOO_MANY_REDIRECTS".into()),
                });
            }
            let next = url
                .join(&location)
                .map_err(|_| Failure::request("Invalid URL", Some("ERR_INVALID_URL")))?;
            redirects.push(Hop {
                location,
                set_cookies,
            });
            if status == 303 && method != Method::GET && method != Method::HEAD {
                method = Method::GET;
                body = None;
                headers.remove(header::CONTENT_TYPE);
            }
            if next.host_str() != url.host_str()
                || next.port_or_known_default() != url.port_or_known_default()
            {
                headers.remove(header::HOST);
                headers.remove(header::AUTHORIZATION);
            }
            url = next;
            continue;
        }
        let out_headers = collect_headers(resp.headers());
        let final_url = resp.url().to_string();
        let bytes = resp.bytes().await.map_err(|e| failure(&e, &url))?;
        return Ok(Reply {
            status,
            headers: out_headers,
            url: final_url,
            body: bytes,
            redirects,
        });
    }
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, Failure> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            Failure::request(
                format!("Header name must be a valid HTTP token [\"{name}\"]"),
                Some("ERR_INVALID_HTTP_TOKEN"),
            )
        })?;
        map.append(n, header_value(name, value)?);
    }
    Ok(map)
}

/// A header value from text: Latin-1 characters are allowed, as in Node.
fn header_value(name: &str, value: &str) -> Result<HeaderValue, Failure> {
    let invalid = || {
        Failure::request(
            format!("Invalid character in header content [\"{name}\"]"),
            Some("ERR_INVALID_CHAR"),
        )
    };
    let bytes: Vec<u8> = value
        .chars()
        .map(|c| u8::try_from(u32::from(c)).map_err(|_| invalid()))
        .collect::<Result<_, _>>()?;
    HeaderValue::from_bytes(&bytes).map_err(|_| invalid())
}

fn latin1(v: &HeaderValue) -> String {
    v.as_bytes().iter().map(|&b| char::from(b)).collect()
}

fn collect_headers(map: &HeaderMap) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in map {
        let v = latin1(value);
        match out.iter_mut().find(|(n, _)| n == name.as_str()) {
            Some((_, vals)) => vals.push(v),
            None => out.push((name.as_str().to_string(), vec![v])),
        }
    }
    out
}

/// Describes a transport failure with Node's wording and error code.
fn failure(e: &reqwest::Error, url: &Url) -> Failure {
    let mut texts = Vec::new();
    let mut io_kind = None;
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        texts.push(s.to_string());
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        src = s.source();
    }
    let all = texts.join(": ");
    let host = match url.host_str() {
        Some("localhost") | None => "127.0.0.1".to_string(),
        Some(h) => h.trim_matches(|c| c == '[' || c == ']').to_string(),
    };
    let port = url.port_or_known_default().unwrap_or(80);
    use std::io::ErrorKind as K;
    if e.is_connect() {
        if all.contains("dns error") {
            return Failure::request(format!("getaddrinfo ENOTFOUND {host}"), Some("ENOTFOUND"));
        }
        let code = match io_kind {
            Some(K::ConnectionRefused) | None => "ECONNREFUSED",
            Some(K::TimedOut) => "ETIMEDOUT",
            Some(K::ConnectionReset) => "ECONNRESET",
            Some(K::AddrNotAvailable) => "EADDRNOTAVAIL",
            Some(K::HostUnreachable) => "EHOSTUNREACH",
            Some(K::NetworkUnreachable) => "ENETUNREACH",
            Some(_) => "ECONNREFUSED",
        };
        return Failure::request(format!("connect {code} {host}:{port}"), Some(code));
    }
    if all.contains("invalid HTTP") || all.contains("message head is too large") {
        return Failure::request(
            format!(
                "Parse Error: {}",
                texts.last().map(String::as_str).unwrap_or("")
            ),
            Some("HPE_INVALID_CONSTANT"),
        );
    }
    match io_kind {
        Some(K::ConnectionReset) => Failure::request("read ECONNRESET", Some("ECONNRESET")),
        Some(K::BrokenPipe) => Failure::request("write EPIPE", Some("EPIPE")),
        _ if all.contains("connection closed before message completed")
            || matches!(io_kind, Some(K::UnexpectedEof)) =>
        {
            Failure::request("socket hang up", Some("ECONNRESET"))
        }
        _ => Failure::request(all, None),
    }
}
