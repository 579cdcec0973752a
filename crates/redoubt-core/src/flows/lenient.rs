//! Node-RED stores many numbers and booleans as strings (`"5"`, `"true"`);
//! these readers accept both, and say what they got when it is neither.

use serde_json::Value as Json;

/// Truthy for `true`, `"true"`, `1`, `"1"`.
pub fn as_bool(v: Option<&Json>) -> bool {
    match v {
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => s == "true" || s == "1",
        Some(Json::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        _ => false,
    }
}

/// A number from a number or a numeric string; missing or `""` is `None`.
pub fn as_num(v: Option<&Json>) -> Result<Option<f64>, String> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(n)) => Ok(n.as_f64()),
        Some(Json::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Json::String(s)) => {
            let n = crate::value::Value::str(s).to_number();
            if n.is_nan() {
                Err(format!("expected a number, got {s:?}"))
            } else {
                Ok(Some(n))
            }
        }
        Some(Json::Bool(b)) => Ok(Some(if *b { 1.0 } else { 0.0 })),
        Some(other) => Err(format!("expected a number, got {other}")),
    }
}
