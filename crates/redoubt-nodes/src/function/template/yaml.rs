//! YAML text to a JS value, close to js-yaml 4's `load()` (the template
//! node's "Parsed YAML" output): YAML 1.2 core booleans only (`yes` stays a
//! string), duplicate keys are an error, keys become strings, an empty
//! document is `undefined`.
//!
//! Deviation: YAML timestamps stay strings (js-yaml makes `Date`s).

use redoubt_core::value::{Array, Map, Object, Str, Value};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::DuplicateKeyPolicy;

/// Parses `text`; the error text is the parser's.
pub(crate) fn load(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Undefined);
    }
    let options = serde_saphyr::options! {
        strict_booleans: true,
        duplicate_keys: DuplicateKeyPolicy::Error,
    };
    serde_saphyr::from_str_with_options::<Yaml>(text, options)
        .map(|y| y.0)
        .map_err(|e| e.to_string())
}

struct Yaml(Value);

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Yaml, D::Error> {
        d.deserialize_any(YamlVisitor).map(Yaml)
    }
}

/// A mapping key: any scalar, as JS `String(key)` would name the property.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        let v = d.deserialize_any(YamlVisitor)?;
        Ok(Key(v.to_js_string()))
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
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
    fn visit_i128<E>(self, n: i128) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_u128<E>(self, n: u128) -> Result<Value, E> {
        Ok(Value::Number(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Number(n))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::str(s))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::from(s))
    }
    fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<Value, E> {
        Ok(Value::Buffer(bytes::Bytes::copy_from_slice(b)))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(YamlVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Yaml(v)) = seq.next_element::<Yaml>()? {
            items.push(v);
        }
        Ok(Value::Array(Array::from_vec(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = Map::default();
        while let Some((Key(k), Yaml(v))) = map.next_entry::<Key, Yaml>()? {
            m.insert(Str::from(k), v);
        }
        Ok(Value::Object(Object::from_map(m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redoubt_core::value::to_json;

    fn json(text: &str) -> String {
        to_json(&load(text).expect("yaml")).expect("json")
    }

    #[test]
    fn maps_lists_and_scalars() {
        assert_eq!(
            json("name: y\nnum: 7\nlist:\n  - a\n  - 7\nflag: yes\nquoted: \"7\"\n"),
            r#"{"name":"y","num":7,"list":["a",7],"flag":"yes","quoted":"7"}"#
        );
    }

    #[test]
    fn core_booleans_null_and_floats() {
        assert_eq!(
            json("[true, False, null, ~, 1.5, -3, on]"),
            r#"[true,false,null,null,1.5,-3,"on"]"#
        );
    }

    #[test]
    fn non_string_keys_become_strings() {
        assert_eq!(json("1: a\ntrue: b\n"), r#"{"1":"a","true":"b"}"#);
    }

    #[test]
    fn empty_document_is_undefined() {
        assert!(load("  \n").expect("yaml").is_undefined());
    }

    #[test]
    fn duplicate_keys_and_bad_syntax_are_errors() {
        assert!(load("a: 1\na: 2\n").is_err());
        assert!(load("a: [1, 2\n").is_err());
    }
}
