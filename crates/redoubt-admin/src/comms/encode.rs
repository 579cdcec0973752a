//! Node-RED's `RED.util.encodeObject` (`@node-red/util/lib/util.js`): turns
//! a value into the `{msg, format}` pair the editor's debug sidebar and
//! context sidebar decode (`debug-utils.js`).
//!
//! `msg` is always a string: strings are cut at `max` UTF-16 units with
//! `...` appended, Buffers become hex, objects and arrays become JSON in
//! which special values are `{"__enc__": true, "type": ...}` markers
//! (`undefined`, `NaN`/`Infinity`, Buffers, long arrays, HTTP internals)
//! and repeated references `"[Circular ~...]"` (json-stringify-safe).
//!
//! Deviations: a top-level Date prints as `Thu Jan 01 1970 00:00:00
//! GMT+0000` without the time zone name in parentheses; host handles
//! (`msg.res`) are `internal` markers, as Node-RED's `_res` key rule gives.

use redoubt_core::value::{Object, Value, format_number};
use serde_json::{Map, Value as Json};
use std::fmt::Write;

/// `encodeObject({msg: v}, {maxLength: max})`: the `(msg, format)` pair.
pub fn encode_value(v: &Value, max: usize) -> (String, String) {
    match v {
        Value::Undefined => ("(undefined)".into(), "undefined".into()),
        Value::Null => ("(undefined)".into(), "null".into()),
        Value::Bool(b) => (b.to_string(), "boolean".into()),
        Value::Number(n) => (format_number(*n), "number".into()),
        Value::String(s) => {
            let len = s.encode_utf16().count();
            let text = match truncate_utf16(s, max) {
                Some(t) => format!("{t}..."),
                None => s.to_string(),
            };
            (text, format!("string[{len}]"))
        }
        Value::Buffer(b) => {
            let mut hex = String::with_capacity(b.len() * 2);
            for byte in b.iter() {
                let _ = write!(hex, "{byte:02x}");
            }
            hex.truncate(max);
            (hex, format!("buffer[{}]", b.len()))
        }
        Value::Date(ms) => (date_to_string(*ms), "Date".into()),
        Value::Array(a) => {
            let len = a.len();
            let text = if len > max {
                let o = Object::new();
                o.insert("__enc__", Value::Bool(true));
                o.insert("type", Value::str("array"));
                o.insert("data", Value::from(a.with(|items| items[..max].to_vec())));
                o.insert("length", Value::Number(len as f64));
                stringify(&Value::Object(o), max)
            } else {
                stringify(v, max)
            };
            (text, format!("array[{len}]"))
        }
        Value::Object(_) | Value::Handle(_) => (stringify(v, max), "Object".into()),
    }
}

/// `encodeObject` as a JSON object `{msg, format}` (the context API's value
/// shape).
pub fn encode_json(v: &Value, max: usize) -> Json {
    let (msg, format) = encode_value(v, max);
    let mut m = Map::new();
    m.insert("msg".into(), Json::String(msg));
    m.insert("format".into(), Json::String(format));
    Json::Object(m)
}

/// Encodes a debug node's sidebar message (an object with `id`, `z`,
/// `path`, `name`, `topic`, `property` and the raw `msg`): `msg` becomes
/// its encoded string and `format` is added after it.
pub fn encode_debug(message: &Value, max: usize) -> Json {
    let mut out = Map::new();
    let Value::Object(o) = message else {
        let (msg, format) = encode_value(message, max);
        out.insert("msg".into(), Json::String(msg));
        out.insert("format".into(), Json::String(format));
        return Json::Object(out);
    };
    let mut format = None;
    for (k, v) in o.entries() {
        if &*k == "msg" {
            let (msg, f) = encode_value(&v, max);
            out.insert("msg".into(), Json::String(msg));
            format = Some(f);
        } else if !v.is_undefined() {
            out.insert(k.to_string(), redoubt_core::value::to_serde(&v));
        }
    }
    let format = format.unwrap_or_else(|| encode_value(&Value::Undefined, max).1);
    if !out.contains_key("msg") {
        out.insert("msg".into(), Json::String("(undefined)".into()));
    }
    out.insert("format".into(), Json::String(format));
    Json::Object(out)
}

/// The prefix of `s` holding at most `max` UTF-16 units, or `None` when `s`
/// is not longer than that. A surrogate pair is never split.
fn truncate_utf16(s: &str, max: usize) -> Option<&str> {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        let w = c.len_utf16();
        if units + w > max {
            return Some(&s[..i]);
        }
        units += w;
    }
    None
}

/// `Date.prototype.toString` in UTC.
fn date_to_string(ms: f64) -> String {
    if !ms.is_finite() {
        return "Invalid Date".into();
    }
    match chrono::DateTime::from_timestamp_millis(ms as i64) {
        Some(d) => d.format("%a %b %d %Y %H:%M:%S GMT+0000").to_string(),
        None => "Invalid Date".into(),
    }
}

/// `JSON.stringify` with json-stringify-safe's cycle replacement and
/// encodeObject's replacer.
fn stringify(v: &Value, max: usize) -> String {
    let mut w = Enc {
        out: String::new(),
        max,
        ancestors: Vec::new(),
        keys: Vec::new(),
    };
    w.value("", v);
    w.out
}

struct Enc {
    out: String,
    max: usize,
    /// Containers from the root down to the one being written.
    ancestors: Vec<usize>,
    /// `keys[i]` is the key of `ancestors[i + 1]` inside `ancestors[i]`.
    keys: Vec<String>,
}

fn addr(v: &Value) -> Option<usize> {
    match v {
        Value::Object(o) => Some(o.addr()),
        Value::Array(a) => Some(a.addr()),
        _ => None,
    }
}

impl Enc {
    fn str(&mut self, s: &str) {
        // serde_json's string escaping matches JSON.stringify's.
        match serde_json::to_string(s) {
            Ok(t) => self.out.push_str(&t),
            Err(_) => self.out.push_str("\"\""),
        }
    }

    fn marker(&mut self, kind: &str, data: Option<&str>) {
        self.out.push_str("{\"__enc__\":true,\"type\":");
        self.str(kind);
        if let Some(d) = data {
            self.out.push_str(",\"data\":");
            self.str(d);
        }
        self.out.push('}');
    }

    fn text(&mut self, s: &str) {
        match truncate_utf16(s, self.max) {
            Some(t) => {
                let t = format!("{t}...");
                self.str(&t);
            }
            None => self.str(s),
        }
    }

    fn value(&mut self, key: &str, v: &Value) {
        if let Some(a) = addr(v)
            && let Some(pos) = self.ancestors.iter().position(|x| *x == a)
        {
            let s = if pos == 0 {
                "[Circular ~]".to_string()
            } else {
                format!("[Circular ~.{}]", self.keys[..pos].join("."))
            };
            self.text(&s);
            return;
        }
        if key == "_req" || key == "_res" {
            self.marker("internal", None);
            return;
        }
        match v {
            Value::Undefined => self.marker("undefined", None),
            Value::Handle(_) => self.marker("internal", None),
            Value::Null => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) if n.is_finite() => self.out.push_str(&format_number(*n)),
            Value::Number(n) => {
                let d = format_number(*n);
                self.marker("number", Some(&d));
            }
            Value::String(s) => self.text(s),
            Value::Date(ms) => match redoubt_core::value::to_json(v) {
                // A Date's toJSON runs before the replacer: its ISO string.
                Ok(iso) if ms.is_finite() => {
                    let iso = serde_json::from_str::<String>(&iso).unwrap_or(iso);
                    self.text(&iso);
                }
                _ => self.out.push_str("null"),
            },
            Value::Buffer(b) => {
                self.out.push_str("{\"type\":\"Buffer\",\"data\":[");
                for (i, byte) in b.iter().take(self.max).enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    let _ = write!(self.out, "{byte}");
                }
                let _ = write!(self.out, "],\"__enc__\":true,\"length\":{}}}", b.len());
            }
            Value::Array(a) => self.array(key, v, a.to_vec()),
            Value::Object(o) => self.object(key, v, o),
        }
    }

    fn enter(&mut self, key: &str, v: &Value) {
        if !self.ancestors.is_empty() {
            self.keys.push(key.to_string());
        }
        if let Some(a) = addr(v) {
            self.ancestors.push(a);
        }
    }

    fn leave(&mut self) {
        self.ancestors.pop();
        if self.keys.len() >= self.ancestors.len() && !self.keys.is_empty() {
            self.keys.pop();
        }
    }

    fn array(&mut self, key: &str, v: &Value, items: Vec<Value>) {
        let long = items.len() > self.max;
        self.enter(key, v);
        if long {
            let _ = write!(self.out, "{{\"__enc__\":true,\"type\":\"array\",\"data\":");
        }
        self.out.push('[');
        for (i, item) in items.iter().take(self.max).enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.value(&i.to_string(), item);
        }
        self.out.push(']');
        if long {
            let _ = write!(self.out, ",\"length\":{}}}", items.len());
        }
        self.leave();
    }

    fn object(&mut self, key: &str, v: &Value, o: &Object) {
        let entries = o.entries();
        // A plain object shaped like a serialized Buffer is marked as one.
        let buffer_like = matches!(o.get("type"), Some(Value::String(t)) if &*t == "Buffer")
            && matches!(o.get("data"), Some(Value::Array(_)));
        self.enter(key, v);
        self.out.push('{');
        let mut first = true;
        for (k, item) in &entries {
            let item = match (buffer_like, &**k, item) {
                (true, "data", Value::Array(a)) if a.len() > self.max => {
                    Value::from(a.with(|x| x[..self.max].to_vec()))
                }
                _ => item.clone(),
            };
            if !first {
                self.out.push(',');
            }
            first = false;
            self.str(k);
            self.out.push(':');
            self.value(k, &item);
        }
        if buffer_like {
            let len = o
                .get("data")
                .and_then(|d| d.as_array().map(|a| a.len()))
                .unwrap_or(0);
            if !first {
                self.out.push(',');
            }
            let _ = write!(self.out, "\"__enc__\":true,\"length\":{len}");
        }
        self.out.push('}');
        self.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redoubt_core::value::from_json_str;

    fn enc(json: &str, max: usize) -> (String, String) {
        let v = from_json_str(json).unwrap_or(Value::Undefined);
        encode_value(&v, max)
    }

    #[test]
    fn scalars_get_their_formats() {
        assert_eq!(
            encode_value(&Value::Number(21.5), 1000),
            ("21.5".into(), "number".into())
        );
        assert_eq!(
            encode_value(&Value::Bool(true), 1000),
            ("true".into(), "boolean".into())
        );
        assert_eq!(
            encode_value(&Value::Null, 1000),
            ("(undefined)".into(), "null".into())
        );
        assert_eq!(
            encode_value(&Value::Undefined, 1000),
            ("(undefined)".into(), "undefined".into())
        );
        assert_eq!(
            encode_value(&Value::Number(f64::NAN), 1000),
            ("NaN".into(), "number".into())
        );
    }

    #[test]
    fn strings_are_cut_at_max_utf16_units() {
        assert_eq!(
            encode_value(&Value::str("hello"), 1000),
            ("hello".into(), "string[5]".into())
        );
        assert_eq!(
            encode_value(&Value::str("hello"), 3),
            ("hel...".into(), "string[5]".into())
        );
        // "😀" is two UTF-16 units.
        assert_eq!(encode_value(&Value::str("a😀b"), 1000).1, "string[4]");
        assert_eq!(encode_value(&Value::str("a😀b"), 2).0, "a...");
    }

    #[test]
    fn buffers_are_hex() {
        let b = Value::Buffer(bytes::Bytes::from_static(&[1, 2, 0xab, 0xff]));
        assert_eq!(
            encode_value(&b, 1000),
            ("0102abff".into(), "buffer[4]".into())
        );
        assert_eq!(encode_value(&b, 3).0, "010");
    }

    #[test]
    fn arrays_and_objects_are_json_with_markers() {
        assert_eq!(enc("[1,2,3]", 1000), ("[1,2,3]".into(), "array[3]".into()));
        assert_eq!(
            enc("[1,2,3,4,5,6]", 5),
            (
                "{\"__enc__\":true,\"type\":\"array\",\"data\":[1,2,3,4,5],\"length\":6}".into(),
                "array[6]".into()
            )
        );
        // As in Node-RED, the replacer also cuts the marker's own strings.
        assert_eq!(
            enc("[1,2,3]", 2).0,
            "{\"__enc__\":true,\"type\":\"ar...\",\"data\":[1,2],\"length\":3}"
        );
        assert_eq!(
            enc("{\"a\":1,\"b\":\"xyz\"}", 2),
            ("{\"a\":1,\"b\":\"xy...\"}".into(), "Object".into())
        );
        let o = Object::new();
        o.insert("u", Value::Undefined);
        o.insert("n", Value::Number(f64::INFINITY));
        o.insert("b", Value::Buffer(bytes::Bytes::from_static(&[7])));
        o.insert("_res", Value::new_object());
        assert_eq!(
            encode_value(&Value::Object(o), 1000).0,
            "{\"u\":{\"__enc__\":true,\"type\":\"undefined\"},\"n\":{\"__enc__\":true,\"type\":\"number\",\"data\":\"Infinity\"},\
             \"b\":{\"type\":\"Buffer\",\"data\":[7],\"__enc__\":true,\"length\":1},\"_res\":{\"__enc__\":true,\"type\":\"internal\"}}"
        );
    }

    #[test]
    fn repeated_references_become_circular_markers() {
        let root = Object::new();
        let child = Object::new();
        child.insert("up", Value::Object(root.clone()));
        let inner = Object::new();
        child.insert("inner", Value::Object(inner.clone()));
        inner.insert("back", Value::Object(child.clone()));
        root.insert("child", Value::Object(child));
        assert_eq!(
            encode_value(&Value::Object(root), 1000).0,
            "{\"child\":{\"up\":\"[Circular ~]\",\"inner\":{\"back\":\"[Circular ~.child]\"}}}"
        );
    }

    #[test]
    fn serialized_buffers_in_objects_are_marked() {
        assert_eq!(
            enc("{\"x\":{\"type\":\"Buffer\",\"data\":[1,2,3,4,5,6,7]}}", 6).0,
            "{\"x\":{\"type\":\"Buffer\",\"data\":[1,2,3,4,5,6],\"__enc__\":true,\"length\":7}}"
        );
    }

    #[test]
    fn debug_messages_keep_their_fields_and_gain_a_format() {
        let m = from_json_str(r#"{"id":"d1","z":"t1","path":"t1","name":"","topic":"t","property":"payload","msg":"hi"}"#)
            .unwrap_or(Value::Undefined);
        assert_eq!(
            encode_debug(&m, 1000),
            serde_json::json!({"id":"d1","z":"t1","path":"t1","name":"","topic":"t","property":"payload","msg":"hi","format":"string[2]"})
        );
    }

    #[test]
    fn dates_print_like_js() {
        assert_eq!(
            encode_value(&Value::Date(0.0), 1000),
            ("Thu Jan 01 1970 00:00:00 GMT+0000".into(), "Date".into())
        );
        let o = Object::new();
        o.insert("d", Value::Date(0.0));
        assert_eq!(
            encode_value(&Value::Object(o), 1000).0,
            "{\"d\":\"1970-01-01T00:00:00.000Z\"}"
        );
    }
}
