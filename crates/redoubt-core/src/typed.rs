//! Typed inputs: the editor's `{value, type}` pairs (`str`, `num`, `bool`,
//! `json`, `bin`, `date`, `msg`, `flow`, `global`, `env`, `jsonata`, `re`),
//! evaluated as `RED.util.evaluateNodeProperty` does.
//!
//! [`TypedValue::compile`] runs at build time (parsing JSON, JSONata and
//! property paths once); [`TypedValue::evaluate`] runs per message.

use crate::context::{ContextError, NodeContext, Scope, parse_key};
use crate::engine::NodeInfo;
use crate::expr::jsonata::{JsonataEnv, JsonataExpr};
use crate::msg::Msg;
use crate::node::{ConfigError, NodeError};
use crate::propex;
use crate::value::{Value, from_json_str};
use std::sync::Arc;

/// A compiled typed input.
#[derive(Debug)]
pub enum TypedValue {
    /// A constant (str, num, bool, json, bin).
    Const(Value),
    /// `date`: now, as a timestamp, ISO string, or Date object.
    Date(DateFormat),
    /// `msg.<path>`.
    Msg(Vec<propex::Seg>, String),
    /// `flow.<key>` with an optional store.
    Flow(String, Option<String>),
    /// `global.<key>` with an optional store.
    Global(String, Option<String>),
    /// `env`: a variable name or a `${}` template.
    Env(String),
    /// A JSONata expression.
    Jsonata(JsonataExpr),
    /// A regular expression source (`re`), used by the change node.
    Regex(String),
}

/// How a `date` typed input is produced.
#[derive(Debug, Clone, PartialEq)]
pub enum DateFormat {
    /// Milliseconds since the epoch.
    Timestamp,
    /// ISO 8601 text.
    Iso,
    /// A Date object.
    Object,
    /// A moment.js format string (formatted with a subset).
    Custom(String),
}

/// Parses a `bin` value (a JSON array of bytes or a JSON string).
pub fn parse_bin(text: &str) -> Option<Value> {
    match from_json_str(text).ok()? {
        Value::Array(a) => {
            let bytes: Vec<u8> = a
                .to_vec()
                .iter()
                .map(|v| (v.to_number() as i64 & 0xff) as u8)
                .collect();
            Some(Value::Buffer(bytes.into()))
        }
        Value::String(s) => Some(Value::Buffer(bytes::Bytes::copy_from_slice(s.as_bytes()))),
        _ => None,
    }
}

impl TypedValue {
    /// Compiles `value` of `kind`; `field` names the property in errors.
    pub fn compile(kind: &str, value: &str, field: &str) -> Result<TypedValue, ConfigError> {
        let bad = |m: String| ConfigError::field(field, m);
        Ok(match kind {
            "str" | "" => TypedValue::Const(Value::str(value)),
            "num" => TypedValue::Const(Value::Number(Value::str(value).to_number())),
            "bool" => TypedValue::Const(Value::Bool(value.eq_ignore_ascii_case("true"))),
            "json" => TypedValue::Const(
                from_json_str(value).map_err(|e| bad(format!("invalid JSON {value:?}: {e}")))?,
            ),
            "bin" => TypedValue::Const(parse_bin(value).ok_or_else(|| {
                bad(format!(
                    "invalid buffer data {value:?}: not a string or array"
                ))
            })?),
            "date" => TypedValue::Date(match value {
                "" => DateFormat::Timestamp,
                "iso" => DateFormat::Iso,
                "object" => DateFormat::Object,
                other => DateFormat::Custom(other.to_string()),
            }),
            "msg" => {
                let p = propex::strip_msg(value);
                TypedValue::Msg(
                    propex::parse(p).map_err(|e| bad(e.to_string()))?,
                    p.to_string(),
                )
            }
            "flow" | "global" => {
                let k = parse_key(value);
                if kind == "flow" {
                    TypedValue::Flow(k.key, k.store)
                } else {
                    TypedValue::Global(k.key, k.store)
                }
            }
            "env" => TypedValue::Env(value.to_string()),
            "jsonata" => TypedValue::Jsonata(
                JsonataExpr::compile(value)
                    .map_err(|e| bad(format!("invalid JSONata expression {value:?}: {e}")))?,
            ),
            "re" => TypedValue::Regex(value.to_string()),
            other => return Err(bad(format!("unsupported type {other:?}"))),
        })
    }

    /// Evaluates for one message. `Ok(None)` is JS `undefined`.
    pub fn evaluate(
        &self,
        msg: Option<&Msg>,
        node: &Arc<NodeInfo>,
        ctx: &NodeContext,
    ) -> Result<Value, NodeError> {
        Ok(match self {
            TypedValue::Const(v) => match v {
                // json/bin constants are objects: every evaluation gets its own copy.
                Value::Object(_) | Value::Array(_) => v.deep_clone(),
                v => v.clone(),
            },
            TypedValue::Date(f) => date_now(f),
            TypedValue::Msg(segs, _) => match msg {
                Some(m) => propex::get_segs(&m.to_value(), segs, Some(m)).unwrap_or_default(),
                None => Value::Undefined,
            },
            TypedValue::Flow(k, s) => ctx_get(ctx, Scope::Flow, k, s.as_deref(), msg)?,
            TypedValue::Global(k, s) => ctx_get(ctx, Scope::Global, k, s.as_deref(), msg)?,
            TypedValue::Env(v) => eval_env(v, node),
            TypedValue::Jsonata(e) => e
                .eval_msg(msg, &JsonataEnv::for_node(node, ctx.clone()))
                .map_err(|e| NodeError::new(e.message))?,
            TypedValue::Regex(r) => Value::str(r),
        })
    }
}

fn ctx_get(
    ctx: &NodeContext,
    scope: Scope,
    key: &str,
    store: Option<&str>,
    msg: Option<&Msg>,
) -> Result<Value, NodeError> {
    let key = if key.contains("[msg") {
        resolve_nested_key(key, msg)
    } else {
        key.to_string()
    };
    match ctx.get(scope, &key, store) {
        Ok(v) => Ok(v.unwrap_or_default()),
        Err(e @ ContextError::UnknownStore(_)) => Err(e.into()),
        Err(e) => Err(e.into()),
    }
}

/// Replaces `[msg.x]` parts of a context key with the message values.
fn resolve_nested_key(key: &str, msg: Option<&Msg>) -> String {
    let Ok(segs) = propex::parse(key) else {
        return key.to_string();
    };
    let mut out = String::new();
    for (i, s) in segs.iter().enumerate() {
        match s {
            propex::Seg::Key(k) => {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(k);
            }
            propex::Seg::Index(n) => out.push_str(&format!("[{n}]")),
            propex::Seg::Nested(p) => {
                let v = msg
                    .and_then(|m| propex::get_segs(&m.to_value(), p, Some(m)))
                    .unwrap_or_default();
                out.push_str(&format!("[{:?}]", v.to_js_string()));
            }
        }
    }
    out
}

/// `evaluateEnvProperty`.
pub fn eval_env(value: &str, node: &Arc<NodeInfo>) -> Value {
    let get = |n: &str| node.env.get(n, Some(node));
    let whole =
        value.starts_with("${") && value.ends_with('}') && !value[2..value.len() - 1].contains('}');
    let r = if whole {
        get(&value[2..value.len() - 1])
    } else if !value.contains("${") {
        get(value)
    } else {
        return Value::from(crate::engine::substitute(value, get));
    };
    match r {
        Some(v) if !v.is_undefined() => v,
        _ => Value::str(""),
    }
}

fn date_now(f: &DateFormat) -> Value {
    let now = chrono::Utc::now();
    let ms = now.timestamp_millis() as f64;
    match f {
        DateFormat::Timestamp => Value::Number(ms),
        DateFormat::Object => Value::Date(ms),
        DateFormat::Iso => Value::String(now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string().into()),
        DateFormat::Custom(fmt) => Value::from(crate::moment::format(&now, fmt)),
    }
}
