//! Property expressions: `payload.a["b"][0]` and `a[msg.topic]`, with the
//! rules of `RED.util.normalisePropertyExpression`, `getMessageProperty` and
//! `setMessageProperty`.

use crate::msg::Msg;
use crate::value::{Array, Object, Str, Value};

/// A bad property expression.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("Invalid property expression: {reason} at position {pos} of {expr:?}")]
pub struct PathError {
    /// The expression as written.
    pub expr: String,
    /// Character position of the problem.
    pub pos: usize,
    /// What is wrong.
    pub reason: &'static str,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    /// An object key.
    Key(Str),
    /// An array index.
    Index(usize),
    /// `[msg.x.y]`: the key is the value found at this nested path of the message.
    Nested(Vec<Seg>),
}

/// `expr` itself when it names one property with nothing to parse (no `.`,
/// no `[`, not empty, no leading space): what [`parse`] would return as its
/// single [`Seg::Key`], without building it. Context reads and writes take
/// this path for the plain keys most flows use.
pub fn single_key(expr: &str) -> Option<&str> {
    let plain = !expr.is_empty() && !expr.starts_with(' ') && !expr.contains(['.', '[']);
    plain.then_some(expr)
}

/// Parses an expression into segments. A leading `msg.` is *not* stripped;
/// callers strip it where Node-RED does.
pub fn parse(expr: &str) -> Result<Vec<Seg>, PathError> {
    let err = |pos, reason| PathError {
        expr: expr.to_string(),
        pos,
        reason,
    };
    let chars: Vec<char> = expr.chars().collect();
    let mut segs = Vec::new();
    let mut i = 0;
    let mut cur = String::new();
    let mut expect_key = true;
    if chars.is_empty() {
        return Err(err(0, "empty expression"));
    }
    while i < chars.len() {
        let c = chars[i];
        match c {
            '.' => {
                if cur.is_empty() && expect_key {
                    return Err(err(i, "unexpected ."));
                }
                if !cur.is_empty() {
                    segs.push(Seg::Key(Str::from(cur.as_str())));
                    cur.clear();
                }
                expect_key = true;
                i += 1;
                if i == chars.len() {
                    return Err(err(i, "unterminated expression"));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    segs.push(Seg::Key(Str::from(cur.as_str())));
                    cur.clear();
                } else if segs.is_empty() {
                    return Err(err(i, "unexpected ["));
                }
                i += 1;
                let start = i;
                let q = chars.get(i).copied();
                if q == Some('"') || q == Some('\'') {
                    let quote = q.unwrap_or('"');
                    i += 1;
                    let mut s = String::new();
                    while i < chars.len() && chars[i] != quote {
                        if chars[i] == '\\' && i + 1 < chars.len() {
                            i += 1;
                        }
                        s.push(chars[i]);
                        i += 1;
                    }
                    if i >= chars.len() {
                        return Err(err(start, "unterminated string"));
                    }
                    i += 1;
                    if chars.get(i) != Some(&']') {
                        return Err(err(i, "expected ]"));
                    }
                    segs.push(Seg::Key(Str::from(s)));
                } else {
                    // number or nested msg reference
                    let mut depth = 1;
                    let mut inner = String::new();
                    while i < chars.len() {
                        if chars[i] == '[' {
                            depth += 1;
                        } else if chars[i] == ']' {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        inner.push(chars[i]);
                        i += 1;
                    }
                    if i >= chars.len() {
                        return Err(err(start, "unterminated ["));
                    }
                    let t = inner.trim();
                    if let Ok(n) = t.parse::<usize>() {
                        segs.push(Seg::Index(n));
                    } else if let Some(rest) = t.strip_prefix("msg.") {
                        segs.push(Seg::Nested(parse(rest)?));
                    } else {
                        return Err(err(start, "expected a number, a string or msg reference"));
                    }
                }
                i += 1; // past ]
                expect_key = false;
                if let Some(&n) = chars.get(i)
                    && n != '.'
                    && n != '['
                {
                    return Err(err(i, "expected . or ["));
                }
            }
            c => {
                if c == ' ' && cur.is_empty() && segs.is_empty() {
                    return Err(err(i, "unexpected space"));
                }
                cur.push(c);
                i += 1;
            }
        }
    }
    if !cur.is_empty() {
        segs.push(Seg::Key(Str::from(cur.as_str())));
    }
    if segs.is_empty() {
        return Err(err(0, "empty expression"));
    }
    Ok(segs)
}

/// Resolves a nested segment into a plain key/index, against `msg`.
fn resolve(seg: &Seg, msg: Option<&Msg>) -> Option<Seg> {
    match seg {
        Seg::Nested(p) => {
            let m = msg?;
            let v = get_segs(&m.to_value(), p, msg)?;
            Some(match v {
                Value::Number(n) if n >= 0.0 && n.fract() == 0.0 => Seg::Index(n as usize),
                other => Seg::Key(Str::from(other.to_js_string())),
            })
        }
        s => Some(s.clone()),
    }
}

fn step(v: &Value, seg: &Seg) -> Option<Value> {
    match (v, seg) {
        (Value::Object(o), Seg::Key(k)) => o.get(k),
        (Value::Object(o), Seg::Index(i)) => o.get(&i.to_string()),
        (Value::Array(a), Seg::Index(i)) => a.get(*i),
        (Value::Array(a), Seg::Key(k)) if &**k == "length" => Some(Value::Number(a.len() as f64)),
        (Value::Array(a), Seg::Key(k)) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
        (Value::String(s), Seg::Key(k)) if &**k == "length" => {
            Some(Value::Number(s.encode_utf16().count() as f64))
        }
        (Value::String(s), Seg::Index(i)) => {
            let u: Vec<u16> = s.encode_utf16().collect();
            u.get(*i)
                .map(|c| Value::String(String::from_utf16_lossy(&[*c]).into()))
        }
        (Value::Buffer(b), Seg::Index(i)) => b.get(*i).map(|x| Value::Number(f64::from(*x))),
        (Value::Buffer(b), Seg::Key(k)) if &**k == "length" => Some(Value::Number(b.len() as f64)),
        _ => None,
    }
}

/// Walks `segs` from `root`; `None` when any step is missing.
pub fn get_segs(root: &Value, segs: &[Seg], msg: Option<&Msg>) -> Option<Value> {
    let mut cur = root.clone();
    for s in segs {
        let s = resolve(s, msg)?;
        cur = step(&cur, &s)?;
    }
    Some(cur)
}

/// Reads `expr` from `root`. `Ok(None)` when a step is missing (JS `undefined`).
pub fn get(root: &Value, expr: &str, msg: Option<&Msg>) -> Result<Option<Value>, PathError> {
    let segs = parse(expr)?;
    Ok(get_segs(root, &segs, msg))
}

/// Sets `expr` on `root`. With `create`, missing parents are made (an array
/// when the next step is an index, else an object), as `setMessageProperty` does.
pub fn set(
    root: &Value,
    expr: &str,
    v: Value,
    create: bool,
    msg: Option<&Msg>,
) -> Result<(), PathError> {
    let segs = parse(expr)?;
    set_segs(root, &segs, v, create, msg);
    Ok(())
}

/// Sets along parsed segments. Returns false when a parent was missing and not created.
pub fn set_segs(root: &Value, segs: &[Seg], v: Value, create: bool, msg: Option<&Msg>) -> bool {
    let resolved: Option<Vec<Seg>> = segs.iter().map(|s| resolve(s, msg)).collect();
    let Some(segs) = resolved else { return false };
    let Some((last, parents)) = segs.split_last() else {
        return false;
    };
    let mut cur = root.clone();
    for (i, s) in parents.iter().enumerate() {
        let next = step(&cur, s);
        let next = match next {
            Some(n) if matches!(n, Value::Object(_) | Value::Array(_)) => n,
            Some(n) if !n.is_nullish() && !create => return false,
            Some(n) if !n.is_nullish() => {
                // A primitive is in the way: Node-RED cannot set a property on
                // it; leave the message unchanged.
                let _ = n;
                return false;
            }
            _ => {
                if !create {
                    return false;
                }
                let fresh = match segs.get(i + 1) {
                    Some(Seg::Index(_)) => Value::Array(Array::new()),
                    _ => Value::Object(Object::new()),
                };
                put(&cur, s, fresh.clone());
                fresh
            }
        };
        cur = next;
    }
    put(&cur, last, v);
    true
}

fn put(target: &Value, seg: &Seg, v: Value) {
    match (target, seg) {
        (Value::Object(o), Seg::Key(k)) => o.insert(k.clone(), v),
        (Value::Object(o), Seg::Index(i)) => o.insert(i.to_string(), v),
        (Value::Array(a), Seg::Index(i)) => a.set(*i, v),
        (Value::Array(a), Seg::Key(k)) => {
            if let Ok(i) = k.parse::<usize>() {
                a.set(i, v)
            }
        }
        _ => {}
    }
}

/// Deletes `expr` from `root` (no-op when missing).
pub fn delete(root: &Value, expr: &str, msg: Option<&Msg>) -> Result<(), PathError> {
    let segs = parse(expr)?;
    delete_segs(root, &segs, msg);
    Ok(())
}

/// Deletes along parsed segments.
pub fn delete_segs(root: &Value, segs: &[Seg], msg: Option<&Msg>) {
    let resolved: Option<Vec<Seg>> = segs.iter().map(|s| resolve(s, msg)).collect();
    let Some(segs) = resolved else { return };
    let Some((last, parents)) = segs.split_last() else {
        return;
    };
    let Some(parent) = get_segs(root, parents, msg) else {
        return;
    };
    match (&parent, last) {
        (Value::Object(o), Seg::Key(k)) => {
            o.remove(k);
        }
        (Value::Object(o), Seg::Index(i)) => {
            o.remove(&i.to_string());
        }
        // `delete arr[i]` leaves a hole
        (Value::Array(a), Seg::Index(i)) if *i < a.len() => a.set(*i, Value::Undefined),
        _ => {}
    }
}

/// Strips a leading `msg.` as the editor's typed input allows.
pub fn strip_msg(expr: &str) -> &str {
    expr.strip_prefix("msg.").unwrap_or(expr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::from_json_str;

    #[test]
    fn parses_dots_brackets_and_quotes() {
        let s = parse(r#"a.b["c.d"][2]['e']"#).expect("parse");
        assert_eq!(
            s,
            vec![
                Seg::Key("a".into()),
                Seg::Key("b".into()),
                Seg::Key("c.d".into()),
                Seg::Index(2),
                Seg::Key("e".into())
            ]
        );
    }

    #[test]
    fn a_single_key_is_what_parse_would_return_alone() {
        let cases = [
            "bench", "a b", "x]", "123", "é", "a'b", "\"q\"", "", " lead", "a.b", "a[0]", "[0]",
            "a.", ".a", "trail ",
        ];
        for key in cases {
            let parsed = parse(key).ok();
            let alone = match parsed.as_deref() {
                Some([Seg::Key(k)]) => Some(&**k),
                _ => None,
            };
            match single_key(key) {
                // Taken: parse agrees it is exactly this one key.
                Some(k) => assert_eq!(Some(k), alone, "{key:?}"),
                // Not taken: parse is asked, and the key must need it (a
                // path, or an error).
                None => assert!(
                    alone.is_none() || alone != Some(key),
                    "{key:?} could have been taken"
                ),
            }
        }
        assert_eq!(single_key("bench"), Some("bench"));
        assert_eq!(single_key("a.b"), None);
    }

    #[test]
    fn rejects_malformed_expressions() {
        assert!(parse("a..b").is_err());
        assert!(parse("a.").is_err());
        assert!(parse("a[\"x").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn set_creates_arrays_for_index_steps() {
        let root = Value::new_object();
        set(&root, "a.b[1]", Value::Number(5.0), true, None).expect("set");
        assert_eq!(
            crate::value::to_json(&root).expect("json"),
            r#"{"a":{"b":[null,5]}}"#
        );
    }

    #[test]
    fn nested_message_references_resolve() {
        let m = Msg::from_object_raw(
            from_json_str(r#"{"topic":"k","payload":{"k":7}}"#)
                .expect("parse")
                .as_object()
                .cloned()
                .expect("obj"),
        );
        let v = m.get_path("payload[msg.topic]").expect("path");
        assert_eq!(v.and_then(|v| v.as_f64()), Some(7.0));
    }
}
