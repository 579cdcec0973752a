//! yaml (`@node-red/nodes/core/parsers/70-YAML.js`): converts the
//! configured property between a YAML string and a JavaScript value with
//! js-yaml 4's `load` ([`load`]) and `dump` ([`dump`]) semantics.
//!
//! Known deviations: error messages keep js-yaml's `reason (line:col)` and
//! snippet layout, but the reason is the Rust parser's wording (js-yaml says
//! e.g. "end of the stream or a document separator is expected"); `!!omap`
//! and `!!set` are accepted without js-yaml's extra validation.

mod dump;
mod load;
mod scalar;
mod schema;
#[cfg(test)]
mod tests;

use super::read;
use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use redoubt_core::propex::{self, Seg};
use redoubt_core::value::Value;

pub(crate) struct YamlType;

struct Yaml {
    property: Vec<Seg>,
}

impl NodeType for YamlType {
    fn type_name(&self) -> &'static str {
        "yaml"
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
        Ok(Box::new(Yaml { property }))
    }
}

/// `RED.util.setMessageProperty`: `undefined` deletes the property.
fn write(msg: &Msg, segs: &[Seg], v: Value) {
    if v.is_undefined() {
        propex::delete_segs(&msg.to_value(), segs, Some(msg));
    } else {
        propex::set_segs(&msg.to_value(), segs, v, true, Some(msg));
    }
}

impl Node for Yaml {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let value = read(&msg, &self.property)?;
        match value {
            Value::Undefined => {}
            Value::String(text) => {
                let v = load::load(&text).map_err(|e| NodeError::new(e.0))?;
                write(&msg, &self.property, v);
            }
            Value::Buffer(_) => {
                cx.warn("Ignored non-object payload");
                return Ok(());
            }
            Value::Object(_)
            | Value::Array(_)
            | Value::Null
            | Value::Date(_)
            | Value::Handle(_) => {
                let text = dump::dump(&value).map_err(|e| {
                    tracing::debug!(reason = %e.0, "YAML dump failed.");
                    NodeError::new("Failed to convert payload")
                })?;
                write(&msg, &self.property, Value::from(text));
            }
            Value::Bool(_) | Value::Number(_) => {
                cx.warn("Ignored unsupported payload type");
                return Ok(());
            }
        }
        cx.send(0, msg);
        Ok(())
    }
}
