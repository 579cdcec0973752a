//! [`NodeConfig`]: one node's properties from flows.json, after `${VAR}` substitution.

use super::ConfigError;
use super::raw::Raw;
use crate::value::Str;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

/// A node's raw configuration. Every key is kept (editor keys included).
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The node id (for nodes inside a subflow instance: `instance-original`).
    pub id: Str,
    /// The node type.
    pub type_name: Str,
    /// The `name` property, or empty.
    pub name: Str,
    /// The flow (tab or subflow instance) the node belongs to.
    pub z: Str,
    /// The id in the flows.json the node came from (differs inside subflows).
    pub alias: Option<Str>,
    /// All properties (read in place from the deployed flows when the
    /// engine did not change them, see [`Raw`]).
    pub raw: Raw,
}

impl NodeConfig {
    /// A property.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.raw.get(key)
    }

    /// A string property; numbers and booleans are given as their text, missing is empty.
    pub fn str(&self, key: &str) -> String {
        match self.raw.get(key) {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Null) | None => String::new(),
            Some(other) => other.to_string(),
        }
    }

    /// A boolean property; accepts `true`, `"true"`, `1`, `"1"`.
    pub fn bool(&self, key: &str) -> bool {
        crate::flows::lenient::as_bool(self.raw.get(key))
    }

    /// A number property; accepts numbers and numeric strings. Missing or empty is `None`.
    pub fn num(&self, key: &str) -> Result<Option<f64>, ConfigError> {
        crate::flows::lenient::as_num(self.raw.get(key)).map_err(|m| ConfigError::field(key, m))
    }

    /// Deserializes the whole configuration into a typed struct.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        parse_config(&self.raw)
    }
}

/// Deserializes a raw property map, naming the field on failure.
pub fn parse_config<T: DeserializeOwned>(raw: &Map<String, Json>) -> Result<T, ConfigError> {
    // serde_json::Value::deserialize_into does not give the path; rebuild the
    // text once, which is rare (deploy time only) and gives line-free messages.
    serde_json::from_value(Json::Object(raw.clone())).map_err(|e| {
        let msg = e.to_string();
        let field = msg
            .split('`')
            .nth(1)
            .map(|s| s.to_string())
            .unwrap_or_else(|| "config".to_string());
        ConfigError::field(field, msg)
    })
}
