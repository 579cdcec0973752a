//! Cookies: reading the `Cookie` header as `cookie-parser` does, and writing
//! `Set-Cookie` as Express's `res.cookie` / `res.clearCookie` do.

use redoubt_core::value::{Object, Value};

/// Parses `a=1; b=hello%20world` into `{a: "1", b: "hello world"}`.
pub(crate) fn parse(header: &str) -> Object {
    let o = Object::new();
    for part in header.split(';') {
        let part = part.trim();
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.is_empty() || o.contains_key(k) {
            continue;
        }
        let mut v = v.trim();
        if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
            v = &v[1..v.len() - 1];
        }
        let decoded = percent_decode(v);
        o.insert(k, Value::from(decoded));
    }
    o
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(x);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// `encodeURIComponent`.
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn http_date(ms: f64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|d| d.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default()
}

/// One `Set-Cookie` value for `res.cookie(name, value, options)`.
pub(crate) fn set_cookie(name: &str, value: &Value, opts: Option<&Object>) -> String {
    let val = match value {
        Value::String(s) => encode_component(s),
        Value::Object(_) | Value::Array(_) => encode_component(&format!(
            "j:{}",
            redoubt_core::value::to_json(value).unwrap_or_default()
        )),
        other => encode_component(&other.to_js_string()),
    };
    let mut parts = vec![format!("{name}={val}")];
    let get = |k: &str| opts.and_then(|o| o.get(k)).filter(|v| !v.is_nullish());
    let mut expires = get("expires").map(|v| match v {
        Value::Date(ms) => ms,
        other => other.to_number(),
    });
    if let Some(max_age) = get("maxAge")
        .map(|v| v.to_number())
        .filter(|n| n.is_finite())
    {
        let now = chrono::Utc::now().timestamp_millis() as f64;
        expires = Some(now + max_age);
        parts.push(format!("Max-Age={}", (max_age / 1000.0).floor() as i64));
    }
    if let Some(d) = get("domain") {
        parts.push(format!("Domain={}", d.to_js_string()));
    }
    let path = get("path")
        .map(|p| p.to_js_string())
        .unwrap_or_else(|| "/".into());
    parts.push(format!("Path={path}"));
    if let Some(ms) = expires {
        parts.push(format!("Expires={}", http_date(ms)));
    }
    if get("httpOnly").is_some_and(|v| v.truthy()) {
        parts.push("HttpOnly".into());
    }
    if get("secure").is_some_and(|v| v.truthy()) {
        parts.push("Secure".into());
    }
    if let Some(s) = get("sameSite") {
        let t = match &s {
            Value::Bool(true) => "Strict".to_string(),
            other => {
                let t = other.to_js_string().to_ascii_lowercase();
                match t.as_str() {
                    "lax" => "Lax".into(),
                    "none" => "None".into(),
                    _ => "Strict".into(),
                }
            }
        };
        if !matches!(s, Value::Bool(false)) {
            parts.push(format!("SameSite={t}"));
        }
    }
    parts.join("; ")
}

/// `res.clearCookie(name, options)`.
pub(crate) fn clear_cookie(name: &str, opts: Option<&Object>) -> String {
    let o = Object::new();
    if let Some(opts) = opts {
        for (k, v) in opts.entries() {
            if &*k != "maxAge" && &*k != "value" {
                o.insert(k, v);
            }
        }
    }
    o.insert("expires", Value::Date(0.0));
    set_cookie(name, &Value::str(""), Some(&o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_clear_match_express() {
        assert_eq!(
            set_cookie("plain", &Value::str("v1"), None),
            "plain=v1; Path=/"
        );
        let o = Object::new();
        o.insert("path", Value::str("/p"));
        o.insert("httpOnly", Value::Bool(true));
        assert_eq!(
            set_cookie("withopts", &Value::str("v2"), Some(&o)),
            "withopts=v2; Path=/p; HttpOnly"
        );
        assert_eq!(
            clear_cookie("gone", None),
            "gone=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    #[test]
    fn parse_decodes_values() {
        let o = parse("a=1; b=hello%20world; c=x=y");
        assert_eq!(
            o.get("b").and_then(|v| v.as_str().map(str::to_string)),
            Some("hello world".into())
        );
        assert_eq!(
            o.get("c").and_then(|v| v.as_str().map(str::to_string)),
            Some("x=y".into())
        );
    }
}
