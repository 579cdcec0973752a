//! http in (`21-httpin.js`): serves a route and turns each request into a
//! message with `req`, `res` and `payload` (the query for GET, the parsed
//! body otherwise), parsing bodies as Express's body parsers do.

use super::{cookies, qs};
use redoubt_core::http_host::{
    HttpHostService, HttpReply, IncomingRequest, ResponseHandle, RouteGuard, RouteSpec,
};
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeHandle, NodeType,
};
use redoubt_core::value::{
    Array, Handle, KnownKey, Lazy, Map, Object, Peek, Str, Value, from_json_str,
};
use redoubt_core::{Msg, msg};
use std::sync::{Arc, LazyLock};

pub(crate) struct HttpInType;

struct HttpIn {
    _guard: Option<Box<dyn RouteGuard>>,
}

impl NodeType for HttpInType {
    fn type_name(&self) -> &'static str {
        "http in"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let mut url = cfg.str("url");
        if url.is_empty() {
            return Err(ConfigError::field("url", "missing path"));
        }
        if !url.starts_with('/') {
            url.insert(0, '/');
        }
        let method = cfg.str("method").to_ascii_lowercase();
        if !matches!(method.as_str(), "get" | "post" | "put" | "delete" | "patch") {
            return Err(ConfigError::field(
                "method",
                format!("unsupported method {method:?}"),
            ));
        }
        let Some(host) = cx.service::<HttpHostService>() else {
            // httpNodeRoot: false — Node-RED warns and creates no route.
            cx.handle()
                .warn("Cannot create http-in node when httpNodeRoot set to false");
            return Ok(Box::new(HttpIn { _guard: None }));
        };
        let handle = cx.handle();
        let get = method == "get";
        let spec = RouteSpec {
            method,
            path: url.clone(),
            upload: cfg.bool("upload"),
            node_id: cfg.id.to_string(),
        };
        let handler = Arc::new(move |req: IncomingRequest, res: Arc<ResponseHandle>| {
            on_request(&handle, req, res, get);
        });
        let guard = host
            .0
            .add_route(spec, handler)
            .map_err(|e| ConfigError::field("url", format!("{url:?}: {e}")))?;
        Ok(Box::new(HttpIn {
            _guard: Some(guard),
        }))
    }
}

impl Node for HttpIn {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        cx.send(0, msg);
        Ok(())
    }
}

fn error_500(res: &ResponseHandle) {
    res.respond(HttpReply {
        status: 500,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: bytes::Bytes::from_static(b"Internal Server Error"),
    });
}

fn on_request(node: &NodeHandle, req: IncomingRequest, res: Arc<ResponseHandle>, get: bool) {
    let body = match parse_body(&req) {
        Ok(b) => b,
        Err(e) => {
            node.warn(&e);
            error_500(&res);
            return;
        }
    };
    let query = qs::parse(req.query());
    let payload = if get { query.clone() } else { body.clone() };
    // Most flows never read msg.req: its properties are built on first
    // access, and a single string of it (msg.req.path) without the rest.
    let r = Object::lazy_with(LazyReq { req, query, body });
    let resv = Object::with_capacity(1);
    resv.insert_known(&RES_KEY, Value::Handle(Handle(res)));
    let msg = Msg::new();
    msg.set(msg::REQ, Value::Object(r));
    msg.set(msg::RES, Value::Object(resv));
    msg.set(msg::PAYLOAD, payload);
    node.send(0, msg);
}

/// `msg.res._res`'s key, shared by every message instead of made for each,
/// and its hash.
static RES_KEY: LazyLock<KnownKey> = LazyLock::new(|| KnownKey::new("_res"));

/// `msg.req` before it is built: what [`fill_req`] will make of it.
struct LazyReq {
    req: IncomingRequest,
    query: Value,
    body: Value,
}

impl Lazy for LazyReq {
    fn fill(self: Box<Self>, map: &mut Map) {
        let LazyReq { req, query, body } = *self;
        fill_req(map, req, query, body);
    }

    /// The strings and flags of `msg.req` as [`fill_req`] makes them, and
    /// `query` and `body`, which exist already; the objects it builds
    /// (`headers`, `params`, `cookies`, `files`) need the fill.
    fn peek(&self, key: &str) -> Peek {
        if let Some(v) = scalar(&self.req, key) {
            return Peek::Value(v);
        }
        match key {
            "query" => Peek::Value(self.query.clone()),
            "body" => Peek::Value(self.body.clone()),
            "files" if self.req.files.is_empty() => Peek::Absent,
            "headers" | "params" | "cookies" | "files" => Peek::Unknown,
            _ => Peek::Absent,
        }
    }

    fn existing_children(&self) -> Option<Vec<(Str, Value)>> {
        Some(
            [("query", &self.query), ("body", &self.body)]
                .into_iter()
                .filter(|(_, v)| matches!(v, Value::Object(_) | Value::Array(_)))
                .map(|(k, v)| (Str::from(k), v.clone()))
                .collect(),
        )
    }
}

/// The strings and flags of `msg.req`, in Express's order (see [`scalar`]).
const SCALARS: [&str; 9] = [
    "method",
    "url",
    "originalUrl",
    "path",
    "baseUrl",
    "hostname",
    "ip",
    "protocol",
    "secure",
];

/// `msg.req[key]` for the keys of [`SCALARS`]; `None` for any other key.
fn scalar(req: &IncomingRequest, key: &str) -> Option<Value> {
    Some(match key {
        "method" => Value::str(req.method.as_str()),
        // Express's, in the app mounted at `httpNodeRoot`.
        "url" => Value::str(&req.url()),
        "originalUrl" => Value::str(req.original_url()),
        "path" => Value::str(req.path()),
        "baseUrl" => Value::str(req.base_url()),
        "hostname" => Value::str(req.hostname()),
        // Express's `req.ip`: the client address, as Node writes it.
        "ip" => Value::from(req.remote_ip.map(|ip| ip.to_string()).unwrap_or_default()),
        "protocol" => Value::str(req.protocol),
        "secure" => Value::Bool(req.protocol == "https"),
        _ => return None,
    })
}

/// The properties of `msg.req`, as Express's request has them.
fn fill_req(r: &mut Map, req: IncomingRequest, query: Value, body: Value) {
    let mut put = |k: &str, v: Value| {
        r.insert(Str::from(k), v);
    };
    for key in SCALARS {
        if let Some(v) = scalar(&req, key) {
            put(key, v);
        }
    }
    let headers = Object::with_capacity(req.headers.keys_len());
    for (k, v) in &req.headers {
        let (k, v) = (k.as_str(), String::from_utf8_lossy(v.as_bytes()));
        match headers.get(k) {
            // Repeated headers are joined as Node's http module does (set-cookie excepted).
            Some(Value::String(prev)) if k != "set-cookie" => {
                headers.insert(k, Value::from(format!("{prev}, {v}")))
            }
            _ => headers.insert(k, Value::str(&v)),
        }
    }
    put("headers", Value::Object(headers));
    let params = Object::with_capacity(req.params.len());
    for (k, v) in &req.params {
        params.insert(k.as_str(), Value::str(v));
    }
    put("params", Value::Object(params));
    put("query", query);
    put(
        "cookies",
        Value::Object(req.header("cookie").map(cookies::parse).unwrap_or_default()),
    );
    put("body", body);
    if !req.files.is_empty() {
        let files = Array::new();
        for f in &req.files {
            let o = Object::new();
            o.insert("fieldname", Value::str(&f.fieldname));
            o.insert("originalname", Value::str(&f.originalname));
            o.insert("encoding", Value::str("7bit"));
            o.insert("mimetype", Value::str(&f.mimetype));
            o.insert("buffer", Value::Buffer(f.buffer.clone()));
            o.insert("size", Value::Number(f.buffer.len() as f64));
            files.push(Value::Object(o));
        }
        put("files", Value::Array(files));
    }
}

/// The body as Express's json, urlencoded, multipart and raw parsers leave it.
fn parse_body(req: &IncomingRequest) -> Result<Value, String> {
    if !req.fields.is_empty() || !req.files.is_empty() {
        let o = Object::new();
        for (k, v) in &req.fields {
            o.insert(k.as_str(), Value::str(v));
        }
        return Ok(Value::Object(o));
    }
    let ctype = req
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let mime = ctype.split(';').next().unwrap_or("").trim().to_string();
    let has_body = !req.body.is_empty();
    if mime == "application/json" {
        if !has_body {
            return Ok(Value::new_object());
        }
        let text = std::str::from_utf8(&req.body)
            .map_err(|e| format!("invalid UTF-8 in JSON body: {e}"))?;
        return from_json_str(text).map_err(|e| format!("Unexpected token in JSON body: {e}"));
    }
    if mime == "application/x-www-form-urlencoded" {
        if !has_body {
            return Ok(Value::new_object());
        }
        return Ok(qs::parse(&String::from_utf8_lossy(&req.body)));
    }
    if mime.is_empty() && !has_body {
        return Ok(Value::str(""));
    }
    let (ty, sub) = mime.split_once('/').unwrap_or((mime.as_str(), ""));
    let (subtype, suffix) = match sub.split_once('+') {
        Some((s, x)) => (s, Some(x)),
        None => (sub, None),
    };
    let text = if mime.is_empty() || ty == "text" || subtype == "xml" || suffix == Some("xml") {
        true
    } else if ty != "application" || matches!(subtype, "octet-stream" | "cbor" | "x-protobuf") {
        false
    } else {
        // Other application/* types: a string when the bytes are valid UTF-8.
        std::str::from_utf8(&req.body).is_ok()
    };
    Ok(if text {
        Value::from(String::from_utf8_lossy(&req.body).into_owned())
    } else {
        Value::Buffer(req.body.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(files: bool) -> IncomingRequest {
        let mut headers = http::HeaderMap::new();
        headers.insert("host", http::HeaderValue::from_static("example.com:1880"));
        headers.insert("cookie", http::HeaderValue::from_static("a=1"));
        IncomingRequest {
            method: http::Method::POST,
            uri: http::Uri::from_static("/root/p/x?q=1"),
            root_len: 5,
            headers,
            params: vec![("id".into(), "x".into())],
            remote_ip: "10.0.0.9".parse().ok(),
            protocol: "https",
            files: if files {
                vec![redoubt_core::http_host::UploadedFile {
                    fieldname: "f".into(),
                    originalname: "a.txt".into(),
                    mimetype: "text/plain".into(),
                    buffer: bytes::Bytes::from_static(b"hi"),
                }]
            } else {
                vec![]
            },
            ..IncomingRequest::default()
        }
    }

    /// Whatever `peek` tells about a key, the filled `msg.req` holds: the
    /// same string or flag, the very same object, or nothing.
    #[test]
    fn what_msg_req_tells_before_it_is_built_is_what_it_holds_after() {
        for files in [false, true] {
            let query = qs::parse("q=1");
            let body = Value::new_object();
            let lazy = LazyReq {
                req: request(files),
                query: query.clone(),
                body: body.clone(),
            };
            let filled = Object::new();
            filled.with_mut(|m| fill_req(m, request(files), query.clone(), body.clone()));
            let mut keys: Vec<String> = filled.keys().iter().map(|k| k.to_string()).collect();
            keys.extend([
                "nope".to_string(),
                "files".to_string(),
                "__proto__".to_string(),
            ]);
            for key in keys {
                let now = filled.get(&key);
                match lazy.peek(&key) {
                    Peek::Unknown => assert!(
                        matches!(now, Some(Value::Object(_) | Value::Array(_))),
                        "{key}: only a built object may need the fill"
                    ),
                    Peek::Absent => assert!(now.is_none(), "{key} is there after all"),
                    Peek::Value(v) => match (&v, &now) {
                        (Value::Object(a), Some(Value::Object(b))) => {
                            assert!(a.ptr_eq(b), "{key}: another object")
                        }
                        _ => assert_eq!(
                            redoubt_core::value::to_json(&v).ok(),
                            now.as_ref()
                                .and_then(|n| redoubt_core::value::to_json(n).ok()),
                            "{key}"
                        ),
                    },
                }
            }
            let children: Vec<String> = lazy
                .existing_children()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, _)| k.to_string())
                .collect();
            assert_eq!(children, ["query", "body"]);
        }
    }

    /// Through the object: a string, `files` and the children read before
    /// the build, then everything after it, the strings unchanged.
    #[test]
    fn msg_req_answers_the_same_before_and_after_it_is_built() {
        let query = qs::parse("q=1");
        let obj = Object::lazy_with(LazyReq {
            req: request(false),
            query: query.clone(),
            body: Value::Undefined,
        });
        assert_eq!(
            obj.get("path").and_then(|v| v.as_str().map(str::to_owned)),
            Some("/p/x".into())
        );
        assert!(obj.get("files").is_none());
        let children = obj.object_children();
        assert_eq!(children.len(), 1);
        assert!(
            matches!(&children[0].1, Value::Object(o) if matches!(&query, Value::Object(q) if q.ptr_eq(o)))
        );
        assert_eq!(obj.with(|m| m.len()), 14, "all of it on a full read");
        assert!(obj.get("headers").is_some());
        assert_eq!(
            obj.get("ip").and_then(|v| v.as_str().map(str::to_owned)),
            Some("10.0.0.9".into())
        );
    }
}
