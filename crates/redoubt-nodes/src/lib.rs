//! redoubt-nodes: Node-RED's core nodes, one file per node type, in folders
//! named after the editor's palette categories. [`register_builtins`] is the
//! one explicit list of what redoubt implements; the editor's palette is
//! built from it.
//!
//! Nodes depend on `redoubt-core` only (and `redoubt-js` for the function
//! node); they never touch the HTTP server or the engine's internals.

pub mod common;
pub mod function;
pub mod network;
pub mod parsers;
pub mod sequence;
pub mod storage;
#[cfg(any(test, feature = "testing"))]
pub mod test_broker;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use redoubt_core::node::Registry;

/// Registers every built-in node type.
pub fn register_builtins(reg: &mut Registry) {
    common::register(reg);
    function::register(reg);
    network::register(reg);
    parsers::register(reg);
    sequence::register(reg);
    storage::register(reg);
}

/// A registry holding every built-in node type.
pub fn builtin_registry() -> Registry {
    let mut r = Registry::new();
    register_builtins(&mut r);
    r
}
