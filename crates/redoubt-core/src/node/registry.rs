//! [`Registry`]: the one explicit list of node types; [`BuildCtx`]: what a
//! node may look at while it is being built.

use super::{NodeConfig, NodeHandle, NodeType};
use crate::engine::{NodeInfo, RuntimeSettings, Services, Shared};
use crate::value::Value;
use indexmap::IndexMap;
use std::any::Any;
use std::sync::Arc;

/// Node types by type name, in registration order.
#[derive(Default, Clone)]
pub struct Registry {
    types: IndexMap<&'static str, Arc<dyn NodeType>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Adds a node type; a later registration of the same name replaces it.
    pub fn register(&mut self, t: impl NodeType) {
        self.types.insert(t.type_name(), Arc::new(t));
    }

    /// The type named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn NodeType>> {
        self.types.get(name)
    }

    /// Every registered type name, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.types.keys().copied()
    }
}

/// Context for [`NodeType::build`].
pub struct BuildCtx<'a> {
    pub(crate) info: &'a Arc<NodeInfo>,
    pub(crate) shared: &'a Arc<Shared>,
    pub(crate) configs: &'a dyn Fn(&str) -> Option<Arc<dyn Any + Send + Sync>>,
    pub(crate) credentials: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

impl BuildCtx<'_> {
    /// Runtime settings.
    pub fn settings(&self) -> &RuntimeSettings {
        &self.shared.settings
    }

    /// A shared service (the HTTP host, the script engine, ...).
    pub fn service<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.shared.services.get::<T>()
    }

    /// The services map.
    pub fn services(&self) -> &Services {
        &self.shared.services
    }

    /// The shared handle of the config node `id` (built before this node).
    pub fn config_node(&self, id: &str) -> Option<Arc<dyn Any + Send + Sync>> {
        (self.configs)(id)
    }

    /// This node's decrypted credentials (`flows_cred.json`).
    pub fn credentials(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.credentials
    }

    /// A handle to act as this node once it runs.
    pub fn handle(&self) -> NodeHandle {
        NodeHandle {
            shared: self.shared.clone(),
            key: self.info.key(),
            info: self.info.clone(),
        }
    }

    /// The node's identity and scopes.
    pub fn info(&self) -> &Arc<NodeInfo> {
        self.info
    }

    /// An environment variable as this node sees it.
    pub fn env(&self, name: &str) -> Value {
        self.info.env.get(name, Some(self.info)).unwrap_or_default()
    }

    /// The config of the node being built.
    pub fn config(&self) -> &NodeConfig {
        &self.info.config
    }
}
