//! Evaluates a Node-RED `settings.js` in QuickJS and returns what it exports
//! as JSON, so redoubt can read the same settings file as Node-RED.
//!
//! The file runs as a CommonJS module, wrapped exactly like Node wraps it:
//! `(function (exports, require, module, __filename, __dirname) { … })`,
//! in sloppy mode with `this === module.exports`. The globals a settings.js
//! typically uses are provided: `process.env` (the real environment),
//! `process.platform`, `process.cwd()`, `console.*` (forwarded to `tracing`)
//! and `require` for `path`, `fs` (synchronous, text-only subset) and `os`.
//! Any other `require` throws an Error naming the module.
//!
//! A function-valued `https` setting is called once, as Node-RED does, and
//! its result (or the value its Promise resolves to) replaces it. Other
//! functions are returned as `{"__function__": "<source>"}` for the caller to
//! reject or honour; see `settings/convert.rs` for the full encoding.
//!
//! Every evaluation gets a fresh runtime with a heap limit and a deadline, so
//! a broken settings.js cannot hang or exhaust startup. The evaluation itself
//! lives in `settings/session.rs`; [`crate::SettingsHooks`] evaluates the same
//! way but keeps the runtime so the file's functions can be called later.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::settings::session::Session;

pub use crate::settings::convert::{FUNCTION_KEY, MODULE_KEY, REGEXP_KEY};
pub use crate::settings::encoded::{Encoded, EncodedKind, decode, encoded_values};
pub use crate::settings::error::{JsException, JsLocation, SettingsJsError};

/// Resource limits for one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsJsLimits {
    /// JavaScript heap limit in bytes.
    pub memory_bytes: usize,
    /// Wall-clock deadline for evaluating the file, calling `https` and
    /// converting the result.
    pub timeout: Duration,
}

impl Default for SettingsJsLimits {
    /// 64 MiB and 5 seconds: far above what any real settings.js needs.
    fn default() -> Self {
        Self {
            memory_bytes: 64 * 1024 * 1024,
            timeout: Duration::from_secs(5),
        }
    }
}

/// Reads and evaluates the settings file at `path` with default limits.
pub fn eval_settings_file(path: &Path) -> Result<serde_json::Value, SettingsJsError> {
    eval_settings_file_traced(path).map(|(value, _)| value)
}

/// [`eval_settings_file`], also returning the files the settings.js read
/// with `fs.readFileSync` (absolute, in order, without repeats), so a caller
/// can notice when, say, a certificate it loaded changes on disk.
pub fn eval_settings_file_traced(
    path: &Path,
) -> Result<(serde_json::Value, Vec<PathBuf>), SettingsJsError> {
    let src = read_settings(path)?;
    let session = Session::new(path, &SettingsJsLimits::default())?;
    let value = session.evaluate(&src, |_, outcome| outcome.map(|e| e.json))?;
    Ok((value, session.files_read()))
}

/// Reads the settings file at `path` as text.
pub(crate) fn read_settings(path: &Path) -> Result<String, SettingsJsError> {
    std::fs::read_to_string(path).map_err(|source| SettingsJsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Evaluates settings.js `src` as if it had been read from `filename`
/// (which sets `__filename`, `__dirname` and the file named in errors).
pub fn eval_settings_source(
    src: &str,
    filename: &Path,
) -> Result<serde_json::Value, SettingsJsError> {
    eval_settings_source_with(src, filename, &SettingsJsLimits::default())
}

/// [`eval_settings_source`] with explicit resource limits. The runtime is
/// dropped afterwards; [`crate::SettingsHooks`] keeps it alive instead.
pub fn eval_settings_source_with(
    src: &str,
    filename: &Path,
    limits: &SettingsJsLimits,
) -> Result<serde_json::Value, SettingsJsError> {
    Session::new(filename, limits)?.evaluate(src, |_, outcome| outcome.map(|e| e.json))
}
