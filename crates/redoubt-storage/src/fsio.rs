//! Low-level file helpers shared by every store: atomic replace (temp file
//! in the same directory, fsync, rename, fsync the directory), Node-RED's
//! `.<name>.backup` backups, and reading a JSON file the way Node-RED's
//! `localfilesystem` storage does (UTF-8 BOM stripped, an empty file falls
//! back to its backup).

use crate::error::StorageError;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Permission bits for files holding secrets.
pub(crate) const PRIVATE_MODE: u32 = 0o600;

/// Serialises whole-file replacements made through [`write_atomic`] with a
/// fixed temp name, so two writers of one file never share a temp file.
static WRITE_LOCK: parking_lot::Mutex<()> = parking_lot::Mutex::new(());

/// Node-RED's backup name for `path`: `.<file name>.backup` in the same
/// directory (`flows.json` → `.flows.json.backup`).
pub fn backup_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.backup"))
}

/// How [`write_atomic`] replaces a file.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WriteOpts<'a> {
    /// Copy the current file here first, if it exists.
    pub backup: Option<&'a Path>,
    /// Unix permission bits for the new file (and its backup).
    pub mode: Option<u32>,
}

/// Replaces `path` with `content` atomically (temp file, fsync, rename),
/// with Unix permission bits `mode`: for files other crates own, such as
/// the certificate and key `redoubt admin gen-cert` writes.
pub fn write_file_atomic(path: &Path, content: &[u8], mode: u32) -> Result<(), StorageError> {
    write_atomic(
        path,
        content,
        WriteOpts {
            backup: None,
            mode: Some(mode),
        },
    )
}

/// Replaces `path` with `content` atomically, using `<path>.tmp`.
pub(crate) fn write_atomic(
    path: &Path,
    content: &[u8],
    opts: WriteOpts<'_>,
) -> Result<(), StorageError> {
    let _guard = WRITE_LOCK.lock();
    let tmp = suffixed(path, ".tmp");
    write_via(path, &tmp, content, opts)
}

/// Replaces `path` with `content` atomically through the temp file `tmp`
/// (which must be in the same directory and unique to this writer).
pub(crate) fn write_via(
    path: &Path,
    tmp: &Path,
    content: &[u8],
    opts: WriteOpts<'_>,
) -> Result<(), StorageError> {
    stage(path, tmp, content, opts)?.commit()
}

/// A replacement of a file, written and synced to its temp file but not
/// yet renamed over the file: [`Staged::commit`] puts it in place (after
/// backing the file up, if asked); dropping it uncommitted removes the temp file
/// and leaves the file as it was. Lets a caller write while it does
/// something else, and decide afterwards.
#[must_use = "dropping a Staged file discards it"]
pub struct Staged {
    path: PathBuf,
    tmp: PathBuf,
    backup: Option<PathBuf>,
    mode: Option<u32>,
    pending: bool,
}

/// Writes and syncs `content` to `tmp` (same directory as `path`, unique to
/// this writer) for a later [`Staged::commit`].
pub(crate) fn stage(
    path: &Path,
    tmp: &Path,
    content: &[u8],
    opts: WriteOpts<'_>,
) -> Result<Staged, StorageError> {
    let dir = parent_dir(path);
    fs::create_dir_all(&dir).map_err(|e| StorageError::io("create directory", &dir, e))?;
    let staged = Staged {
        path: path.to_path_buf(),
        tmp: tmp.to_path_buf(),
        backup: opts.backup.map(Path::to_path_buf),
        mode: opts.mode,
        pending: true,
    };
    // On failure `staged` is dropped, which removes the partial temp file.
    write_synced(tmp, content, opts.mode)?;
    Ok(staged)
}

impl Staged {
    /// Backs the current file up (when asked to), renames the temp file
    /// over it and syncs the directory.
    pub fn commit(mut self) -> Result<(), StorageError> {
        if let Some(backup) = &self.backup {
            back_up(&self.path, backup, self.mode)?;
        }
        fs::rename(&self.tmp, &self.path)
            .map_err(|e| StorageError::io("rename temp file onto", &self.path, e))?;
        self.pending = false;
        sync_dir(&parent_dir(&self.path));
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.pending {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes `backup` the current `path`. Without permission bits to apply,
/// as a second name for the current file (a hard link, made under a temp
/// name and renamed over the old backup): the file is about to be replaced
/// by a rename, so the link keeps its content without copying it. Where
/// links are not possible (some file systems), and when the backup needs
/// its own permission bits, as a copy.
fn back_up(path: &Path, backup: &Path, mode: Option<u32>) -> Result<(), StorageError> {
    if mode.is_none() {
        let link = suffixed(backup, ".link");
        let _ = fs::remove_file(&link);
        match fs::hard_link(path, &link) {
            Ok(()) => match fs::rename(&link, backup) {
                Ok(()) => return Ok(()),
                Err(_) => {
                    let _ = fs::remove_file(&link);
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound && !path.exists() => return Ok(()),
            Err(_) => {}
        }
    }
    copy_backup(path, backup, mode)
}

fn copy_backup(path: &Path, backup: &Path, mode: Option<u32>) -> Result<(), StorageError> {
    match fs::copy(path, backup) {
        Ok(_) => {
            if let Some(m) = mode {
                set_mode(backup, m)?;
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound && !path.exists() => Ok(()),
        Err(e) => Err(StorageError::io("back up to", backup, e)),
    }
}

fn write_synced(tmp: &Path, content: &[u8], mode: Option<u32>) -> Result<(), StorageError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if let Some(m) = mode {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(m);
    }
    let mut f = opts
        .open(tmp)
        .map_err(|e| StorageError::io("create", tmp, e))?;
    if let Some(m) = mode {
        // `mode` only applies to newly created files; a stale temp file
        // left by a crash keeps its old bits otherwise.
        set_mode(tmp, m)?;
    }
    f.write_all(content)
        .map_err(|e| StorageError::io("write", tmp, e))?;
    f.sync_all().map_err(|e| StorageError::io("fsync", tmp, e))
}

/// Sets Unix permission bits (no-op elsewhere).
pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<(), StorageError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|e| StorageError::io("set permissions of", path, e))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Makes a rename durable. Failures only cost durability, so they are logged.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(e) = fs::File::open(dir).and_then(|d| d.sync_all()) {
        tracing::warn!("cannot fsync directory {}: {e}", dir.display());
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Reads a whole file as text; `Ok(None)` when it does not exist. A leading
/// UTF-8 byte order mark is dropped, as Node-RED's `parseJSON` does.
pub(crate) fn read_text(path: &Path) -> Result<Option<String>, StorageError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::io("read", path, e)),
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        StorageError::io(
            "read",
            path,
            io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()),
        )
    })?;
    Ok(Some(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    }))
}

/// What [`read_json_with_backup`] found.
#[derive(Debug)]
pub(crate) enum JsonFile {
    /// No file.
    Missing,
    /// The file (or its backup) was empty.
    Empty,
    /// Parsed content and the path it came from (the file or its backup).
    Parsed(serde_json::Value, PathBuf),
}

/// Node-RED's `util.readFile`: a missing file is [`JsonFile::Missing`]; an
/// empty file falls back to a non-empty `.<name>.backup` (with a warning);
/// malformed JSON is an error (Node-RED silently used an empty value, which
/// then overwrote the file on the next save).
pub(crate) fn read_json_with_backup(path: &Path, what: &str) -> Result<JsonFile, StorageError> {
    let Some(text) = read_text(path)? else {
        return Ok(JsonFile::Missing);
    };
    if !text.is_empty() {
        return parse(path, &text).map(|v| JsonFile::Parsed(v, path.to_path_buf()));
    }
    tracing::warn!("{what} file {} is empty", path.display());
    let backup = backup_path(path);
    match read_text(&backup)? {
        Some(b) if !b.is_empty() => {
            tracing::warn!("using {what} backup file {}", backup.display());
            parse(&backup, &b).map(|v| JsonFile::Parsed(v, backup))
        }
        _ => Ok(JsonFile::Empty),
    }
}

fn parse(path: &Path, text: &str) -> Result<serde_json::Value, StorageError> {
    redoubt_core::flows::json::from_str(text).map_err(|e| StorageError::json(path, &e))
}
