//! switch (`@node-red/nodes/core/function/10-switch.js`): routes each
//! message to the outputs whose rule matches the property (msg, flow,
//! global, env or a JSONata expression). Rules: `eq`/`neq` (JS `==`),
//! `lt` `lte` `gt` `gte` `btwn` (JS relational comparison), `cont`,
//! `regex` (ECMAScript, optional ignore-case), `true` `false` `null`
//! `nnull` `empty` `nempty` `istype` `hask`, `jsonata_exp` (`$I`/`$N` bound
//! inside sequences), the sequence rules `head` `tail` `index`, and `else`.
//! Values are typed inputs, plus `prev` (the property of the previous
//! message). `checkall` "false" stops at the first match.
//!
//! With `repair` ("recreate message sequences"), or with a `tail` rule, the
//! parts of a sequence are held until all arrived; repaired output gets a
//! fresh `msg.parts` (id, index, count) per output. At most
//! `nodeMessageBufferMaxLength` (setting) messages are held.
//!
//! Deviations: an unknown rule type or an invalid JSONata expression is a
//! configuration error (Node-RED starts the node and logs); regular
//! expression errors carry regress's text after V8's prefix.

mod ops;
mod sequence;

use ops::{Args, Op};
use redoubt_core::Msg;
use redoubt_core::expr::jsonata::{JsonataEnv, JsonataExpr};
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use redoubt_core::typed::TypedValue;
use redoubt_core::value::Value;
use regress::Regex;
use sequence::{Sequences, parts_of};
use serde_json::Value as Json;

pub(crate) struct SwitchType;

/// A rule's `v` or `v2`.
enum Operand {
    Typed(TypedValue),
    Jsonata(JsonataExpr),
    Prev,
    Raw(Value),
}

struct Rule {
    op: Op,
    v1: Operand,
    v2: Operand,
    ignore_case: bool,
    /// The last regular expression compiled for a `regex` rule.
    regex: Option<(String, Result<Regex, String>)>,
    /// `$I`/`$N` as last assigned (Node-RED keeps them on the expression).
    seq_vars: Option<(Value, Value)>,
}

enum Property {
    Typed(TypedValue),
    Jsonata(JsonataExpr),
}

struct Switch {
    property: Property,
    rules: Vec<Rule>,
    stop_first: bool,
    repair: bool,
    needs_count: bool,
    previous: Value,
    seq: Sequences,
    max_kept: usize,
}

fn text(v: Option<&Json>) -> Option<String> {
    match v {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    }
}

fn jsonata(src: &str, field: &str) -> Result<JsonataExpr, ConfigError> {
    JsonataExpr::compile(src).map_err(|e| {
        ConfigError::field(field, format!("Invalid JSONata expression: {}", e.message))
    })
}

/// The editor's default for a missing `vt`: `num` when `Number(v)` is a number.
fn default_type(v: Option<&Json>) -> &'static str {
    let n = match v {
        None | Some(Json::Null) => f64::NAN,
        Some(Json::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(Json::Bool(_)) => 0.0,
        Some(Json::String(s)) => Value::str(s).to_number(),
        Some(_) => f64::NAN,
    };
    if n.is_nan() { "str" } else { "num" }
}

fn raw(v: Option<&Json>) -> Value {
    v.map(redoubt_core::value::from_serde).unwrap_or_default()
}

/// `getV1`/`getV2`: `first` keeps Node-RED's special cases for `v`.
fn operand(kind: &str, v: Option<&Json>, first: bool, field: &str) -> Result<Operand, ConfigError> {
    let value = text(v).unwrap_or_default();
    Ok(match kind {
        "prev" => Operand::Prev,
        "jsonata" => Operand::Jsonata(jsonata(&value, field)?),
        "json" if first => Operand::Raw(Value::str("json")),
        "null" if first => Operand::Raw(Value::str("null")),
        "str" | "num" | "bool" | "json" | "bin" | "date" | "msg" | "flow" | "global" | "env"
        | "re" => Operand::Typed(TypedValue::compile(kind, &value, field)?),
        _ => Operand::Raw(raw(v)),
    })
}

fn rule(r: &Json, i: usize) -> Result<Rule, ConfigError> {
    let field = |n: &str| format!("rules[{i}].{n}");
    let t = text(r.get("t")).unwrap_or_default();
    let op = Op::parse(&t)
        .ok_or_else(|| ConfigError::field(field("t"), format!("unknown rule type {t:?}")))?;
    let vt = text(r.get("vt"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| default_type(r.get("v")).into());
    let v1 = operand(&vt, r.get("v"), true, &field("v"))?;
    let v2 = match r.get("v2") {
        None => Operand::Raw(Value::Undefined),
        Some(v2) => {
            let v2t = text(r.get("v2t"))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| default_type(Some(v2)).into());
            operand(&v2t, Some(v2), false, &field("v2"))?
        }
    };
    let ignore_case = r
        .get("case")
        .is_some_and(|c| matches!(c, Json::Bool(true)) || c.as_str() == Some("true"));
    Ok(Rule {
        op,
        v1,
        v2,
        ignore_case,
        regex: None,
        seq_vars: None,
    })
}

impl NodeType for SwitchType {
    fn type_name(&self) -> &'static str {
        "switch"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let prop = cfg.str("property");
        let kind = cfg.str("propertyType");
        let property = match kind.as_str() {
            "jsonata" => Property::Jsonata(jsonata(&prop, "property")?),
            // No property reads as undefined, as in Node-RED.
            "" | "msg" if prop.is_empty() => Property::Typed(TypedValue::Const(Value::Undefined)),
            "" => Property::Typed(TypedValue::compile("msg", &prop, "property")?),
            k => Property::Typed(TypedValue::compile(k, &prop, "property")?),
        };
        let rules = match cfg.get("rules") {
            Some(Json::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, r)| rule(r, i))
                .collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        };
        let repair = cfg.bool("repair");
        let needs_count = repair || rules.iter().any(|r| r.op == Op::Tail);
        let max_kept = cx
            .settings()
            .raw
            .get("nodeMessageBufferMaxLength")
            .and_then(Json::as_f64)
            .unwrap_or(0.0);
        Ok(Box::new(Switch {
            property,
            rules,
            // Only the string "false" stops at the first match (`checkall == "false"`).
            stop_first: cfg.get("checkall").and_then(Json::as_str) == Some("false"),
            repair,
            needs_count,
            previous: Value::Null,
            seq: Sequences::default(),
            max_kept: max_kept.max(0.0) as usize,
        }))
    }
}

fn jsonata_error(e: redoubt_core::expr::jsonata::ExprError) -> NodeError {
    NodeError::new(format!("Invalid JSONata expression: {}", e.message))
}

impl Switch {
    fn eval(
        &self,
        o: &Operand,
        msg: &Msg,
        vars: Option<&(Value, Value)>,
        cx: &NodeCtx<'_>,
    ) -> Result<Value, NodeError> {
        Ok(match o {
            Operand::Typed(t) => t
                .evaluate(Some(msg), cx.info(), &cx.context())
                .unwrap_or_default(),
            Operand::Jsonata(e) => {
                let env = JsonataEnv::for_node(cx.info(), cx.context());
                let vars: Vec<(&str, Value)> = vars
                    .map(|(i, n)| vec![("I", i.clone()), ("N", n.clone())])
                    .unwrap_or_default();
                e.eval_msg_with(Some(msg), &env, &vars)
                    .map_err(jsonata_error)?
            }
            Operand::Prev => self.previous.clone(),
            Operand::Raw(v) => v.clone(),
        })
    }

    /// Which rules match, in order; stops after the first with `stop_first`.
    fn apply_rules(
        &mut self,
        msg: &Msg,
        property: &Value,
        has_parts: bool,
        cx: &NodeCtx<'_>,
    ) -> Result<Vec<bool>, NodeError> {
        let parts = msg.get(redoubt_core::msg::PARTS).unwrap_or_default();
        let mut onward = Vec::with_capacity(self.rules.len());
        let mut else_flag = true;
        for i in 0..self.rules.len() {
            if has_parts && self.rules[i].op == Op::Jsonata {
                let p = parts.as_object();
                let get = |k: &str| p.and_then(|p| p.get(k)).unwrap_or_default();
                self.rules[i].seq_vars = Some((get("index"), get("count")));
            }
            let rule = &self.rules[i];
            let v1 = self.eval(&rule.v1, msg, rule.seq_vars.as_ref(), cx)?;
            let v2 = self.eval(&rule.v2, msg, None, cx)?;
            let matched = match rule.op {
                Op::Else => std::mem::replace(&mut else_flag, true),
                Op::Regex => self.regex_match(i, property, &v1)?,
                op => ops::test(
                    op,
                    &Args {
                        a: property,
                        v1: &v1,
                        v2: &v2,
                        parts: &parts,
                    },
                )?,
            };
            onward.push(matched);
            if matched {
                else_flag = false;
                if self.stop_first {
                    break;
                }
            }
        }
        Ok(onward)
    }

    fn regex_match(&mut self, i: usize, a: &Value, pattern: &Value) -> Result<bool, NodeError> {
        let rule = &mut self.rules[i];
        let src = if pattern.is_undefined() {
            "(?:)".to_string()
        } else {
            pattern.to_js_string()
        };
        if rule.regex.as_ref().is_none_or(|(s, _)| *s != src) {
            let flags = if rule.ignore_case { "i" } else { "" };
            let re = Regex::with_flags(&src, flags)
                .map_err(|e| format!("Invalid regular expression: /{src}/{flags}: {e}"));
            rule.regex = Some((src, re));
        }
        match &rule.regex {
            Some((_, Ok(re))) => Ok(re.find(&a.to_js_string()).is_some()),
            Some((_, Err(e))) => Err(NodeError::new(e.clone())),
            None => Ok(false),
        }
    }

    fn property(&self, msg: &Msg, cx: &NodeCtx<'_>) -> Result<Value, NodeError> {
        match &self.property {
            Property::Typed(t) => Ok(t
                .evaluate(Some(msg), cx.info(), &cx.context())
                .unwrap_or_default()),
            Property::Jsonata(e) => e
                .eval_msg(Some(msg), &JsonataEnv::for_node(cx.info(), cx.context()))
                .map_err(jsonata_error),
        }
    }

    fn process(&mut self, msg: Msg, check_parts: bool, cx: &mut NodeCtx<'_>) {
        let has_parts = parts_of(&msg).is_some();
        if self.needs_count && check_parts && has_parts {
            match self.seq.hold(msg.clone(), self.max_kept) {
                Err(_) => cx.error(
                    NodeError::new("too many pending messages in switch node"),
                    Some(msg),
                ),
                Ok(None) => {}
                Ok(Some((msgs, count))) => {
                    for m in msgs {
                        if let Some(Value::Object(p)) = m.get(redoubt_core::msg::PARTS) {
                            p.insert("count", count.clone());
                        }
                        self.process(m, false, cx);
                    }
                }
            }
            return;
        }
        let property = match self.property(&msg, cx) {
            Ok(p) => p,
            Err(e) => {
                cx.warn(&e.message);
                return;
            }
        };
        let onward = match self.apply_rules(&msg, &property, has_parts, cx) {
            Ok(o) => o,
            Err(e) => {
                cx.error(e, Some(msg));
                return;
            }
        };
        self.previous = property;
        if self.repair && has_parts {
            let (out, overflow) = self.seq.collect(onward, msg.clone(), self.max_kept);
            for (port, m) in out {
                cx.send(port, m);
            }
            if overflow.is_some() {
                cx.error(
                    NodeError::new("too many pending messages in switch node"),
                    Some(msg),
                );
            }
            return;
        }
        let mut first = true;
        for (port, _) in onward.iter().enumerate().filter(|(_, m)| **m) {
            let m = if first { msg.clone() } else { msg.deep_clone() };
            first = false;
            cx.send(port, m);
        }
    }
}

impl Node for Switch {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        if self.rules.is_empty() {
            return Ok(());
        }
        self.process(msg, true, cx);
        Ok(())
    }

    fn close(&mut self, _removed: bool, _cx: &mut NodeCtx<'_>) {
        self.seq.clear();
    }
}

#[cfg(test)]
mod tests;
