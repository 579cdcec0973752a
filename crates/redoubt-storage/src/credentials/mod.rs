//! Node-RED-compatible credentials file (`flows_cred.json`).
//!
//! Encrypted files are `{"$":"<hex iv><base64 ciphertext>"}` over
//! `JSON.stringify(credentials)`; with encryption disabled the file is the
//! credentials object itself. A file that cannot be decrypted is an error,
//! [`StorageError::CredentialsUndecryptable`], never an empty result: the
//! caller must not save over it, or the secrets are gone (Node-RED's
//! behaviour, which loses them on the next deploy).

mod cipher;
mod secret;

pub use cipher::CredentialKey;
pub use secret::{
    EncryptionType, SECRET_ENV_VAR, SECRET_FILE_ENV_VAR, Secret, SecretSource, has_system_key,
    resolve_secret, store_system_key,
};

use crate::error::StorageError;
use crate::fsio::{self, JsonFile, PRIVATE_MODE, WriteOpts};
use crate::json_js;
use indexmap::IndexMap;
use serde_json::{Map, Value};
use std::path::Path;

/// Credentials by node id: each node's credential fields.
pub type CredMap = IndexMap<String, Map<String, Value>>;

/// Reads the credentials file at `path` with `secret`. A missing or empty
/// file is an empty map; a plain file while encryption is on is accepted
/// (with a warning) and will be encrypted by the next save.
pub fn load_credentials(path: &Path, secret: &Secret) -> Result<CredMap, StorageError> {
    let (value, from) = match fsio::read_json_with_backup(path, "credentials")? {
        JsonFile::Missing | JsonFile::Empty => return Ok(CredMap::new()),
        JsonFile::Parsed(v, from) => (v, from),
    };
    let Value::Object(obj) = value else {
        return Err(StorageError::Shape {
            path: from,
            expected: "a JSON object",
        });
    };
    let Some(payload) = obj.get("$") else {
        if secret.key().is_some() {
            tracing::warn!(
                "credentials file {} is not encrypted; it will be on the next save",
                from.display()
            );
        }
        return to_cred_map(obj).ok_or(StorageError::Shape {
            path: from,
            expected: "an object of node credentials",
        });
    };
    let undecryptable = || StorageError::CredentialsUndecryptable { path: from.clone() };
    let payload = payload.as_str().ok_or_else(undecryptable)?;
    secret
        .decrypt_keys()
        .find_map(|key| {
            let text = cipher::decrypt(key, payload)?;
            match serde_json::from_str(&text) {
                Ok(Value::Object(m)) => to_cred_map(m),
                _ => None,
            }
        })
        .ok_or_else(undecryptable)
}

/// Writes `creds` to `path` (mode 0600, atomically, previous file kept as
/// `.<name>.backup`), encrypted unless `secret` is disabled. `pretty` is
/// Node-RED's `flowFilePretty`.
pub fn save_credentials(
    path: &Path,
    creds: &CredMap,
    secret: &Secret,
    pretty: bool,
) -> Result<(), StorageError> {
    stage_credentials(path, creds, secret, pretty)?.commit()
}

/// A credentials file written and synced to its temp file (`<path>.tmp`)
/// but not yet in place: [`StagedCredentials::commit`] puts it there,
/// dropping it removes the temp file and leaves the file as it was. Lets a
/// deploy write both of its files before renaming either. Callers serialise
/// the saves of one file (the admin API's deploy lock does).
#[must_use = "dropping a StagedCredentials discards it"]
pub struct StagedCredentials<'a> {
    staged: fsio::Staged,
    secret: &'a Secret,
}

impl StagedCredentials<'_> {
    /// Backs the current file up, renames the temp file over it, and ends a
    /// key migration the save completes.
    pub fn commit(self) -> Result<(), StorageError> {
        self.staged.commit()?;
        if let Err(e) = self.secret.finish_migration() {
            tracing::warn!(
                "credentials saved, but the old generated key could not be removed: {e}"
            );
        }
        Ok(())
    }
}

/// [`save_credentials`] up to the rename: see [`StagedCredentials`].
pub fn stage_credentials<'a>(
    path: &Path,
    creds: &CredMap,
    secret: &'a Secret,
    pretty: bool,
) -> Result<StagedCredentials<'a>, StorageError> {
    let plain = Value::Object(
        creds
            .iter()
            .map(|(k, v)| (k.clone(), Value::Object(v.clone())))
            .collect(),
    );
    let doc = match secret.key() {
        None => plain,
        Some(key) => {
            let text = json_js::stringify(&plain, None);
            let enc = cipher::encrypt(key, &text).map_err(|e| {
                StorageError::io("generate an IV for", path, std::io::Error::other(e))
            })?;
            let mut m = Map::new();
            m.insert("$".to_string(), Value::String(enc));
            Value::Object(m)
        }
    };
    let text = json_js::stringify(&doc, pretty.then_some(4));
    let backup = fsio::backup_path(path);
    let staged = fsio::stage(
        path,
        &fsio::suffixed(path, ".tmp"),
        text.as_bytes(),
        WriteOpts {
            backup: Some(&backup),
            mode: Some(PRIVATE_MODE),
        },
    )?;
    Ok(StagedCredentials { staged, secret })
}

fn to_cred_map(obj: Map<String, Value>) -> Option<CredMap> {
    obj.into_iter()
        .map(|(id, v)| match v {
            Value::Object(fields) => Some((id, fields)),
            _ => None,
        })
        .collect()
}
