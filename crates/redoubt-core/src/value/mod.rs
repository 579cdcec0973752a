//! The JavaScript-shaped value every message, context entry and node
//! property is made of.
//!
//! Node-RED messages are plain JavaScript objects, and flows depend on that:
//! object keys keep insertion order, numbers are `f64`, `Buffer` and `Date`
//! are distinct from arrays and strings, and objects are *references*: a
//! value stored in memory context and then changed on the message changes in
//! context too (a behaviour recorded from Node-RED in the conformance cases).
//! So objects and arrays here are shared, interior-mutable handles
//! ([`Object`], [`Array`]) and [`Value::clone`] copies the handle, exactly as
//! assigning a JS variable does. [`Value::deep_clone`] is `RED.util.cloneMessage`.

mod array;
pub(crate) mod deep_clone;
mod js;
mod json;
mod object;

pub use array::Array;
pub use js::{format_number, loose_eq, strict_eq};
pub use json::{JsonError, from_json_str, from_serde, to_json, to_json_pretty, to_serde};
pub use object::{KeyHasher, KnownKey, Lazy, Map, Object, Peek};

use std::sync::Arc;

/// A shared immutable string, cheap to clone.
pub type Str = Arc<str>;

/// A JavaScript value as Node-RED flows see it.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// `undefined`: a property that is present but holds no value.
    #[default]
    Undefined,
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A JS number (always `f64`).
    Number(f64),
    /// A JS string.
    String(Str),
    /// A Node.js `Buffer`.
    Buffer(bytes::Bytes),
    /// A JS array (a shared handle).
    Array(Array),
    /// A plain JS object (a shared handle, insertion-ordered keys).
    Object(Object),
    /// A JS `Date`, as milliseconds since the epoch.
    Date(f64),
    /// A host object carried by reference (the HTTP response behind
    /// `msg.res`); it survives cloning and has no JSON form.
    Handle(Handle),
}

/// An opaque host object inside a value. Cloning shares it.
#[derive(Clone)]
pub struct Handle(pub Arc<dyn std::any::Any + Send + Sync>);

impl Handle {
    /// Wraps a host object.
    pub fn new<T: std::any::Any + Send + Sync>(v: T) -> Handle {
        Handle(Arc::new(v))
    }

    /// The host object, if it is a `T`.
    pub fn downcast<T: std::any::Any + Send + Sync>(&self) -> Option<&T> {
        self.0.downcast_ref::<T>()
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handle(..)")
    }
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::String(Arc::from(s))
    }

    /// A new, empty object.
    pub fn new_object() -> Value {
        Value::Object(Object::new())
    }

    /// `typeof`-like name used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Undefined => "undefined",
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Buffer(_) => "buffer",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Date(_) => "date",
            Value::Handle(_) => "object",
        }
    }

    /// The string slice, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, when this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The object handle, when this is an object.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The array handle, when this is an array.
    pub fn as_array(&self) -> Option<&Array> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// True for `undefined`.
    pub fn is_undefined(&self) -> bool {
        matches!(self, Value::Undefined)
    }

    /// True for `null` and `undefined` (JS `x == null`).
    pub fn is_nullish(&self) -> bool {
        matches!(self, Value::Undefined | Value::Null)
    }

    /// JavaScript truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Undefined | Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) => !s.is_empty(),
            _ => true,
        }
    }

    /// `String(value)` as JavaScript would print it.
    pub fn to_js_string(&self) -> String {
        js::to_js_string(self)
    }

    /// `Number(value)` as JavaScript would convert it.
    pub fn to_number(&self) -> f64 {
        js::to_number(self)
    }

    /// A deep copy (`RED.util.cloneMessage` semantics): objects and arrays are
    /// copied recursively, shared sub-objects stay shared within the copy, and
    /// cycles are reproduced rather than followed forever.
    pub fn deep_clone(&self) -> Value {
        deep_clone::deep_clone(self)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(Arc::from(s))
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n as f64)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<Object> for Value {
    fn from(o: Object) -> Self {
        Value::Object(o)
    }
}
impl From<Array> for Value {
    fn from(a: Array) -> Self {
        Value::Array(a)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(Array::from_vec(v))
    }
}
