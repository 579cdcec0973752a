//! Environment variables as nodes see them: the node itself (`NR_NODE_*`),
//! its groups, its flow (tab or subflow instance) and, at the top, the process.

use super::NodeInfo;
use crate::value::Value;
use indexmap::IndexMap;
use std::sync::Arc;

/// Where the outermost lookup goes (the process environment by default).
pub type GlobalEnv = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// One level of env scoping (a group, a tab, a subflow instance, or the root).
pub struct EnvScope {
    pub(crate) vars: IndexMap<String, Value>,
    /// Names this scope answers itself (`NR_FLOW_NAME`, `NR_GROUP_ID`, ...).
    pub(crate) builtins: IndexMap<&'static str, Value>,
    pub(crate) parent: Option<Arc<EnvScope>>,
    pub(crate) global: Option<GlobalEnv>,
}

impl EnvScope {
    /// The root scope, reading the process environment through `global`.
    pub fn root(global: GlobalEnv) -> Arc<EnvScope> {
        Arc::new(EnvScope {
            vars: IndexMap::new(),
            builtins: IndexMap::new(),
            parent: None,
            global: Some(global),
        })
    }

    /// A child scope with its variables and builtins.
    pub fn child(
        parent: &Arc<EnvScope>,
        vars: IndexMap<String, Value>,
        builtins: IndexMap<&'static str, Value>,
    ) -> Arc<EnvScope> {
        Arc::new(EnvScope {
            vars,
            builtins,
            parent: Some(parent.clone()),
            global: None,
        })
    }

    /// Looks `name` up as `RED.util.getSetting(node, name)` does.
    pub fn get(&self, name: &str, node: Option<&NodeInfo>) -> Option<Value> {
        if let Some(n) = node {
            match name {
                "NR_NODE_NAME" => return Some(Value::str(&n.name)),
                "NR_NODE_ID" => return Some(Value::str(&n.id)),
                "NR_NODE_PATH" => return Some(Value::str(&n.path)),
                _ => {}
            }
        }
        self.lookup(name)
    }

    fn lookup(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.builtins.get(name) {
            return Some(v.clone());
        }
        let (own, key) = match name.strip_prefix("$parent.") {
            Some(rest) => (false, rest),
            None => (true, name),
        };
        if own && let Some(v) = self.vars.get(key) {
            return Some(v.clone());
        }
        match &self.parent {
            Some(p) => p.lookup(key),
            None => self.global.as_ref().and_then(|g| g(key)).map(Value::from),
        }
    }
}

/// Substitutes `${NAME}` occurrences in `text` (env-typed inputs with text around them).
pub fn substitute(text: &str, lookup: impl Fn(&str) -> Option<Value>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                if let Some(v) = lookup(name) {
                    out.push_str(&v.to_js_string());
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}
