//! Where the credential secret comes from, resolved as Node-RED does
//! (`credentialSecret` string, `false`, or a generated system key in
//! `.config.runtime.json`), plus redoubt's environment-variable and file
//! sources, which count as a user-provided secret.

use super::cipher::CredentialKey;
use crate::error::StorageError;
use crate::runtime_config::{read_runtime_config, runtime_config_path, write_runtime_config};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The environment variable [`SecretSource::env`] reads.
pub const SECRET_ENV_VAR: &str = "REDOUBT_CREDENTIAL_SECRET";

/// The runtime settings key of Node-RED's generated secret.
const SYSTEM_KEY: &str = "_credentialSecret";

/// How the credential secret is configured.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `credentialSecret: "<string>"` in settings.
    Setting(String),
    /// `credentialSecret: false`: the credentials file is plain JSON.
    Disabled,
    /// `credentialSecret` unset: use (or generate) `_credentialSecret` in
    /// `<userDir>/.config.runtime.json`.
    System,
    /// The secret is the value of this environment variable.
    Env(String),
    /// The secret is the content of this file (trailing whitespace dropped).
    File(PathBuf),
}

impl SecretSource {
    /// The secret from [`SECRET_ENV_VAR`].
    pub fn env() -> SecretSource {
        SecretSource::Env(SECRET_ENV_VAR.to_string())
    }
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Setting(_) => f.write_str("Setting(<redacted>)"),
            SecretSource::Disabled => f.write_str("Disabled"),
            SecretSource::System => f.write_str("System"),
            SecretSource::Env(v) => f.debug_tuple("Env").field(v).finish(),
            SecretSource::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// Node-RED's `flowEncryptionType` (reported by `GET /settings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptionType {
    /// The generated key in `.config.runtime.json`.
    System,
    /// A secret the user configured.
    User,
    /// No encryption.
    Disabled,
}

impl EncryptionType {
    /// `"system"`, `"user"` or `"disabled"`.
    pub fn as_str(self) -> &'static str {
        match self {
            EncryptionType::System => "system",
            EncryptionType::User => "user",
            EncryptionType::Disabled => "disabled",
        }
    }
}

/// A resolved credential secret.
#[derive(Debug, Clone)]
pub struct Secret {
    kind: EncryptionType,
    key: Option<CredentialKey>,
    /// A generated system key that coexists with a user setting (or with
    /// encryption disabled): it still decrypts the file, and is deleted from
    /// `.config.runtime.json` after the next successful save.
    legacy: Option<(CredentialKey, PathBuf)>,
}

impl Secret {
    /// A user secret, without touching any file.
    pub fn from_secret(secret: &str) -> Secret {
        Secret {
            kind: EncryptionType::User,
            key: Some(CredentialKey::from_secret(secret)),
            legacy: None,
        }
    }

    /// No encryption.
    pub fn disabled() -> Secret {
        Secret {
            kind: EncryptionType::Disabled,
            key: None,
            legacy: None,
        }
    }

    /// The encryption type to report.
    pub fn encryption_type(&self) -> EncryptionType {
        self.kind
    }

    /// Whether a Node-RED system key is being migrated away from; the
    /// credentials should be saved once so it can be removed.
    pub fn migrating(&self) -> bool {
        self.legacy.is_some()
    }

    pub(crate) fn key(&self) -> Option<&CredentialKey> {
        self.key.as_ref()
    }

    /// Keys to try when decrypting, in Node-RED's order (a system key being
    /// migrated away from first).
    pub(crate) fn decrypt_keys(&self) -> impl Iterator<Item = &CredentialKey> {
        self.legacy
            .as_ref()
            .map(|(k, _)| k)
            .into_iter()
            .chain(self.key.as_ref())
    }

    /// After a successful save: drops a migrated system key from the user
    /// directory's runtime settings.
    pub(crate) fn finish_migration(&self) -> Result<(), StorageError> {
        let Some((_, user_dir)) = &self.legacy else {
            return Ok(());
        };
        let mut config = read_runtime_config(user_dir)?;
        if config.shift_remove(SYSTEM_KEY).is_some() {
            write_runtime_config(user_dir, &config)?;
            tracing::info!(
                "removed the generated credential key from {}",
                runtime_config_path(user_dir).display()
            );
        }
        Ok(())
    }
}

/// The environment variable naming a file that holds the secret
/// ([`SecretSource::File`]), e.g. a systemd or Docker secret.
pub const SECRET_FILE_ENV_VAR: &str = "REDOUBT_CREDENTIAL_SECRET_FILE";

/// Whether `<userDir>/.config.runtime.json` holds a generated system key.
pub fn has_system_key(user_dir: &Path) -> Result<bool, StorageError> {
    Ok(matches!(
        read_runtime_config(user_dir)?.get(SYSTEM_KEY),
        Some(Value::String(s)) if !s.is_empty()
    ))
}

/// Replaces the generated system key in `<userDir>/.config.runtime.json`
/// (atomically, mode 0600), keeping the file's other entries.
pub fn store_system_key(user_dir: &Path, secret: &str) -> Result<(), StorageError> {
    let mut config = read_runtime_config(user_dir)?;
    config.insert(SYSTEM_KEY.to_string(), Value::String(secret.to_string()));
    write_runtime_config(user_dir, &config)
}

/// Resolves `source` for the user directory `user_dir`, generating and
/// storing a system key when [`SecretSource::System`] finds none.
pub fn resolve_secret(source: &SecretSource, user_dir: &Path) -> Result<Secret, StorageError> {
    let config = match read_runtime_config(user_dir) {
        Ok(c) => c,
        // Without a system key in play a damaged settings file does not
        // matter; with one, generating a new key would lose the old one.
        Err(e) if *source != SecretSource::System => {
            tracing::warn!("{e}; not checking it for a generated credential key");
            serde_json::Map::new()
        }
        Err(e) => return Err(e),
    };
    let system = match config.get(SYSTEM_KEY) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let legacy = || {
        system
            .as_deref()
            .map(|s| (CredentialKey::from_secret(s), user_dir.to_path_buf()))
    };
    let user = |secret: &str| Secret {
        legacy: legacy(),
        ..Secret::from_secret(secret)
    };
    Ok(match source {
        SecretSource::Setting(s) => user(s),
        SecretSource::Env(var) => user(&read_env(var)?),
        SecretSource::File(path) => user(&read_secret_file(path)?),
        SecretSource::Disabled => Secret {
            legacy: legacy(),
            ..Secret::disabled()
        },
        SecretSource::System => {
            let secret = match system {
                Some(s) => s,
                None => generate_system_key(user_dir, config)?,
            };
            Secret {
                kind: EncryptionType::System,
                key: Some(CredentialKey::from_secret(&secret)),
                legacy: None,
            }
        }
    })
}

fn read_env(var: &str) -> Result<String, StorageError> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(StorageError::SecretEnv {
            var: var.to_string(),
        }),
    }
}

fn read_secret_file(path: &Path) -> Result<String, StorageError> {
    let text = std::fs::read_to_string(path).map_err(|e| StorageError::io("read", path, e))?;
    let secret = text.trim_end_matches(['\n', '\r', ' ', '\t']);
    if secret.is_empty() {
        return Err(StorageError::SecretFile {
            path: path.to_path_buf(),
            message: "the file is empty".into(),
        });
    }
    Ok(secret.to_string())
}

fn generate_system_key(
    user_dir: &Path,
    mut config: serde_json::Map<String, Value>,
) -> Result<String, StorageError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        StorageError::io(
            "generate a key for",
            runtime_config_path(user_dir),
            std::io::Error::other(e),
        )
    })?;
    let secret = hex::encode(bytes);
    config.insert(SYSTEM_KEY.to_string(), Value::String(secret.clone()));
    write_runtime_config(user_dir, &config)?;
    Ok(secret)
}
