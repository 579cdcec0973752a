//! xml (`@node-red/nodes/core/parsers/70-XML.js`): converts the configured
//! property between an XML string and a JavaScript object with xml2js 0.6
//! semantics ([`parse`] and [`build`]).
//!
//! As upstream, `msg.options` (an object) is passed to xml2js, and is
//! modified on the way (`async`, and `attrkey`/`charkey` when parsing); the
//! node's `attr` and `chr` settings override the parse keys, not the build
//! keys. Known deviations: sax error positions are approximate; xml2js
//! options that are functions (processors, validator), `xmlns`, `strict:
//! false` and builder decorators/doctype are not supported; after the root
//! element closes the rest of the input is ignored (xml2js would report a
//! second root or trailing text after already answering).

mod build;
mod entities;
mod parse;
#[cfg(test)]
mod tests;

use super::read;
use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use redoubt_core::propex::{self, Seg};
use redoubt_core::value::{Object, Value};

pub(crate) struct XmlType;

struct Xml {
    property: Vec<Seg>,
    attrkey: String,
    charkey: String,
}

impl NodeType for XmlType {
    fn type_name(&self) -> &'static str {
        "xml"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let raw = cfg.str("property");
        let prop = if raw.is_empty() {
            "payload".to_string()
        } else {
            raw
        };
        let property = propex::parse(propex::strip_msg(&prop))
            .map_err(|e| ConfigError::field("property", e.to_string()))?;
        Ok(Box::new(Xml {
            property,
            attrkey: cfg.str("attr"),
            charkey: cfg.str("chr"),
        }))
    }
}

impl Xml {
    /// `msg.options` when it is an object (arrays and `null` included, as `typeof` says).
    fn options(msg: &Msg) -> Option<Object> {
        match msg.get("options") {
            Some(Value::Object(o)) => Some(o),
            Some(Value::Array(_) | Value::Null) => Some(Object::new()),
            _ => None,
        }
    }
}

impl Node for Xml {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let value = read(&msg, &self.property)?;
        let out = match &value {
            Value::Undefined => None,
            Value::String(text) => {
                let opts = Self::options(&msg).unwrap_or_default();
                opts.insert("async", Value::Bool(true));
                let attrkey = first_truthy(&self.attrkey, opts.get("attrkey"), "$");
                let charkey = first_truthy(&self.charkey, opts.get("charkey"), "_");
                opts.insert("attrkey", attrkey);
                opts.insert("charkey", charkey);
                let parsed = parse::parse(text, &parse::ParseOptions::from_value(Some(&opts)))
                    .map_err(|e| NodeError::new(e.0))?;
                Some(parsed)
            }
            v if matches!(
                v,
                Value::Object(_)
                    | Value::Array(_)
                    | Value::Buffer(_)
                    | Value::Null
                    | Value::Date(_)
                    | Value::Handle(_)
            ) =>
            {
                let opts = Self::options(&msg);
                if let Some(o) = &opts {
                    o.insert("async", Value::Bool(false));
                }
                Some(Value::from(build::build(
                    v,
                    &build::BuildOptions::from_value(opts.as_ref()),
                )?))
            }
            _ => {
                cx.warn("This node only handles xml strings or js objects.");
                return Ok(());
            }
        };
        if let Some(v) = out {
            propex::set_segs(&msg.to_value(), &self.property, v, true, Some(&msg));
        }
        cx.send(0, msg);
        Ok(())
    }
}

/// `node.key || options.key || fallback`.
fn first_truthy(node: &str, option: Option<Value>, fallback: &str) -> Value {
    if !node.is_empty() {
        return Value::str(node);
    }
    match option {
        Some(v) if v.truthy() => v,
        _ => Value::str(fallback),
    }
}
