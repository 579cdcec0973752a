//! redoubt-js is the only redoubt crate that touches the JavaScript engine
//! (QuickJS, through rquickjs). It owns evaluating a Node-RED `settings.js`
//! ([`settings_js`]); the function node's script host belongs here too. It
//! must not depend on the HTTP stack, storage or the flow engine.
#![warn(missing_docs)]

pub mod function;
mod settings;
pub mod settings_js;

pub use settings_js::{
    SettingsJsError, SettingsJsLimits, eval_settings_file, eval_settings_file_traced,
    eval_settings_source, eval_settings_source_with,
};
