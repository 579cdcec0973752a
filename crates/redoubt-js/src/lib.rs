//! redoubt-js is the only redoubt crate that touches the JavaScript engine
//! (QuickJS, through rquickjs). It owns evaluating a Node-RED `settings.js`
//! ([`settings_js`]) and calling the functions it defines later
//! ([`SettingsHooks`]); the function node's script host belongs here too. It
//! must not depend on the HTTP stack, storage or the flow engine.
#![warn(missing_docs)]

pub mod function;
mod settings;
pub mod settings_js;

pub use settings::hooks::{DEFAULT_CALL_TIMEOUT, HookError, SettingsHooks};
pub use settings_js::{
    SettingsJsError, SettingsJsLimits, eval_settings_file, eval_settings_file_traced,
    eval_settings_source, eval_settings_source_with,
};
