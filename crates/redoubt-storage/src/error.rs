//! The one error type of this crate. Every variant names the file (or, for
//! an environment variable secret, the variable) it is about, so a log line
//! alone tells the operator what to look at.

use std::path::PathBuf;

/// A persistence operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A file system call failed.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done ("read", "write", "rename", ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON. Nothing was changed on disk.
    #[error("{}: invalid JSON at line {line}, column {column}: {message}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The file is valid JSON but not the expected shape.
    #[error("{}: expected {expected}", path.display())]
    Shape {
        /// The file.
        path: PathBuf,
        /// What the file should contain.
        expected: &'static str,
    },
    /// The credentials file is encrypted and the configured secret cannot
    /// decrypt it (wrong key, or encryption disabled). The file must not be
    /// overwritten: it is the only copy of the secrets.
    #[error(
        "credentials file {} cannot be decrypted with the configured credentialSecret; it was left untouched",
        path.display()
    )]
    CredentialsUndecryptable {
        /// The credentials file.
        path: PathBuf,
    },
    /// A credential secret file is unusable (for example empty).
    #[error("credential secret file {}: {message}", path.display())]
    SecretFile {
        /// The secret file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The credential secret environment variable is unset or empty.
    #[error("credential secret environment variable {var} is not set or is empty")]
    SecretEnv {
        /// The variable name.
        var: String,
    },
    /// A value could not be encoded for the file.
    #[error("cannot encode data for {}: {message}", path.display())]
    Encode {
        /// The file that was to be written.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

impl StorageError {
    /// An I/O error about `path`.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StorageError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// A JSON syntax error about `path`.
    pub(crate) fn json(path: impl Into<PathBuf>, e: &serde_json::Error) -> Self {
        StorageError::Json {
            path: path.into(),
            line: e.line(),
            column: e.column(),
            message: strip_position(e),
        }
    }
}

/// serde_json appends " at line L column C" to its message; the variant
/// carries those separately.
fn strip_position(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match full.strip_suffix(&suffix) {
        Some(m) => m.to_string(),
        None => full,
    }
}
