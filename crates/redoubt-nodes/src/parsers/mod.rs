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

/// `RED.util.getMessageProperty` as the parser nodes read their input
/// property: reading through a missing parent throws JavaScript's TypeError
/// text.
pub(super) fn read(
    msg: &redoubt_core::Msg,
    segs: &[redoubt_core::propex::Seg],
) -> Result<redoubt_core::Value, redoubt_core::node::NodeError> {
    use redoubt_core::propex::{self, Seg};
    let root = msg.to_value();
    for i in 1..segs.len() {
        let parent = propex::get_segs(&root, &segs[..i], Some(msg)).unwrap_or_default();
        if parent.is_nullish() {
            let key = match &segs[i] {
                Seg::Key(k) => k.to_string(),
                Seg::Index(n) => n.to_string(),
                Seg::Nested(_) => String::new(),
            };
            return Err(redoubt_core::node::NodeError::new(format!(
                "Cannot read properties of {} (reading '{key}')",
                parent.to_js_string()
            )));
        }
    }
    Ok(propex::get_segs(&root, segs, Some(msg)).unwrap_or_default())
}
