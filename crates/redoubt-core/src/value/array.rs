//! [`Array`]: a shared JS array.

use super::Value;
use parking_lot::Mutex;
use std::sync::Arc;

/// A JS array: a reference to a mutable vector. Cloning copies the reference.
#[derive(Clone, Default)]
pub struct Array(Arc<Mutex<Vec<Value>>>);

impl Array {
    /// A new empty array.
    pub fn new() -> Array {
        Array::default()
    }

    /// An array owning `items`.
    pub fn from_vec(items: Vec<Value>) -> Array {
        Array(Arc::new(Mutex::new(items)))
    }

    /// The item at `index`.
    pub fn get(&self, index: usize) -> Option<Value> {
        self.0.lock().get(index).cloned()
    }

    /// Sets `index`, growing the array with `undefined` holes like JS does.
    pub fn set(&self, index: usize, value: Value) {
        let mut v = self.0.lock();
        if index >= v.len() {
            v.resize(index + 1, Value::Undefined);
        }
        v[index] = value;
    }

    /// Appends an item.
    pub fn push(&self, value: Value) {
        self.0.lock().push(value);
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.0.lock().len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.lock().is_empty()
    }

    /// A snapshot of the items (handle copies).
    pub fn to_vec(&self) -> Vec<Value> {
        self.0.lock().clone()
    }

    /// Runs `f` with the items borrowed. `f` must not touch this same array.
    pub fn with<R>(&self, f: impl FnOnce(&Vec<Value>) -> R) -> R {
        f(&self.0.lock())
    }

    /// Runs `f` with the items borrowed mutably. `f` must not touch this same array.
    pub fn with_mut<R>(&self, f: impl FnOnce(&mut Vec<Value>) -> R) -> R {
        f(&mut self.0.lock())
    }

    /// True when both handles point at the same array.
    pub fn ptr_eq(&self, other: &Array) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// A stable identity for cycle detection.
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }
}

impl std::fmt::Debug for Array {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match super::to_json(&Value::Array(self.clone())) {
            Ok(s) => write!(f, "Array({s})"),
            Err(_) => write!(f, "Array(<circular>)"),
        }
    }
}
