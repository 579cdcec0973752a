//! The "storage" palette category: file (write), file in (read), watch.
//! Paths go through [`paths::FileRoot`] (`fileWorkingDirectory` and the
//! opt-in `fileRestrictToWorkingDirectory`).

mod encoding;
mod file_in;
mod file_out;
mod filename;
pub(crate) mod paths;
#[cfg(test)]
mod tests;
mod watch;

use redoubt_core::node::Registry;

pub(crate) fn register(reg: &mut Registry) {
    reg.register(file_out::FileOutType);
    reg.register(file_in::FileInType);
    reg.register(watch::WatchType);
}
