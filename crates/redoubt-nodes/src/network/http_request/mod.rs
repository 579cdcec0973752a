//! http request (`@node-red/nodes/core/network/21-httprequest.js`): sends
//! an HTTP request built from the node and the message, and sends the
//! message on with the response (`payload`, `statusCode`, `headers`,
//! `responseUrl`, `redirectList`, `responseCookies`, `retry`).
//!
//! The request runs as a spawned task; `done()` waits for it. Errors are
//! reported as Node-RED reports them: to Catch nodes (a copy of the message
//! as it arrived) and, unless `senderr` is set, on the output with
//! `payload` = `"<Error>: <message> : <url>"` and `statusCode` = the code.
//! As upstream, non-2xx answers are ordinary responses, not errors.
//!
//! Deviations:
//! - A `tls` config node's `servername` is not applied (reqwest sends the
//!   URL's host in SNI); its certificates, CA, `verifyservercert` and ALPN
//!   are. Without a `proxy` node the `http_proxy`/`https_proxy`/`no_proxy`
//!   environment is honoured, as upstream. `insecureHTTPParser` only relaxes
//!   the response parser a little; `persist` is implicit (connections are
//!   pooled).
//! - Header names go out in lower case (HTTP/1 case is not preserved).
//! - Timing metrics (`httpRequestTimingLog`) are not emitted.
//! - URL mustache templates support variables only (see `template.rs`).

mod body;
mod client;
mod digest;
mod jar;
mod prepare;
mod template;
#[cfg(test)]
mod tests;

use super::cookies;
use super::http_proxy::{self, ProxyHandle};
use super::http_response::{REQUEST_NODE_HEADER, headers_hash};
use super::tls_config::{self, TlsHandle};
use client::{Failure, Job, Reply};
use prepare::Prepared;
use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeEvent, NodeType, Pending,
    Status,
};
use redoubt_core::typed::TypedValue;
use redoubt_core::value::{Object, Value, from_json_str};
use std::collections::HashMap;
use std::sync::Arc;
use template::UrlTemplate;

pub(crate) struct HttpRequestType;

/// What the response body becomes (`ret`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ret {
    Txt,
    Bin,
    Obj,
}

/// What a GET does with `msg.payload` (`paytoqs`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum PayTo {
    Ignore,
    Query,
    Body,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum AuthType {
    Basic,
    Digest,
    Bearer,
}

/// The validated node configuration.
struct Spec {
    url: String,
    template: Option<UrlTemplate>,
    /// As configured (`GET`, `use`, ...; empty means GET).
    method: String,
    ret: Ret,
    payto: PayTo,
    senderr: bool,
    headers: Vec<(TypedValue, TypedValue)>,
    auth: AuthType,
    user: Option<String>,
    password: Option<String>,
    has_credentials: bool,
    timeout_ms: f64,
    tls: bool,
}

/// What the HTTP client is built from.
struct ClientOpts {
    lenient: bool,
    tls: Option<Arc<TlsHandle>>,
    proxy: Option<Arc<ProxyHandle>>,
}

struct HttpRequest {
    spec: Spec,
    client: reqwest::Client,
    opts: ClientOpts,
    insecure: Option<reqwest::Client>,
    inflight: HashMap<u64, (Pending, String)>,
    next_id: u64,
    count: usize,
}

/// A finished request, sent back from its task.
struct Done(u64, Result<Reply, Failure>);

fn header_part(kind: &str, value: &str, field: &str) -> Result<TypedValue, ConfigError> {
    match kind {
        "other" => Ok(TypedValue::Const(Value::str(value))),
        "msg" => TypedValue::compile("msg", value, field),
        literal => Ok(TypedValue::Const(Value::str(literal))),
    }
}

fn parse_headers(cfg: &NodeConfig) -> Result<Vec<(TypedValue, TypedValue)>, ConfigError> {
    let mut out = Vec::new();
    let Some(serde_json::Value::Array(list)) = cfg.get("headers") else {
        return Ok(out);
    };
    for (i, h) in list.iter().enumerate() {
        let s = |k: &str| {
            h.get(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let field = format!("headers[{i}]");
        out.push((
            header_part(&s("keyType"), &s("keyValue"), &field)?,
            header_part(&s("valueType"), &s("valueValue"), &field)?,
        ));
    }
    Ok(out)
}

/// `parseInt(RED.settings.httpRequestTimeout) || 120000`.
fn default_timeout(cx: &BuildCtx) -> f64 {
    let n = match cx.settings().raw.get("httpRequestTimeout") {
        Some(serde_json::Value::Number(n)) => n.as_f64().unwrap_or(0.0).trunc(),
        Some(serde_json::Value::String(s)) => {
            let t = s.trim();
            let end = t
                .char_indices()
                .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
                .map_or(t.len(), |(i, _)| i);
            t[..end].parse::<f64>().unwrap_or(0.0)
        }
        _ => 0.0,
    };
    if n == 0.0 || n.is_nan() { 120_000.0 } else { n }
}

fn build_client(
    opts: &ClientOpts,
    accept_invalid_certs: bool,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(p) = &opts.proxy {
        b = b.proxy(p.to_reqwest()?);
    }
    if let Some(t) = &opts.tls {
        let config = if accept_invalid_certs {
            &t.insecure
        } else {
            &t.client
        };
        return b.tls_backend_preconfigured((**config).clone()).build();
    }
    if opts.lenient {
        b = b
            .http1_allow_obsolete_multiline_headers_in_responses(true)
            .http1_ignore_invalid_headers_in_responses(true)
            .http1_allow_spaces_after_header_name_in_responses(true);
    }
    if accept_invalid_certs {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    b.build()
}

impl NodeType for HttpRequestType {
    fn type_name(&self) -> &'static str {
        "http request"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let url = cfg.str("url");
        let template =
            if url.contains("{{") {
                Some(UrlTemplate::compile(&url).map_err(|e| {
                    ConfigError::field("url", format!("invalid template {url:?}: {e}"))
                })?)
            } else {
                None
            };
        let ret = match cfg.str("ret").as_str() {
            "bin" => Ret::Bin,
            "obj" => Ret::Obj,
            _ => Ret::Txt,
        };
        let payto = match cfg.get("paytoqs") {
            Some(serde_json::Value::Bool(true)) => PayTo::Query,
            Some(serde_json::Value::String(s)) if s == "query" => PayTo::Query,
            Some(serde_json::Value::String(s)) if s == "body" => PayTo::Body,
            _ => PayTo::Ignore,
        };
        let auth = match cfg.str("authType").as_str() {
            "" | "basic" => AuthType::Basic,
            "digest" => AuthType::Digest,
            "bearer" => AuthType::Bearer,
            other => {
                return Err(ConfigError::field(
                    "authType",
                    format!("unsupported authentication type {other:?}"),
                ));
            }
        };
        let creds = cx.credentials();
        let cred = |k: &str| {
            creds
                .and_then(|c| c.get(k))
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        };
        let opts = ClientOpts {
            lenient: cfg.bool("insecureHTTPParser"),
            tls: tls_config::lookup(cx, "tls")?,
            proxy: http_proxy::lookup(cx, "proxy")?,
        };
        let client = build_client(&opts, false).map_err(|e| {
            ConfigError::field("proxy", format!("cannot create the HTTP client: {e}"))
        })?;
        let spec = Spec {
            url,
            template,
            method: cfg.str("method"),
            ret,
            payto,
            senderr: cfg.bool("senderr"),
            headers: parse_headers(cfg)?,
            auth,
            user: cred("user"),
            password: cred("password"),
            has_credentials: creds.is_some_and(|c| !c.is_empty()),
            timeout_ms: default_timeout(cx),
            tls: !cfg.str("tls").is_empty(),
        };
        Ok(Box::new(HttpRequest {
            spec,
            client,
            opts,
            insecure: None,
            inflight: HashMap::new(),
            next_id: 0,
            count: 0,
        }))
    }
}

impl Node for HttpRequest {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        self.count += 1;
        cx.status(Status::new("blue", "dot", "requesting"));
        let ready = match prepare::prepare(&self.spec, &msg, cx) {
            Ok(Prepared::Ready(r)) => *r,
            Ok(Prepared::Handled) => {
                self.count -= 1;
                return Ok(());
            }
            Err(e) => {
                self.count -= 1;
                return Err(e);
            }
        };
        let client = match ready.reject_unauthorized {
            Some(false) => self.insecure_client()?,
            _ => self.client.clone(),
        };
        let job = Job {
            client,
            method: ready.method,
            url: ready.url,
            headers: ready.headers,
            body: ready.body,
            jar: ready.jar,
            follow: ready.follow,
            digest: ready.digest,
            timeout_ms: ready.timeout_ms,
        };
        let Some(pending) = cx.defer() else {
            return Ok(());
        };
        self.next_id += 1;
        let id = self.next_id;
        self.inflight.insert(id, (pending, ready.url_text));
        let handle = cx.handle();
        cx.spawn(async move { Done(id, client::run(job, handle).await) });
        Ok(())
    }

    fn on_event(&mut self, ev: NodeEvent, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let NodeEvent::Custom(b) = ev else {
            return Ok(());
        };
        let Ok(done) = b.downcast::<Done>() else {
            return Ok(());
        };
        let Done(id, result) = *done;
        let Some((pending, url)) = self.inflight.remove(&id) else {
            return Ok(());
        };
        self.count = self.count.saturating_sub(1);
        let msg = pending.msg().clone();
        match result {
            Ok(reply) => {
                self.deliver(&msg, reply, cx);
                if self.count == 0 {
                    cx.status(Status::clear());
                }
                cx.send(0, msg);
            }
            Err(f) => {
                self.fail(&msg, f, &url, cx);
            }
        }
        cx.complete(pending, Ok(()));
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        cx.status(Status::clear());
    }
}

impl HttpRequest {
    fn insecure_client(&mut self) -> Result<reqwest::Client, NodeError> {
        if let Some(c) = &self.insecure {
            return Ok(c.clone());
        }
        let c = build_client(&self.opts, true).map_err(|e| NodeError::new(e.to_string()))?;
        self.insecure = Some(c.clone());
        Ok(c)
    }

    /// Puts the response on the message, as the node's `got(...).then`.
    fn deliver(&self, msg: &Msg, reply: Reply, cx: &mut NodeCtx<'_>) {
        let headers = headers_object(&reply.headers);
        msg.set("statusCode", Value::Number(f64::from(reply.status)));
        msg.set("headers", Value::Object(headers.clone()));
        msg.set("responseUrl", Value::from(reply.url));
        msg.set("payload", Value::Buffer(reply.body.clone()));
        let hops: Vec<Value> = reply
            .redirects
            .iter()
            .map(|h| {
                let o = Object::new();
                o.insert("location", Value::str(&h.location));
                if !h.set_cookies.is_empty() {
                    o.insert("cookies", Value::Object(extract_cookies(&h.set_cookies)));
                }
                Value::Object(o)
            })
            .collect();
        msg.set("redirectList", Value::from(hops));
        msg.set("retry", Value::Number(0.0));
        if let Some((_, lines)) = reply.headers.iter().find(|(n, _)| n == "set-cookie") {
            msg.set("responseCookies", Value::Object(extract_cookies(lines)));
        }
        headers.insert(REQUEST_NODE_HEADER, Value::from(headers_hash(&headers)));
        if self.spec.ret == Ret::Bin {
            return;
        }
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        if self.spec.ret == Ret::Txt {
            msg.set("payload", Value::from(text));
            return;
        }
        let text = if reply.status == 204 {
            "{}".to_string()
        } else {
            text
        };
        match from_json_str(&text) {
            Ok(v) => msg.set("payload", v),
            Err(_) => {
                msg.set("payload", Value::from(text));
                cx.warn("JSON parse error");
            }
        }
    }

    /// Reports a failed request, as the node's `got(...).catch`.
    fn fail(&self, msg: &Msg, f: Failure, url: &str, cx: &mut NodeCtx<'_>) {
        let as_arrived = msg.deep_clone();
        if f.is_timeout() {
            cx.error(NodeError::new("no response from server"), Some(as_arrived));
            cx.status(Status::new("red", "ring", "no response from server"));
        } else {
            let mut err = NodeError::new(f.to_string());
            err.code = f.code.clone();
            cx.error(err, Some(as_arrived));
            cx.status(Status {
                fill: Some("red".into()),
                shape: Some("ring".into()),
                text: f.code.clone(),
                ..Status::default()
            });
        }
        msg.set("payload", Value::from(format!("{f} : {url}")));
        msg.set("statusCode", f.code.map(Value::from).unwrap_or_default());
        if !self.spec.senderr {
            cx.send(0, msg.clone());
        }
    }
}

/// Headers Node's HTTP parser keeps only once.
const SINGLE_VALUED: [&str; 18] = [
    "age",
    "authorization",
    "content-length",
    "content-type",
    "etag",
    "expires",
    "from",
    "host",
    "if-modified-since",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "proxy-authorization",
    "referer",
    "retry-after",
    "server",
    "user-agent",
];

/// `res.headers` as Node builds it: `set-cookie` is an array, repeated
/// headers are joined with `, ` (`; ` for `cookie`) or keep the first value.
fn headers_object(list: &[(String, Vec<String>)]) -> Object {
    let o = Object::new();
    for (name, values) in list {
        let v = if name == "set-cookie" {
            Value::from(values.iter().map(|s| Value::str(s)).collect::<Vec<_>>())
        } else if SINGLE_VALUED.contains(&name.as_str()) {
            Value::str(values.first().map(String::as_str).unwrap_or(""))
        } else {
            Value::from(values.join(if name == "cookie" { "; " } else { ", " }))
        };
        o.insert(name.as_str(), v);
    }
    o
}

/// `responseCookies`: each `Set-Cookie` as `{<attributes>..., value}`.
fn extract_cookies(lines: &[String]) -> Object {
    let out = Object::new();
    for line in lines {
        let Some(eq) = line.find('=') else { continue };
        let key = line[..eq].trim();
        if key.is_empty() {
            continue;
        }
        let parsed = cookies::parse(line);
        parsed.insert("value", parsed.get(key).unwrap_or_default());
        parsed.remove(key);
        out.insert(key, Value::Object(parsed));
    }
    out
}
