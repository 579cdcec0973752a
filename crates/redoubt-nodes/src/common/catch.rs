//! catch, status, complete and junction: the engine routes errors, status
//! and completion to them (see `redoubt_core::engine`); each passes what it
//! receives straight to its output. Mirrors `25-catch.js`, `25-status.js`,
//! `24-complete.js` and `05-junction.js`.

use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};

/// A node type whose nodes forward every message unchanged.
pub(crate) struct PassType(pub(crate) &'static str);

struct Pass;

impl NodeType for PassType {
    fn type_name(&self) -> &'static str {
        self.0
    }
    fn build(&self, _cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(Pass))
    }
}

impl Node for Pass {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        cx.send(0, msg);
        Ok(())
    }
}
