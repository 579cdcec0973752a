//! Persistence for redoubt: this crate owns every file the runtime keeps.
//!
//! * [`flows_file`] reads and writes the flows file (`flows.json`), its backup and revision.
//! * [`credentials`] handles the Node-RED-compatible `flows_cred.json` and the
//!   credential secret (settings, environment, file, or generated key).
//! * [`runtime_config`] keeps `<userDir>/.config.runtime.json`.
//! * [`context_fs`] is the `localfilesystem` context store.
//!
//! Files are laid out and encoded as Node-RED lays them out, so a user
//! directory can move between Node-RED and redoubt. Every write replaces its
//! file atomically; a file this crate cannot read is reported, never
//! overwritten.

pub mod context_fs;
pub mod credentials;
mod error;
pub mod flows_file;
mod fsio;
pub mod json_js;
pub mod runtime_config;

pub use error::StorageError;
pub use fsio::{Staged, backup_path, write_file_atomic};
