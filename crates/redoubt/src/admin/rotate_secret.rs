//! `redoubt admin rotate-credential-secret`: re-encrypts flows_cred.json.

use anyhow::{Result, bail};
use clap::Args;

/// Arguments of `rotate-credential-secret`.
#[derive(Debug, Args)]
pub(crate) struct RotateArgs {}

pub(crate) fn run(_args: RotateArgs) -> Result<()> {
    bail!("rotate-credential-secret: being built (issue 5)")
}
