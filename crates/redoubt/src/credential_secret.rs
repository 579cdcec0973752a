//! Where the credential secret comes from (`REDOUBT_CREDENTIAL_SECRET`,
//! `REDOUBT_CREDENTIAL_SECRET_FILE`, then `credentialSecret` in settings,
//! then Node-RED's generated key), and the one startup warning when the key
//! sits beside the credentials it protects, so that a copy of the
//! directory (a backup, a git repository, a shared volume) carries both.

use crate::settings::{CredentialSecret, Settings};
use redoubt_storage::credentials::{SECRET_ENV_VAR, SECRET_FILE_ENV_VAR, SecretSource};
use redoubt_storage::runtime_config::runtime_config_path;
use std::path::{Path, PathBuf};

/// The secret source, environment first.
pub(crate) fn secret_source(s: &Settings) -> SecretSource {
    if std::env::var_os(SECRET_ENV_VAR).is_some() {
        return SecretSource::env();
    }
    if let Some(file) = std::env::var_os(SECRET_FILE_ENV_VAR).filter(|f| !f.is_empty()) {
        return SecretSource::File(PathBuf::from(file));
    }
    match &s.credential_secret {
        CredentialSecret::Unset => SecretSource::System,
        CredentialSecret::Disabled => SecretSource::Disabled,
        CredentialSecret::Secret(x) => SecretSource::Setting(x.clone()),
    }
}

/// The directory of `p`, resolved so that `./a` and `/abs/a` compare equal.
fn dir_of(p: &Path) -> Option<PathBuf> {
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::canonicalize(parent).ok()
}

fn same_dir(a: &Path, b: &Path) -> bool {
    matches!((dir_of(a), dir_of(b)), (Some(x), Some(y)) if x == y)
}

/// What to do instead, shared by the warnings.
const ADVICE: &str = "keep the secret out of that directory: set REDOUBT_CREDENTIAL_SECRET (or \
     REDOUBT_CREDENTIAL_SECRET_FILE naming a file elsewhere) in the service's environment, then \
     run `redoubt admin rotate-credential-secret` so the old key no longer opens the file";

/// The warning for `source` protecting `cred_path`, if the key is stored
/// beside it. `settings_path` is the settings.js that was evaluated.
pub(crate) fn colocation_warning(
    source: &SecretSource,
    cred_path: &Path,
    settings_path: &Path,
    user_dir: &Path,
) -> Option<String> {
    let cred = cred_path.display();
    match source {
        SecretSource::System => {
            let config = runtime_config_path(user_dir);
            same_dir(&config, cred_path).then(|| {
                format!(
                    "The key that encrypts {cred} is stored beside it, in {} (_credentialSecret): {ADVICE}.",
                    config.display()
                )
            })
        }
        SecretSource::Setting(secret) => {
            let literal = std::fs::read_to_string(settings_path)
                .is_ok_and(|text| text.contains(secret.as_str()));
            (literal && same_dir(settings_path, cred_path)).then(|| {
                format!(
                    "credentialSecret is written literally in {}, beside {cred}: remove it from settings.js and {ADVICE}.",
                    settings_path.display()
                )
            })
        }
        SecretSource::File(file) => same_dir(file, cred_path).then(|| {
            format!(
                "The credential secret file {} is beside {cred}: {ADVICE}.",
                file.display()
            )
        }),
        SecretSource::Env(_) | SecretSource::Disabled => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_only_when_the_key_lives_beside_the_credentials() {
        let dir = tempfile::tempdir().expect("tempdir");
        let elsewhere = tempfile::tempdir().expect("tempdir");
        let user = dir.path();
        let cred = user.join("flows_cred.json");
        let settings = user.join("settings.js");
        std::fs::write(
            &settings,
            "module.exports = { credentialSecret: 'hunter22' };",
        )
        .expect("write");

        let w = colocation_warning(&SecretSource::System, &cred, &settings, user)
            .expect("system key beside");
        assert!(w.contains(".config.runtime.json") && w.contains("REDOUBT_CREDENTIAL_SECRET"));

        let literal = SecretSource::Setting("hunter22".into());
        let w = colocation_warning(&literal, &cred, &settings, user).expect("literal");
        assert!(w.contains("settings.js") && !w.contains("hunter22"), "{w}");
        // From the environment inside settings.js: not literal, no warning.
        let from_env = SecretSource::Setting("value-from-env".into());
        assert_eq!(colocation_warning(&from_env, &cred, &settings, user), None);
        // settings.js elsewhere: no warning.
        let far = elsewhere.path().join("settings.js");
        std::fs::write(&far, "module.exports = { credentialSecret: 'hunter22' };").expect("write");
        assert_eq!(colocation_warning(&literal, &cred, &far, user), None);

        let beside = SecretSource::File(user.join("secret"));
        assert!(colocation_warning(&beside, &cred, &settings, user).is_some());
        let apart = SecretSource::File(elsewhere.path().join("secret"));
        assert_eq!(colocation_warning(&apart, &cred, &settings, user), None);
        assert_eq!(
            colocation_warning(&SecretSource::env(), &cred, &settings, user),
            None
        );
    }
}
