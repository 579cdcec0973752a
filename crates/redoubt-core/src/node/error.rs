//! Errors of node configuration and message handling.

/// A node's configuration is invalid: names the node, its type, the field and the value.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("node {node_id} ({node_type}): {field}: {message}")]
pub struct ConfigError {
    /// The node id as in flows.json.
    pub node_id: String,
    /// The node type.
    pub node_type: String,
    /// The offending property.
    pub field: String,
    /// What is wrong, including the bad value.
    pub message: String,
}

impl ConfigError {
    /// An error for `field` with `message`; the engine fills in id and type.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            node_id: String::new(),
            node_type: String::new(),
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every configuration error of one deploy.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
pub struct ConfigErrors(pub Vec<ConfigError>);

/// A failure while handling a message. Its `Display` is exactly what a
/// Catch node receives as `msg.error.message`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct NodeError {
    /// The text for `msg.error.message`.
    pub message: String,
    /// An optional `msg.error.code`.
    pub code: Option<String>,
    /// An optional `msg.error.stack`.
    pub stack: Option<String>,
}

impl NodeError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> NodeError {
        NodeError {
            message: message.into(),
            code: None,
            stack: None,
        }
    }

    /// Adds a `code`.
    pub fn with_code(mut self, code: impl Into<String>) -> NodeError {
        self.code = Some(code.into());
        self
    }
}

impl From<crate::propex::PathError> for NodeError {
    fn from(e: crate::propex::PathError) -> Self {
        NodeError::new(e.to_string())
    }
}

impl From<crate::context::ContextError> for NodeError {
    fn from(e: crate::context::ContextError) -> Self {
        NodeError::new(e.to_string())
    }
}
