//! The audit log's file: appended to, mode 0600. (Whole files, such as the
//! sessions file, are written with `redoubt_storage::write_file_atomic`.)

use std::path::Path;

/// Opens `path` for appending, creating it with mode 0600 (and tightening
/// an existing file to 0600).
pub(crate) fn open_private_append(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let f = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}
