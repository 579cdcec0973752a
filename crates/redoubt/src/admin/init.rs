//! `redoubt admin init`: an interactive setup that writes a settings.js
//! with an admin user (bcrypt-hashed password), optionally a read-only
//! user, the port and host, and optionally HTTPS, either with a
//! self-signed certificate made on the spot (`gen-cert`) or with the
//! user's own certificate files. There is no default password: the wizard
//! refuses short or empty ones. An existing settings.js is kept as
//! `settings.js.backup`.

use super::prompt::Prompter;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `init`.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// User directory to write settings.js into (default: ~/.redoubt).
    #[arg(short = 'u', long = "userDir")]
    pub(crate) user_dir: Option<PathBuf>,
}

/// The shortest password the wizard accepts.
const MIN_PASSWORD: usize = 8;

/// What the wizard collected.
#[derive(Debug, Default)]
struct Answers {
    users: Vec<(String, String, &'static str)>,
    port: u16,
    host: String,
    https: Option<(PathBuf, PathBuf)>,
}

pub(crate) fn run(args: InitArgs) -> Result<()> {
    let user_dir = super::user_dir(args.user_dir.as_deref())?;
    std::fs::create_dir_all(&user_dir)
        .with_context(|| format!("cannot create {}", user_dir.display()))?;
    let settings_path = user_dir.join("settings.js");
    let mut p = Prompter::new();
    eprintln!("redoubt setup: writes {}", settings_path.display());
    if settings_path.exists()
        && !p.confirm(
            "settings.js exists. Replace it (the old one is kept as settings.js.backup)?",
            false,
        )?
    {
        bail!("left {} unchanged", settings_path.display());
    }
    let answers = ask(&mut p, &user_dir)?;
    let text = render(&answers)?;
    if settings_path.exists() {
        let backup = user_dir.join("settings.js.backup");
        std::fs::copy(&settings_path, &backup)
            .with_context(|| format!("cannot back up to {}", backup.display()))?;
    }
    redoubt_storage::write_file_atomic(&settings_path, text.as_bytes(), 0o600)
        .with_context(|| format!("cannot write {}", settings_path.display()))?;
    let scheme = if answers.https.is_some() {
        "https"
    } else {
        "http"
    };
    eprintln!("Wrote {} (mode 0600).", settings_path.display());
    eprintln!(
        "Start with: redoubt -u {}   then open {scheme}://{}:{}/",
        user_dir.display(),
        if answers.host == "0.0.0.0" || answers.host == "::" {
            "<this machine>"
        } else {
            &answers.host
        },
        answers.port
    );
    Ok(())
}

fn ask(p: &mut Prompter, user_dir: &Path) -> Result<Answers> {
    let mut a = Answers::default();
    let admin = p.ask("Admin username", "admin")?;
    let pw = p.new_password(&admin, MIN_PASSWORD)?;
    a.users
        .push((admin, redoubt_auth::password::hash(&pw)?, "*"));
    if p.confirm("Add a read-only user?", false)? {
        let name = p.ask("Read-only username", "viewer")?;
        if a.users.iter().any(|(u, _, _)| *u == name) {
            bail!("user {name:?} already exists");
        }
        let pw = p.new_password(&name, MIN_PASSWORD)?;
        a.users
            .push((name, redoubt_auth::password::hash(&pw)?, "read"));
    }
    let port = p.ask("Port", "1880")?;
    a.port = port
        .parse()
        .with_context(|| format!("port {port:?} is not a number from 0 to 65535"))?;
    a.host = p.ask(
        "Listen on address (0.0.0.0 for every interface)",
        "127.0.0.1",
    )?;
    let choice = p.ask(
        "HTTPS: 1) none  2) generate a self-signed certificate  3) use my certificate files",
        "2",
    )?;
    a.https = match choice.as_str() {
        "1" => None,
        "2" => {
            let host = hostname();
            let hosts = p.ask(
                "Certificate names (comma-separated)",
                &format!("localhost,{host}"),
            )?;
            let ips = p.ask("Certificate IP addresses (comma-separated)", "127.0.0.1")?;
            let split = |s: &str| -> Vec<String> {
                s.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            let out = user_dir.join("certs");
            let cert = super::generate_cert(&split(&hosts), &split(&ips), &out)?;
            eprintln!("Certificate SHA-256 fingerprint: {}", cert.fingerprint);
            Some((cert.cert_path, cert.key_path))
        }
        "3" => {
            let cert = PathBuf::from(p.ask("Certificate file (PEM)", "")?);
            let key = PathBuf::from(p.ask("Private key file (PEM)", "")?);
            for f in [&cert, &key] {
                if !f.is_file() {
                    bail!("{} does not exist", f.display());
                }
            }
            Some((cert, key))
        }
        other => bail!("unknown HTTPS choice {other:?}: answer 1, 2 or 3"),
    };
    Ok(a)
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// A JavaScript string literal.
fn js(s: &str) -> Result<String> {
    Ok(serde_json::to_string(s)?)
}

fn render(a: &Answers) -> Result<String> {
    let mut users = String::new();
    for (name, hash, perms) in &a.users {
        users.push_str(&format!(
            "            {{ username: {}, password: {}, permissions: {} }},\n",
            js(name)?,
            js(hash)?,
            js(perms)?
        ));
    }
    let https = match &a.https {
        Some((cert, key)) => format!(
            "    https: {{\n        key: require(\"fs\").readFileSync({}),\n        cert: require(\"fs\").readFileSync({}),\n    }},\n    requireHttps: true,\n",
            js(&key.to_string_lossy())?,
            js(&cert.to_string_lossy())?
        ),
        None => String::new(),
    };
    Ok(format!(
        "// Written by `redoubt admin init`. Node-RED reads this file too.\n\
module.exports = {{\n    uiPort: {port},\n    uiHost: {host},\n\n    // Passwords are bcrypt hashes: make more with `redoubt admin hash-pw`.\n    adminAuth: {{\n        type: \"credentials\",\n        users: [\n{users}        ],\n    }},\n\n{https}}};\n",
        port = a.port,
        host = js(&a.host)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_settings_load_and_verify() {
        let hash = redoubt_auth::password::hash("correct horse").expect("hash");
        let a = Answers {
            users: vec![("admin".into(), hash, "*")],
            port: 1881,
            host: "0.0.0.0".into(),
            https: Some(("/tmp/c.pem".into(), "/tmp/k \"x\".pem".into())),
        };
        let text = render(&a).expect("render");
        assert!(text.contains("requireHttps: true"));
        assert!(text.contains(r#"readFileSync("/tmp/k \"x\".pem")"#));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("settings.js");
        std::fs::write(
            &path,
            text.replace("require(\"fs\").readFileSync", "String"),
        )
        .expect("write");
        let s = crate::settings::load(&path, &[]).expect("loads");
        assert_eq!(s.ui_port, 1881);
        let auth = s.admin_auth.expect("adminAuth");
        let cfg = redoubt_auth::AdminAuthConfig::from_json(&auth).expect("valid adminAuth");
        assert!(cfg.credentials);
    }
}
