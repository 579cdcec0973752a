//! Where the file nodes may read and write: `fileWorkingDirectory` as the
//! base of relative names (Node-RED's behaviour), and redoubt's opt-in
//! `fileRestrictToWorkingDirectory`, which rejects any name that resolves
//! outside that base (absolute paths, `..` escapes, symlinks leading out).

use redoubt_core::engine::RuntimeSettings;
use redoubt_core::node::{ConfigError, NodeError};
use std::path::{Component, Path, PathBuf};

/// The settings key of the restriction.
pub(crate) const RESTRICT_KEY: &str = "fileRestrictToWorkingDirectory";

/// How a node turns a configured or message-given filename into a path.
#[derive(Debug, Clone)]
pub(crate) struct FileRoot {
    base: Option<PathBuf>,
    /// The canonical root when the restriction is on.
    restrict: Option<PathBuf>,
}

impl FileRoot {
    /// Reads `fileWorkingDirectory` and the restriction from the settings.
    pub(crate) fn from_settings(s: &RuntimeSettings) -> Result<FileRoot, ConfigError> {
        let base = s.file_working_directory.clone();
        let on = matches!(s.raw.get(RESTRICT_KEY), Some(serde_json::Value::Bool(true)));
        let restrict = if on {
            let root = match &base {
                Some(b) => b.clone(),
                None => std::env::current_dir().map_err(|e| {
                    ConfigError::field(RESTRICT_KEY, format!("no working directory: {e}"))
                })?,
            };
            Some(root.canonicalize().map_err(|e| {
                ConfigError::field(
                    RESTRICT_KEY,
                    format!(
                        "cannot resolve fileWorkingDirectory {}: {e}",
                        root.display()
                    ),
                )
            })?)
        } else {
            None
        };
        Ok(FileRoot { base, restrict })
    }

    /// The full path of `name`: relative names are joined to
    /// `fileWorkingDirectory` when set. With the restriction on, a path
    /// outside the root is an error naming the node and the path.
    pub(crate) fn resolve(&self, node_id: &str, name: &str) -> Result<PathBuf, NodeError> {
        let p = Path::new(name);
        let full = match &self.base {
            Some(b) if !p.is_absolute() => normalize(&b.join(p)),
            _ => p.to_path_buf(),
        };
        let Some(root) = &self.restrict else {
            return Ok(full);
        };
        let abs = if full.is_absolute() {
            full.clone()
        } else {
            // Relative without a configured base: the root is the process's
            // working directory, which is what the OS resolves against.
            root.join(&full)
        };
        let real = canonical_prefix(&normalize(&abs));
        if real.starts_with(root) {
            Ok(full)
        } else {
            Err(NodeError::new(format!(
                "node {node_id}: path {name:?} resolves to {} which is outside {} \
                 ({RESTRICT_KEY} is set)",
                real.display(),
                root.display()
            ))
            .with_code("EACCES"))
        }
    }
}

/// Removes `.` and folds `..` without touching the file system (as
/// `path.resolve` does).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Canonicalizes the longest existing ancestor of `p` (resolving symlinks)
/// and appends the rest, which does not exist yet and so has none.
fn canonical_prefix(p: &Path) -> PathBuf {
    let mut existing = p.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return out;
        }
        match (
            existing.file_name().map(|f| f.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => return p.to_path_buf(),
        }
    }
}

/// An I/O error as Node.js prints it: `Error: ENOENT: no such file or
/// directory, open '/x'`, with the code for `msg.error.code`.
pub(crate) fn io_error(e: &std::io::Error, syscall: &str, path: &Path) -> NodeError {
    let (code, text) = match e.raw_os_error() {
        Some(1) => ("EPERM", "operation not permitted"),
        Some(2) => ("ENOENT", "no such file or directory"),
        Some(13) => ("EACCES", "permission denied"),
        Some(17) => ("EEXIST", "file already exists"),
        Some(20) => ("ENOTDIR", "not a directory"),
        Some(21) => ("EISDIR", "illegal operation on a directory"),
        Some(24) => ("EMFILE", "too many open files"),
        Some(28) => ("ENOSPC", "no space left on device"),
        Some(30) => ("EROFS", "read-only file system"),
        Some(39) => ("ENOTEMPTY", "directory not empty"),
        _ => ("EIO", ""),
    };
    let msg = if text.is_empty() {
        format!("Error: {e}, {syscall} '{}'", path.display())
    } else {
        format!("Error: {code}: {text}, {syscall} '{}'", path.display())
    };
    NodeError::new(msg).with_code(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(dir: &Path) -> FileRoot {
        let mut s = RuntimeSettings {
            file_working_directory: Some(dir.to_path_buf()),
            ..Default::default()
        };
        s.raw
            .insert(RESTRICT_KEY.into(), serde_json::Value::Bool(true));
        FileRoot::from_settings(&s).expect("test step")
    }

    #[test]
    fn restriction_accepts_inside_and_rejects_escapes() {
        let d = tempfile::tempdir().expect("test step");
        let r = root(d.path());
        assert!(r.resolve("n1", "a/b/new.txt").is_ok());
        assert!(r.resolve("n1", "a/../b.txt").is_ok());
        let inside = d.path().join("x.txt");
        assert!(r.resolve("n1", inside.to_str().expect("test step")).is_ok());
        let e = r.resolve("n1", "../escape.txt").expect_err("should fail");
        assert!(e.message.contains("node n1") && e.message.contains("../escape.txt"));
        assert!(r.resolve("n1", "/etc/passwd").is_err());
        assert!(r.resolve("n1", "a/../../x").is_err());
    }

    #[test]
    fn restriction_follows_symlinks_out_of_the_root() {
        let d = tempfile::tempdir().expect("test step");
        let outside = tempfile::tempdir().expect("test step");
        std::os::unix::fs::symlink(outside.path(), d.path().join("link")).expect("test step");
        let r = root(d.path());
        let e = r.resolve("n1", "link/secret.txt").expect_err("should fail");
        assert!(e.message.contains("outside"), "{}", e.message);
    }

    #[test]
    fn without_restriction_relative_names_join_the_base() {
        let s = RuntimeSettings {
            file_working_directory: Some("/base".into()),
            ..Default::default()
        };
        let r = FileRoot::from_settings(&s).expect("test step");
        assert_eq!(
            r.resolve("n", "x/../y").expect("test step"),
            PathBuf::from("/base/y")
        );
        assert_eq!(
            r.resolve("n", "/abs").expect("test step"),
            PathBuf::from("/abs")
        );
        assert_eq!(
            r.resolve("n", "../up").expect("test step"),
            PathBuf::from("/up")
        );
    }
}
