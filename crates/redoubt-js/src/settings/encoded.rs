//! Finding the values `convert.rs` encoded as tagged objects
//! (`{"__function__": …}`, `{"__module__": …}`, `{"__regexp__": …}`) in an
//! evaluated settings object, with their property paths, so the settings
//! layer can accept or reject each one by key.

use serde_json::{Map, Value};

use super::convert::{FUNCTION_KEY, MODULE_KEY, REGEXP_KEY};

/// What a tagged value stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodedKind {
    /// A JS function; the text is its source.
    Function,
    /// A module from the prelude's `require`; the text is its name.
    Module,
    /// A regular expression; the text is `/source/flags`.
    RegExp,
}

/// One tagged value found by [`encoded_values`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded<'a> {
    /// Property path such as `httpNodeMiddleware[0]` or `adminAuth.users`.
    pub path: String,
    /// What the value is.
    pub kind: EncodedKind,
    /// Function source, module name or regexp literal.
    pub text: &'a str,
}

/// If `value` is a tagged object, what it encodes.
pub fn decode(value: &Value) -> Option<(EncodedKind, &str)> {
    let Value::Object(map) = value else {
        return None;
    };
    if map.len() != 1 {
        return None;
    }
    let (key, text) = map.iter().next()?;
    let kind = match key.as_str() {
        FUNCTION_KEY => EncodedKind::Function,
        MODULE_KEY => EncodedKind::Module,
        REGEXP_KEY => EncodedKind::RegExp,
        _ => return None,
    };
    Some((kind, text.as_str()?))
}

/// Every tagged value in `settings`, in document order. Tagged values are
/// leaves: nothing inside one is reported.
pub fn encoded_values(settings: &Map<String, Value>) -> Vec<Encoded<'_>> {
    let mut found = Vec::new();
    for (key, value) in settings {
        walk(key.clone(), value, &mut found);
    }
    found
}

fn walk<'a>(path: String, value: &'a Value, found: &mut Vec<Encoded<'a>>) {
    if let Some((kind, text)) = decode(value) {
        found.push(Encoded { path, kind, text });
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                walk(format!("{path}.{key}"), child, found);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk(format!("{path}[{index}]"), child, found);
            }
        }
        _ => {}
    }
}
