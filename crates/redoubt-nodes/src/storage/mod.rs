//! The "storage" palette category.

use redoubt_core::node::Registry;

pub(crate) fn register(_reg: &mut Registry) {}
