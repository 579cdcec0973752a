//! Deep copies that preserve sharing and cycles (lodash `cloneDeep`, which
//! `RED.util.cloneMessage` uses).
//!
//! Each container is copied once: a map from source address to copy makes a
//! sub-object that appears twice appear twice in the copy as one object, and
//! a cycle in the source becomes the same cycle in the copy. The source is
//! read under its own lock; a cycle back to an object being copied is found
//! in the map before its lock is taken again, so nothing deadlocks.

use super::object::{Map, map_with_capacity};
use super::{Array, Object, Value};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes a pointer address (already unique) with one multiply.
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

pub(crate) enum Copied {
    Obj(Object),
    Arr(Array),
}

/// Source address -> its copy.
pub(crate) type Seen = HashMap<usize, Copied, BuildHasherDefault<AddrHasher>>;

pub(super) fn deep_clone(v: &Value) -> Value {
    let mut seen = Seen::default();
    clone_in(v, &mut seen)
}

pub(crate) fn clone_in(v: &Value, seen: &mut Seen) -> Value {
    match v {
        Value::Object(o) => Value::Object(clone_object(o, seen, |_| false)),
        Value::Array(a) => {
            if let Some(Copied::Arr(c)) = seen.get(&a.addr()) {
                return Value::Array(c.clone());
            }
            let copy = Array::new();
            seen.insert(a.addr(), Copied::Arr(copy.clone()));
            let items: Vec<Value> =
                a.with(|items| items.iter().map(|c| clone_in(c, seen)).collect());
            copy.with_mut(|v| *v = items);
            Value::Array(copy)
        }
        other => other.clone(),
    }
}

/// Copies an object; keys for which `share` is true keep the same value
/// (a handle copy) instead of a deep copy.
pub(crate) fn clone_object(o: &Object, seen: &mut Seen, share: impl Fn(&str) -> bool) -> Object {
    if let Some(Copied::Obj(c)) = seen.get(&o.addr()) {
        return c.clone();
    }
    let copy = Object::new();
    seen.insert(o.addr(), Copied::Obj(copy.clone()));
    let map: Map = o.with(|m| {
        let mut out = map_with_capacity(m.len());
        for (k, child) in m.iter() {
            let c = if share(k) {
                child.clone()
            } else {
                clone_in(child, seen)
            };
            out.insert(k.clone(), c);
        }
        out
    });
    copy.with_mut(|m| *m = map);
    copy
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
        let a = copy
            .as_object()
            .and_then(|o| o.get("a"))
            .and_then(|a| a.as_object().cloned());
        assert_eq!(
            a.and_then(|a| a.get("x")).and_then(|x| x.as_f64()),
            Some(1.0)
        );
    }

    #[test]
    fn deep_clone_reproduces_cycles() {
        let o = Object::new();
        o.insert("self", Value::Object(o.clone()));
        let copy = Value::Object(o.clone()).deep_clone();
        let c = copy.as_object().cloned().expect("object");
        let inner = c
            .get("self")
            .and_then(|s| s.as_object().cloned())
            .expect("object");
        assert!(inner.ptr_eq(&c));
        assert!(!c.ptr_eq(&o));
    }

    #[test]
    fn shared_sub_objects_stay_shared_in_the_copy() {
        let shared = Object::new();
        let outer = Object::new();
        outer.insert("a", Value::Object(shared.clone()));
        outer.insert("b", Value::Object(shared));
        let copy = Value::Object(outer).deep_clone();
        let c = copy.as_object().cloned().expect("object");
        let (a, b) = (c.get("a").expect("a"), c.get("b").expect("b"));
        assert!(
            a.as_object()
                .expect("obj")
                .ptr_eq(b.as_object().expect("obj"))
        );
    }
}
