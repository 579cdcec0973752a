//! `redoubt admin gen-cert`: a self-signed certificate for a LAN deployment.

use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `gen-cert`.
#[derive(Debug, Args)]
pub(crate) struct GenCertArgs {
    /// DNS name the certificate is valid for (repeatable).
    #[arg(long = "host")]
    pub(crate) hosts: Vec<String>,
    /// IP address the certificate is valid for (repeatable).
    #[arg(long = "ip")]
    pub(crate) ips: Vec<String>,
    /// Output directory (default: certs/ in the user directory).
    #[arg(long = "out")]
    pub(crate) out: Option<PathBuf>,
    /// User directory (default: ~/.redoubt).
    #[arg(short = 'u', long = "userDir")]
    pub(crate) user_dir: Option<PathBuf>,
}

/// What [`generate_cert`] wrote.
#[derive(Debug)]
pub(crate) struct GeneratedCert {
    pub(crate) cert_path: PathBuf,
    pub(crate) key_path: PathBuf,
    /// SHA-256 of the DER certificate, as colon-separated upper-case hex.
    pub(crate) fingerprint: String,
}

/// Writes `cert.pem` and `key.pem` (0600) into `out`.
pub(crate) fn generate_cert(
    _hosts: &[String],
    _ips: &[String],
    _out: &std::path::Path,
) -> Result<GeneratedCert> {
    bail!("gen-cert: being built (issue 5)")
}

pub(crate) fn run(_args: GenCertArgs) -> Result<()> {
    bail!("gen-cert: being built (issue 5)")
}
