//! Query strings and urlencoded bodies the way Express's `qs` parser
//! (extended mode) reads them: `a=1&a=2` gives an array, `c[d]=3` nests,
//! `e[]=1` appends, `+` is a space.

use percent_encoding_lite::decode;
use redoubt_core::value::{Array, Object, Value};

/// Parses `a=1&b[c]=2` into an object.
pub(crate) fn parse(text: &str) -> Value {
    let root = Object::new();
    for pair in text.split('&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        };
        let (head, keys) = split_key(&k);
        if head.is_empty() {
            continue;
        }
        insert(&root, &head, &keys, Value::from(v));
    }
    Value::Object(root)
}

/// `a[b][]` -> ("a", ["b", ""]). Up to 5 levels, like qs.
fn split_key(k: &str) -> (String, Vec<String>) {
    let Some(open) = k.find('[') else {
        return (k.to_string(), vec![]);
    };
    if open == 0 {
        return (k.to_string(), vec![]);
    }
    let head = k[..open].to_string();
    let mut rest = &k[open..];
    let mut keys = Vec::new();
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            break;
        };
        keys.push(stripped[..close].to_string());
        rest = &stripped[close + 1..];
        if keys.len() == 5 {
            break;
        }
    }
    (head, keys)
}

fn insert(obj: &Object, head: &str, keys: &[String], v: Value) {
    match keys.split_first() {
        None => match obj.get(head) {
            Some(Value::Array(a)) => a.push(v),
            Some(existing) => obj.insert(head, Value::from(vec![existing, v])),
            None => obj.insert(head, v),
        },
        Some((next, rest)) => {
            let child = match obj.get(head) {
                Some(c @ (Value::Object(_) | Value::Array(_))) => c,
                _ => {
                    let c = if next.is_empty() {
                        Value::Array(Array::new())
                    } else {
                        Value::new_object()
                    };
                    obj.insert(head, c.clone());
                    c
                }
            };
            match child {
                Value::Array(a) if next.is_empty() && rest.is_empty() => a.push(v),
                Value::Array(a) => match next.parse::<usize>() {
                    Ok(i) if rest.is_empty() => a.set(i, v),
                    _ => {
                        // Turn the array into an object keyed by index, as qs does.
                        let o = Object::new();
                        for (i, item) in a.to_vec().into_iter().enumerate() {
                            o.insert(i.to_string(), item);
                        }
                        obj.insert(head, Value::Object(o.clone()));
                        insert(&o, next, rest, v);
                    }
                },
                Value::Object(o) => insert(&o, next, rest, v),
                _ => {}
            }
        }
    }
}

/// Minimal percent-decoding with `+` as space.
mod percent_encoding_lite {
    pub(crate) fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_qs_extended() {
        let v = parse("a=1&b=two+words&c%5Bd%5D=3&arr=1&arr=2&empty=&e[]=x");
        assert_eq!(
            redoubt_core::value::to_json(&v).expect("json"),
            r#"{"a":"1","b":"two words","c":{"d":"3"},"arr":["1","2"],"empty":"","e":["x"]}"#
        );
    }
}
