//! Internals of settings.js evaluation, used by [`crate::settings_js`]:
//! the Node.js shims (`host.rs` in Rust, `prelude.js` in JS), the JS → JSON
//! conversion (`convert.rs`), finding encoded values again (`encoded.rs`)
//! and the error mapping (`error.rs`). Nothing here
//! is public API.

pub(crate) mod convert;
pub(crate) mod encoded;
pub(crate) mod error;
pub(crate) mod host;

#[cfg(test)]
mod tests;

/// Source of the prelude: a JS function expression taking the host object.
pub(crate) const PRELUDE_JS: &str = include_str!("prelude.js");
/// File name the prelude runs under, as it appears in stack traces.
pub(crate) const PRELUDE_NAME: &str = "<redoubt settings prelude>";
