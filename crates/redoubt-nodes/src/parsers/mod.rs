//! The "parser" palette category: csv, html, json, xml, yaml.

// -- json (owner: pure-nodes work)
pub(crate) mod json;
mod json_schema;
// -- csv, xml, yaml, html (owner: parsers work)
mod csv;
mod html;
mod xml;
mod yaml;

use redoubt_core::node::Registry;

pub(crate) fn register(reg: &mut Registry) {
    let _ = &reg;
    // -- json (owner: pure-nodes work)
    reg.register(json::JsonType);
    // -- csv, xml, yaml, html (owner: parsers work)
    reg.register(csv::CsvType);
    reg.register(xml::XmlType);
    reg.register(yaml::YamlType);
    reg.register(html::HtmlType);
}
