//! Reading flows.json: parsing with positions in errors (JSON parsed into
//! containers of their final size, `json`), and lenient readers for
//! Node-RED's loosely typed properties.

pub mod json;
pub mod lenient;

use serde_json::Value as Json;

/// flows.json could not be read as a flow list.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FlowsFileError {
    /// Not JSON; names the line and column.
    #[error("{file}: invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// JSON, but not a flow list.
    #[error("{file}: {message}")]
    Shape {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// Parses flows.json text: an array of nodes, or `{"flows": [...], "rev": ...}`
/// (the v2 admin API shape). Empty text is an empty flow list.
pub fn parse_flows(text: &str, file: &str) -> Result<(Vec<Json>, Option<String>), FlowsFileError> {
    if text.trim().is_empty() {
        return Ok((vec![], None));
    }
    let v: Json = json::from_str(text).map_err(|e| FlowsFileError::Syntax {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    match v {
        Json::Array(a) => Ok((a, None)),
        Json::Object(mut o) => match o.remove("flows") {
            Some(Json::Array(a)) => {
                Ok((a, o.get("rev").and_then(Json::as_str).map(str::to_string)))
            }
            _ => Err(FlowsFileError::Shape {
                file: file.to_string(),
                message: "expected an array of nodes".into(),
            }),
        },
        _ => Err(FlowsFileError::Shape {
            file: file.to_string(),
            message: "expected an array of nodes".into(),
        }),
    }
}
