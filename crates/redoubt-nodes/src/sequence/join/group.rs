//! A join group in manual and automatic mode: what it has collected so
//! far, and how its parts become the joined value (`completeSend`'s
//! array flattening, buffer and string joining).

use redoubt_core::Msg;
use redoubt_core::node::{NodeCtx, NodeError, Pending, TimerId};
use redoubt_core::value::{Array, Object, Value};

pub(super) enum Payload {
    List(Vec<Value>),
    Map(Object),
}

pub(super) struct Group {
    /// `string`, `buffer`, `array`, `object` (also for merged), or whatever `parts.type` said.
    pub(super) ty: Value,
    pub(super) payload: Payload,
    pub(super) current: usize,
    pub(super) target: Value,
    pub(super) join_char: Value,
    pub(super) array_len: Value,
    pub(super) msg: Msg,
    pub(super) prop: Value,
    pub(super) timer: Option<(u64, TimerId)>,
    pub(super) dones: Vec<Pending>,
}

/// What one message says about its group.
pub(super) struct Info {
    pub(super) part_id: String,
    pub(super) ty: Value,
    pub(super) target: Value,
    pub(super) join_char: Value,
    pub(super) key: Value,
    pub(super) array_len: Value,
    pub(super) index: Value,
    pub(super) property: Value,
}

/// `Buffer.from(v)`, leniently.
fn to_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::Buffer(b) => b.to_vec(),
        Value::Array(a) => a
            .to_vec()
            .iter()
            .map(|x| (x.to_number() as i64 & 0xff) as u8)
            .collect(),
        Value::Undefined | Value::Null => Vec::new(),
        other => other.to_js_string().into_bytes(),
    }
}

/// Adds one message's property to its group.
pub(super) fn add_to_group(
    group: &mut Group,
    ty: &str,
    info: &Info,
    complete: bool,
    cx: &mut NodeCtx<'_>,
) {
    let property = info.property.clone();
    match (&mut group.payload, ty) {
        (Payload::Map(m), "object") => {
            m.insert(info.key.to_js_string(), property);
            group.current = m.len();
        }
        (Payload::Map(m), "merged") => match &property {
            Value::Object(o) => {
                for (k, v) in o.entries() {
                    if &*k != "_msgid" {
                        m.insert(k, v);
                    }
                }
                group.current = m.len();
            }
            Value::Null | Value::Date(_) | Value::Buffer(_) | Value::Handle(_) => {
                group.current = m.len()
            }
            _ => {
                if !complete {
                    cx.warn("Cannot merge non-object types");
                }
            }
        },
        (Payload::List(list), _) => {
            let idx = info.index.to_number();
            if !idx.is_nan() {
                if idx >= 0.0 && idx.fract() == 0.0 && idx < 1e7 {
                    let i = idx as usize;
                    if list.len() <= i {
                        list.resize(i + 1, Value::Undefined);
                    }
                    if list[i].is_nullish() {
                        group.current += 1;
                    }
                    list[i] = property;
                } else {
                    group.current += 1;
                }
            } else if !property.is_undefined() {
                list.push(property);
                group.current += 1;
            }
        }
        // A message whose type disagrees with its group's cannot be added.
        _ => {}
    }
}

/// The joined value of a group, by its type.
pub(super) fn joined_value(group: &Group) -> Result<Value, NodeError> {
    let list = match &group.payload {
        Payload::Map(m) => return Ok(Value::Object(m.clone())),
        Payload::List(l) => l,
    };
    match group.ty.as_str() {
        Some("array") if group.array_len.to_number() > 1.0 => {
            let mut out = Vec::new();
            for v in list {
                match v {
                    Value::Array(a) => out.extend(a.to_vec()),
                    Value::Undefined => {}
                    other => out.push(other.clone()),
                }
            }
            Ok(Value::Array(Array::from_vec(out)))
        }
        Some("buffer") => {
            let sep = (!group.join_char.is_undefined()).then(|| to_bytes(&group.join_char));
            let mut out = Vec::new();
            for (i, v) in list.iter().enumerate() {
                if let (Some(s), true) = (&sep, i > 0) {
                    out.extend_from_slice(s);
                }
                out.extend(to_bytes(v));
            }
            Ok(Value::Buffer(out.into()))
        }
        Some("string") => {
            let sep = match &group.join_char {
                Value::String(s) => s.to_string(),
                Value::Undefined => {
                    return Err(NodeError::new(
                        "TypeError: Cannot read properties of undefined (reading 'toString')",
                    ));
                }
                other => other.to_js_string(),
            };
            let texts: Vec<String> = list
                .iter()
                .map(|v| {
                    if v.is_nullish() {
                        String::new()
                    } else {
                        v.to_js_string()
                    }
                })
                .collect();
            Ok(Value::from(texts.join(&sep)))
        }
        _ => Ok(Value::Array(Array::from_vec(list.clone()))),
    }
}
