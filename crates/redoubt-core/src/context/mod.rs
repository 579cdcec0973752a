//! Node, flow and global context, over pluggable named stores.
//!
//! A [`ContextStore`] keeps JSON-like values per *scope*: `global`, a flow id,
//! or `nodeId:flowId` (the scope names of Node-RED's context API, which the
//! `localfilesystem` layout on disk is built from). [`ContextManager`] maps
//! store names (with `default`) to stores; [`NodeContext`] is one node's view.

mod key;
mod memory;

pub use key::{ContextKey, parse_key};
pub use memory::MemoryStore;

use crate::propex;
use crate::value::Value;
use indexmap::IndexMap;
use std::sync::Arc;

/// A context operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ContextError {
    /// The key names a store that is not configured.
    #[error("Context store '{0}' is not configured")]
    UnknownStore(String),
    /// The key is not a valid property expression.
    #[error("Invalid context key: {0}")]
    BadKey(String),
    /// The store could not read or write.
    #[error("Context store '{store}': {message}")]
    Store {
        /// The store name.
        store: String,
        /// What went wrong.
        message: String,
    },
}

/// A place context values live. Implementations must be cheap to call from
/// the engine's executor: slow stores keep a cache and write behind.
pub trait ContextStore: Send + Sync + 'static {
    /// The top-level value of `key` in `scope`.
    fn get(&self, scope: &str, key: &str) -> Result<Option<Value>, ContextError>;
    /// Sets (or with `None`, deletes) a top-level key.
    fn set(&self, scope: &str, key: &str, value: Option<Value>) -> Result<(), ContextError>;
    /// Top-level keys of `scope`, in insertion order.
    fn keys(&self, scope: &str) -> Result<Vec<String>, ContextError>;
    /// Drops a whole scope (a node or flow was removed).
    fn delete_scope(&self, scope: &str) -> Result<(), ContextError>;
    /// Writes pending changes to durable storage.
    fn flush(&self) -> Result<(), ContextError> {
        Ok(())
    }
    /// Every scope the store holds.
    fn scopes(&self) -> Result<Vec<String>, ContextError>;
}

/// The configured stores.
#[derive(Clone)]
pub struct ContextManager {
    stores: Arc<IndexMap<String, Arc<dyn ContextStore>>>,
    /// Shared text, so the per-message clone of a node's context view
    /// ([`NodeContext`]) allocates nothing.
    default: crate::value::Str,
}

impl Default for ContextManager {
    fn default() -> Self {
        let mut m: IndexMap<String, Arc<dyn ContextStore>> = IndexMap::new();
        m.insert("memory".into(), Arc::new(MemoryStore::default()));
        ContextManager {
            stores: Arc::new(m),
            default: crate::value::Str::from("memory"),
        }
    }
}

impl ContextManager {
    /// Stores by name; `default` names the store used when a key names none
    /// (Node-RED: the `default` entry, or the first store).
    pub fn new(stores: IndexMap<String, Arc<dyn ContextStore>>, default: String) -> ContextManager {
        ContextManager {
            stores: Arc::new(stores),
            default: crate::value::Str::from(default),
        }
    }

    /// The store `name`, or the default store for `None`.
    pub fn store(&self, name: Option<&str>) -> Result<&Arc<dyn ContextStore>, ContextError> {
        let n = match name {
            None | Some("default") | Some("") => &*self.default,
            Some(n) => n,
        };
        self.stores
            .get(n)
            .ok_or_else(|| ContextError::UnknownStore(n.to_string()))
    }

    /// Store names, default first as Node-RED lists them.
    pub fn store_names(&self) -> Vec<String> {
        let mut v = vec![self.default.to_string()];
        v.extend(
            self.stores
                .keys()
                .filter(|k| k.as_str() != &*self.default)
                .cloned(),
        );
        v
    }

    /// The default store's name.
    pub fn default_store(&self) -> &str {
        &self.default
    }

    /// Flushes every store.
    pub fn flush_all(&self) -> Result<(), ContextError> {
        for s in self.stores.values() {
            s.flush()?;
        }
        Ok(())
    }

    /// Reads `key` (a property expression) from `scope` of `store`.
    pub fn get(
        &self,
        store: Option<&str>,
        scope: &str,
        key: &str,
    ) -> Result<Option<Value>, ContextError> {
        let st = self.store(store)?;
        if let Some(k) = propex::single_key(key) {
            return st.get(scope, k);
        }
        let segs = propex::parse(key).map_err(|e| ContextError::BadKey(e.to_string()))?;
        let Some((first, rest)) = segs.split_first() else {
            return Ok(None);
        };
        let top = match first {
            propex::Seg::Key(k) => st.get(scope, k)?,
            propex::Seg::Index(i) => st.get(scope, &i.to_string())?,
            propex::Seg::Nested(_) => return Err(ContextError::BadKey(key.to_string())),
        };
        Ok(match top {
            Some(v) if !rest.is_empty() => propex::get_segs(&v, rest, None),
            other => other,
        })
    }

    /// Sets `key` (a property expression); `None` deletes.
    pub fn set(
        &self,
        store: Option<&str>,
        scope: &str,
        key: &str,
        value: Option<Value>,
    ) -> Result<(), ContextError> {
        let st = self.store(store)?;
        if let Some(k) = propex::single_key(key) {
            return st.set(scope, k, value);
        }
        let segs = propex::parse(key).map_err(|e| ContextError::BadKey(e.to_string()))?;
        let Some((first, rest)) = segs.split_first() else {
            return Ok(());
        };
        let k = match first {
            propex::Seg::Key(k) => k.to_string(),
            propex::Seg::Index(i) => i.to_string(),
            propex::Seg::Nested(_) => return Err(ContextError::BadKey(key.to_string())),
        };
        if rest.is_empty() {
            return st.set(scope, &k, value);
        }
        // Nested set: read the top value, change it in place, write it back
        // (a store that holds references sees the same object).
        let top = match st.get(scope, &k)? {
            Some(v @ (Value::Object(_) | Value::Array(_))) => v,
            _ => {
                if value.is_none() {
                    return Ok(());
                }

                match rest.first() {
                    Some(propex::Seg::Index(_)) => Value::Array(crate::value::Array::new()),
                    _ => Value::new_object(),
                }
            }
        };
        match value {
            Some(v) => {
                propex::set_segs(&top, rest, v, true, None);
            }
            None => propex::delete_segs(&top, rest, None),
        }
        st.set(scope, &k, Some(top))
    }

    /// Top-level keys of a scope.
    pub fn keys(&self, store: Option<&str>, scope: &str) -> Result<Vec<String>, ContextError> {
        self.store(store)?.keys(scope)
    }
}

/// Which of a node's three contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The node's own.
    Node,
    /// The flow's (tab or subflow instance).
    Flow,
    /// Shared by every flow.
    Global,
}

/// One node's context: node, flow and global scopes over the stores.
#[derive(Clone)]
pub struct NodeContext {
    pub(crate) manager: ContextManager,
    pub(crate) node_scope: crate::value::Str,
    /// Flow scopes from the innermost (the node's flow) outwards, for `$parent.`.
    pub(crate) flow_scopes: Arc<Vec<String>>,
}

impl NodeContext {
    /// Builds a context view (tests and the admin API).
    pub fn new(
        manager: ContextManager,
        node_scope: String,
        flow_scopes: Vec<String>,
    ) -> NodeContext {
        NodeContext {
            manager,
            node_scope: node_scope.into(),
            flow_scopes: Arc::new(flow_scopes),
        }
    }

    fn scope_and_key<'k>(
        &self,
        scope: Scope,
        key: &'k str,
    ) -> Result<(String, &'k str), ContextError> {
        Ok(match scope {
            Scope::Node => (self.node_scope.to_string(), key),
            Scope::Global => ("global".to_string(), key),
            Scope::Flow => {
                let mut depth = 0;
                let mut k = key;
                while let Some(rest) = k.strip_prefix("$parent.") {
                    depth += 1;
                    k = rest;
                }
                match self.flow_scopes.get(depth) {
                    Some(s) => (s.clone(), k),
                    // Past the outermost flow, `$parent` reaches global context.
                    None => ("global".to_string(), k),
                }
            }
        })
    }

    /// `context/flow/global.get(key, store)`.
    pub fn get(
        &self,
        scope: Scope,
        key: &str,
        store: Option<&str>,
    ) -> Result<Option<Value>, ContextError> {
        let (sc, k) = self.scope_and_key(scope, key)?;
        self.manager.get(store, &sc, k)
    }

    /// `context/flow/global.set(key, value, store)`; `None` (undefined) deletes.
    pub fn set(
        &self,
        scope: Scope,
        key: &str,
        value: Option<Value>,
        store: Option<&str>,
    ) -> Result<(), ContextError> {
        let (sc, k) = self.scope_and_key(scope, key)?;
        self.manager.set(store, &sc, k, value)
    }

    /// `context/flow/global.keys(store)`.
    pub fn keys(&self, scope: Scope, store: Option<&str>) -> Result<Vec<String>, ContextError> {
        let (sc, _) = self.scope_and_key(scope, "")?;
        self.manager.keys(store, &sc)
    }

    /// The store manager.
    pub fn manager(&self) -> &ContextManager {
        &self.manager
    }
}
