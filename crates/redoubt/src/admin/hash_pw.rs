//! `redoubt admin hash-pw`: reads a password (without echo on a terminal,
//! or one line from piped stdin) and prints its bcrypt hash (`$2b$`, cost
//! 10), usable in `adminAuth`, `httpNodeAuth` and `httpStaticAuth`, by
//! redoubt and by Node-RED alike.

use super::prompt::Prompter;
use anyhow::{Result, bail};
use clap::Args;

/// Arguments of `hash-pw`.
#[derive(Debug, Args)]
pub(crate) struct HashPwArgs {}

pub(crate) fn run(_args: HashPwArgs) -> Result<()> {
    let password = Prompter::new().password("Password")?;
    if password.is_empty() {
        bail!("empty password: nothing to hash");
    }
    println!("{}", redoubt_auth::password::hash(&password)?);
    Ok(())
}
