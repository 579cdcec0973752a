//! Node status (the coloured dot and text under a node in the editor).

use crate::value::{Object, Value};

/// A node's status, as `node.status({fill, shape, text})` sets it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    /// `red`, `green`, `yellow`, `blue` or `grey`.
    pub fill: Option<String>,
    /// `ring` or `dot`.
    pub shape: Option<String>,
    /// The text.
    pub text: Option<String>,
    /// `event` (websocket nodes: `connect`, `disconnect`, `error`), seen by Status nodes.
    pub event: Option<String>,
    /// `_session` as `(type, id)` (websocket nodes), seen by Status nodes.
    pub session: Option<(String, String)>,
}

impl Status {
    /// A status with fill, shape and text.
    pub fn new(fill: &str, shape: &str, text: impl Into<String>) -> Status {
        Status {
            fill: Some(fill.into()),
            shape: Some(shape.into()),
            text: Some(text.into()),
            ..Status::default()
        }
    }

    /// A status with text only.
    pub fn text(text: impl Into<String>) -> Status {
        Status {
            text: Some(text.into()),
            ..Status::default()
        }
    }

    /// The empty status that clears the display.
    pub fn clear() -> Status {
        Status::default()
    }

    /// True when nothing is set.
    pub fn is_clear(&self) -> bool {
        self.fill.is_none() && self.shape.is_none() && self.text.is_none()
    }

    /// Reads `{fill, shape, text}` from a JS value.
    pub fn from_value(v: &Value) -> Status {
        match v {
            Value::Object(o) => Status {
                fill: o
                    .get("fill")
                    .filter(|v| !v.is_nullish())
                    .map(|v| v.to_js_string()),
                shape: o
                    .get("shape")
                    .filter(|v| !v.is_nullish())
                    .map(|v| v.to_js_string()),
                text: o
                    .get("text")
                    .filter(|v| !v.is_nullish())
                    .map(|v| v.to_js_string()),
                ..Status::default()
            },
            Value::String(s) => Status::text(s.to_string()),
            _ => Status::default(),
        }
    }

    /// As the `{fill, shape, text}` object Node-RED passes around.
    pub fn to_value(&self) -> Value {
        let o = Object::new();
        if let Some(f) = &self.fill {
            o.insert("fill", Value::str(f));
        }
        if let Some(s) = &self.shape {
            o.insert("shape", Value::str(s));
        }
        if let Some(t) = &self.text {
            o.insert("text", Value::str(t));
        }
        if let Some(e) = &self.event {
            o.insert("event", Value::str(e));
        }
        if let Some((ty, id)) = &self.session {
            let s = Object::new();
            s.insert("type", Value::str(ty));
            s.insert("id", Value::str(id));
            o.insert("_session", Value::Object(s));
        }
        Value::Object(o)
    }
}
