//! The "parser" palette category: csv, html, json, xml, yaml.

use redoubt_core::node::Registry;

pub(crate) fn register(reg: &mut Registry) {
    let _ = &reg;
    // -- json (owner: pure-nodes work)
    // -- csv, xml, yaml, html (owner: parsers work)
}
