//! The Rust half of the settings.js prelude: one `host` object handed to
//! `prelude.js`, carrying environment variables, the working directory, OS
//! facts and the few synchronous file operations a settings.js may use
//! (`readFile`, `exists`, `stat`, `mkdir`), a `log` sink for `console.*`,
//! and `shim`, which compiles a requirable module (`shims/*.js`) on first use.
//!
//! File errors are thrown as JS `Error`s shaped like Node's (`code`, `syscall`,
//! `path`, message `ENOENT: no such file or directory, open '…'`) so that a
//! settings.js doing `try { fs.readFileSync(..) } catch (e) { … }` behaves as
//! under Node. The object only lives for one settings evaluation.

use parking_lot::Mutex;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rquickjs::context::EvalOptions;
use rquickjs::{Ctx, Exception, Function, Object, Result as JsResult};

/// `tracing` target used for `console.*` output of a settings.js.
const LOG_TARGET: &str = "redoubt::settings_js";

/// The files a settings.js read, shared between the `readFile` host
/// function and the caller of the evaluation.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileReads(Arc<Mutex<Vec<PathBuf>>>);

impl FileReads {
    fn record(&self, path: &str) {
        let path = std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path));
        let mut files = self.0.lock();
        if !files.contains(&path) {
            files.push(path);
        }
    }

    /// The recorded paths.
    pub(crate) fn take(&self) -> Vec<PathBuf> {
        std::mem::take(&mut *self.0.lock())
    }
}

/// The modules a settings.js can require, each a JS function expression
/// taking the host object (and the prelude's argument check). They are
/// compiled on the first `require`, not with the prelude: most settings
/// files require none of them, and parsing them was most of the prelude's
/// cost at every start.
const SHIMS: [(&str, &str); 3] = [
    ("path", include_str!("shims/path.js")),
    ("fs", include_str!("shims/fs.js")),
    ("os", include_str!("shims/os.js")),
];

/// `host.shim(name)`: compiles the module `name` of [`SHIMS`] and returns
/// its function (the prelude's `require` calls it once per module).
fn shim<'js>(ctx: Ctx<'js>, name: String) -> JsResult<Function<'js>> {
    let Some((_, src)) = SHIMS.iter().find(|(n, _)| *n == name) else {
        return Err(Exception::throw_message(
            &ctx,
            &format!("no settings.js module '{name}'"),
        ));
    };
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = true;
    options.filename = Some(format!("<redoubt settings prelude: {name}>"));
    ctx.eval_with_options(*src, options)
}

/// Builds the `host` object that `prelude.js` receives; `readFile` records
/// each path it reads into `reads`.
pub(crate) fn build<'js>(ctx: &Ctx<'js>, reads: &FileReads) -> JsResult<Object<'js>> {
    let host = Object::new(ctx.clone())?;
    host.set("platform", node_platform())?;
    host.set("osType", os_type())?;
    host.set("arch", node_arch())?;
    host.set("eol", if cfg!(windows) { "\r\n" } else { "\n" })?;

    host.set(
        "env",
        Function::new(ctx.clone(), |ctx: Ctx<'js>| -> JsResult<Object<'js>> {
            let env = Object::new(ctx)?;
            for (key, value) in std::env::vars_os() {
                if let (Some(key), Some(value)) = (key.to_str(), value.to_str()) {
                    env.set(key, value)?;
                }
            }
            Ok(env)
        })?,
    )?;
    host.set("cwd", Function::new(ctx.clone(), cwd)?)?;
    host.set("hostname", Function::new(ctx.clone(), hostname)?)?;
    host.set("homedir", Function::new(ctx.clone(), homedir)?)?;
    host.set("tmpdir", Function::new(ctx.clone(), tmpdir)?)?;
    host.set("log", Function::new(ctx.clone(), log)?)?;
    host.set("shim", Function::new(ctx.clone(), shim)?)?;

    let reads = reads.clone();
    host.set(
        "readFile",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, path: String| -> JsResult<String> {
                reads.record(&path);
                let bytes = std::fs::read(&path).map_err(|e| throw_io(&ctx, &e, "open", &path))?;
                String::from_utf8(bytes).map_err(|_| {
                    Exception::throw_message(
                        &ctx,
                        &format!(
                            "fs.readFileSync: '{path}' is not UTF-8 text; \
                         redoubt settings.js can only read text files"
                        ),
                    )
                })
            },
        )?,
    )?;
    host.set(
        "exists",
        Function::new(ctx.clone(), |path: String| Path::new(&path).exists())?,
    )?;
    host.set(
        "stat",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, path: String| -> JsResult<Object<'js>> {
                let meta =
                    std::fs::metadata(&path).map_err(|e| throw_io(&ctx, &e, "stat", &path))?;
                let stat = Object::new(ctx)?;
                // f64 is what JS numbers are; sizes above 2^53 bytes do not occur.
                stat.set("size", meta.len() as f64)?;
                stat.set("mode", file_mode(&meta))?;
                stat.set("mtimeMs", mtime_ms(&meta))?;
                stat.set("isFile", meta.is_file())?;
                stat.set("isDirectory", meta.is_dir())?;
                Ok(stat)
            },
        )?,
    )?;
    host.set(
        "mkdir",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, path: String, recursive: bool| -> JsResult<()> {
                let made = if recursive {
                    std::fs::create_dir_all(&path)
                } else {
                    std::fs::create_dir(&path)
                };
                made.map_err(|e| throw_io(&ctx, &e, "mkdir", &path))
            },
        )?,
    )?;
    Ok(host)
}

/// Throws a Node-style file-system error (`code`, `syscall`, `path`).
fn throw_io(ctx: &Ctx<'_>, err: &io::Error, syscall: &str, path: &str) -> rquickjs::Error {
    let (code, description) = errno_of(err);
    let message = format!("{code}: {description}, {syscall} '{path}'");
    match Exception::from_message(ctx.clone(), &message) {
        Ok(exception) => {
            let obj = exception.as_object();
            for (key, value) in [("code", code), ("syscall", syscall), ("path", path)] {
                if let Err(e) = obj.set(key, value) {
                    return e;
                }
            }
            exception.throw()
        }
        Err(e) => e,
    }
}

/// Node's error code and description for the common I/O failures.
fn errno_of(err: &io::Error) -> (&'static str, String) {
    use io::ErrorKind as K;
    let known = match err.kind() {
        K::NotFound => Some(("ENOENT", "no such file or directory")),
        K::PermissionDenied => Some(("EACCES", "permission denied")),
        K::AlreadyExists => Some(("EEXIST", "file already exists")),
        K::IsADirectory => Some(("EISDIR", "illegal operation on a directory")),
        K::NotADirectory => Some(("ENOTDIR", "not a directory")),
        _ => None,
    };
    match known {
        Some((code, text)) => (code, text.to_owned()),
        None => ("EIO", err.to_string()),
    }
}

fn cwd() -> String {
    std::env::current_dir()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| String::from("/"))
}

/// `os.hostname()`: the kernel's host name, as Node reports it.
fn hostname() -> String {
    for file in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(text) = std::fs::read_to_string(file) {
            let name = text.trim();
            if !name.is_empty() {
                return name.to_owned();
            }
        }
    }
    ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| String::from("localhost"))
}

/// `os.homedir()`: `$HOME` (or `%USERPROFILE%`), as Node does first.
fn homedir() -> String {
    ["HOME", "USERPROFILE"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| String::from("/"))
}

/// `os.tmpdir()`: `TMPDIR`, `TMP`, `TEMP`, else `/tmp`, without a trailing slash.
fn tmpdir() -> String {
    let dir = ["TMPDIR", "TMP", "TEMP"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| String::from("/tmp"));
    match dir.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped.to_owned(),
        _ => dir,
    }
}

/// Forwards `console.<level>(…)` from settings.js to `tracing`.
fn log(level: String, message: String) {
    match level.as_str() {
        "error" => tracing::error!(target: LOG_TARGET, "settings.js: {message}"),
        "warn" => tracing::warn!(target: LOG_TARGET, "settings.js: {message}"),
        "debug" => tracing::debug!(target: LOG_TARGET, "settings.js: {message}"),
        "trace" => tracing::trace!(target: LOG_TARGET, "settings.js: {message}"),
        _ => tracing::info!(target: LOG_TARGET, "settings.js: {message}"),
    }
}

/// `process.platform` spelling of the current OS.
fn node_platform() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    }
}

/// `os.type()` spelling of the current OS.
fn os_type() -> &'static str {
    match std::env::consts::OS {
        "linux" | "android" => "Linux",
        "macos" => "Darwin",
        "windows" => "Windows_NT",
        "freebsd" => "FreeBSD",
        "openbsd" => "OpenBSD",
        other => other,
    }
}

/// `process.arch` spelling of the current CPU architecture.
fn node_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        "x86" => "ia32",
        other => other,
    }
}

#[cfg(unix)]
fn file_mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode()
}

#[cfg(not(unix))]
fn file_mode(_meta: &std::fs::Metadata) -> u32 {
    0
}

fn mtime_ms(meta: &std::fs::Metadata) -> f64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
