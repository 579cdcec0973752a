//! The `redoubt` binary: parses the command line, sets up logging and the
//! async runtime, and runs [`app::run`]. `anyhow` lives here and nowhere else.

mod admin;
mod app;
mod cli;
mod credential_secret;
mod listen;
mod security;
mod settings;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = cli::Args::parse();
    if let Some(cli::Command::Admin { command }) = args.command.take() {
        return match admin::run(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let default_level = if args.verbose { "debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("REDOUBT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let rt = match runtime_builder().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(app::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The async runtime. With one worker (the default on one or two cores,
/// see [`default_worker_threads`]) it is tokio's current-thread scheduler
/// on the main thread, which `block_on` drives: the same one thread runs
/// every task, as the single worker did, without a second thread, its
/// malloc arena and the hand-overs between them. `TOKIO_WORKER_THREADS`
/// asks for the multi-thread scheduler with that many workers.
///
/// Nothing in the process blocks an async task while waiting for another
/// (blocking work goes to the blocking pool: scripts, file writes, password
/// hashing), so one thread for all tasks cannot deadlock. Measured on 2
/// cores against one multi-thread worker (bench/HISTORY.md, item 38): json +
/// template +12 % req/s with half the p99, http-change +5 %, the chain
/// +1-12 %, peak RSS under the function load 0.35 MiB less.
fn runtime_builder() -> tokio::runtime::Builder {
    if std::env::var_os("TOKIO_WORKER_THREADS").is_some() {
        return tokio::runtime::Builder::new_multi_thread();
    }
    match default_worker_threads() {
        1 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
    }
}

/// Async worker threads unless `TOKIO_WORKER_THREADS` says otherwise: one
/// fewer than the cores, at least one. The flow engine is one task, so more
/// workers mostly add wake-ups between threads; the core left over runs
/// function-node scripts (the blocking pool), file writes and the kernel's
/// network work. Measured on 2 cores under `wrk -t2 -c50` (bench/HISTORY.md, item 7):
/// one worker instead of two kept the same req/s, cut p99 latency from
/// about 3 ms to 1.5-2.3 ms and peak RSS by about 1 MiB.
fn default_worker_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    cores.saturating_sub(1).max(1)
}
