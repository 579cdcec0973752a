//! Message and context property access with the exact rules of Node-RED's
//! `RED.util.getMessageProperty` / `setMessageProperty` (setting
//! `undefined` deletes, a missing parent is created only when setting a
//! value, a primitive or `null` in the way refuses the set, deleting an
//! array index splices) and of context keys holding `[msg.x]` references.

use redoubt_core::Msg;
use redoubt_core::propex::{self, Seg};
use redoubt_core::value::{Array, Object, Str, Value};
use std::borrow::Cow;

/// Replaces `[msg.x]` segments with the key or index they hold; `None`
/// when one of them is missing. A path without them is used as it is.
pub(super) fn resolve<'s>(segs: &'s [Seg], msg: &Msg) -> Option<Cow<'s, [Seg]>> {
    if !segs.iter().any(|s| matches!(s, Seg::Nested(_))) {
        return Some(Cow::Borrowed(segs));
    }
    let root = msg.to_value();
    segs.iter()
        .map(|s| match s {
            Seg::Nested(p) => match propex::get_segs(&root, p, Some(msg))? {
                Value::Number(n) if n >= 0.0 && n.fract() == 0.0 => Some(Seg::Index(n as usize)),
                Value::Undefined => None,
                v => Some(Seg::Key(v.to_js_string().into())),
            },
            s => Some(s.clone()),
        })
        .collect::<Option<Vec<Seg>>>()
        .map(Cow::Owned)
}

/// `getMessageProperty`: `undefined` when any step is missing.
pub(super) fn get(msg: &Msg, segs: &[Seg]) -> Value {
    match resolve(segs, msg) {
        Some(segs) => propex::get_segs(&msg.to_value(), &segs, None).unwrap_or_default(),
        None => Value::Undefined,
    }
}

/// A canonical array index spelled as a key (`"2"`).
fn key_index(k: &str) -> Option<usize> {
    let n: u32 = k.parse().ok()?;
    (n.to_string() == k).then_some(n as usize)
}

fn fresh(next: Option<&Seg>) -> Value {
    match next {
        Some(Seg::Index(_)) => Value::Array(Array::new()),
        _ => Value::Object(Object::new()),
    }
}

/// What a walk to the parent of the last step found.
enum Walk {
    Parent(Value),
    /// A primitive or `null` is in the way (`setMessageProperty` → false).
    Blocked,
    /// A parent is missing and was not created (→ null).
    Missing,
}

/// Walks to the parent of the last of `segs`.
fn walk(root: Value, segs: &[Seg], create: bool) -> Walk {
    let mut cur = root;
    for (i, seg) in segs.iter().enumerate().take(segs.len().saturating_sub(1)) {
        let next_seg = segs.get(i + 1);
        let next = match (&cur, seg) {
            (Value::Object(o), Seg::Key(_) | Seg::Index(_)) => {
                let key = seg_key(seg);
                match o.get(&key) {
                    Some(v @ (Value::Object(_) | Value::Array(_))) => v,
                    None if create => {
                        let f = fresh(next_seg);
                        o.insert(key, f.clone());
                        f
                    }
                    None => return Walk::Missing,
                    Some(_) => return Walk::Blocked,
                }
            }
            (Value::Array(a), Seg::Index(n)) => match a.get(*n) {
                None | Some(Value::Undefined) if create => {
                    let f = fresh(next_seg);
                    a.set(*n, f.clone());
                    f
                }
                None | Some(Value::Undefined) => return Walk::Missing,
                Some(v) => v,
            },
            (Value::Array(a), Seg::Key(k)) => match key_index(k).and_then(|n| a.get(n)) {
                Some(v @ (Value::Object(_) | Value::Array(_))) => v,
                _ => return Walk::Blocked,
            },
            _ => return Walk::Blocked,
        };
        cur = next;
    }
    Walk::Parent(cur)
}

/// The object key a segment names (a key is shared, not copied).
fn seg_key(seg: &Seg) -> Str {
    match seg {
        Seg::Key(k) => k.clone(),
        Seg::Index(n) => Str::from(n.to_string()),
        Seg::Nested(_) => Str::from(""),
    }
}

/// `setMessageProperty(msg, path, value)`: false where Node-RED returns a
/// falsy result (the change node then warns "Cannot set property of
/// non-object type"). `Undefined` deletes.
pub(super) fn set(msg: &Msg, segs: &[Seg], value: Value) -> bool {
    let Some(segs) = resolve(segs, msg) else {
        return true;
    };
    let Some(last) = segs.last() else { return true };
    let deleting = value.is_undefined();
    let parent = match walk(msg.to_value(), &segs, !deleting) {
        Walk::Parent(p) => p,
        Walk::Blocked | Walk::Missing => return false,
    };
    match (&parent, last) {
        (Value::Object(o), seg) => {
            if deleting {
                o.remove(&seg_key(seg));
            } else {
                o.insert(seg_key(seg), value);
            }
        }
        (Value::Array(a), Seg::Index(n)) => {
            if !deleting {
                a.set(*n, value);
            } else if *n < a.len() {
                a.with_mut(|v| {
                    v.remove(*n);
                });
            }
        }
        (Value::Array(a), Seg::Key(k)) => {
            if let Some(n) = key_index(k) {
                if !deleting {
                    a.set(n, value);
                } else if n < a.len() {
                    a.set(n, Value::Undefined);
                }
            }
        }
        // Setting a property on a primitive throws in Node-RED, and the
        // change node swallows it: nothing happens, without a warning.
        _ => {}
    }
    true
}

/// A context key with its `[msg.x]` parts replaced, as
/// `normalisePropertyExpression(key, msg, true)` gives it.
pub(super) fn context_key(key: &str, msg: &Msg) -> Option<String> {
    if !key.contains("[msg") {
        return Some(key.to_string());
    }
    let segs = propex::parse(key).ok()?;
    let segs = resolve(&segs, msg)?;
    let mut out = String::new();
    for (i, s) in segs.iter().enumerate() {
        match s {
            Seg::Key(k) if i == 0 => out.push_str(k),
            Seg::Key(k) => {
                out.push_str("[\"");
                for c in k.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push_str("\"]");
            }
            Seg::Index(n) => out.push_str(&format!("[{n}]")),
            Seg::Nested(_) => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use redoubt_core::value::to_json;

    fn msg(json: &str) -> Msg {
        Msg::from_json(&serde_json::from_str(json).expect("json"))
    }

    fn segs(p: &str) -> Vec<Seg> {
        propex::parse(p).expect("path")
    }

    fn payload(m: &Msg) -> String {
        to_json(&m.payload()).expect("json")
    }

    #[test]
    fn set_creates_parents_and_refuses_primitives() {
        let m = msg(r#"{"payload":{"s":"x","n":null}}"#);
        assert!(set(&m, &segs("payload.a.b[1]"), Value::Number(1.0)));
        assert!(!set(&m, &segs("payload.s.x"), Value::Number(1.0)));
        assert!(!set(&m, &segs("payload.n.x"), Value::Number(1.0)));
        assert_eq!(payload(&m), r#"{"s":"x","n":null,"a":{"b":[null,1]}}"#);
    }

    #[test]
    fn undefined_deletes_and_splices_arrays() {
        let m = msg(r#"{"payload":{"a":[1,2,3],"k":1}}"#);
        assert!(set(&m, &segs("payload.a[1]"), Value::Undefined));
        assert!(set(&m, &segs("payload.k"), Value::Undefined));
        assert!(!set(&m, &segs("payload.missing.x"), Value::Undefined));
        assert_eq!(payload(&m), r#"{"a":[1,3]}"#);
    }

    #[test]
    fn nested_message_references() {
        let m = msg(r#"{"topic":"k","payload":{}}"#);
        assert!(set(&m, &segs("payload[msg.topic]"), Value::Number(2.0)));
        assert_eq!(get(&m, &segs("payload[msg.topic]")).as_f64(), Some(2.0));
        assert_eq!(
            context_key("items[msg.topic]", &m).as_deref(),
            Some("items[\"k\"]")
        );
        assert_eq!(context_key("plain.key", &m).as_deref(), Some("plain.key"));
        assert!(context_key("x[msg.nope]", &m).is_none());
    }
}
