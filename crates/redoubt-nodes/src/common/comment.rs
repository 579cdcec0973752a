//! comment, unknown and global-config: nodes that do nothing at run time
//! (`90-comment.js`, `98-unknown.js`, `91-global-config.js`).

use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};

/// A node type whose nodes ignore input.
pub(crate) struct InertType(pub(crate) &'static str);

struct Inert;

impl NodeType for InertType {
    fn type_name(&self) -> &'static str {
        self.0
    }
    fn is_config(&self) -> bool {
        self.0 == "global-config"
    }
    fn build(&self, _cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(Inert))
    }
}

impl Node for Inert {
    fn on_input(&mut self, _msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        Ok(())
    }
}
