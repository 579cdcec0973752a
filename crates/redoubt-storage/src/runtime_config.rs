//! `<userDir>/.config.runtime.json`: Node-RED's runtime settings file, where
//! the generated `_credentialSecret` lives. Written 4-space indented like
//! Node-RED, atomically, mode 0600 (Node-RED leaves it 0644), with a
//! `.config.runtime.json.backup` copy. Keys this crate does not know are kept.

use crate::error::StorageError;
use crate::fsio::{self, JsonFile, PRIVATE_MODE, WriteOpts};
use crate::json_js;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// `<userDir>/.config.runtime.json`.
pub fn runtime_config_path(user_dir: &Path) -> PathBuf {
    user_dir.join(".config.runtime.json")
}

/// Reads the runtime settings; a missing or empty file is an empty object.
/// Before Node-RED 1.2 these settings were in `.config.json`, which is read
/// when the runtime file does not exist.
pub fn read_runtime_config(user_dir: &Path) -> Result<Map<String, Value>, StorageError> {
    let path = runtime_config_path(user_dir);
    let (found, legacy) = match fsio::read_json_with_backup(&path, "runtime settings")? {
        JsonFile::Missing => {
            let old = user_dir.join(".config.json");
            (fsio::read_json_with_backup(&old, "settings")?, true)
        }
        other => (other, false),
    };
    match found {
        JsonFile::Missing | JsonFile::Empty => Ok(Map::new()),
        JsonFile::Parsed(Value::Object(mut m), _) => {
            if legacy {
                // Node-RED 1.2+ keeps these sections in files of their own.
                for section in ["nodes", "users", "projects", "modules"] {
                    m.shift_remove(section);
                }
            }
            Ok(m)
        }
        JsonFile::Parsed(_, from) => Err(StorageError::Shape {
            path: from,
            expected: "a JSON object",
        }),
    }
}

/// Replaces the runtime settings file with `config`.
pub fn write_runtime_config(
    user_dir: &Path,
    config: &Map<String, Value>,
) -> Result<(), StorageError> {
    let path = runtime_config_path(user_dir);
    let text = json_js::stringify(&Value::Object(config.clone()), Some(4));
    let backup = fsio::suffixed(&path, ".backup");
    fsio::write_atomic(
        &path,
        text.as_bytes(),
        WriteOpts {
            backup: Some(&backup),
            mode: Some(PRIVATE_MODE),
        },
    )
}
