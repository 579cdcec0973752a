//! The running form of a subflow instance node: it forwards what it receives
//! to the subflow's input wires (the engine wired those as its port 0).

use crate::msg::Msg;
use crate::node::{Node, NodeCtx, NodeError};

pub(crate) struct SubflowInstance;

impl Node for SubflowInstance {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        cx.send(0, msg);
        Ok(())
    }
}
