//! http response (`21-httpin.js` HTTPOut): answers the request behind
//! `msg.res` with the payload, serialised as Express's `res.send` and
//! `res.jsonp` do (content types, charset, 204 handling), plus node and
//! message headers and `msg.cookies`.
//!
//! Deviation: JSONP (`?callback=`) wrapping is not applied.

use super::cookies;
use redoubt_core::Msg;
use redoubt_core::http_host::{HeaderText, HttpReply, ResponseHandle};
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use redoubt_core::value::{Object, Value, to_json};
use std::sync::Arc;

pub(crate) struct HttpResponseType;

struct HttpResponse {
    status: Option<u16>,
    headers: Vec<(String, Value)>,
}

/// The marker `http request` leaves in `msg.headers`, and its check value.
pub(crate) const REQUEST_NODE_HEADER: &str = "x-node-red-request-node";

/// A stable hash of a headers object (64-bit FNV-1a over its JSON, hex).
pub(crate) fn headers_hash(headers: &Object) -> String {
    let text = to_json(&Value::Object(headers.clone())).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl NodeType for HttpResponseType {
    fn type_name(&self) -> &'static str {
        "http response"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let sc = cfg.str("statusCode");
        let status = match sc.trim() {
            "" => None,
            t => match t.parse::<f64>() {
                Ok(n) if (100.0..1000.0).contains(&n) => Some(n as u16),
                _ => {
                    return Err(ConfigError::field(
                        "statusCode",
                        format!("invalid status code {t:?}"),
                    ));
                }
            },
        };
        let mut headers = Vec::new();
        if let Some(serde_json::Value::Object(h)) = cfg.get("headers") {
            for (k, v) in h {
                headers.push((k.clone(), redoubt_core::value::from_serde(v)));
            }
        }
        Ok(Box::new(HttpResponse { status, headers }))
    }
}

fn has(headers: &[(HeaderText, HeaderText)], name: &str) -> bool {
    headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
}

/// Express `res.set`: content types get `charset=utf-8` for text and JSON.
fn set_header(headers: &mut Vec<(HeaderText, HeaderText)>, name: &str, value: &Value) {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    let values: Vec<String> = match value {
        Value::Array(a) => a.to_vec().iter().map(|v| v.to_js_string()).collect(),
        v => vec![v.to_js_string()],
    };
    for mut v in values {
        if name.eq_ignore_ascii_case("content-type") && !v.to_ascii_lowercase().contains("charset")
        {
            let base = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if base.starts_with("text/")
                || base == "application/json"
                || base == "application/javascript"
            {
                v.push_str("; charset=utf-8");
            }
        }
        headers.push((name.to_string().into(), v.into()));
    }
}

fn ensure_utf8_charset(headers: &mut [(HeaderText, HeaderText)]) {
    for (k, v) in headers.iter_mut() {
        if k.eq_ignore_ascii_case("content-type") && !v.to_ascii_lowercase().contains("charset") {
            v.to_mut().push_str("; charset=utf-8");
        }
    }
}

impl Node for HttpResponse {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let res = match msg.get("res") {
            Some(Value::Object(o)) => match o.get("_res") {
                Some(Value::Handle(h)) => h.0.clone().downcast::<ResponseHandle>().ok(),
                _ => None,
            },
            _ => None,
        };
        let Some(res) = res else {
            cx.warn("No response object");
            return Ok(());
        };
        let reply = self.reply(&msg)?;
        respond(&res, reply);
        Ok(())
    }
}

fn respond(res: &Arc<ResponseHandle>, reply: HttpReply) {
    res.respond(reply);
}

impl HttpResponse {
    fn reply(&self, msg: &Msg) -> Result<HttpReply, NodeError> {
        let mut headers: Vec<(HeaderText, HeaderText)> = Vec::new();
        for (k, v) in &self.headers {
            set_header(&mut headers, k, v);
        }
        if let Some(Value::Object(mh)) = msg.get("headers") {
            let mut use_msg_headers = true;
            if let Some(mark) = mh.remove(REQUEST_NODE_HEADER)
                && mark.to_js_string() == headers_hash(&mh)
            {
                msg.remove("headers");
                use_msg_headers = false;
            }
            if use_msg_headers {
                for (k, v) in mh.entries() {
                    if !self.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&k)) {
                        set_header(&mut headers, &k, &v);
                    }
                }
            }
        }
        if let Some(Value::Object(c)) = msg.get("cookies") {
            for (name, v) in c.entries() {
                let line = match &v {
                    Value::Null => cookies::clear_cookie(&name, None),
                    Value::Object(o)
                        if o.get("value").is_some_and(|x| matches!(x, Value::Null)) =>
                    {
                        cookies::clear_cookie(&name, Some(o))
                    }
                    Value::Object(o) => {
                        cookies::set_cookie(&name, &o.get("value").unwrap_or_default(), Some(o))
                    }
                    other => cookies::set_cookie(&name, other, None),
                };
                headers.push(("set-cookie".into(), line.into()));
            }
        }
        let status = self
            .status
            .or_else(|| {
                msg.get("statusCode")
                    .map(|v| v.to_number())
                    .filter(|n| n.is_finite() && *n >= 100.0 && *n < 1000.0)
                    .map(|n| n as u16)
            })
            .unwrap_or(200);
        let payload = msg.payload();
        let body: bytes::Bytes = match &payload {
            Value::Object(_) | Value::Array(_) | Value::Null | Value::Date(_) => {
                let text = to_json(&payload).map_err(|e| NodeError::new(e.to_string()))?;
                if !has(&headers, "content-type") {
                    headers.push((
                        "content-type".into(),
                        "application/json; charset=utf-8".into(),
                    ));
                } else {
                    ensure_utf8_charset(&mut headers);
                }
                text.into()
            }
            Value::Bool(b) => {
                return Err(NodeError::new(format!(
                    "The \"string\" argument must be of type string or an instance of Buffer or ArrayBuffer. Received type boolean ({b})"
                )));
            }
            Value::Buffer(b) => {
                if !has(&headers, "content-type") {
                    headers.push(("content-type".into(), "application/octet-stream".into()));
                }
                b.clone()
            }
            Value::Undefined | Value::Handle(_) => bytes::Bytes::new(),
            other => {
                let text = other.to_js_string();
                if !has(&headers, "content-type") {
                    headers.push(("content-type".into(), "text/html; charset=utf-8".into()));
                } else {
                    ensure_utf8_charset(&mut headers);
                }
                text.into()
            }
        };
        if status == 204 || status == 304 {
            headers.retain(|(k, _)| {
                !k.eq_ignore_ascii_case("content-type") && !k.eq_ignore_ascii_case("content-length")
            });
            return Ok(HttpReply {
                status,
                headers,
                body: bytes::Bytes::new(),
            });
        }
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-length"));
        Ok(HttpReply {
            status,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> HttpResponse {
        HttpResponse {
            status: None,
            headers: vec![],
        }
    }

    #[test]
    fn objects_are_json_strings_are_html() {
        let m = Msg::from_json(&serde_json::json!({"payload": {"a": 1}}));
        let r = node().reply(&m).expect("reply");
        assert_eq!(r.body, "{\"a\":1}");
        assert!(r.headers.contains(&(
            "content-type".into(),
            "application/json; charset=utf-8".into()
        )));
        let m = Msg::from_json(&serde_json::json!({"payload": 5}));
        let r = node().reply(&m).expect("reply");
        assert_eq!(r.body, "5");
        assert!(
            r.headers
                .contains(&("content-type".into(), "text/html; charset=utf-8".into()))
        );
    }

    #[test]
    fn boolean_payload_is_an_error_and_204_has_no_body() {
        let m = Msg::from_json(&serde_json::json!({"payload": true}));
        assert!(node().reply(&m).is_err());
        let m = Msg::from_json(&serde_json::json!({"payload": "", "statusCode": 204}));
        let r = node().reply(&m).expect("reply");
        assert_eq!(r.status, 204);
        assert!(r.headers.is_empty());
    }

    #[test]
    fn unmodified_request_headers_are_dropped() {
        let h = Object::new();
        h.insert("x-a", Value::str("1"));
        let mark = headers_hash(&h);
        h.insert(REQUEST_NODE_HEADER, Value::str(&mark));
        let m = Msg::new();
        m.set("headers", Value::Object(h.clone()));
        let r = node().reply(&m).expect("reply");
        assert!(!r.headers.iter().any(|(k, _)| k == "x-a"));
        h.insert("x-b", Value::str("2"));
        h.insert(REQUEST_NODE_HEADER, Value::str(&mark));
        let m = Msg::new();
        m.set("headers", Value::Object(h));
        let r = node().reply(&m).expect("reply");
        assert!(r.headers.iter().any(|(k, _)| k == "x-b"));
    }
}
