//! Deep copies that preserve sharing and cycles (lodash `cloneDeep`, which
//! `RED.util.cloneMessage` uses).

use super::{Array, Object, Value};
use std::collections::HashMap;

enum Copied {
    Obj(Object),
    Arr(Array),
}

pub(super) fn deep_clone(v: &Value) -> Value {
    let mut seen = HashMap::new();
    clone_in(v, &mut seen)
}

fn clone_in(v: &Value, seen: &mut HashMap<usize, Copied>) -> Value {
    match v {
        Value::Object(o) => {
            if let Some(Copied::Obj(c)) = seen.get(&o.addr()) {
                return Value::Object(c.clone());
            }
            let copy = Object::new();
            seen.insert(o.addr(), Copied::Obj(copy.clone()));
            for (k, child) in o.entries() {
                let c = clone_in(&child, seen);
                copy.insert(k, c);
            }
            Value::Object(copy)
        }
        Value::Array(a) => {
            if let Some(Copied::Arr(c)) = seen.get(&a.addr()) {
                return Value::Array(c.clone());
            }
            let copy = Array::new();
            seen.insert(a.addr(), Copied::Arr(copy.clone()));
            for child in a.to_vec() {
                let c = clone_in(&child, seen);
                copy.push(c);
            }
            Value::Array(copy)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_clone_detaches_nested_objects() {
        let inner = Object::new();
        inner.insert("x", Value::Number(1.0));
        let outer = Object::new();
        outer.insert("a", Value::Object(inner.clone()));
        let copy = Value::Object(outer).deep_clone();
        inner.insert("x", Value::Number(2.0));
        let a = copy.as_object().and_then(|o| o.get("a")).and_then(|a| a.as_object().cloned());
        assert_eq!(a.and_then(|a| a.get("x")).and_then(|x| x.as_f64()), Some(1.0));
    }

    #[test]
    fn deep_clone_reproduces_cycles() {
        let o = Object::new();
        o.insert("self", Value::Object(o.clone()));
        let copy = Value::Object(o.clone()).deep_clone();
        let c = copy.as_object().cloned().expect("object");
        let inner = c.get("self").and_then(|s| s.as_object().cloned()).expect("object");
        assert!(inner.ptr_eq(&c));
        assert!(!c.ptr_eq(&o));
    }
}
