//! template (`@node-red/nodes/core/function/80-template.js`): renders a
//! Mustache template (our own engine with mustache.js 4.2.0 semantics, see
//! [`mustache`]) or plain text into `field` of the message, or into flow or
//! global context (`fieldType`), as a string, parsed JSON or parsed YAML.
//!
//! Names resolve against the message first (with the section stack), then
//! `env.NAME`, `flow.key`, `flow[store].key`, `global.key` (prefetched
//! before rendering, as Node-RED does), else render empty. With JSON output
//! the message's top-level strings are JSON-escaped (`\\ \n \t \r \f \b`).
//! An empty node template takes `msg.template`. `format` (the editor's
//! syntax highlighting) is ignored.
//!
//! Deviations: a template that does not parse is reported per message (as
//! in Node-RED) but parsed once at build; JSON and YAML parse errors carry
//! V8's and serde-saphyr's texts; YAML timestamps stay strings.

pub(crate) mod mustache;
mod yaml;

use mustache::{Template, View, lookup_stack};
use redoubt_core::Msg;
use redoubt_core::context::{Scope, parse_key};
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use redoubt_core::propex::{self, Seg};
use redoubt_core::typed::eval_env;
use redoubt_core::value::Value;
use serde_json::Value as Json;
use std::collections::HashMap;

pub(crate) struct TemplateType;

#[derive(Clone, Copy, PartialEq)]
enum Output {
    Str,
    Json,
    Yaml,
}

enum Target {
    Msg(Vec<Seg>),
    Context(Scope, String, Option<String>),
}

struct TemplateNode {
    /// The node's own template (`undefined` when the property is absent).
    source: Value,
    /// The node template parsed once, when it is a non-empty string.
    parsed: Option<Result<Template, mustache::MustacheError>>,
    mustache: bool,
    output: Output,
    target: Target,
}

impl NodeType for TemplateType {
    fn type_name(&self) -> &'static str {
        "template"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let field = non_empty(cfg.str("field"), "payload");
        let target = match non_empty(cfg.str("fieldType"), "msg").as_str() {
            "msg" => Target::Msg(
                propex::parse(propex::strip_msg(&field))
                    .map_err(|e| ConfigError::field("field", e.to_string()))?,
            ),
            kind @ ("flow" | "global") => {
                let k = parse_key(&field);
                let scope = if kind == "flow" {
                    Scope::Flow
                } else {
                    Scope::Global
                };
                Target::Context(scope, k.key, k.store)
            }
            other => {
                return Err(ConfigError::field(
                    "fieldType",
                    format!("unsupported type {other:?} (msg, flow or global)"),
                ));
            }
        };
        let output = match cfg.str("output").as_str() {
            "" | "str" => Output::Str,
            "json" => Output::Json,
            "yaml" => Output::Yaml,
            other => {
                return Err(ConfigError::field(
                    "output",
                    format!("unknown output {other:?} (str, json or yaml)"),
                ));
            }
        };
        let source = match cfg.get("template") {
            None => Value::Undefined,
            Some(Json::Null) => Value::Null,
            Some(_) => Value::from(cfg.str("template")),
        };
        let mustache = non_empty(cfg.str("syntax"), "mustache") == "mustache";
        let parsed = match &source {
            Value::String(s) if mustache && !s.is_empty() => Some(mustache::parse(s)),
            _ => None,
        };
        Ok(Box::new(TemplateNode {
            source,
            parsed,
            mustache,
            output,
            target,
        }))
    }
}

fn non_empty(s: String, default: &str) -> String {
    if s.is_empty() { default.to_string() } else { s }
}

/// `flow.x`, `flow[store].x`, `global.x` → (scope, store, key).
fn context_name(name: &str) -> Option<(Scope, Option<&str>, &str)> {
    let (scope, rest) = if let Some(r) = name.strip_prefix("flow") {
        (Scope::Flow, r)
    } else {
        (Scope::Global, name.strip_prefix("global")?)
    };
    let (store, rest) = match rest.strip_prefix('[') {
        Some(r) => {
            let end = r.find(']')?;
            let store = &r[..end];
            if store.is_empty() || !store.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            (Some(store), &r[end + 1..])
        }
        None => (None, rest),
    };
    let key = rest.strip_prefix('.')?;
    let key = key.split('\n').next().unwrap_or("");
    (!key.is_empty()).then_some((scope, store, key))
}

fn env_name(name: &str) -> Option<&str> {
    name.strip_prefix("env.")
        .filter(|n| !n.is_empty() && !n.starts_with('\n'))
}

/// Node-RED's `NodeContext`: the message first, then prefetched env and
/// context values, else an empty string.
struct NodeView {
    json_escape: bool,
    prefetched: HashMap<String, Value>,
}

impl View for NodeView {
    fn lookup(&self, stack: &[Value], name: &str) -> Value {
        match lookup_stack(stack, name) {
            Value::String(s) if self.json_escape && stack.len() == 1 => {
                Value::from(json_escape(&s))
            }
            Value::Undefined => {
                if env_name(name).is_some() || context_name(name).is_some() {
                    self.prefetched.get(name).cloned().unwrap_or_default()
                } else {
                    Value::str("")
                }
            }
            v => v,
        }
    }
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{0c}' => out.push_str("\\f"),
            '\u{08}' => out.push_str("\\b"),
            c => out.push(c),
        }
    }
    out
}

impl TemplateNode {
    /// The template for this message: the node's, or `msg.template` when
    /// the node's is empty.
    fn pick(&self, msg: &Msg) -> Option<Value> {
        let empty = matches!(&self.source, Value::Null) || self.source.as_str() == Some("");
        if empty && msg.object().contains_key("template") {
            msg.get("template")
        } else {
            None
        }
    }

    fn render(
        &self,
        msg: &Msg,
        from_msg: Option<&Value>,
        cx: &NodeCtx<'_>,
    ) -> Result<String, NodeError> {
        let dynamic;
        let template = match (from_msg, &self.parsed) {
            (None, Some(Ok(t))) => t,
            (None, Some(Err(e))) => return Err(NodeError::new(e.to_string())),
            (Some(Value::String(s)), _) => {
                dynamic = mustache::parse(s).map_err(|e| NodeError::new(e.to_string()))?;
                &dynamic
            }
            (Some(other), _) => return Err(invalid_template(other)),
            (None, None) => match &self.source {
                Value::String(_) => return Ok(String::new()),
                other => return Err(invalid_template(other)),
            },
        };
        if template.has_partial() {
            // Node-RED walks the token list and trips over a partial's token.
            return Err(NodeError::new("tokens.forEach is not a function"));
        }
        let mut prefetched = HashMap::new();
        let ctx = cx.context();
        for name in template.names() {
            if let Some(var) = env_name(name) {
                prefetched.insert(name.clone(), eval_env(var, cx.info()));
            } else if let Some((scope, store, key)) = context_name(name) {
                let v = ctx
                    .get(scope, key, store)
                    .map_err(|e| NodeError::new(e.to_string()))?;
                prefetched.insert(name.clone(), v.unwrap_or_default());
            }
        }
        let view = NodeView {
            json_escape: self.output == Output::Json,
            prefetched,
        };
        Ok(mustache::render(template, msg.to_value(), &view))
    }

    fn convert(&self, text: Value) -> Result<Value, NodeError> {
        match self.output {
            Output::Str => Ok(text),
            Output::Json => {
                crate::parsers::json::parse_js(&text.to_js_string()).map_err(NodeError::new)
            }
            Output::Yaml => yaml::load(&text.to_js_string()).map_err(NodeError::new),
        }
    }
}

fn invalid_template(v: &Value) -> NodeError {
    let kind = match v {
        Value::Array(_) => "array",
        Value::Undefined => "undefined",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        _ => "object",
    };
    NodeError::new(format!(
        "Invalid template! Template should be a \"string\" but \"{kind}\" was given as the first argument for mustache#render(template, view, partials)"
    ))
}

impl Node for TemplateNode {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let from_msg = self.pick(&msg);
        let text = if self.mustache {
            Value::from(self.render(&msg, from_msg.as_ref(), cx)?)
        } else {
            from_msg.unwrap_or_else(|| self.source.clone())
        };
        let value = self.convert(text)?;
        match &self.target {
            Target::Msg(path) => {
                let root = msg.to_value();
                if value.is_undefined() {
                    propex::delete_segs(&root, path, Some(&msg));
                } else {
                    propex::set_segs(&root, path, value, true, Some(&msg));
                }
            }
            Target::Context(scope, key, store) => {
                let v = (!value.is_undefined()).then_some(value);
                cx.context()
                    .set(*scope, key, v, store.as_deref())
                    .map_err(|e| NodeError::new(e.to_string()))?;
            }
        }
        cx.send(0, msg);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
