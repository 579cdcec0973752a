//! Request bodies from `msg.payload`: strings and Buffers as they are,
//! numbers as text, anything else as JSON (or `querystring` form encoding,
//! or `form-data` multipart, chosen by the content type).

use super::super::cookies::encode_component;
use redoubt_core::value::{Object, Value, format_number, to_json};

/// Node's `querystring.stringify` (used for form bodies and `paytoqs`).
pub(super) fn querystring(v: &Value) -> String {
    let pairs: Vec<(String, Value)> = match v {
        Value::Object(o) => o
            .entries()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        Value::Array(a) => a
            .to_vec()
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        Value::Buffer(b) => b
            .iter()
            .enumerate()
            .map(|(i, x)| (i.to_string(), Value::Number(f64::from(*x))))
            .collect(),
        _ => return String::new(),
    };
    let mut fields: Vec<String> = Vec::new();
    for (k, v) in pairs {
        let ks = format!("{}=", encode_component(&k));
        match v {
            Value::Array(a) => {
                for item in a.to_vec() {
                    fields.push(format!("{ks}{}", encode_component(&primitive(&item))));
                }
            }
            other => fields.push(format!("{ks}{}", encode_component(&primitive(&other)))),
        }
    }
    fields.join("&")
}

/// `stringifyPrimitive`: strings, finite numbers and booleans; else empty.
fn primitive(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Number(n) if n.is_finite() => format_number(*n),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// `JSON.stringify`, as text.
pub(super) fn json(v: &Value) -> String {
    to_json(v).unwrap_or_default()
}

/// Encodes `payload` as `form-data` does; returns the content type (with
/// its boundary) and the body.
pub(super) fn multipart(payload: &Object) -> (String, bytes::Bytes) {
    let boundary = format!(
        "--------------------------{:012x}{:012x}",
        rand::random::<u64>() >> 16,
        rand::random::<u64>() >> 16
    );
    let mut out: Vec<u8> = Vec::new();
    for (name, val) in payload.entries() {
        let (data, filename, content_type) = match &val {
            Value::Undefined | Value::Null => continue,
            Value::String(s) => (s.as_bytes().to_vec(), None, None),
            Value::Buffer(b) => (
                b.to_vec(),
                None,
                Some("application/octet-stream".to_string()),
            ),
            Value::Object(o) if o.contains_key("value") => part_from_object(o),
            other => (json(other).into_bytes(), None, None),
        };
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
        );
        if let Some(f) = &filename {
            out.extend_from_slice(format!("; filename=\"{f}\"").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        if let Some(ct) = &content_type {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (
        format!("multipart/form-data; boundary={boundary}"),
        out.into(),
    )
}

/// `{value, options: {filename, contentType}}` (options may be just the filename).
fn part_from_object(o: &Object) -> (Vec<u8>, Option<String>, Option<String>) {
    let value = o.get("value").unwrap_or_default();
    let (filename, explicit_type) = match o.get("options") {
        Some(Value::String(s)) => (Some(s.to_string()), None),
        Some(Value::Object(opts)) => (
            opts.get("filename")
                .filter(|v| v.truthy())
                .map(|v| v.to_js_string()),
            opts.get("contentType")
                .filter(|v| v.truthy())
                .map(|v| v.to_js_string()),
        ),
        _ => (None, None),
    };
    let filename = filename.map(|f| f.rsplit(['/', '\\']).next().unwrap_or_default().to_string());
    let is_object = !matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let data = match &value {
        Value::Buffer(b) => b.to_vec(),
        other => other.to_js_string().into_bytes(),
    };
    let content_type = explicit_type
        .or_else(|| filename.as_deref().and_then(mime_for))
        .or_else(|| is_object.then(|| "application/octet-stream".to_string()));
    (data, filename, content_type)
}

fn mime_for(filename: &str) -> Option<String> {
    let ext = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    let t = match ext.as_str() {
        "txt" | "text" | "log" => "text/plain",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "csv" => "text/csv",
        "js" | "mjs" => "application/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        _ => return None,
    };
    Some(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(j: serde_json::Value) -> Value {
        redoubt_core::value::from_serde(&j)
    }

    #[test]
    fn querystring_matches_node() {
        assert_eq!(
            querystring(&v(serde_json::json!({"foo": "1 2 3", "bar": ""}))),
            "foo=1%202%203&bar="
        );
        assert_eq!(
            querystring(&v(
                serde_json::json!({"a": [1, 2], "e": [], "o": {"x": 1}, "b": true})
            )),
            "a=1&a=2&o=&b=true"
        );
        assert_eq!(querystring(&Value::Null), "");
    }

    #[test]
    fn multipart_writes_files_and_fields() {
        let p = v(
            serde_json::json!({"file": {"value": "Hello", "options": {"filename": "dir/file.txt"}}, "other": 123}),
        );
        let Value::Object(o) = p else {
            panic!("object")
        };
        let (ct, body) = multipart(&o);
        let boundary = ct
            .strip_prefix("multipart/form-data; boundary=")
            .expect("boundary");
        let text = String::from_utf8(body.to_vec()).expect("utf8");
        assert_eq!(
            text,
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file.txt\"\r\nContent-Type: text/plain\r\n\r\nHello\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\n123\r\n--{boundary}--\r\n"
            )
        );
    }
}
