//! The flows file (`flows.json`): load, save and revision hash, compatible
//! with Node-RED's `localfilesystem` storage.
//!
//! * A missing or empty file is an empty flow list. An empty file with a
//!   non-empty `.flows.json.backup` loads the backup instead, as Node-RED
//!   does after a crash left a truncated file.
//! * Malformed JSON is an error naming the file, line and column; nothing is
//!   written (Node-RED logs a warning and starts empty, and the next deploy
//!   then destroys the file).
//! * Saving copies the current file to `.flows.json.backup`, then replaces
//!   the file atomically. A save can be staged ([`stage_flows`]): written
//!   and synced first, put in place later or discarded.
//! * The revision is Node-RED's (3.1.10 and later): hex SHA-256 of
//!   `JSON.stringify(flows)`. Older releases used MD5; the editor treats it
//!   as an opaque token either way.

use crate::error::StorageError;
use crate::fsio::{self, JsonFile, Staged, WriteOpts};
use crate::json_js;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A loaded flows file.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowsDoc {
    /// The flow configuration objects, exactly as in the file (key order kept).
    pub flows: Vec<Value>,
    /// The revision token (hex SHA-256 of the compact JSON text).
    pub rev: String,
    /// Whether the flows file exists (Node-RED's `flowFileExists`).
    pub existed: bool,
}

/// Reads the flows file at `path`.
pub fn load_flows(path: &Path) -> Result<FlowsDoc, StorageError> {
    let (flows, existed) = match fsio::read_json_with_backup(path, "flows")? {
        JsonFile::Missing => (Vec::new(), false),
        JsonFile::Empty => (Vec::new(), true),
        JsonFile::Parsed(Value::Array(items), _) => (items, true),
        JsonFile::Parsed(_, from) => {
            return Err(StorageError::Shape {
                path: from,
                expected: "a JSON array of flow objects",
            });
        }
    };
    let rev = flows_rev(&flows);
    Ok(FlowsDoc {
        flows,
        rev,
        existed,
    })
}

/// Writes `flows` to `path` (compact, or 4-space indented when `pretty`, as
/// Node-RED's `flowFilePretty`), keeping the previous file as
/// `.<name>.backup`. Returns the new revision.
pub fn save_flows(path: &Path, flows: &[Value], pretty: bool) -> Result<String, StorageError> {
    let (staged, rev) = stage_flows(path, flows, pretty)?;
    staged.commit()?;
    Ok(rev)
}

/// Writes the new flows.json to its temp file (`<path>.tmp`, synced) and
/// returns it uncommitted with its revision: [`Staged::commit`] makes the
/// backup copy and puts it in place, dropping it leaves flows.json as it
/// was. Callers serialise the saves of one file (the admin API's deploy
/// lock does).
pub fn stage_flows(
    path: &Path,
    flows: &[Value],
    pretty: bool,
) -> Result<(Staged, String), StorageError> {
    let compact = json_js::stringify_list(flows, None);
    let indented = pretty.then(|| json_js::stringify_list(flows, Some(4)));
    let text = indented.as_deref().unwrap_or(&compact);
    let backup = fsio::backup_path(path);
    let staged = fsio::stage(
        path,
        &fsio::suffixed(path, ".tmp"),
        text.as_bytes(),
        WriteOpts {
            backup: Some(&backup),
            mode: None,
        },
    )?;
    Ok((staged, rev_of(&compact)))
}

/// Node-RED's flow revision: hex SHA-256 of `JSON.stringify(flows)`.
pub fn flows_rev(flows: &[Value]) -> String {
    rev_of(&json_js::stringify_list(flows, None))
}

fn rev_of(compact: &str) -> String {
    hex::encode(Sha256::digest(compact.as_bytes()))
}

/// Where Node-RED keeps the credentials of `flows_path`:
/// `<stem>_cred<ext>` in `user_dir` if that file already exists (the old
/// location), otherwise next to the flows file.
pub fn credentials_path(flows_path: &Path, user_dir: &Path) -> PathBuf {
    let stem = flows_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = flows_path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let name = format!("{stem}_cred{ext}");
    let old = user_dir.join(&name);
    if old.exists() {
        old
    } else {
        flows_path.with_file_name(name)
    }
}

/// Resolves the `flowFile` setting as Node-RED does: absolute paths as is;
/// `./x` relative to the working directory; otherwise the working directory
/// if the file exists there, else `user_dir`.
pub fn resolve_flows_path(flow_file: &str, user_dir: &Path) -> PathBuf {
    let p = Path::new(flow_file);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if flow_file.starts_with("./") || cwd.join(p).exists() {
        return cwd.join(p);
    }
    user_dir.join(p)
}
