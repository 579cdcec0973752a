//! change (`@node-red/nodes/core/function/15-change.js`): applies its rules
//! in order to each message: `set` a message or context property to a typed
//! value (str, num, bool, json, bin, date, msg, flow, global, env, jsonata;
//! `dc` deep-copies it), `change` (search and replace in strings, or swap a
//! whole number or boolean value; `from` may be a string, number, boolean,
//! regular expression or a msg/flow/global value), `delete`, and `move`.
//!
//! Values are set by reference, as in Node-RED: setting `flow.x` from
//! `msg.payload` keeps the same object in (memory) context. Setting
//! `undefined` deletes. Regular expressions have ECMAScript semantics and
//! replacements honour `$1`, `$&`, `` $` ``, `$'`, `$<name>` and `$$`.
//!
//! Node-RED quirks kept on purpose: a `change` rule on a context value that
//! is neither a string nor a matching number/boolean drops the message; a
//! `from` read from msg/context that is not a string, number or boolean is
//! reported as an error while the message still goes on.
//!
//! Deviation: invalid rules (bad property expression, bad regular
//! expression, bad JSON or JSONata) are configuration errors, so the node
//! is not started; Node-RED starts it and drops or passes messages.

mod config;
mod msgprop;
mod replace;

use config::{From, FromKind, Place, Rule, ToValue};
use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use redoubt_core::value::Value;
use replace::Pattern;
use std::borrow::Cow;

pub(crate) struct ChangeType;

struct Change {
    rules: Vec<Rule>,
}

impl NodeType for ChangeType {
    fn type_name(&self) -> &'static str {
        "change"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(Change {
            rules: config::rules(cfg, cx)?,
        }))
    }
}

/// What happens to the message after a rule.
enum Step {
    Next,
    /// Node-RED never calls back: the message silently stops here.
    Drop,
}

/// A `from` as it applies to one message.
struct Resolved<'a> {
    kind: Option<FromKind>,
    value: Value,
    pattern: Cow<'a, Pattern>,
}

impl Change {
    fn to_value(
        &self,
        v: &ToValue,
        deep: bool,
        msg: &Msg,
        cx: &NodeCtx<'_>,
    ) -> Result<Value, NodeError> {
        let value = match v.typed.evaluate(Some(msg), cx.info(), &cx.context()) {
            Ok(v) => v,
            Err(e) if v.jsonata => {
                return Err(NodeError::new(format!(
                    "Invalid JSONata expression: {}",
                    e.message
                )));
            }
            Err(_) => Value::Undefined,
        };
        Ok(if deep { value.deep_clone() } else { value })
    }

    fn resolve_from<'r>(
        &self,
        from: &'r From,
        msg: &Msg,
        cx: &mut NodeCtx<'_>,
    ) -> Result<Resolved<'r>, NodeError> {
        let v = match from {
            From::Static {
                kind,
                text,
                pattern,
            } => {
                return Ok(Resolved {
                    kind: Some(*kind),
                    value: Value::str(text),
                    pattern: Cow::Borrowed(pattern),
                });
            }
            From::Dynamic(t) => t.evaluate(Some(msg), cx.info(), &cx.context())?,
        };
        // A non-string `from` leaves `replace` with an undefined pattern,
        // which JS turns into the text "undefined".
        let undefined = || Cow::Owned(Pattern::First("undefined".to_string()));
        Ok(match v {
            Value::Number(_) => Resolved {
                kind: Some(FromKind::Num),
                value: v,
                pattern: undefined(),
            },
            Value::Bool(_) => Resolved {
                kind: Some(FromKind::Bool),
                value: v,
                pattern: undefined(),
            },
            Value::String(s) => Resolved {
                kind: Some(FromKind::Str),
                pattern: Cow::Owned(Pattern::All(s.to_string())),
                value: Value::String(s),
            },
            other => {
                let kind = if other.is_undefined() {
                    "undefined"
                } else {
                    "object"
                };
                let err =
                    NodeError::new(format!("Invalid 'from' property: unsupported type: {kind}"));
                cx.error(err, Some(msg.clone()));
                Resolved {
                    kind: None,
                    value: other,
                    pattern: undefined(),
                }
            }
        })
    }

    fn read(&self, place: &Place, msg: &Msg, cx: &NodeCtx<'_>) -> Result<Option<Value>, NodeError> {
        Ok(match place {
            Place::Msg(segs, _) => Some(msgprop::get(msg, segs)),
            Place::Ctx(scope, key, store) => match msgprop::context_key(key, msg) {
                Some(k) => Some(
                    cx.context()
                        .get(*scope, &k, store.as_deref())?
                        .unwrap_or_default(),
                ),
                None => None,
            },
        })
    }

    /// Writes `value` (`Undefined` deletes); `false` when the key could not be resolved.
    fn write(
        &self,
        place: &Place,
        value: Value,
        msg: &Msg,
        cx: &NodeCtx<'_>,
        warn: bool,
    ) -> Result<bool, NodeError> {
        match place {
            Place::Msg(segs, text) => {
                if !msgprop::set(msg, segs, value) && warn {
                    cx.warn(&format!("Cannot set property of non-object type: {text}"));
                }
                Ok(true)
            }
            Place::Ctx(scope, key, store) => {
                let Some(k) = msgprop::context_key(key, msg) else {
                    return Ok(false);
                };
                let v = (!value.is_undefined()).then_some(value);
                cx.context().set(*scope, &k, v, store.as_deref())?;
                Ok(true)
            }
        }
    }

    fn apply(&self, rule: &Rule, msg: &Msg, cx: &mut NodeCtx<'_>) -> Result<Step, NodeError> {
        match rule {
            Rule::Noop => {}
            Rule::Set { place, value, deep } => {
                let v = self.to_value(value, *deep, msg, cx)?;
                self.write(place, v, msg, cx, true)?;
            }
            Rule::Delete { place } => {
                self.write(place, Value::Undefined, msg, cx, false)?;
            }
            Rule::Change {
                place,
                from,
                value,
                deep,
            } => {
                let v = self.to_value(value, *deep, msg, cx)?;
                let from = self.resolve_from(from, msg, cx)?;
                let in_msg = matches!(place, Place::Msg(..));
                let Some(current) = self.read(place, msg, cx)? else {
                    return Ok(Step::Next);
                };
                match changed(&current, &from, &v, in_msg && value.boolean) {
                    Some(new) => {
                        self.write(place, new, msg, cx, false)?;
                    }
                    None if !in_msg => return Ok(Step::Drop),
                    None => {}
                }
            }
            Rule::Move { from, to, one_step } => {
                // The source is read as a typed input would: context errors read as undefined.
                let v = self.read(from, msg, cx).ok().flatten().unwrap_or_default();
                if *one_step {
                    self.write(to, v, msg, cx, true)?;
                    self.write(from, Value::Undefined, msg, cx, false)?;
                } else {
                    self.write(from, Value::Undefined, msg, cx, false)?;
                    self.write(to, v, msg, cx, true)?;
                }
            }
        }
        Ok(Step::Next)
    }
}

/// The new value of a `change` rule's target, or `None` to leave it.
fn changed(current: &Value, from: &Resolved<'_>, value: &Value, to_bool: bool) -> Option<Value> {
    match (current, from.kind) {
        (Value::String(s), kind) => {
            let whole = matches!(kind, Some(FromKind::Num | FromKind::Bool | FromKind::Str))
                && from.value.as_str() == Some(&**s);
            if whole {
                return Some(value.clone());
            }
            let text = value.to_js_string();
            let replaced = replace::replace(s, &from.pattern, &text);
            if to_bool && replaced == text {
                Some(value.clone())
            } else {
                Some(Value::from(replaced))
            }
        }
        (Value::Number(n), Some(FromKind::Num)) => {
            (*n == from.value.to_number()).then(|| value.clone())
        }
        (Value::Bool(b), Some(FromKind::Bool)) => {
            (from.value.as_str() == Some(if *b { "true" } else { "false" })).then(|| value.clone())
        }
        _ => None,
    }
}

impl Node for Change {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        for rule in &self.rules {
            if let Step::Drop = self.apply(rule, &msg, cx)? {
                return Ok(());
            }
        }
        cx.send(0, msg);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
