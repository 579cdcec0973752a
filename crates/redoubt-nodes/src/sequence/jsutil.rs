//! JavaScript semantics the sequence and timing nodes share: `parseInt`,
//! `parseFloat`, the relational `>` behind `Array.prototype.sort`
//! comparators, `RED.util.compareObjects`, `getMessageProperty`'s throwing
//! walk, and a stable merge sort.
//!
//! The merge sort exists because user comparators (sort node keys that are
//! `NaN`, mixed types) need not be a total order: `slice::sort_by` may panic
//! on those, while V8 simply produces some permutation.

use redoubt_core::Msg;
use redoubt_core::node::{ConfigError, NodeCtx};
use redoubt_core::propex::{self, Seg};
use redoubt_core::value::{Value, strict_eq};
use std::cmp::Ordering;

/// Parses a message property expression at build time (a leading `msg.` is allowed).
pub(crate) fn parse_prop(field: &str, expr: &str) -> Result<Vec<Seg>, ConfigError> {
    propex::parse(propex::strip_msg(expr)).map_err(|e| ConfigError::field(field, e.to_string()))
}

/// `RED.util.getMessageProperty`; missing is `undefined`.
pub(crate) fn get_prop(msg: &Msg, segs: &[Seg]) -> Value {
    propex::get_segs(&msg.to_value(), segs, Some(msg)).unwrap_or_default()
}

/// `RED.util.setMessageProperty` (creating missing parents).
pub(crate) fn set_prop(msg: &Msg, segs: &[Seg], v: Value) {
    propex::set_segs(&msg.to_value(), segs, v, true, Some(msg));
}

/// `getMessageProperty` as JavaScript runs it: reading through a missing or
/// `null` parent throws (`Err`), a missing leaf is `undefined`.
pub(crate) fn get_prop_strict(msg: &Msg, segs: &[Seg]) -> Result<Value, ()> {
    let root = msg.to_value();
    for i in 1..segs.len() {
        match propex::get_segs(&root, &segs[..i], Some(msg)) {
            Some(v) if !v.is_nullish() => {}
            _ => return Err(()),
        }
    }
    Ok(propex::get_segs(&root, segs, Some(msg)).unwrap_or_default())
}

/// `settings.nodeMessageBufferMaxLength` (0 = unlimited).
pub(crate) fn max_kept_msgs(cx: &NodeCtx<'_>) -> usize {
    cx.settings()
        .raw
        .get("nodeMessageBufferMaxLength")
        .and_then(serde_json::Value::as_f64)
        .filter(|n| *n > 0.0)
        .map(|n| n as usize)
        .unwrap_or(0)
}

/// JavaScript `parseInt(text)` (radix 10, or 16 with a `0x` prefix); `None` is `NaN`.
pub(crate) fn parse_int(text: &str) -> Option<f64> {
    let t = text.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, t) = match t.get(..2) {
        Some("0x") | Some("0X") => (16, &t[2..]),
        _ => (10, t),
    };
    let digits: String = t.chars().take_while(|c| c.is_digit(radix)).collect();
    if digits.is_empty() {
        return None;
    }
    let mut n = 0f64;
    for c in digits.chars() {
        n = n * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0));
    }
    Some(if neg { -n } else { n })
}

/// JavaScript `parseFloat(text)`: the longest decimal prefix, else `NaN`.
pub(crate) fn parse_float(text: &str) -> f64 {
    let t = text.trim_start();
    let b = t.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+') | Some(b'-')) {
        i = 1;
    }
    if t[i..].starts_with("Infinity") {
        return if b.first() == Some(&b'-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let digits = |mut k: usize| {
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        k
    };
    let int_end = digits(i);
    let mut end = int_end;
    let mut any = int_end > i;
    if end < b.len() && b[end] == b'.' {
        let frac_end = digits(end + 1);
        if any || frac_end > end + 1 {
            any = true;
            end = frac_end;
        }
    }
    if !any {
        return f64::NAN;
    }
    if end < b.len() && (b[end] == b'e' || b[end] == b'E') {
        let mut k = end + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        let exp_end = digits(k);
        if exp_end > k {
            end = exp_end;
        }
    }
    t[..end].parse::<f64>().unwrap_or(f64::NAN)
}

/// `parseFloat(value)`: numbers as they are, everything else through `String(value)`.
pub(crate) fn parse_float_value(v: &Value) -> f64 {
    match v {
        Value::Number(n) => *n,
        other => parse_float(&other.to_js_string()),
    }
}

enum Prim {
    Str(String),
    Num(f64),
}

/// `ToPrimitive` with hint "number".
fn to_primitive(v: &Value) -> Prim {
    match v {
        Value::String(s) => Prim::Str(s.to_string()),
        Value::Buffer(_) | Value::Array(_) | Value::Object(_) | Value::Handle(_) => {
            Prim::Str(v.to_js_string())
        }
        other => Prim::Num(other.to_number()),
    }
}

/// JavaScript `a > b` (abstract relational comparison).
pub(crate) fn js_gt(a: &Value, b: &Value) -> bool {
    match (to_primitive(a), to_primitive(b)) {
        (Prim::Str(x), Prim::Str(y)) => x.encode_utf16().cmp(y.encode_utf16()) == Ordering::Greater,
        (x, y) => {
            let num = |p: Prim| match p {
                Prim::Num(n) => n,
                Prim::Str(s) => Value::from(s).to_number(),
            };
            num(x) > num(y)
        }
    }
}

/// The comparator Node-RED's sort node builds: `===` is equal, `>` is
/// `dir`, anything else is `-dir`.
pub(crate) fn js_compare(a: &Value, b: &Value, descending: bool) -> Ordering {
    if strict_eq(a, b) {
        return Ordering::Equal;
    }
    let gt = if js_gt(a, b) {
        Ordering::Greater
    } else {
        Ordering::Less
    };
    if descending { gt.reverse() } else { gt }
}

/// `RED.util.compareObjects`: deep equality of arrays, buffers and objects
/// (a `Date` is an object without keys, as in JavaScript).
pub(crate) fn compare_objects(a: &Value, b: &Value) -> bool {
    if strict_eq(a, b) {
        return true;
    }
    if a.is_nullish() || b.is_nullish() {
        return false;
    }
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            let (x, y) = (x.to_vec(), y.to_vec());
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| compare_objects(p, q))
        }
        (Value::Array(_), _) | (_, Value::Array(_)) => false,
        (Value::Buffer(x), Value::Buffer(y)) => x == y,
        (Value::Buffer(_), _) | (_, Value::Buffer(_)) => false,
        _ => {
            let keys = |v: &Value| match v {
                Value::Object(o) => Some(o.entries()),
                Value::Date(_) | Value::Handle(_) => Some(Vec::new()),
                _ => None,
            };
            let (Some(ka), Some(kb)) = (keys(a), keys(b)) else {
                return false;
            };
            if ka.len() != kb.len() {
                return false;
            }
            let other = |k: &str| match b {
                Value::Object(o) => o.get(k).unwrap_or_default(),
                _ => Value::Undefined,
            };
            ka.iter().all(|(k, v)| compare_objects(v, &other(k)))
        }
    }
}

/// A stable merge sort that never panics, whatever the comparator answers.
pub(crate) fn merge_sort_by<T>(items: Vec<T>, cmp: &mut impl FnMut(&T, &T) -> Ordering) -> Vec<T> {
    if items.len() <= 1 {
        return items;
    }
    let mut left = items;
    let right = left.split_off(left.len() / 2);
    let left = merge_sort_by(left, cmp);
    let right = merge_sort_by(right, cmp);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        let take_left = match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => cmp(a, b) != Ordering::Greater,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_left { l.next() } else { r.next() };
        out.extend(next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use redoubt_core::value::from_json_str;

    fn v(s: &str) -> Value {
        from_json_str(s).expect("test JSON")
    }

    #[test]
    fn parse_int_follows_javascript() {
        assert_eq!(parse_int("12abc"), Some(12.0));
        assert_eq!(parse_int("  -7"), Some(-7.0));
        assert_eq!(parse_int("0x1f"), Some(31.0));
        assert_eq!(parse_int("abc"), None);
        assert_eq!(parse_int(""), None);
    }

    #[test]
    fn parse_float_follows_javascript() {
        assert_eq!(parse_float("3.5kg"), 3.5);
        assert_eq!(parse_float(" -1e3x"), -1000.0);
        assert_eq!(parse_float(".5"), 0.5);
        assert_eq!(parse_float("1."), 1.0);
        assert_eq!(parse_float("2e"), 2.0);
        assert_eq!(parse_float("-Infinity"), f64::NEG_INFINITY);
        assert!(parse_float("abc").is_nan());
        assert!(parse_float(".").is_nan());
        assert_eq!(parse_float_value(&v("[5]")), 5.0);
        assert!(parse_float_value(&Value::Bool(true)).is_nan());
    }

    #[test]
    fn relational_comparison_follows_javascript() {
        assert!(js_gt(&v("\"b\""), &v("\"a\"")));
        assert!(js_gt(&v("\"a\""), &v("\"C\"")));
        assert!(!js_gt(&v("\"10\""), &v("\"9\"")));
        assert!(js_gt(&v("10"), &v("\"9\"")));
        assert!(!js_gt(&v("1"), &Value::Undefined));
        assert_eq!(js_compare(&v("1"), &v("2"), true), Ordering::Greater);
    }

    #[test]
    fn compare_objects_is_deep() {
        assert!(compare_objects(
            &v(r#"{"a":[1,{"b":2}]}"#),
            &v(r#"{"a":[1,{"b":2}]}"#)
        ));
        assert!(!compare_objects(&v(r#"{"a":1}"#), &v(r#"{"a":"1"}"#)));
        assert!(!compare_objects(&v("[]"), &v("{}")));
        assert!(compare_objects(&Value::Null, &Value::Null));
        assert!(!compare_objects(&Value::Null, &v("{}")));
    }

    #[test]
    fn merge_sort_is_stable_and_total() {
        let items = vec![(1, 'a'), (0, 'b'), (1, 'c'), (0, 'd')];
        let out = merge_sort_by(items, &mut |x, y| x.0.cmp(&y.0));
        assert_eq!(out, vec![(0, 'b'), (0, 'd'), (1, 'a'), (1, 'c')]);
        // An inconsistent comparator still yields a permutation.
        let out = merge_sort_by(vec![3, 1, 2], &mut |_, _| Ordering::Less);
        assert_eq!(out.len(), 3);
    }
}
