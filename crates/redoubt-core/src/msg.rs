//! [`Msg`]: the message that travels along wires, and well-known property names.

use crate::propex::{self, PathError};
use crate::value::{KnownKey, Object, Str, Value};
use std::sync::LazyLock;

/// `msg.payload`.
pub const PAYLOAD: &str = "payload";
/// `msg.topic`.
pub const TOPIC: &str = "topic";
/// `msg._msgid`.
pub const MSGID: &str = "_msgid";
/// `msg.error` as set for Catch nodes.
pub const ERROR: &str = "error";
/// `msg.parts`, the sequence marker of split/join.
pub const PARTS: &str = "parts";

/// `msg.req`, the request behind an `http in` message.
pub const REQ: &str = "req";
/// `msg.res`, the response handle of an `http in` message.
pub const RES: &str = "res";

/// The property names nearly every message carries, each with its hash;
/// `_msgid` first, where [`Msg::new`] takes it.
static WELL_KNOWN: LazyLock<[KnownKey; 7]> =
    LazyLock::new(|| [MSGID, PAYLOAD, TOPIC, REQ, RES, PARTS, ERROR].map(KnownKey::new));

/// `name` as a [`KnownKey`] when it is one of the well-known names.
fn known(name: &str) -> Option<&'static KnownKey> {
    WELL_KNOWN.iter().find(|k| &**k.key() == name)
}

/// The key `name` as a [`Str`]. The property names nearly every message
/// carries share one allocation each, so setting them costs a reference
/// count instead of a `malloc` (and a `free` when the message goes).
pub fn key(name: &str) -> Str {
    match known(name) {
        Some(k) => k.key().clone(),
        None => Str::from(name),
    }
}

/// Room for `_msgid`, `payload` and two more properties (`topic`, or
/// `req` and `res`) without growing the map.
const MSG_CAPACITY: usize = 4;

/// A message: a JS object. Cloning a `Msg` copies the reference, as passing a
/// message to a function does in Node-RED; [`Msg::deep_clone`] is
/// `RED.util.cloneMessage`, used for every wire after the first.
#[derive(Clone, Debug)]
pub struct Msg(Object);

impl Msg {
    /// A new message with a fresh `_msgid` and nothing else.
    pub fn new() -> Msg {
        let o = Object::with_capacity(MSG_CAPACITY);
        o.insert_known(&WELL_KNOWN[0], Value::String(msgid_str()));
        Msg(o)
    }

    /// Wraps an existing object as a message, giving it a `_msgid` if it has none.
    pub fn from_object(o: Object) -> Msg {
        if !o.contains_key(MSGID) {
            o.insert(key(MSGID), Value::String(msgid_str()));
        }
        Msg(o)
    }

    /// Wraps an object as a message exactly as it is.
    pub fn from_object_raw(o: Object) -> Msg {
        Msg(o)
    }

    /// A message with `payload` set and a fresh `_msgid`.
    pub fn with_payload(payload: Value) -> Msg {
        let m = Msg::new();
        m.set(PAYLOAD, payload);
        m
    }

    /// The underlying object.
    pub fn object(&self) -> &Object {
        &self.0
    }

    /// The message as a value.
    pub fn to_value(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// A top-level property.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.0.get(key)
    }

    /// Sets a top-level property (a well-known one without hashing its name).
    pub fn set(&self, name: &str, v: Value) {
        match known(name) {
            Some(k) => self.0.insert_known(k, v),
            None => self.0.insert(Str::from(name), v),
        }
    }

    /// Removes a top-level property.
    pub fn remove(&self, key: &str) -> Option<Value> {
        self.0.remove(key)
    }

    /// `msg.payload`, or `undefined`.
    pub fn payload(&self) -> Value {
        self.0.get(PAYLOAD).unwrap_or_default()
    }

    /// Reads a property expression such as `payload.a["b"][0]`.
    pub fn get_path(&self, expr: &str) -> Result<Option<Value>, PathError> {
        propex::get(&self.to_value(), expr, Some(self))
    }

    /// Sets a property expression, creating missing parents.
    pub fn set_path(&self, expr: &str, v: Value) -> Result<(), PathError> {
        propex::set(&self.to_value(), expr, v, true, Some(self))
    }

    /// Deletes a property expression.
    pub fn delete_path(&self, expr: &str) -> Result<(), PathError> {
        propex::delete(&self.to_value(), expr, Some(self))
    }

    /// `RED.util.cloneMessage`.
    ///
    /// As in Node-RED, `msg.req` and `msg.res` are not copied: every clone
    /// refers to the same HTTP request and response.
    pub fn deep_clone(&self) -> Msg {
        let mut seen = crate::value::deep_clone::Seen::default();
        let copy =
            crate::value::deep_clone::clone_object(&self.0, &mut seen, |k| k == REQ || k == RES);
        Msg(copy)
    }

    /// The `_msgid` string.
    pub fn id(&self) -> String {
        self.0
            .get(MSGID)
            .map(|v| v.to_js_string())
            .unwrap_or_default()
    }
}

impl Default for Msg {
    fn default() -> Self {
        Msg::new()
    }
}

/// A new message id: 16 hex digits, as `RED.util.generateId` makes them.
pub fn new_msgid() -> String {
    msgid_str().to_string()
}

/// A fresh `_msgid` (16 random hex digits) built in one allocation.
fn msgid_str() -> Str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let n: u64 = rand::random();
    let mut buf = [0u8; 16];
    for (i, b) in buf.iter_mut().enumerate() {
        *b = HEX[((n >> (60 - 4 * i)) & 0xf) as usize];
    }
    // Invariant: every byte comes from HEX, so the buffer is ASCII.
    Str::from(std::str::from_utf8(&buf).unwrap_or_default())
}

impl Msg {
    /// A message from JSON (tests and edges); adds `_msgid` when missing.
    pub fn from_json(v: &serde_json::Value) -> Msg {
        match crate::value::from_serde(v) {
            Value::Object(o) => Msg::from_object(o),
            other => Msg::with_payload(other),
        }
    }

    /// The message as JSON (`JSON.stringify` rules).
    pub fn to_json(&self) -> serde_json::Value {
        crate::value::to_serde(&self.to_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn well_known_keys_share_one_allocation() {
        for name in [MSGID, PAYLOAD, TOPIC, REQ, RES, PARTS, ERROR] {
            assert!(Arc::ptr_eq(&key(name), &key(name)), "{name}");
            assert_eq!(&*key(name), name);
        }
        let other = key("payloads");
        assert_eq!(&*other, "payloads");
        assert!(!Arc::ptr_eq(&other, &key("payloads")));
        let m = Msg::new();
        m.set(PAYLOAD, Value::Null);
        let stored = m.object().with(|o| o.keys().cloned().collect::<Vec<_>>());
        assert!(Arc::ptr_eq(&stored[1], &key(PAYLOAD)));
    }

    #[test]
    fn msgids_are_16_lower_hex_digits() {
        let ids: Vec<String> = (0..64).map(|_| Msg::new().id()).collect();
        for id in &ids {
            assert_eq!(id.len(), 16, "{id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
                "{id}"
            );
        }
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        assert_eq!(new_msgid().len(), 16);
    }
}
