//! The change node's rules, read from flows.json (including the pre-0.18
//! single-rule form and the migrations Node-RED applies) and compiled once.

use super::replace::{self, Pattern};
use redoubt_core::context::{Scope, parse_key};
use redoubt_core::node::{BuildCtx, ConfigError, NodeConfig};
use redoubt_core::propex::{self, Seg};
use redoubt_core::typed::{TypedValue, eval_env};
use redoubt_core::value::{Value, from_json_str};
use serde_json::Value as Json;

/// Where a rule reads or writes.
#[derive(Debug)]
pub(super) enum Place {
    /// A message property (parsed path, text as written for warnings).
    Msg(Vec<Seg>, String),
    /// A flow or global context key (may hold `[msg.x]`) and its store.
    Ctx(Scope, String, Option<String>),
}

/// The `to` value of set and change rules.
#[derive(Debug)]
pub(super) struct ToValue {
    pub typed: TypedValue,
    /// `jsonata` errors stop the message; `flow`/`global` errors read as undefined.
    pub jsonata: bool,
    /// `tot` is `bool` (a replace giving "true"/"false" becomes the boolean).
    pub boolean: bool,
}

/// How `from` was typed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum FromKind {
    Str,
    Num,
    Bool,
    Re,
    /// A type the node does not give meaning to (matched as a literal).
    Other,
}

/// The `from` of a change rule.
#[derive(Debug)]
pub(super) enum From {
    /// A literal or regular expression fixed at deploy.
    Static {
        kind: FromKind,
        text: String,
        pattern: Pattern,
    },
    /// Read from the message or context per message.
    Dynamic(TypedValue),
}

#[derive(Debug)]
pub(super) enum Rule {
    Set {
        place: Place,
        value: ToValue,
        deep: bool,
    },
    Change {
        place: Place,
        from: From,
        value: ToValue,
        deep: bool,
    },
    Delete {
        place: Place,
    },
    /// `one_step`: set the target, then delete the source; otherwise read,
    /// delete the source, then set the target (Node-RED's `_temp_move`).
    Move {
        from: Place,
        to: Place,
        one_step: bool,
    },
    /// A rule with an unknown action: leaves the message alone.
    Noop,
}

fn text(v: Option<&Json>) -> Option<String> {
    match v {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

/// JS truthiness of a config value.
fn truthy(v: &Json) -> bool {
    match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|x| x != 0.0 && !x.is_nan()),
        Json::String(s) => !s.is_empty(),
        _ => true,
    }
}

fn non_empty(v: Option<String>, default: &str) -> String {
    v.filter(|s| !s.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// The rules as flows.json holds them, old single-rule nodes converted.
fn raw_rules(cfg: &NodeConfig) -> Vec<serde_json::Map<String, Json>> {
    match cfg.get("rules") {
        Some(Json::Array(items)) => items
            .iter()
            .map(|r| r.as_object().cloned().unwrap_or_default())
            .collect(),
        Some(Json::Null) | None => {
            let action = cfg.str("action");
            let t = if action == "replace" {
                "set".to_string()
            } else {
                action
            };
            let mut r = serde_json::Map::new();
            r.insert("p".into(), Json::String(cfg.str("property")));
            match t.as_str() {
                "set" | "move" => {
                    r.insert("to".into(), Json::String(cfg.str("to")));
                }
                "change" => {
                    r.insert("from".into(), Json::String(cfg.str("from")));
                    r.insert("to".into(), Json::String(cfg.str("to")));
                    let reg = cfg.get("reg");
                    if matches!(reg, Some(Json::Null)) || cfg.bool("reg") {
                        r.insert("re".into(), Json::Bool(true));
                    }
                }
                _ => {}
            }
            r.insert("t".into(), Json::String(t));
            vec![r]
        }
        Some(_) => Vec::new(),
    }
}

fn place(kind: &str, p: &str, field: &str) -> Result<Place, ConfigError> {
    match kind {
        "msg" => {
            let path = propex::strip_msg(p);
            let segs = propex::parse(path).map_err(|e| ConfigError::field(field, e.to_string()))?;
            Ok(Place::Msg(segs, p.to_string()))
        }
        "flow" | "global" => {
            let k = parse_key(p);
            propex::parse(&k.key).map_err(|e| ConfigError::field(field, e.to_string()))?;
            let scope = if kind == "flow" {
                Scope::Flow
            } else {
                Scope::Global
            };
            Ok(Place::Ctx(scope, k.key, k.store))
        }
        other => Err(ConfigError::field(
            field,
            format!("unsupported property type {other:?} (msg, flow or global)"),
        )),
    }
}

fn to_value(tot: &str, to: &str, field: &str, cx: &BuildCtx) -> Result<ToValue, ConfigError> {
    let typed = match tot {
        "json" | "bin" => {
            if from_json_str(to).is_err() {
                return Err(ConfigError::field(
                    field,
                    format!("Invalid 'to' JSON property: {to:?}"),
                ));
            }
            TypedValue::compile(tot, to, field)?
        }
        "jsonata" => TypedValue::compile(tot, to, field).map_err(|e| {
            ConfigError::field(field, format!("Invalid JSONata expression: {}", e.message))
        })?,
        // Node-RED reads env values once, when the node starts.
        "env" => TypedValue::Const(eval_env(to, cx.info())),
        "msg" | "flow" | "global" | "str" | "num" | "bool" | "date" => {
            TypedValue::compile(tot, to, field)?
        }
        // Unknown types use the text as it is.
        _ => TypedValue::Const(Value::str(to)),
    };
    Ok(ToValue {
        typed,
        jsonata: tot == "jsonata",
        boolean: tot == "bool",
    })
}

fn from_value(fromt: &str, from: &str, field: &str) -> Result<From, ConfigError> {
    Ok(match fromt {
        "msg" | "flow" | "global" => From::Dynamic(TypedValue::compile(fromt, from, field)?),
        "re" => {
            let re = replace::compile(from)
                .map_err(|e| ConfigError::field(field, format!("Invalid 'from' property: {e}")))?;
            From::Static {
                kind: FromKind::Re,
                text: from.to_string(),
                pattern: Pattern::Regex(Box::new(re)),
            }
        }
        other => {
            let kind = match other {
                "str" => FromKind::Str,
                "num" => FromKind::Num,
                "bool" => FromKind::Bool,
                _ => FromKind::Other,
            };
            From::Static {
                kind,
                text: from.to_string(),
                pattern: Pattern::All(from.to_string()),
            }
        }
    })
}

/// Reads and compiles every rule.
pub(super) fn rules(cfg: &NodeConfig, cx: &BuildCtx) -> Result<Vec<Rule>, ConfigError> {
    let mut out = Vec::new();
    for (i, r) in raw_rules(cfg).iter().enumerate() {
        let f = |name: &str| format!("rules[{i}].{name}");
        let t = text(r.get("t")).unwrap_or_default();
        let p = text(r.get("p")).unwrap_or_default();
        let pt = non_empty(text(r.get("pt")), "msg");
        let mut to = text(r.get("to")).unwrap_or_default();
        let mut tot = text(r.get("tot")).filter(|s| !s.is_empty());
        let mut fromt = non_empty(text(r.get("fromt")), "str");
        let from = text(r.get("from")).unwrap_or_default();
        if t == "change" && r.get("re").is_some_and(truthy) {
            fromt = "re".into();
        }
        if t == "set"
            && tot.is_none()
            && let Some(rest) = to.strip_prefix("msg.")
        {
            to = rest.to_string();
            tot = Some("msg".into());
        }
        let tot = tot.unwrap_or_else(|| "str".into());
        let deep = r.get("dc").is_some_and(truthy);
        let rule = match t.as_str() {
            "set" => Rule::Set {
                place: place(&pt, &p, &f("p"))?,
                value: to_value(&tot, &to, &f("to"), cx)?,
                deep,
            },
            "change" => Rule::Change {
                place: place(&pt, &p, &f("p"))?,
                from: from_value(&fromt, &from, &f("from"))?,
                value: to_value(&tot, &to, &f("to"), cx)?,
                deep,
            },
            "delete" => Rule::Delete {
                place: place(&pt, &p, &f("p"))?,
            },
            "move" => {
                let one_step = tot != pt || (p.contains(to.as_str()) && p != to);
                Rule::Move {
                    from: place(&pt, &p, &f("p"))?,
                    to: place(&tot, &to, &f("to"))?,
                    one_step,
                }
            }
            _ => Rule::Noop,
        };
        out.push(rule);
    }
    Ok(out)
}
