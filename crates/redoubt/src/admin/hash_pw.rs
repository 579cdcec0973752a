//! `redoubt admin hash-pw`: a bcrypt hash that Node-RED accepts too.

use anyhow::{Result, bail};
use clap::Args;

/// Arguments of `hash-pw`.
#[derive(Debug, Args)]
pub(crate) struct HashPwArgs {}

pub(crate) fn run(_args: HashPwArgs) -> Result<()> {
    bail!("hash-pw: being built (issue 4)")
}
