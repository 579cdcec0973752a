//! The switch rules' operators, with JavaScript's comparison semantics:
//! `==` for `eq`, the abstract relational comparison for `lt`..`btwn`
//! (strings compare by UTF-16 units, anything else as numbers, so
//! `null < 10`), `String(x)` for `cont` and `regex`.

use redoubt_core::node::NodeError;
use redoubt_core::value::{Value, from_json_str, loose_eq};
use std::cmp::Ordering;

/// A rule type (`t`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    Btwn,
    Cont,
    Regex,
    True,
    False,
    Null,
    NNull,
    Empty,
    NEmpty,
    IsType,
    Head,
    Tail,
    Index,
    HasKey,
    Jsonata,
    Else,
}

impl Op {
    pub(super) fn parse(t: &str) -> Option<Op> {
        Some(match t {
            "eq" => Op::Eq,
            "neq" => Op::Neq,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "btwn" => Op::Btwn,
            "cont" => Op::Cont,
            "regex" => Op::Regex,
            "true" => Op::True,
            "false" => Op::False,
            "null" => Op::Null,
            "nnull" => Op::NNull,
            "empty" => Op::Empty,
            "nempty" => Op::NEmpty,
            "istype" => Op::IsType,
            "head" => Op::Head,
            "tail" => Op::Tail,
            "index" => Op::Index,
            "hask" => Op::HasKey,
            "jsonata_exp" => Op::Jsonata,
            "else" => Op::Else,
            _ => return None,
        })
    }
}

/// `ToPrimitive(v, number)` for the values messages hold.
fn to_primitive(v: &Value) -> Value {
    match v {
        Value::Date(ms) => Value::Number(*ms),
        Value::Object(_) | Value::Array(_) | Value::Buffer(_) | Value::Handle(_) => {
            Value::from(v.to_js_string())
        }
        other => other.clone(),
    }
}

/// `a < b`; `None` when JS gives `undefined` (a NaN is involved).
pub(super) fn less(a: &Value, b: &Value) -> Option<bool> {
    let (pa, pb) = (to_primitive(a), to_primitive(b));
    if let (Value::String(x), Value::String(y)) = (&pa, &pb) {
        return Some(x.encode_utf16().cmp(y.encode_utf16()) == Ordering::Less);
    }
    let (x, y) = (pa.to_number(), pb.to_number());
    if x.is_nan() || y.is_nan() {
        None
    } else {
        Some(x < y)
    }
}

pub(super) fn lt(a: &Value, b: &Value) -> bool {
    less(a, b) == Some(true)
}

pub(super) fn lte(a: &Value, b: &Value) -> bool {
    less(b, a) == Some(false)
}

pub(super) fn gt(a: &Value, b: &Value) -> bool {
    less(b, a) == Some(true)
}

pub(super) fn gte(a: &Value, b: &Value) -> bool {
    less(a, b) == Some(false)
}

/// `typeof v === "object"` (null included).
fn is_object_type(v: &Value) -> bool {
    matches!(
        v,
        Value::Null
            | Value::Object(_)
            | Value::Array(_)
            | Value::Buffer(_)
            | Value::Date(_)
            | Value::Handle(_)
    )
}

fn key_index(k: &str) -> Option<usize> {
    let n: u32 = k.parse().ok()?;
    (n.to_string() == k).then_some(n as usize)
}

/// `a.hasOwnProperty(key)`.
fn has_own(a: &Value, key: &str) -> bool {
    match a {
        Value::Object(o) => o.contains_key(key),
        Value::Array(x) => key == "length" || key_index(key).is_some_and(|i| i < x.len()),
        Value::String(s) => {
            key == "length" || key_index(key).is_some_and(|i| i < s.encode_utf16().count())
        }
        Value::Buffer(b) => key_index(key).is_some_and(|i| i < b.len()),
        _ => false,
    }
}

fn length(a: &Value) -> Option<usize> {
    match a {
        Value::String(s) => Some(s.encode_utf16().count()),
        Value::Array(x) => Some(x.len()),
        Value::Buffer(b) => Some(b.len()),
        Value::Object(o) => Some(o.len()),
        Value::Date(_) => Some(0),
        // A host object (msg.res) has properties.
        Value::Handle(_) => Some(1),
        _ => None,
    }
}

fn is_type(a: &Value, name: &Value) -> bool {
    let Some(name) = name.as_str() else {
        return false;
    };
    match name {
        "array" => matches!(a, Value::Array(_)),
        "buffer" => matches!(a, Value::Buffer(_)),
        "json" => from_json_str(&a.to_js_string()).is_ok(),
        "null" => matches!(a, Value::Null),
        "number" => matches!(a, Value::Number(n) if !n.is_nan()),
        "string" => matches!(a, Value::String(_)),
        "boolean" => matches!(a, Value::Bool(_)),
        "undefined" => a.is_undefined(),
        "object" => matches!(a, Value::Object(_) | Value::Date(_) | Value::Handle(_)),
        _ => false,
    }
}

/// `msg.parts[key]`, failing as JS does when `msg.parts` is null or undefined.
fn part(parts: &Value, key: &str) -> Result<Value, NodeError> {
    match parts {
        Value::Undefined | Value::Null => Err(NodeError::new(format!(
            "Cannot read properties of {} (reading '{key}')",
            if parts.is_undefined() {
                "undefined"
            } else {
                "null"
            }
        ))),
        Value::Object(o) => Ok(o.get(key).unwrap_or_default()),
        _ => Ok(Value::Undefined),
    }
}

/// Everything an operator may look at.
pub(super) struct Args<'a> {
    pub a: &'a Value,
    pub v1: &'a Value,
    pub v2: &'a Value,
    pub parts: &'a Value,
}

/// Tests every operator but `regex` and `else`, which need the node's state.
pub(super) fn test(op: Op, x: &Args<'_>) -> Result<bool, NodeError> {
    let (a, b, c) = (x.a, x.v1, x.v2);
    Ok(match op {
        Op::Eq => loose_eq(a, b),
        Op::Neq => !loose_eq(a, b),
        Op::Lt => lt(a, b),
        Op::Lte => lte(a, b),
        Op::Gt => gt(a, b),
        Op::Gte => gte(a, b),
        Op::Btwn => (gte(a, b) && lte(a, c)) || (lte(a, b) && gte(a, c)),
        Op::Cont => a.to_js_string().contains(b.to_js_string().as_str()),
        Op::True => matches!(a, Value::Bool(true)),
        Op::False => matches!(a, Value::Bool(false)),
        Op::Null => a.is_nullish(),
        Op::NNull => !a.is_nullish(),
        Op::Empty => length(a) == Some(0),
        Op::NEmpty => length(a).is_some_and(|n| n != 0),
        Op::IsType => is_type(a, b),
        Op::Head => lt(&part(x.parts, "index")?, &Value::Number(b.to_number())),
        Op::Tail => {
            let count = part(x.parts, "count")?.to_number() - b.to_number();
            lte(&Value::Number(count), &part(x.parts, "index")?)
        }
        Op::Index => {
            let index = part(x.parts, "index")?;
            lte(&Value::Number(b.to_number()), &index) && lte(&index, &Value::Number(c.to_number()))
        }
        Op::HasKey => !a.is_nullish() && !is_object_type(b) && has_own(a, &b.to_js_string()),
        Op::Jsonata => matches!(b, Value::Bool(true)),
        Op::Regex | Op::Else => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use redoubt_core::value::from_json_str;

    fn v(json: &str) -> Value {
        from_json_str(json).expect("json")
    }

    #[test]
    fn relational_comparison_follows_javascript() {
        assert!(lt(&Value::Null, &Value::Number(10.0)));
        assert!(!lt(&Value::Undefined, &Value::Number(10.0)));
        assert!(!gte(&Value::Undefined, &Value::Number(10.0)));
        assert!(lt(&Value::str("15"), &Value::Number(20.0)));
        assert!(!lt(&Value::str("abc"), &Value::Number(10.0)));
        assert!(!gte(&Value::str("abc"), &Value::Number(10.0)));
        assert!(lt(&Value::str("10"), &Value::str("9")));
        assert!(lte(&Value::str("d"), &Value::str("e")) && gte(&Value::str("d"), &Value::str("c")));
        assert!(lt(&Value::Bool(false), &Value::Number(0.5)));
        assert!(lt(&v("[1]"), &Value::Number(2.0)));
        assert!(!lt(&v("{}"), &Value::Number(2.0)));
    }

    #[test]
    fn istype_and_emptiness() {
        assert!(is_type(
            &Value::Number(f64::INFINITY),
            &Value::str("number")
        ));
        assert!(!is_type(&Value::Number(f64::NAN), &Value::str("number")));
        assert!(is_type(&Value::str("{\"a\":1}"), &Value::str("json")));
        assert!(is_type(&Value::Number(5.0), &Value::str("json")));
        assert!(is_type(&Value::Null, &Value::str("json")));
        assert!(!is_type(&Value::Undefined, &Value::str("json")));
        assert!(!is_type(&Value::Null, &Value::str("object")));
        assert!(!is_type(&v("[]"), &Value::str("object")));
        assert_eq!(length(&v("{}")), Some(0));
        assert_eq!(length(&Value::Number(0.0)), None);
    }

    #[test]
    fn has_key_checks_own_properties() {
        assert!(has_own(&v(r#"{"a":1}"#), "a"));
        assert!(has_own(&v("[1,2]"), "1") && !has_own(&v("[1,2]"), "2"));
        assert!(has_own(&Value::str("abc"), "length"));
        let args = Args {
            a: &v(r#"{"a":1}"#),
            v1: &Value::Number(1.0),
            v2: &Value::Undefined,
            parts: &Value::Undefined,
        };
        assert!(!test(Op::HasKey, &args).expect("test"));
    }

    #[test]
    fn sequence_rules_need_parts() {
        let args = Args {
            a: &Value::Null,
            v1: &Value::Number(2.0),
            v2: &Value::Undefined,
            parts: &Value::Undefined,
        };
        let e = test(Op::Head, &args).expect_err("no parts");
        assert_eq!(
            e.message,
            "Cannot read properties of undefined (reading 'index')"
        );
        let parts = v(r#"{"index":3,"count":5}"#);
        let args = Args {
            parts: &parts,
            ..args
        };
        assert!(!test(Op::Head, &args).expect("head"));
        assert!(test(Op::Tail, &args).expect("tail"));
    }
}
