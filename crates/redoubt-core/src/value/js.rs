//! JavaScript conversions and comparisons: `String(x)`, `Number(x)`, `==`, `===`.

use super::Value;
use std::sync::Arc;

/// Formats a number as `Number.prototype.toString` does (`1500`, `0.1`, `1e+21`).
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if n == 0.0 {
        return "0".into();
    }
    let mut buf = ryu_js::Buffer::new();
    buf.format_finite(n).to_string()
}

pub(super) fn to_js_string(v: &Value) -> String {
    match v {
        Value::Undefined => "undefined".into(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format_number(*n),
        // Not `to_string()`: on an `Arc<str>` that goes through `Display`.
        Value::String(s) => String::from(&**s),
        Value::Buffer(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Array(a) => a
            .to_vec()
            .iter()
            .map(|x| {
                if x.is_nullish() {
                    String::new()
                } else {
                    to_js_string(x)
                }
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) | Value::Handle(_) => "[object Object]".into(),
        Value::Date(ms) => date_to_string(*ms),
    }
}

fn date_to_string(ms: f64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms as i64) {
        Some(d) => d
            .format("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")
            .to_string(),
        None => "Invalid Date".into(),
    }
}

/// `Date.prototype.toISOString`.
pub(crate) fn date_to_iso(ms: f64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms as i64)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

pub(super) fn to_number(v: &Value) -> f64 {
    match v {
        Value::Undefined => f64::NAN,
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => *n,
        Value::String(s) => string_to_number(s),
        Value::Date(ms) => *ms,
        Value::Array(_) | Value::Buffer(_) => string_to_number(&to_js_string(v)),
        Value::Object(_) | Value::Handle(_) => f64::NAN,
    }
}

/// `Number(string)`: trims whitespace, empty is 0, accepts hex/octal/binary prefixes and `Infinity`.
pub(crate) fn string_to_number(s: &str) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return 0.0;
    }
    let radix = |p: &str, r: u32| {
        i64::from_str_radix(p, r)
            .map(|n| n as f64)
            .unwrap_or(f64::NAN)
    };
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return radix(h, 16);
    }
    if let Some(b) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        return radix(b, 2);
    }
    if let Some(o) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        return radix(o, 8);
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    // Rust accepts "inf"/"nan" spellings that JS does not.
    if t.chars()
        .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
    {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// JavaScript `===`.
pub fn strict_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Undefined, Value::Undefined) | (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Object(x), Value::Object(y)) => x.ptr_eq(y),
        (Value::Array(x), Value::Array(y)) => x.ptr_eq(y),
        (Value::Buffer(x), Value::Buffer(y)) => x.as_ptr() == y.as_ptr() && x.len() == y.len(),
        // Dates are objects in JS; two Date values are never === unless identical,
        // which we cannot tell apart, so compare by time.
        (Value::Date(x), Value::Date(y)) => x == y,
        (Value::Handle(x), Value::Handle(y)) => Arc::ptr_eq(&x.0, &y.0),
        _ => false,
    }
}

/// JavaScript `==` (abstract equality).
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (Undefined | Null, Undefined | Null) => true,
        (Undefined | Null, _) | (_, Undefined | Null) => false,
        (Number(x), Number(y)) => x == y,
        (String(x), String(y)) => x == y,
        (Bool(x), Bool(y)) => x == y,
        (Bool(_), _) => loose_eq(&Number(to_number(a)), b),
        (_, Bool(_)) => loose_eq(a, &Number(to_number(b))),
        (Number(x), String(_)) => *x == to_number(b),
        (String(_), Number(y)) => to_number(a) == *y,
        (
            Object(_) | Array(_) | Buffer(_) | Date(_) | Handle(_),
            Object(_) | Array(_) | Buffer(_) | Date(_) | Handle(_),
        ) => strict_eq(a, b),
        // object vs primitive: ToPrimitive (toString for objects/arrays, valueOf for dates)
        (Date(ms), Number(y)) | (Number(y), Date(ms)) => ms == y,
        (Object(_) | Array(_) | Buffer(_) | Date(_) | Handle(_), _) => {
            loose_eq(&String(to_js_string(a).into()), b)
        }
        (_, Object(_) | Array(_) | Buffer(_) | Date(_) | Handle(_)) => {
            loose_eq(a, &String(to_js_string(b).into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_javascript() {
        assert_eq!(format_number(1500.0), "1500");
        assert_eq!(format_number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_number(1e21), "1e+21");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(f64::NAN), "NaN");
    }

    #[test]
    fn loose_equality_coerces_like_javascript() {
        assert!(loose_eq(&Value::Number(1.0), &Value::str("1")));
        assert!(loose_eq(&Value::Bool(true), &Value::str("1")));
        assert!(loose_eq(&Value::Null, &Value::Undefined));
        assert!(!loose_eq(&Value::Null, &Value::Number(0.0)));
        assert!(loose_eq(&Value::str(""), &Value::Number(0.0)));
        assert!(loose_eq(
            &Value::from(vec![Value::Number(1.0), Value::Number(2.0)]),
            &Value::str("1,2")
        ));
    }

    #[test]
    fn string_to_number_follows_javascript() {
        assert_eq!(string_to_number(" 42 "), 42.0);
        assert_eq!(string_to_number(""), 0.0);
        assert_eq!(string_to_number("0x10"), 16.0);
        assert!(string_to_number("inf").is_nan());
        assert!(string_to_number("12px").is_nan());
    }
}
