//! Change detection for certificate and key files by polling their
//! modification time, size and inode (a Let's Encrypt renewal replaces the
//! symlink target; an editor may rewrite in place within the same second).

use std::path::PathBuf;
use std::time::SystemTime;

/// What a file looked like at the last poll (`None`: missing).
type Stamp = Option<(SystemTime, u64, u64)>;

fn stamp(path: &std::path::Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let ino = 0;
    Some((meta.modified().ok()?, meta.len(), ino))
}

/// The stamps of a set of files.
#[derive(Debug, Clone)]
pub struct FileStamps {
    files: Vec<(PathBuf, Stamp)>,
}

impl FileStamps {
    /// Records the current state of `paths`.
    pub fn new(paths: impl IntoIterator<Item = PathBuf>) -> FileStamps {
        FileStamps {
            files: paths
                .into_iter()
                .map(|p| {
                    let s = stamp(&p);
                    (p, s)
                })
                .collect(),
        }
    }

    /// The watched paths.
    pub fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.files.iter().map(|(p, _)| p)
    }

    /// Whether any file changed since the last call (or creation), updating
    /// the record. A file that is missing now does not count as a change:
    /// a renewal tool may be between removing and writing it.
    pub fn changed(&mut self) -> bool {
        let mut any = false;
        for (path, old) in &mut self.files {
            let now = stamp(path);
            if now.is_some() && now != *old {
                any = true;
            }
            if now.is_some() {
                *old = now;
            }
        }
        any
    }
}
