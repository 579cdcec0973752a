//! Context file contents: one JSON object per scope, written with
//! `JSON.stringify(value, null, 4)` through Node-RED's `json-stringify-safe`
//! semantics, where a reference back to an enclosing object or array is
//! dropped (omitted from objects, `null` in arrays) instead of failing.

use crate::error::StorageError;
use indexmap::IndexMap;
use redoubt_core::value::{Array, JsonError, Object, Value, from_json_str, to_json_pretty};
use std::path::Path;

/// A scope's top-level entries.
pub(super) type ScopeData = IndexMap<String, Value>;

/// The file text for `data`, and whether circular references were dropped.
pub(super) fn encode(data: &ScopeData, path: &Path) -> Result<(String, bool), StorageError> {
    let mut circular = false;
    let mut stack = Vec::new();
    let obj = Object::new();
    for (k, v) in data {
        if let Some(v) = decycle(v, &mut stack, &mut circular) {
            obj.insert(k.as_str(), v);
        }
    }
    let text = to_json_pretty(&Value::Object(obj), 4).map_err(|e| StorageError::Encode {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok((text, circular))
}

/// A copy of `v` without references to its own ancestors (`None` when `v`
/// itself is one). Leaves are shared, containers are new.
fn decycle(v: &Value, stack: &mut Vec<usize>, circular: &mut bool) -> Option<Value> {
    let addr = match v {
        Value::Object(o) => o.addr(),
        Value::Array(a) => a.addr(),
        other => return Some(other.clone()),
    };
    if stack.contains(&addr) {
        *circular = true;
        return None;
    }
    stack.push(addr);
    let out = match v {
        Value::Object(o) => {
            let copy = Object::new();
            for (k, item) in o.entries() {
                if let Some(item) = decycle(&item, stack, circular) {
                    copy.insert(k, item);
                }
            }
            Value::Object(copy)
        }
        Value::Array(a) => {
            let items = a
                .to_vec()
                .iter()
                .map(|item| decycle(item, stack, circular).unwrap_or(Value::Undefined))
                .collect();
            Value::Array(Array::from_vec(items))
        }
        other => other.clone(),
    };
    stack.pop();
    Some(out)
}

/// Parses a context file. Empty text is an empty scope, as in Node-RED.
pub(super) fn decode(text: &str, path: &Path) -> Result<ScopeData, StorageError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.is_empty() {
        return Ok(ScopeData::new());
    }
    match from_json_str(text) {
        Ok(Value::Object(o)) => Ok(o
            .entries()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()),
        Ok(_) => Err(StorageError::Shape {
            path: path.to_path_buf(),
            expected: "a JSON object",
        }),
        Err(JsonError::Syntax(e)) => Err(StorageError::json(path, &e)),
        Err(e) => Err(StorageError::Encode {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circular_references_are_dropped_like_json_stringify_safe() {
        let o = Object::new();
        o.insert("a", Value::from(1.0));
        o.insert("me", Value::Object(o.clone()));
        let arr = Array::from_vec(vec![Value::from(2.0)]);
        arr.push(Value::Array(arr.clone()));
        let shared = Value::from(vec![Value::from(true)]);
        let mut data = ScopeData::new();
        data.insert("o".into(), Value::Object(o));
        data.insert("arr".into(), Value::Array(arr));
        data.insert("s1".into(), shared.clone());
        data.insert("s2".into(), shared);
        let (text, circular) = encode(&data, Path::new("x.json")).expect("encode");
        assert!(circular);
        let compact: String = text.split_whitespace().collect();
        assert_eq!(
            compact,
            r#"{"o":{"a":1},"arr":[2,null],"s1":[true],"s2":[true]}"#
        );
    }
}
