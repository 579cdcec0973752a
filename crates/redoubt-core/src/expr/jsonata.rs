//! JSONata as Node-RED uses it (`prepareJSONataExpression`): the evaluation
//! input is the message (or `{msg}` in legacy mode, when the expression
//! mentions `msg`), with `$flowContext`, `$globalContext`, `$env` and
//! `$clone` bound, and per-call variables such as `$A`/`$I`/`$N` for join.
//!
//! Implementation: the `jsonata-core` crate (see `docs/architecture.md` for
//! the measured choice). Its values are `Rc`-based, so each evaluation
//! converts in and out on the calling thread and keeps nothing across awaits.

use crate::context::{NodeContext, Scope, parse_key};
use crate::engine::{EnvScope, NodeInfo};
use crate::msg::Msg;
use crate::value::{Array, Object, Str, Value};
use indexmap::IndexMap;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::value::JValue;
use std::sync::Arc;

/// A JSONata expression failed to parse or evaluate.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    /// What went wrong, as Node-RED reports it.
    pub message: String,
}

/// A parsed expression, ready to evaluate many times.
pub struct JsonataExpr {
    ast: jsonata_core::ast::AstNode,
    legacy: bool,
    source: String,
}

impl std::fmt::Debug for JsonataExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JsonataExpr({:?})", self.source)
    }
}

/// What an expression may reach besides its input.
#[derive(Default, Clone)]
pub struct JsonataEnv {
    /// The evaluating node's context (for `$flowContext` / `$globalContext`).
    pub context: Option<NodeContext>,
    /// The evaluating node (for `$env`).
    pub node: Option<Arc<NodeInfo>>,
    /// Env scope when there is no node (tab env entries).
    pub env: Option<Arc<EnvScope>>,
}

impl JsonataEnv {
    /// The environment of a running node.
    pub fn for_node(info: &Arc<NodeInfo>, context: NodeContext) -> JsonataEnv {
        JsonataEnv {
            context: Some(context),
            node: Some(info.clone()),
            env: None,
        }
    }
}

fn legacy_mode(src: &str) -> bool {
    // /(^|[^a-zA-Z0-9_'".])msg([^a-zA-Z0-9_'"]|$)/
    let b = src.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'\'' || c == b'"';
    let mut i = 0;
    while let Some(pos) = src[i..].find("msg") {
        let p = i + pos;
        let before_ok = p == 0 || !(word(b[p - 1]) || b[p - 1] == b'.');
        let after = p + 3;
        let after_ok = after >= b.len() || !word(b[after]);
        if before_ok && after_ok {
            return true;
        }
        i = p + 3;
    }
    false
}

impl JsonataExpr {
    /// Parses `source`.
    pub fn compile(source: &str) -> Result<JsonataExpr, ExprError> {
        let ast = jsonata_core::parser::parse(source).map_err(|e| ExprError {
            message: e.to_string(),
        })?;
        Ok(JsonataExpr {
            ast,
            legacy: legacy_mode(source),
            source: source.to_string(),
        })
    }

    /// The expression text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against a message.
    pub fn eval_msg(&self, msg: Option<&Msg>, env: &JsonataEnv) -> Result<Value, ExprError> {
        self.eval_msg_with(msg, env, &[])
    }

    /// Evaluates against a message with extra `$name` bindings.
    pub fn eval_msg_with(
        &self,
        msg: Option<&Msg>,
        env: &JsonataEnv,
        vars: &[(&str, Value)],
    ) -> Result<Value, ExprError> {
        let input = match msg {
            Some(m) if self.legacy => {
                let o = Object::new();
                o.insert("msg", m.to_value());
                Value::Object(o)
            }
            Some(m) => m.to_value(),
            None => Value::Undefined,
        };
        self.eval_value(&input, env, vars)
    }

    /// Evaluates against an arbitrary input value.
    pub fn eval_value(
        &self,
        input: &Value,
        env: &JsonataEnv,
        vars: &[(&str, Value)],
    ) -> Result<Value, ExprError> {
        let mut ctx = Context::new();
        for (k, v) in vars {
            ctx.bind((*k).to_string(), to_jvalue(v));
        }
        let mut ev = Evaluator::with_options(ctx, EvaluatorOptions::default());
        register(&mut ev, env);
        let data = to_jvalue(input);
        match ev.evaluate(&self.ast, &data) {
            Ok(v) => Ok(from_jvalue(&v)),
            Err(e) => Err(ExprError {
                message: error_text(&e),
            }),
        }
    }
}

fn error_text(e: &EvaluatorError) -> String {
    e.to_string()
}

fn register(ev: &mut Evaluator, env: &JsonataEnv) {
    let ctx_flow = env.context.clone();
    let r1 = ev.register_fn("flowContext", move |args: &[JValue]| {
        Ok(ctx_get(&ctx_flow, Scope::Flow, args))
    });
    let ctx_global = env.context.clone();
    let r2 = ev.register_fn("globalContext", move |args: &[JValue]| {
        Ok(ctx_get(&ctx_global, Scope::Global, args))
    });
    let node = env.node.clone();
    let scope = env.env.clone();
    let r3 = ev.register_fn_override("env", move |args: &[JValue]| {
        let name = args
            .first()
            .and_then(|a| a.as_str())
            .unwrap_or("")
            .to_string();
        let v = match (&node, &scope) {
            (Some(n), _) => n.env.get(&name, Some(n)),
            (None, Some(s)) => s.get(&name, None),
            _ => None,
        };
        Ok(match v {
            Some(v) if !v.is_undefined() => to_jvalue(&v),
            _ => JValue::from(""),
        })
    });
    let r4 = ev.register_fn("clone", |args: &[JValue]| {
        Ok(args.first().cloned().unwrap_or(JValue::Undefined))
    });
    for r in [r1, r2, r3, r4] {
        if let Err(e) = r {
            tracing::debug!("JSONata function registration: {e}.");
        }
    }
}

fn ctx_get(ctx: &Option<NodeContext>, scope: Scope, args: &[JValue]) -> JValue {
    let Some(ctx) = ctx else {
        return JValue::from("");
    };
    let key = args.first().and_then(|a| a.as_str()).unwrap_or("");
    let store = args.get(1).and_then(|a| a.as_str()).map(str::to_string);
    let k = parse_key(key);
    let store = store.or(k.store);
    match ctx.get(scope, &k.key, store.as_deref()) {
        Ok(Some(v)) => to_jvalue(&v),
        _ => JValue::Undefined,
    }
}

/// Evaluates an env entry of type `jsonata` (tab, group, subflow env).
pub fn eval_env_expression(src: &str, scope: &Arc<EnvScope>) -> Option<Value> {
    let e = JsonataExpr::compile(src).ok()?;
    let env = JsonataEnv {
        context: None,
        node: None,
        env: Some(scope.clone()),
    };
    e.eval_value(&Value::Undefined, &env, &[]).ok()
}

/// Converts our value into a JSONata value.
pub fn to_jvalue(v: &Value) -> JValue {
    match v {
        Value::Undefined | Value::Handle(_) => JValue::Undefined,
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        Value::Number(n) => JValue::Number(*n),
        Value::String(s) => JValue::string(&**s),
        Value::Date(ms) => match crate::value::to_json(v) {
            Ok(s) => JValue::string(s.trim_matches('"')),
            Err(_) => JValue::Number(*ms),
        },
        Value::Buffer(b) => {
            let mut m = IndexMap::new();
            m.insert("type".to_string(), JValue::from("Buffer"));
            m.insert(
                "data".to_string(),
                JValue::array(b.iter().map(|x| JValue::Number(f64::from(*x))).collect()),
            );
            JValue::object(m)
        }
        Value::Array(a) => JValue::array(a.with(|items| items.iter().map(to_jvalue).collect())),
        Value::Object(o) => JValue::object(o.with(|m| {
            m.iter()
                .map(|(k, v)| (k.to_string(), to_jvalue(v)))
                .collect()
        })),
    }
}

/// Converts a JSONata result into our value.
pub fn from_jvalue(v: &JValue) -> Value {
    match v {
        JValue::Null => Value::Null,
        JValue::Undefined => Value::Undefined,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => Value::Number(*n),
        JValue::String(s) => Value::String(Str::from(&**s)),
        JValue::Array(a) => Value::Array(Array::from_vec(a.iter().map(from_jvalue).collect())),
        JValue::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (Str::from(k.as_str()), from_jvalue(v)))
                .collect::<Object>(),
        ),
        // Functions and regexes have no message form; JSON.stringify drops them too.
        _ => Value::Undefined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_mode_detects_msg_references() {
        assert!(legacy_mode("msg.payload + 1"));
        assert!(legacy_mode("$count(msg)"));
        assert!(!legacy_mode("payload.msgs"));
        assert!(!legacy_mode("\"msg\""));
    }

    #[test]
    fn evaluates_against_the_message() {
        let m = Msg::with_payload(Value::Number(20.0));
        let e = JsonataExpr::compile("payload * 1.8 + 32").expect("compile");
        let v = e.eval_msg(Some(&m), &JsonataEnv::default()).expect("eval");
        assert_eq!(v.as_f64(), Some(68.0));
        let e = JsonataExpr::compile("msg.payload + 1").expect("compile");
        assert_eq!(
            e.eval_msg(Some(&m), &JsonataEnv::default())
                .expect("eval")
                .as_f64(),
            Some(21.0)
        );
    }

    #[test]
    fn bindings_are_visible() {
        let e = JsonataExpr::compile("$A + $N").expect("compile");
        let v = e
            .eval_value(
                &Value::Undefined,
                &JsonataEnv::default(),
                &[("A", Value::Number(2.0)), ("N", Value::Number(3.0))],
            )
            .expect("eval");
        assert_eq!(v.as_f64(), Some(5.0));
    }
}
