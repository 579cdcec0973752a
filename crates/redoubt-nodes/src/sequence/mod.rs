//! The "sequence" palette category: split, join, sort, batch.
//!
//! `jsutil` holds the small pieces of JavaScript semantics these nodes (and
//! the timing nodes in `function/`) need to behave like Node-RED.

mod batch;
mod join;
pub(crate) mod jsutil;
mod sort;
mod split;

use redoubt_core::node::Registry;

pub(crate) fn register(reg: &mut Registry) {
    reg.register(split::SplitType);
    reg.register(join::JoinType);
    reg.register(sort::SortType);
    reg.register(batch::BatchType);
}
