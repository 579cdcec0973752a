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
use redoubt_core::value::{Array, Handle, Map, Object, Str, Value, from_json_str};
use redoubt_core::{Msg, msg};
use std::sync::Arc;

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
    let query = qs::parse(&req.query);
    let payload = if get { query.clone() } else { body.clone() };
    // Most flows never read msg.req: its properties are built on first access.
    let r = Object::lazy(move |m| fill_req(m, req, query, body));
    let resv = Object::with_capacity(1);
    resv.insert("_res", Value::Handle(Handle(res)));
    let msg = Msg::new();
    msg.set(msg::REQ, Value::Object(r));
    msg.set(msg::RES, Value::Object(resv));
    msg.set(msg::PAYLOAD, payload);
    node.send(0, msg);
}

/// The properties of `msg.req`, as Express's request has them.
fn fill_req(r: &mut Map, req: IncomingRequest, query: Value, body: Value) {
    let mut put = |k: &str, v: Value| {
        r.insert(Str::from(k), v);
    };
    put("method", Value::str(&req.method));
    put("url", Value::str(&req.url));
    put("originalUrl", Value::str(&req.url));
    put("path", Value::str(&req.path));
    put("baseUrl", Value::str(""));
    put("hostname", Value::str(&req.hostname));
    put("ip", Value::str(&req.remote_ip));
    put("protocol", Value::str(req.protocol));
    put("secure", Value::Bool(req.protocol == "https"));
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
