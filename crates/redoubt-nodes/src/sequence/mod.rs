//! The "sequence" palette category: split, join, sort, batch.

use redoubt_core::node::Registry;

pub(crate) fn register(reg: &mut Registry) {
    let _ = &reg;
}
