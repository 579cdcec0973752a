//! Internals of settings.js evaluation, used by [`crate::settings_js`]:
//! the runtime and the evaluation itself (`session.rs`), the Node.js shims
//! (`host.rs` in Rust, `prelude.js` and the requirable modules in `shims/`
//! in JS), the JS → JSON conversion
//! (`convert.rs`), finding encoded values again (`encoded.rs`) and the error
//! mapping (`error.rs`). `hooks.rs` keeps an evaluated file alive on its own
//! thread so its functions can be called later ([`crate::SettingsHooks`],
//! the only public item here, with `call.rs` doing one call).

pub(crate) mod convert;
pub(crate) mod encoded;
pub(crate) mod error;
pub(crate) mod hooks;
pub(crate) mod host;
pub(crate) mod session;

mod call;

#[cfg(test)]
mod tests;

/// Source of the prelude: a JS function expression taking the host object.
pub(crate) const PRELUDE_JS: &str = include_str!("prelude.js");
/// File name the prelude runs under, as it appears in stack traces.
pub(crate) const PRELUDE_NAME: &str = "<redoubt settings prelude>";
