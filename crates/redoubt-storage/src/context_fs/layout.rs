//! Where each context scope lives on disk, in Node-RED's layout:
//! `global` → `global/global.json`, flow `<f>` → `<f>/flow.json`, node
//! `<n>:<f>` → `<f>/<n>.json`, all under the store's base directory.

use crate::error::StorageError;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The file of `scope` under `base`, or `None` when an id in the scope
/// could escape the directory (`/`, `\`, `..`, empty).
pub(super) fn scope_file(base: &Path, scope: &str) -> Option<PathBuf> {
    let (dir, name) = match scope.split_once(':') {
        None if scope == "global" => ("global", "global"),
        None => (scope, "flow"),
        Some((node, flow)) => (flow, node),
    };
    (safe_component(dir) && safe_component(name))
        .then(|| base.join(dir).join(format!("{name}.json")))
}

fn safe_component(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

/// Every context file under `base` with its scope, as Node-RED's `open`
/// finds them: sub-directories not starting with `.`, and in them files
/// ending `.json` (not dot-files, so temp files and editors' swap files
/// are skipped). Every file in `global/` belongs to the global scope.
pub(super) fn list_files(base: &Path) -> Result<Vec<(String, PathBuf)>, StorageError> {
    let mut out = Vec::new();
    for dir in sorted_entries(base)? {
        let Some(dir_name) = visible_name(&dir) else {
            continue;
        };
        if !dir.is_dir() {
            continue;
        }
        for file in sorted_entries(&dir)? {
            let Some(file_name) = visible_name(&file) else {
                continue;
            };
            let Some(stem) = file_name.strip_suffix(".json") else {
                continue;
            };
            if !file.is_file() {
                continue;
            }
            let scope = if dir_name == "global" {
                "global".to_string()
            } else if stem == "flow" {
                dir_name.clone()
            } else {
                format!("{stem}:{dir_name}")
            };
            out.push((scope, file));
        }
    }
    Ok(out)
}

fn visible_name(p: &Path) -> Option<String> {
    let name = p.file_name()?.to_str()?;
    (!name.starts_with('.')).then(|| name.to_string())
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, StorageError> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StorageError::io("list", dir, e)),
    };
    let mut v = rd
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StorageError::io("list", dir, e))?;
    v.sort();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_map_to_node_red_paths() {
        let b = Path::new("/c");
        assert_eq!(
            scope_file(b, "global"),
            Some(PathBuf::from("/c/global/global.json"))
        );
        assert_eq!(scope_file(b, "f1"), Some(PathBuf::from("/c/f1/flow.json")));
        assert_eq!(scope_file(b, "n1:f1"), Some(PathBuf::from("/c/f1/n1.json")));
    }

    #[test]
    fn ids_cannot_escape_the_base_directory() {
        let b = Path::new("/c");
        for bad in ["..", "../x", "a/b", "n:..", "..:f", ":f", "n:", "", "a\\b"] {
            assert_eq!(scope_file(b, bad), None, "{bad}");
        }
    }
}
