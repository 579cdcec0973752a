//! [`NodeInfo`]: a node's identity and scopes; [`FlowInfo`]: its flow's.

use super::{EnvScope, Shared};
use crate::context::NodeContext;
use crate::node::NodeConfig;
use crate::value::Str;
use std::sync::Arc;

/// Identifies one instantiation of a node (a redeployed node gets a new one).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeKey {
    pub(crate) id: Str,
    pub(crate) instance: u64,
}

/// A flow: a tab, or a subflow instance (whose parent is the flow it sits in).
#[derive(Debug)]
pub struct FlowInfo {
    /// Tab id or subflow instance id.
    pub id: Str,
    /// The tab label or subflow name.
    pub label: Str,
    /// Context scope names from this flow outwards (for `$parent.`).
    pub context_scopes: Arc<Vec<String>>,
    /// `NR_*_PATH` prefix.
    pub path: String,
    /// For a subflow instance: the instance node id.
    pub subflow_instance: Option<Str>,
    /// The flow this one sits in.
    pub parent: Option<Arc<FlowInfo>>,
}

/// Who a node is and where it lives.
pub struct NodeInfo {
    /// Node id (inside a subflow instance: `instance-original`).
    pub id: Str,
    /// Type.
    pub type_name: Str,
    /// Name, or empty.
    pub name: Str,
    /// Flow id (tab or subflow instance).
    pub z: Str,
    /// Group id, if in a group.
    pub g: Option<Str>,
    /// Original id for nodes copied out of a subflow definition.
    pub alias: Option<Str>,
    /// `NR_NODE_PATH`.
    pub path: String,
    /// The flow.
    pub flow: Arc<FlowInfo>,
    /// The innermost env scope (group or flow).
    pub env: Arc<EnvScope>,
    /// The configuration.
    pub config: NodeConfig,
    pub(crate) instance: u64,
    /// The node-context scope (`id:z`), built once for every [`NodeContext`].
    pub(crate) context_scope: Str,
}

impl NodeInfo {
    /// The node-context scope of a node with this id (or subflow alias) on flow `z`.
    pub(crate) fn context_scope_of(id: &str, alias: Option<&str>, z: &str) -> Str {
        Str::from(format!("{}:{z}", alias.unwrap_or(id)))
    }

    pub(crate) fn key(&self) -> NodeKey {
        NodeKey {
            id: self.id.clone(),
            instance: self.instance,
        }
    }

    pub(crate) fn context(&self, shared: &Shared) -> NodeContext {
        NodeContext {
            manager: shared.context.clone(),
            node_scope: self.context_scope.clone(),
            flow_scopes: self.flow.context_scopes.clone(),
        }
    }

    /// The label Node-RED logs with: the name, or the id.
    pub fn label(&self) -> &str {
        if self.name.is_empty() {
            &self.id
        } else {
            &self.name
        }
    }
}

impl std::fmt::Debug for NodeInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeInfo")
            .field("id", &self.id)
            .field("type", &self.type_name)
            .finish()
    }
}
