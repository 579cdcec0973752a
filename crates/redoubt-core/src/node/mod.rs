//! The node contract: [`NodeType`] builds a running [`Node`] from its
//! flows.json configuration; the engine owns the loop and calls the node's
//! hooks with a [`NodeCtx`], the node's only way to reach the world.
//!
//! Hooks are synchronous on purpose. Node-RED's handlers run on one event
//! loop and hand long work to callbacks; here the engine runs handlers on one
//! executor and long work goes through [`NodeCtx::spawn`] and
//! [`NodeCtx::schedule`], whose results come back through [`Node::on_event`].
//! A handler therefore never blocks the flow, cycles never deadlock, and a
//! message hop costs a function call rather than a channel round trip.

mod config;
pub(crate) mod ctx;
mod error;
mod raw;
mod registry;
mod status;

pub use config::{NodeConfig, parse_config};
pub use ctx::{Batch, Completion, NodeCtx, NodeHandle, Pending, TimerId};
pub use error::{ConfigError, ConfigErrors, NodeError};
pub use raw::Raw;
pub use registry::{BuildCtx, Registry};
pub use status::Status;

use crate::msg::Msg;
use std::any::Any;

/// Something that happened for a node outside of its input: a timer it
/// scheduled fired, or a task it spawned finished.
pub enum NodeEvent {
    /// A timer from [`NodeCtx::schedule`] fired, carrying its token.
    Timer(u64),
    /// A value sent back by a spawned task or a background handle.
    Custom(Box<dyn Any + Send>),
}

impl std::fmt::Debug for NodeEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeEvent::Timer(t) => write!(f, "Timer({t})"),
            NodeEvent::Custom(_) => write!(f, "Custom(..)"),
        }
    }
}

/// One node type, as named in flows.json (`"change"`, `"http request"`).
pub trait NodeType: Send + Sync + 'static {
    /// The type string exactly as Node-RED spells it.
    fn type_name(&self) -> &'static str;

    /// True for config nodes (`mqtt-broker`, `tls-config`): they produce a
    /// shared handle for other nodes instead of handling messages.
    fn is_config(&self) -> bool {
        false
    }

    /// Validates the configuration and builds the running node.
    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError>;
}

/// A running node. Every hook has a default except [`Node::on_input`].
pub trait Node: Send + 'static {
    /// Called once after every node of the deploy is built.
    fn start(&mut self, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        Ok(())
    }

    /// Handles one message. Returning `Ok` means `done()`, unless the node
    /// called [`NodeCtx::defer`]; `Err` is `done(err)` and reaches Catch
    /// nodes with this message.
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError>;

    /// A timer or spawned task of this node reported back.
    fn on_event(&mut self, _ev: NodeEvent, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        Ok(())
    }

    /// The node is being stopped (`removed` when a deploy deleted it).
    /// Timers and spawned tasks are cancelled by the engine afterwards.
    fn close(&mut self, _removed: bool, _cx: &mut NodeCtx<'_>) {}

    /// For config nodes: the shared handle other nodes look up with
    /// [`BuildCtx::config_node`].
    fn shared(&self) -> Option<std::sync::Arc<dyn Any + Send + Sync>> {
        None
    }
}
