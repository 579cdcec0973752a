//! JSON in and out with `JSON.stringify` / `JSON.parse` semantics.
//!
//! Output follows `JSON.stringify`: keys in insertion order, numbers printed
//! as JS prints them, `undefined` members omitted (and `null` inside arrays),
//! `NaN`/`Infinity` as `null`, a Buffer as `{"type":"Buffer","data":[...]}`,
//! a Date as its ISO string, and a circular structure is an error.

use super::object::map_with_capacity;
use super::{Array, Object, Str, Value, js};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt::Write;
use std::sync::Arc;

/// Why a value could not become JSON text, or JSON text a value.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// The value refers to itself.
    #[error("Converting circular structure to JSON")]
    Circular,
    /// The text is not valid JSON.
    #[error("{0}")]
    Syntax(#[from] serde_json::Error),
}

/// `JSON.stringify(value)`. Top-level `undefined` gives `"null"`.
pub fn to_json(v: &Value) -> Result<String, JsonError> {
    let mut out = String::new();
    Writer {
        out: &mut out,
        indent: None,
        stack: HashSet::new(),
    }
    .value(v, 0)?;
    Ok(out)
}

/// `JSON.stringify(value, null, indent)`.
pub fn to_json_pretty(v: &Value, indent: usize) -> Result<String, JsonError> {
    let mut out = String::new();
    let pad = " ".repeat(indent);
    Writer {
        out: &mut out,
        indent: Some(&pad),
        stack: HashSet::new(),
    }
    .value(v, 0)?;
    Ok(out)
}

struct Writer<'a> {
    out: &'a mut String,
    indent: Option<&'a str>,
    stack: HashSet<usize>,
}

impl Writer<'_> {
    fn newline(&mut self, depth: usize) {
        if let Some(pad) = self.indent {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str(pad);
            }
        }
    }

    fn value(&mut self, v: &Value, depth: usize) -> Result<(), JsonError> {
        match v {
            Value::Undefined | Value::Null | Value::Handle(_) => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => {
                if n.is_finite() {
                    self.out.push_str(&js::format_number(*n));
                } else {
                    self.out.push_str("null");
                }
            }
            Value::String(s) => write_string(self.out, s),
            Value::Date(ms) => match js::date_to_iso(*ms) {
                Some(s) => write_string(self.out, &s),
                None => self.out.push_str("null"),
            },
            Value::Buffer(b) => {
                let data: Vec<Value> = b.iter().map(|x| Value::Number(f64::from(*x))).collect();
                let o = Object::new();
                o.insert("type", Value::str("Buffer"));
                o.insert("data", Value::from(data));
                self.value(&Value::Object(o), depth)?;
            }
            Value::Array(a) => {
                if !self.stack.insert(a.addr()) {
                    return Err(JsonError::Circular);
                }
                let items = a.to_vec();
                if items.is_empty() {
                    self.out.push_str("[]");
                } else {
                    self.out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            self.out.push(',');
                        }
                        self.newline(depth + 1);
                        self.value(item, depth + 1)?;
                    }
                    self.newline(depth);
                    self.out.push(']');
                }
                self.stack.remove(&a.addr());
            }
            Value::Object(o) => {
                if !self.stack.insert(o.addr()) {
                    return Err(JsonError::Circular);
                }
                let entries = o.entries();
                let mut first = true;
                self.out.push('{');
                for (k, item) in entries.iter() {
                    if matches!(item, Value::Undefined | Value::Handle(_)) {
                        continue;
                    }
                    if !first {
                        self.out.push(',');
                    }
                    first = false;
                    self.newline(depth + 1);
                    write_string(self.out, k);
                    self.out.push(':');
                    if self.indent.is_some() {
                        self.out.push(' ');
                    }
                    self.value(item, depth + 1)?;
                }
                if !first {
                    self.newline(depth);
                }
                self.out.push('}');
                self.stack.remove(&o.addr());
            }
        }
        Ok(())
    }
}

fn write_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `JSON.parse(text)`.
pub fn from_json_str(text: &str) -> Result<Value, JsonError> {
    Ok(serde_json::from_str::<Value>(text)?)
}

/// Converts a `serde_json::Value` (at the crate's edges).
pub fn from_serde(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(a) => Value::from(a.iter().map(from_serde).collect::<Vec<_>>()),
        serde_json::Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (Str::from(k.as_str()), from_serde(v)))
                .collect(),
        ),
    }
}

/// Converts to a `serde_json::Value` with `JSON.stringify` rules (cycles become `null`).
pub fn to_serde(v: &Value) -> serde_json::Value {
    match to_json(v) {
        Ok(s) => serde_json::from_str(&s).unwrap_or(serde_json::Value::Null),
        Err(_) => serde_json::Value::Null,
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(Arc::from(s)))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(x) = seq.next_element::<Value>()? {
            v.push(x);
        }
        Ok(Value::Array(Array::from_vec(v)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = map_with_capacity(map.size_hint().unwrap_or(0));
        while let Some((Key(k), v)) = map.next_entry::<Key, Value>()? {
            // JSON.parse keeps the last duplicate at the first position.
            m.insert(k, v);
        }
        Ok(Value::Object(Object::from_map(m)))
    }
}

/// An object key, made straight from the parser's text (one allocation,
/// not a `String` and then a copy of it).
struct Key(Str);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
        Ok(Key(Str::from(s)))
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        to_serde(self).serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_key_order_and_number_format() {
        let v = from_json_str(r#"{"z":1,"a":[1.5,2,null],"m":{"b":true}}"#).expect("parse");
        assert_eq!(
            to_json(&v).expect("json"),
            r#"{"z":1,"a":[1.5,2,null],"m":{"b":true}}"#
        );
    }

    /// Keys with escapes reach the parser's key visitor from a scratch
    /// buffer, plain ones borrowed from the text: both come out the same,
    /// and a duplicate keeps the first position with the last value.
    #[test]
    fn keys_with_and_without_escapes_parse_as_json_parse_does() {
        let v = from_json_str(r#"{"a\u0062":1,"x":1,"a\"q":2,"é\n":3,"x":4}"#).expect("parse");
        let Value::Object(o) = &v else {
            panic!("not an object: {v:?}");
        };
        assert_eq!(
            o.keys(),
            vec![
                Str::from("ab"),
                Str::from("x"),
                Str::from("a\"q"),
                Str::from("é\n")
            ]
        );
        assert_eq!(
            to_json(&v).expect("json"),
            r#"{"ab":1,"x":4,"a\"q":2,"é\n":3}"#
        );
        assert!(from_json_str(r#"{"a":1,}"#).is_err());
        assert!(from_json_str(r#"{1:2}"#).is_err());
    }

    #[test]
    fn stringify_omits_undefined_and_encodes_buffers() {
        let o = Object::new();
        o.insert("u", Value::Undefined);
        o.insert("b", Value::Buffer(bytes::Bytes::from_static(&[1, 255])));
        assert_eq!(
            to_json(&Value::Object(o)).expect("json"),
            r#"{"b":{"type":"Buffer","data":[1,255]}}"#
        );
    }

    #[test]
    fn pretty_matches_json_stringify_indent() {
        let v = from_json_str(r#"{"a":[1,{}],"b":{}}"#).expect("parse");
        assert_eq!(
            to_json_pretty(&v, 4).expect("json"),
            "{\n    \"a\": [\n        1,\n        {}\n    ],\n    \"b\": {}\n}"
        );
    }

    #[test]
    fn circular_structures_are_an_error() {
        let o = Object::new();
        o.insert("me", Value::Object(o.clone()));
        assert!(matches!(
            to_json(&Value::Object(o)),
            Err(JsonError::Circular)
        ));
    }
}
