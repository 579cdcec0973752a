//! `redoubt admin …`: the administration commands that run without starting
//! the runtime (password hashing, the setup wizard, certificates, credential
//! secret rotation). Each command lives in its own file.

mod gen_cert;
mod hash_pw;
mod init;
mod prompt;
mod rotate_secret;

pub(crate) use gen_cert::{GenCertArgs, generate_cert};

use anyhow::Result;
use clap::Subcommand;

/// The `admin` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Print a bcrypt hash of a password (for adminAuth and httpNodeAuth).
    /// Reads the password without echo, or from stdin when piped.
    HashPw(hash_pw::HashPwArgs),
    /// Interactive setup: writes a settings.js with an admin user, port,
    /// host and optionally HTTPS.
    Init(init::InitArgs),
    /// Write a self-signed certificate and key for HTTPS.
    GenCert(GenCertArgs),
    /// Re-encrypt flows_cred.json under a new credential secret.
    RotateCredentialSecret(rotate_secret::RotateArgs),
}

/// The user directory: `-u DIR`, else `~/.redoubt` (as the runtime picks it).
pub(crate) fn user_dir(arg: Option<&std::path::Path>) -> Result<std::path::PathBuf> {
    if let Some(d) = arg {
        return Ok(d.to_path_buf());
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| std::path::PathBuf::from(h).join(".redoubt"))
        .ok_or_else(|| anyhow::anyhow!("no user directory: pass -u DIR or set HOME"))
}

/// Runs one admin command.
pub(crate) fn run(cmd: AdminCommand) -> Result<()> {
    match cmd {
        AdminCommand::HashPw(a) => hash_pw::run(a),
        AdminCommand::Init(a) => init::run(a),
        AdminCommand::GenCert(a) => gen_cert::run(a),
        AdminCommand::RotateCredentialSecret(a) => rotate_secret::run(a),
    }
}
