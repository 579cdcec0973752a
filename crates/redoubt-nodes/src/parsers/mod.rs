//! The "parser" palette category: csv, html, json, xml, yaml.

// -- json (owner: pure-nodes work)
pub(crate) mod json;
// -- csv, xml, yaml, html (owner: parsers work)
mod csv;

use redoubt_core::node::Registry;

pub(crate) fn register(reg: &mut Registry) {
    let _ = &reg;
    // -- json (owner: pure-nodes work)
    reg.register(json::JsonType);
    // -- csv, xml, yaml, html (owner: parsers work)
    reg.register(csv::CsvType);
}
