//! The file nodes' filename typed input, with Node-RED's pre-3.0 upgrade:
//! an empty `filenameType` means `msg.filename` when the name is empty and
//! a fixed string otherwise.

use redoubt_core::Msg;
use redoubt_core::node::{ConfigError, NodeConfig, NodeCtx, NodeError};
use redoubt_core::typed::TypedValue;
use redoubt_core::value::Value;

/// A compiled filename property.
pub(crate) struct Filename {
    value: TypedValue,
    /// `str` or `env`: the same file for every message.
    pub(crate) fixed: bool,
}

impl Filename {
    /// Reads `filename`/`filenameType`.
    pub(crate) fn from_config(cfg: &NodeConfig) -> Result<Filename, ConfigError> {
        let mut name = cfg.str("filename");
        let mut kind = cfg.str("filenameType");
        if kind.is_empty() {
            if name.is_empty() {
                name = "filename".into();
                kind = "msg".into();
            } else {
                kind = "str".into();
            }
        }
        Ok(Filename {
            value: TypedValue::compile(&kind, &name, "filename")?,
            fixed: kind == "str" || kind == "env",
        })
    }

    /// The filename for `msg` (`""` when unset), as a string.
    pub(crate) fn evaluate(&self, msg: &Msg, cx: &NodeCtx<'_>) -> Result<String, NodeError> {
        let v = self.value.evaluate(Some(msg), cx.info(), &cx.context())?;
        Ok(match v {
            Value::String(s) => s.to_string(),
            v if v.is_nullish() => String::new(),
            v => v.to_js_string(),
        })
    }
}
