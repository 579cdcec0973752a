//! [`Object`]: a shared, insertion-ordered JS object.

use super::{Str, Value};
use indexmap::IndexMap;
use parking_lot::Mutex;
use std::sync::Arc;

/// The map inside an [`Object`].
pub type Map = IndexMap<Str, Value>;

/// A JS object: a reference to a mutable, insertion-ordered map.
///
/// Cloning an `Object` copies the reference (like JS assignment); use
/// [`Value::deep_clone`] for a copy. Every accessor takes the lock only for
/// its own duration and never while calling out, so nested objects (and
/// cyclic ones) never deadlock.
#[derive(Clone, Default)]
pub struct Object(Arc<Mutex<Map>>);

impl Object {
    /// A new empty object.
    pub fn new() -> Object {
        Object::default()
    }

    /// An object owning `map`.
    pub fn from_map(map: Map) -> Object {
        Object(Arc::new(Mutex::new(map)))
    }

    /// The value at `key` (a handle copy for objects and arrays).
    pub fn get(&self, key: &str) -> Option<Value> {
        self.0.lock().get(key).cloned()
    }

    /// True when `key` is present (even holding `undefined`).
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.lock().contains_key(key)
    }

    /// Sets `key`; an existing key keeps its position, as in JS.
    pub fn insert(&self, key: impl Into<Str>, value: Value) {
        self.0.lock().insert(key.into(), value);
    }

    /// Removes `key` (JS `delete`), keeping the order of the rest.
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.0.lock().shift_remove(key)
    }

    /// The keys, in order.
    pub fn keys(&self) -> Vec<Str> {
        self.0.lock().keys().cloned().collect()
    }

    /// A snapshot of the entries, in order.
    pub fn entries(&self) -> Vec<(Str, Value)> {
        self.0
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.0.lock().len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.0.lock().is_empty()
    }

    /// Runs `f` with the map borrowed. `f` must not touch this same object.
    pub fn with<R>(&self, f: impl FnOnce(&Map) -> R) -> R {
        f(&self.0.lock())
    }

    /// Runs `f` with the map borrowed mutably. `f` must not touch this same object.
    pub fn with_mut<R>(&self, f: impl FnOnce(&mut Map) -> R) -> R {
        f(&mut self.0.lock())
    }

    /// True when both handles point at the same object (JS `===`).
    pub fn ptr_eq(&self, other: &Object) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// A stable identity for cycle detection.
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match super::to_json(&Value::Object(self.clone())) {
            Ok(s) => write!(f, "Object({s})"),
            Err(_) => write!(f, "Object(<circular>)"),
        }
    }
}

impl FromIterator<(Str, Value)> for Object {
    fn from_iter<T: IntoIterator<Item = (Str, Value)>>(iter: T) -> Self {
        Object::from_map(iter.into_iter().collect())
    }
}
