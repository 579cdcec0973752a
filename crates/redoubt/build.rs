//! Link layout of the release binary: the functions listed in
//! `link-order.txt` (the code redoubt runs to start, serve flows and deploy,
//! recorded by `bench/link-order.sh`) are placed first and together in
//! `.text`. Linux maps executable pages in 64 KiB blocks around every page
//! touched, so scattered start-up code kept most of the binary resident; kept
//! together it needs a fraction of that (BENCHMARKS.md, "Reading the numbers").
//!
//! Only release builds for `x86_64-unknown-linux-gnu` are linked this way,
//! the target whose default linker is rust-lld (since Rust 1.90), which
//! understands `--symbol-ordering-file`. Listed names that no longer exist
//! are ignored, so an outdated list changes the layout, never the program.
//! `REDOUBT_LINK_ORDER=0` turns it off (for another linker).
//!
//! The same builds pack their relative relocations (`-z pack-relative-relocs`,
//! DT_RELR) when the C library is glibc 2.36 or newer: the dynamic loader
//! reads the whole relocation table at start-up, 1.2 MB as RELA entries and a
//! few kilobytes as RELR. Older glibc cannot load such a binary, so the build
//! host's version decides (`getconf GNU_LIBC_VERSION`; unknown means off).

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=REDOUBT_LINK_ORDER");
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    let target_is_lld_default = env::var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu");
    let wanted = env::var("REDOUBT_LINK_ORDER").as_deref() != Ok("0");
    let Ok(dir) = env::var("CARGO_MANIFEST_DIR") else {
        return;
    };
    let list = Path::new(&dir).join("link-order.txt");
    if release && target_is_lld_default && wanted && list.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            list.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
        if glibc_at_least(2, 36) {
            println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        }
    }
}

/// Whether the build host's glibc is at least `major.minor`.
fn glibc_at_least(major: u32, minor: u32) -> bool {
    let Ok(out) = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    // "glibc 2.36"
    let Some(version) = text.trim().strip_prefix("glibc ") else {
        return false;
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        _ => false,
    }
}
