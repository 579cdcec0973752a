//! `redoubt admin rotate-credential-secret`: re-encrypts flows_cred.json
//! under a new secret. Run it with redoubt stopped (a running redoubt still
//! holds the old key and would write the file with it on the next deploy).
//!
//! Order of writes, so that no crash leaves credentials without a key that
//! opens them: the new file is written beside the old one and renamed over
//! it (the old file is kept as `.flows_cred.json.backup` meanwhile); when
//! the secret is the generated one, `.config.runtime.json` is then updated;
//! if that fails the old file is put back. Only when all succeeded is the
//! backup, still readable with the old key, removed. Where the secret is
//! the user's (settings.js, environment, file), the command prints what to
//! change; redoubt refuses to start (and never overwrites the file) until
//! the new secret is in place.

use crate::credential_secret::secret_source;
use crate::settings;
use anyhow::{Context, Result, bail};
use clap::Args;
use redoubt_storage::credentials::{
    self, SECRET_ENV_VAR, SECRET_FILE_ENV_VAR, Secret, SecretSource,
};
use redoubt_storage::flows_file;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Arguments of `rotate-credential-secret`.
#[derive(Debug, Args)]
pub(crate) struct RotateArgs {
    /// User directory (default: ~/.redoubt).
    #[arg(short = 'u', long = "userDir")]
    pub(crate) user_dir: Option<PathBuf>,
    /// Settings file (default: settings.js in the user directory).
    #[arg(short = 's', long = "settings")]
    pub(crate) settings: Option<PathBuf>,
    /// Take the new secret from this environment variable.
    #[arg(long = "new-secret-env", value_name = "VAR", conflicts_with_all = ["new_secret_file", "generate"])]
    pub(crate) new_secret_env: Option<String>,
    /// Take the new secret from this file (trailing whitespace dropped).
    #[arg(
        long = "new-secret-file",
        value_name = "FILE",
        conflicts_with = "generate"
    )]
    pub(crate) new_secret_file: Option<PathBuf>,
    /// Generate a random secret (the default when the current secret is
    /// redoubt's generated key; printed once otherwise).
    #[arg(long = "generate")]
    pub(crate) generate: bool,
}

/// A random 256-bit secret as hex.
fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("cannot get random bytes: {e}"))?;
    Ok(hex::encode(bytes))
}

/// Reads the new secret from stdin: twice, without echo control, when it
/// is a terminal (the prompt says so); once when piped.
fn prompt_secret() -> Result<String> {
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let read = |prompt: &str| -> Result<String> {
        if interactive {
            eprint!("{prompt}");
            std::io::stderr().flush().ok();
        }
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    };
    let first = read("New credential secret (visible as you type; or pass --new-secret-env): ")?;
    if interactive && read("Again: ")? != first {
        bail!("the two secrets differ; nothing was changed");
    }
    Ok(first)
}

/// Where the new secret comes from.
enum NewSecret {
    Given(String),
    Generated(String),
}

fn new_secret(args: &RotateArgs, current: &SecretSource) -> Result<NewSecret> {
    let secret = if let Some(var) = &args.new_secret_env {
        NewSecret::Given(
            std::env::var(var).with_context(|| format!("environment variable {var} is not set"))?,
        )
    } else if let Some(file) = &args.new_secret_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        NewSecret::Given(text.trim_end_matches(['\n', '\r', ' ', '\t']).to_string())
    } else if args.generate || *current == SecretSource::System {
        NewSecret::Generated(random_secret()?)
    } else {
        NewSecret::Given(prompt_secret()?)
    };
    let (NewSecret::Given(s) | NewSecret::Generated(s)) = &secret;
    if s.is_empty() {
        bail!("the new secret is empty; nothing was changed");
    }
    if matches!(current, SecretSource::Setting(old) if old == s) {
        bail!("the new secret is the current one; nothing was changed");
    }
    Ok(secret)
}

/// Resolved paths and the current secret.
struct Target {
    user_dir: PathBuf,
    settings_path: PathBuf,
    cred_path: PathBuf,
    source: SecretSource,
}

fn target(args: &RotateArgs) -> Result<Target> {
    let user_dir = super::user_dir(args.user_dir.as_deref())?;
    let settings_path = args
        .settings
        .clone()
        .unwrap_or_else(|| user_dir.join("settings.js"));
    let s = if settings_path.exists() {
        settings::load(&settings_path, &[])
            .with_context(|| format!("in settings file {}", settings_path.display()))?
    } else {
        settings::from_json(serde_json::Map::new())?
    };
    let flow_file = s.flow_file.clone().unwrap_or_else(|| "flows.json".into());
    let flows_path = flows_file::resolve_flows_path(&flow_file, &user_dir);
    let cred_path = flows_file::credentials_path(&flows_path, &user_dir);
    Ok(Target {
        source: secret_source(&s),
        user_dir,
        settings_path,
        cred_path,
    })
}

/// Re-encrypts, and returns what the user must do next.
fn rotate(args: &RotateArgs) -> Result<String> {
    let t = target(args)?;
    if !t.cred_path.exists() {
        bail!(
            "{} does not exist: there is nothing to re-encrypt",
            t.cred_path.display()
        );
    }
    if t.source == SecretSource::Disabled {
        bail!(
            "credentialSecret is false in {}: credentials are stored unencrypted; set credentialSecret (or {SECRET_ENV_VAR}) and start redoubt once to encrypt them",
            t.settings_path.display()
        );
    }
    if t.source == SecretSource::System && !credentials::has_system_key(&t.user_dir)? {
        bail!(
            "no credential secret is configured and {} holds no generated key: cannot decrypt {}",
            redoubt_storage::runtime_config::runtime_config_path(&t.user_dir).display(),
            t.cred_path.display()
        );
    }
    let old = credentials::resolve_secret(&t.source, &t.user_dir)?;
    let creds = credentials::load_credentials(&t.cred_path, &old)
        .with_context(|| format!("{} was left untouched", t.cred_path.display()))?;
    let new = new_secret(args, &t.source)?;
    let (NewSecret::Given(text) | NewSecret::Generated(text)) = &new;
    credentials::save_credentials(&t.cred_path, &creds, &Secret::from_secret(text), true)?;
    let backup = redoubt_storage::backup_path(&t.cred_path);
    let advice = match (&t.source, &new) {
        (SecretSource::System, NewSecret::Generated(s)) => {
            if let Err(e) = credentials::store_system_key(&t.user_dir, s) {
                restore(&backup, &t.cred_path);
                return Err(e)
                    .context("cannot store the new key; the old credentials file was put back");
            }
            format!(
                "The new key is stored in {} as before.",
                redoubt_storage::runtime_config::runtime_config_path(&t.user_dir).display()
            )
        }
        (source, new) => instructions(source, new, &t.settings_path),
    };
    if let Err(e) = std::fs::remove_file(&backup)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!(
            "warning: cannot remove {} (readable with the old secret): {e}",
            backup.display()
        );
    }
    Ok(format!(
        "Re-encrypted {} ({} node{}).\n{advice}",
        t.cred_path.display(),
        creds.len(),
        if creds.len() == 1 { "" } else { "s" }
    ))
}

/// Puts the previous credentials file back after a failed rotation.
fn restore(backup: &Path, cred_path: &Path) {
    if let Err(e) = std::fs::rename(backup, cred_path) {
        eprintln!(
            "error: cannot restore {} from {}: {e}",
            cred_path.display(),
            backup.display()
        );
    }
}

/// What the user must change where their secret lives.
fn instructions(source: &SecretSource, new: &NewSecret, settings_path: &Path) -> String {
    let shown = match new {
        NewSecret::Generated(s) => {
            format!("\nThe new secret (shown once, store it safely):\n\n    {s}\n")
        }
        NewSecret::Given(_) => String::new(),
    };
    let what = match source {
        SecretSource::Setting(_) => format!(
            "Now set credentialSecret in {} to the new secret (better: remove it there and set {SECRET_ENV_VAR} in the service's environment).",
            settings_path.display()
        ),
        SecretSource::Env(var) => {
            format!("Now set {var} to the new secret where redoubt is started.")
        }
        SecretSource::File(f) => format!(
            "Now write the new secret into {} (named by {SECRET_FILE_ENV_VAR}).",
            f.display()
        ),
        SecretSource::System => format!(
            "Now set {SECRET_ENV_VAR} to the new secret where redoubt is started; the generated key in .config.runtime.json no longer opens the file."
        ),
        SecretSource::Disabled => String::new(),
    };
    format!(
        "{shown}{what}\nredoubt will not start (and leaves the file alone) until it has the new secret."
    )
}

pub(crate) fn run(args: RotateArgs) -> Result<()> {
    println!("{}", rotate(&args)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use redoubt_storage::credentials::{load_credentials, resolve_secret};

    fn args(dir: &Path) -> RotateArgs {
        RotateArgs {
            user_dir: Some(dir.to_path_buf()),
            settings: None,
            new_secret_env: None,
            new_secret_file: None,
            generate: false,
        }
    }

    fn seed(dir: &Path, secret: &Secret) {
        let mut creds = credentials::CredMap::new();
        let mut c = serde_json::Map::new();
        c.insert("user".into(), "bob".into());
        c.insert("password".into(), "pw-1".into());
        creds.insert("n1".into(), c);
        credentials::save_credentials(&dir.join("flows_cred.json"), &creds, secret, true)
            .expect("seed");
    }

    #[test]
    fn generated_key_is_replaced_and_the_file_re_encrypted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = resolve_secret(&SecretSource::System, dir.path()).expect("generated");
        seed(dir.path(), &old);
        let before = std::fs::read_to_string(dir.path().join("flows_cred.json")).expect("read");
        let out = rotate(&args(dir.path())).expect("rotated");
        assert!(out.contains("1 node"), "{out}");
        let cred = dir.path().join("flows_cred.json");
        assert_ne!(std::fs::read_to_string(&cred).expect("read"), before);
        // The old key no longer opens it; the stored (new) one does.
        assert!(load_credentials(&cred, &old).is_err());
        let new = resolve_secret(&SecretSource::System, dir.path()).expect("new key");
        let creds = load_credentials(&cred, &new).expect("decrypts");
        assert_eq!(creds["n1"]["password"], "pw-1");
        assert!(
            !redoubt_storage::backup_path(&cred).exists(),
            "old-key backup removed"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&cred).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn secret_in_settings_is_rotated_to_a_given_one_with_instructions() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("settings.js"),
            "module.exports = { credentialSecret: 'old-secret' };",
        )
        .expect("settings");
        seed(dir.path(), &Secret::from_secret("old-secret"));
        let new_file = dir.path().join("new-secret.txt");
        std::fs::write(&new_file, "new-secret\n").expect("write");
        let mut a = args(dir.path());
        a.new_secret_file = Some(new_file);
        let out = rotate(&a).expect("rotated");
        assert!(
            out.contains("credentialSecret") && !out.contains("new-secret"),
            "{out}"
        );
        assert!(!out.contains("old-secret"), "{out}");
        let cred = dir.path().join("flows_cred.json");
        let creds = load_credentials(&cred, &Secret::from_secret("new-secret")).expect("new");
        assert_eq!(creds["n1"]["user"], "bob");
        assert!(load_credentials(&cred, &Secret::from_secret("old-secret")).is_err());
        // Same secret again: refused, file untouched.
        let mut again = args(dir.path());
        std::fs::write(
            dir.path().join("settings.js"),
            "module.exports = { credentialSecret: 'new-secret' };",
        )
        .expect("settings");
        let same = dir.path().join("same.txt");
        std::fs::write(&same, "new-secret").expect("write");
        again.new_secret_file = Some(same);
        let text = std::fs::read_to_string(&cred).expect("read");
        assert!(rotate(&again).is_err());
        assert_eq!(std::fs::read_to_string(&cred).expect("read"), text);
    }

    #[test]
    fn wrong_current_secret_leaves_the_file_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("settings.js"),
            "module.exports = { credentialSecret: 'not-the-one' };",
        )
        .expect("settings");
        seed(dir.path(), &Secret::from_secret("the-one"));
        let cred = dir.path().join("flows_cred.json");
        let text = std::fs::read_to_string(&cred).expect("read");
        let mut a = args(dir.path());
        a.generate = true;
        let err = rotate(&a).expect_err("undecryptable");
        assert!(format!("{err:#}").contains("left untouched"), "{err:#}");
        assert_eq!(std::fs::read_to_string(&cred).expect("read"), text);
    }
}
