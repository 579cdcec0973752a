//! Turning one message into a request: the part of the node's input
//! handler that runs before `got` is called (URL, method, timeout, headers,
//! cookies, authentication and body).

use super::super::cookies::encode_component;
use super::super::http_response::{REQUEST_NODE_HEADER, headers_hash};
use super::jar::{Jar, parse_cookie_header};
use super::{AuthType, PayTo, Spec, body};
use base64::Engine;
use redoubt_core::Msg;
use redoubt_core::node::{NodeCtx, NodeError, Status};
use redoubt_core::value::{Value, format_number};
use reqwest::Url;

const NO_OVERRIDE: &str = "Warning: msg properties can no longer override set node properties. See bit.ly/nr-override-msg-props";
/// `got`'s default `User-Agent`, sent unless the flow sets one.
const USER_AGENT: &str = "got (https://github.com/sindresorhus/got)";

/// A message turned into a request, ready for [`super::client::Job`].
pub(super) struct Ready {
    pub(super) method: String,
    pub(super) url: Url,
    /// The URL as the node built it (for error payloads).
    pub(super) url_text: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Option<bytes::Bytes>,
    pub(super) jar: Jar,
    pub(super) follow: bool,
    pub(super) digest: Option<(String, String)>,
    pub(super) timeout_ms: f64,
    /// `msg.rejectUnauthorized`, when given.
    pub(super) reject_unauthorized: Option<bool>,
}

/// What became of the message.
pub(super) enum Prepared {
    /// Send this request.
    Ready(Box<Ready>),
    /// Reported (error or warning) without a request; the message is done.
    Handled,
}

/// Builds the request for `msg`. An `Err` is an exception in Node-RED's
/// handler (an unparsable URL).
pub(super) fn prepare(spec: &Spec, msg: &Msg, cx: &mut NodeCtx<'_>) -> Result<Prepared, NodeError> {
    let Some(mut url) = resolve_url(spec, msg, cx) else {
        cx.error(NodeError::new("No url specified"), Some(msg.clone()));
        return Ok(Prepared::Handled);
    };
    if url.contains("://") && !url.starts_with("http") {
        cx.warn("non-http transport requested");
        cx.status(Status::new("red", "ring", "non-http transport requested"));
        return Ok(Prepared::Handled);
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        url.insert_str(0, if spec.tls { "https://" } else { "http://" });
    }
    url = escape_stray_percents(&url);
    let method = method(spec, msg, cx);
    let timeout_ms = timeout(spec, msg, cx);
    let mut headers = request_headers(spec, msg, cx);
    let follow = !msg.object().contains_key("followRedirects")
        || msg.get("followRedirects").is_some_and(|v| v.truthy());
    let invalid_url = || NodeError::new("TypeError: Invalid URL").with_code("ERR_INVALID_URL");
    let parsed = Url::parse(&url).map_err(|_| invalid_url())?;
    let jar = cookies(&mut headers, msg, &parsed);
    let digest = authenticate(spec, &parsed, &mut headers);
    let Ok(body) = request_body(&method, msg, &mut headers, spec.payto, &mut url) else {
        cx.error(NodeError::new("Invalid payload"), Some(msg.clone()));
        return Ok(Prepared::Handled);
    };
    let reject_unauthorized = reject_unauthorized(msg, cx);
    let mut final_url = Url::parse(&url).map_err(|_| invalid_url())?;
    // Credentials in the URL were turned into a header above.
    let _ = final_url.set_username("");
    let _ = final_url.set_password(None);
    Ok(Prepared::Ready(Box::new(Ready {
        method,
        url: final_url,
        url_text: url,
        headers: wire_headers(headers),
        body,
        jar,
        follow,
        digest,
        timeout_ms,
        reject_unauthorized,
    })))
}

/// The node URL (rendered when templated), else `msg.url`.
fn resolve_url(spec: &Spec, msg: &Msg, cx: &mut NodeCtx<'_>) -> Option<String> {
    let msg_url = msg.get("url").filter(|v| v.truthy());
    if let Some(mu) = &msg_url
        && !spec.url.is_empty()
        && mu.as_str() != Some(spec.url.as_str())
    {
        cx.warn(NO_OVERRIDE);
    }
    let url = match &spec.template {
        Some(t) => t.render(msg),
        None if !spec.url.is_empty() => spec.url.clone(),
        None => msg_url?.to_js_string(),
    };
    (!url.is_empty()).then_some(url)
}

/// In the query string, a `%` not followed by two hex digits becomes `%25`
/// (the node's repair of half-encoded URLs, matching `%.?.?` as it does).
fn escape_stray_percents(url: &str) -> String {
    let Some((head, query)) = url.split_once('?') else {
        return url.to_string();
    };
    if query.is_empty() {
        return url.to_string();
    }
    let chars: Vec<char> = query.chars().collect();
    let mut out = String::with_capacity(query.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len()
            && j < i + 3
            && !matches!(chars[j], '\n' | '\r' | '\u{2028}' | '\u{2029}')
        {
            j += 1;
        }
        let valid =
            j == i + 3 && chars[i + 1].is_ascii_hexdigit() && chars[i + 2].is_ascii_hexdigit();
        out.push_str(if valid { "%" } else { "%25" });
        out.extend(&chars[i + 1..j]);
        i = j;
    }
    format!("{head}?{out}")
}

fn method(spec: &Spec, msg: &Msg, cx: &mut NodeCtx<'_>) -> String {
    let configured = if spec.method.is_empty() {
        "GET"
    } else {
        spec.method.as_str()
    };
    let from_msg = msg.get("method").filter(|v| v.truthy());
    match from_msg {
        Some(m) if spec.method == "use" => m.to_js_string().to_uppercase(),
        Some(_) if !spec.method.is_empty() => {
            cx.warn(NO_OVERRIDE);
            configured.to_uppercase()
        }
        _ => configured.to_uppercase(),
    }
}

fn timeout(spec: &Spec, msg: &Msg, cx: &mut NodeCtx<'_>) -> f64 {
    match msg.get("requestTimeout") {
        None | Some(Value::Undefined) => spec.timeout_ms,
        Some(v) => {
            let n = v.to_number();
            if n.is_nan() {
                cx.warn("Timeout value is not a valid number, ignoring");
                spec.timeout_ms
            } else if n < 1.0 {
                cx.warn("Timeout value is negative, ignoring");
                spec.timeout_ms
            } else {
                n
            }
        }
    }
}

/// Sets `name` to `value`, replacing any header of that name in any case;
/// a falsy value removes it.
fn update_header(list: &mut Vec<(String, Value)>, name: &str, value: Value) {
    list.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    if value.truthy() {
        list.push((name.to_string(), value));
    }
}

fn find_header<'a>(list: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    list.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// `msg.headers` (unless it is the unchanged response of an earlier
/// http request node), then the node's own headers, which win.
fn request_headers(spec: &Spec, msg: &Msg, cx: &mut NodeCtx<'_>) -> Vec<(String, Value)> {
    let mut list = Vec::new();
    if let Some(Value::Object(h)) = msg.get("headers") {
        let mut use_msg = true;
        if h.contains_key(REQUEST_NODE_HEADER) {
            let mark = h.remove(REQUEST_NODE_HEADER);
            if matches!(&mark, Some(Value::String(s)) if **s == *headers_hash(&h)) {
                msg.remove("headers");
                use_msg = false;
            }
        }
        if use_msg {
            for (k, v) in h.entries() {
                update_header(&mut list, &k, v);
            }
        }
    }
    let ctx = cx.context();
    for (name, value) in &spec.headers {
        let name = name
            .evaluate(Some(msg), cx.info(), &ctx)
            .unwrap_or_default();
        if !name.truthy() {
            continue;
        }
        let value = value
            .evaluate(Some(msg), cx.info(), &ctx)
            .unwrap_or_default();
        update_header(&mut list, &name.to_js_string(), value);
    }
    list
}

/// The jar for this request: the `cookie` header and `msg.cookies`.
fn cookies(headers: &mut Vec<(String, Value)>, msg: &Msg, url: &Url) -> Jar {
    let mut jar = Jar::default();
    if let Some(i) = headers
        .iter()
        .position(|(k, _)| k.eq_ignore_ascii_case("cookie"))
    {
        let (_, v) = headers.remove(i);
        for (n, val) in parse_cookie_header(&v.to_js_string()) {
            jar.set(&format!("{n}={val}"), url);
        }
    }
    if let Some(Value::Object(c)) = msg.get("cookies") {
        for (name, v) in c.entries() {
            let (value, encode) = match &v {
                Value::Null | Value::Undefined => continue,
                Value::Object(o) => match o.get("value") {
                    Some(Value::Null) => continue,
                    value => (
                        value.unwrap_or_default(),
                        !matches!(o.get("encode"), Some(Value::Bool(false))),
                    ),
                },
                Value::Array(_) => (Value::Undefined, true),
                other => (other.clone(), true),
            };
            let text = value.to_js_string();
            let text = if encode {
                encode_component(&text)
            } else {
                text
            };
            jar.set(&format!("{name}={text}"), url);
        }
    }
    jar
}

/// Basic and bearer headers; digest credentials for the client's retry.
fn authenticate(
    spec: &Spec,
    url: &Url,
    headers: &mut Vec<(String, Value)>,
) -> Option<(String, String)> {
    let user = spec
        .user
        .clone()
        .filter(|u| !u.is_empty())
        .or_else(|| Some(url.username().to_string()).filter(|u| !u.is_empty()));
    let password = spec
        .password
        .clone()
        .filter(|p| !p.is_empty())
        .or_else(|| url.password().map(str::to_string));
    if !spec.has_credentials && user.is_none() && password.is_none() {
        return None;
    }
    match spec.auth {
        AuthType::Basic => {
            if user.is_some() || password.is_some() {
                let pair = format!(
                    "{}:{}",
                    user.unwrap_or_default(),
                    password.unwrap_or_default()
                );
                let b64 = base64::engine::general_purpose::STANDARD.encode(pair.as_bytes());
                update_header(
                    headers,
                    "Authorization",
                    Value::from(format!("Basic {b64}")),
                );
            }
            None
        }
        AuthType::Bearer => {
            update_header(
                headers,
                "Authorization",
                Value::from(format!("Bearer {}", password.unwrap_or_default())),
            );
            None
        }
        AuthType::Digest => Some((user.unwrap_or_default(), password.unwrap_or_default())),
    }
}

/// The body (never for GET/HEAD unless `paytoqs` is `body`); with `paytoqs`
/// `query` an object payload is appended to `url`. `Err` is "Invalid payload".
fn request_body(
    method: &str,
    msg: &Msg,
    headers: &mut Vec<(String, Value)>,
    payto: PayTo,
    url: &mut String,
) -> Result<Option<bytes::Bytes>, ()> {
    let payload = match msg.get("payload") {
        None | Some(Value::Undefined) => return Ok(None),
        Some(p) => p,
    };
    let content_type = find_header(headers, "content-type").map(|v| v.to_js_string());
    let is_object = matches!(
        payload,
        Value::Object(_) | Value::Array(_) | Value::Null | Value::Buffer(_) | Value::Date(_)
    );
    if method != "GET" && method != "HEAD" {
        if content_type.as_deref() == Some("multipart/form-data")
            && let Value::Object(o) = &payload
        {
            let (ct, data) = body::multipart(o);
            update_header(headers, "content-type", Value::from(ct));
            return Ok(Some(data));
        }
        let data: bytes::Bytes = match &payload {
            Value::String(s) => bytes::Bytes::copy_from_slice(s.as_bytes()),
            Value::Buffer(b) => b.clone(),
            Value::Number(n) => format_number(*n).into(),
            other if content_type.as_deref() == Some("application/x-www-form-urlencoded") => {
                body::querystring(other).into()
            }
            other => {
                if content_type.is_none() {
                    update_header(headers, "Content-Type", Value::str("application/json"));
                }
                body::json(other).into()
            }
        };
        return Ok(Some(data));
    }
    if method != "GET" {
        return Ok(None);
    }
    match payto {
        PayTo::Query => {
            if !is_object {
                return Err(());
            }
            if !url.contains('?') {
                url.push('?');
            } else if !url.ends_with('?') {
                url.push('&');
            }
            url.push_str(&body::querystring(&payload));
            Ok(None)
        }
        PayTo::Body => Ok(match &payload {
            p if is_object => Some(body::json(p).into()),
            Value::Number(n) => Some(format_number(*n).into()),
            Value::String(s) => Some(bytes::Bytes::copy_from_slice(s.as_bytes())),
            _ => None,
        }),
        PayTo::Ignore => Ok(None),
    }
}

fn reject_unauthorized(msg: &Msg, cx: &mut NodeCtx<'_>) -> Option<bool> {
    if !msg.object().contains_key("rejectUnauthorized") {
        return None;
    }
    match msg.get("rejectUnauthorized") {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => {
            cx.warn("msg.rejectUnauthorized should be a boolean");
            None
        }
    }
}

/// Header values as text (arrays become repeated headers). The body's
/// framing headers are left to the client, and `got`'s default
/// `User-Agent` is added when the flow set none.
fn wire_headers(list: Vec<(String, Value)>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut has_agent = false;
    for (k, v) in list {
        if k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding") {
            continue;
        }
        has_agent |= k.eq_ignore_ascii_case("user-agent");
        match v {
            Value::Array(a) => out.extend(a.to_vec().iter().map(|x| (k.clone(), x.to_js_string()))),
            other => out.push((k, other.to_js_string())),
        }
    }
    if !has_agent {
        out.push(("user-agent".into(), USER_AGENT.into()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stray_percents_in_the_query_are_escaped() {
        assert_eq!(
            escape_stray_percents("http://h/p%zz?a=%41&b=20%&c=%%41&d=%g"),
            "http://h/p%zz?a=%41&b=20%25&c=%25%41&d=%25g"
        );
        assert_eq!(escape_stray_percents("http://h/?"), "http://h/?");
    }

    #[test]
    fn header_updates_ignore_case_and_falsy_values_remove() {
        let mut l = vec![
            ("content-type".to_string(), Value::str("text/plain")),
            ("location".into(), Value::str("x")),
        ];
        update_header(&mut l, "Content-Type", Value::str("application/json"));
        update_header(&mut l, "Location", Value::str(""));
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].0, "Content-Type");
    }
}
