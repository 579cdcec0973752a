//! `redoubt admin init`: the interactive setup wizard.

use anyhow::{Result, bail};
use clap::Args;

/// Arguments of `init`.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {}

pub(crate) fn run(_args: InitArgs) -> Result<()> {
    bail!("init: being built (issue 4)")
}
