//! Evaluates a Node-RED `settings.js` in QuickJS and returns what it exports
//! as JSON, so redoubt can read the same settings file as Node-RED.
//!
//! The file runs as a CommonJS module, wrapped exactly like Node wraps it:
//! `(function (exports, require, module, __filename, __dirname) { … })`,
//! in sloppy mode with `this === module.exports`. The globals a settings.js
//! typically uses are provided: `process.env` (the real environment),
//! `process.platform`, `process.cwd()`, `console.*` (forwarded to `tracing`)
//! and `require` for `path`, `fs` (synchronous, text-only subset) and `os`.
//! Any other `require` throws an Error naming the module.
//!
//! A function-valued `https` setting is called once, as Node-RED does, and
//! its result (or the value its Promise resolves to) replaces it. Other
//! functions are returned as `{"__function__": "<source>"}` for the caller to
//! reject or honour; see `settings/convert.rs` for the full encoding.
//!
//! Every evaluation gets a fresh runtime with a heap limit and a deadline, so
//! a broken settings.js cannot hang or exhaust startup.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rquickjs::context::EvalOptions;
use rquickjs::function::This;
use rquickjs::{Context, Ctx, Function, Object, Runtime, Value};

use crate::settings::convert::{Converter, Introspect};
use crate::settings::error::{Failure, Stage};
use crate::settings::{PRELUDE_JS, PRELUDE_NAME, host};

pub use crate::settings::convert::{FUNCTION_KEY, MODULE_KEY, REGEXP_KEY};
pub use crate::settings::encoded::{Encoded, EncodedKind, decode, encoded_values};
pub use crate::settings::error::{JsException, JsLocation, SettingsJsError};

/// Text placed before line 1 of the file. It has no newline, so QuickJS line
/// numbers are the file's own; columns on line 1 are shifted by its length.
const WRAP_HEAD: &str = "(function (exports, require, module, __filename, __dirname) {";
/// Text placed after the file. The newline ends a trailing `//` comment.
const WRAP_TAIL: &str = "\n})";

/// Resource limits for one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsJsLimits {
    /// JavaScript heap limit in bytes.
    pub memory_bytes: usize,
    /// Wall-clock deadline for evaluating the file, calling `https` and
    /// converting the result.
    pub timeout: Duration,
}

impl Default for SettingsJsLimits {
    /// 64 MiB and 5 seconds: far above what any real settings.js needs.
    fn default() -> Self {
        Self {
            memory_bytes: 64 * 1024 * 1024,
            timeout: Duration::from_secs(5),
        }
    }
}

/// Reads and evaluates the settings file at `path` with default limits.
pub fn eval_settings_file(path: &Path) -> Result<serde_json::Value, SettingsJsError> {
    eval_settings_file_traced(path).map(|(value, _)| value)
}

/// [`eval_settings_file`], also returning the files the settings.js read
/// with `fs.readFileSync` (absolute, in order, without repeats), so a caller
/// can notice when, say, a certificate it loaded changes on disk.
pub fn eval_settings_file_traced(
    path: &Path,
) -> Result<(serde_json::Value, Vec<PathBuf>), SettingsJsError> {
    let source = std::fs::read_to_string(path).map_err(|source| SettingsJsError::Read {
        path: path.to_owned(),
        source,
    })?;
    let reads = host::FileReads::default();
    let value = eval_inner(&source, path, &SettingsJsLimits::default(), &reads)?;
    Ok((value, reads.take()))
}

/// Evaluates settings.js `src` as if it had been read from `filename`
/// (which sets `__filename`, `__dirname` and the file named in errors).
pub fn eval_settings_source(
    src: &str,
    filename: &Path,
) -> Result<serde_json::Value, SettingsJsError> {
    eval_settings_source_with(src, filename, &SettingsJsLimits::default())
}

/// [`eval_settings_source`] with explicit resource limits.
pub fn eval_settings_source_with(
    src: &str,
    filename: &Path,
    limits: &SettingsJsLimits,
) -> Result<serde_json::Value, SettingsJsError> {
    eval_inner(src, filename, limits, &host::FileReads::default())
}

fn eval_inner(
    src: &str,
    filename: &Path,
    limits: &SettingsJsLimits,
    reads: &host::FileReads,
) -> Result<serde_json::Value, SettingsJsError> {
    let file = std::path::absolute(filename).unwrap_or_else(|_| filename.to_owned());
    let deadline = Instant::now() + limits.timeout;
    let interrupted = Arc::new(AtomicBool::new(false));
    let mut failure = Failure {
        file: &file,
        interrupted: false,
        timeout: limits.timeout,
        limit_mib: limits.memory_bytes / (1024 * 1024),
        line1_offset: u32::try_from(WRAP_HEAD.len()).unwrap_or(0),
    };

    let runtime = Runtime::new().map_err(|e| failure.engine(e.to_string()))?;
    runtime.set_memory_limit(limits.memory_bytes);
    let flag = Arc::clone(&interrupted);
    runtime.set_interrupt_handler(Some(Box::new(move || {
        let late = Instant::now() >= deadline;
        if late {
            flag.store(true, Ordering::Relaxed);
        }
        late
    })));
    let context = Context::full(&runtime).map_err(|e| failure.engine(e.to_string()))?;

    context.with(|ctx| {
        let outcome = evaluate(&ctx, src, &file, deadline, reads);
        outcome.map_err(|(stage, err)| {
            failure.interrupted = interrupted.load(Ordering::Relaxed);
            match err {
                Failed::Js(e) => failure.js_error(&ctx, e, stage),
                Failed::Convert(e) => failure.convert_error(&ctx, e),
                Failed::Unsettled => failure.https("the Promise returned by `https` never settled"),
            }
        })
    })
}

/// Internal failure, before it is mapped to a [`SettingsJsError`].
enum Failed {
    Js(rquickjs::Error),
    Convert(crate::settings::convert::ConvertError),
    Unsettled,
}

type Staged<T> = Result<T, (Stage, Failed)>;

fn at(stage: Stage) -> impl Fn(rquickjs::Error) -> (Stage, Failed) {
    move |e| (stage, Failed::Js(e))
}

/// Runs prelude, file and `https`, then converts `module.exports`.
fn evaluate<'js>(
    ctx: &Ctx<'js>,
    src: &str,
    file: &Path,
    deadline: Instant,
    reads: &host::FileReads,
) -> Staged<serde_json::Value> {
    let setup = at(Stage::Setup);
    let host = host::build(ctx, reads).map_err(&setup)?;
    let prelude_fn: Function<'js> = ctx
        .eval_with_options(PRELUDE_JS, script_options(PRELUDE_NAME.to_owned(), true))
        .map_err(&setup)?;
    let prelude: Object<'js> = prelude_fn.call((host,)).map_err(&setup)?;
    let require: Function<'js> = prelude.get("require").map_err(&setup)?;
    let globals = ctx.globals();
    globals
        .set(
            "process",
            prelude.get::<_, Value<'js>>("process").map_err(&setup)?,
        )
        .map_err(&setup)?;
    globals
        .set(
            "console",
            prelude.get::<_, Value<'js>>("console").map_err(&setup)?,
        )
        .map_err(&setup)?;
    globals.set("global", globals.clone()).map_err(&setup)?;
    let introspect_obj: Object<'js> = prelude.get("introspect").map_err(&setup)?;
    let introspect = Introspect::from_object(&introspect_obj).map_err(&setup)?;

    let file_str = file.to_string_lossy().into_owned();
    let dir_str = file
        .parent()
        .map_or_else(|| String::from("/"), |d| d.to_string_lossy().into_owned());
    let wrapped = format!("{WRAP_HEAD}{}{WRAP_TAIL}", strip_preamble(src));
    let wrapper: Function<'js> = ctx
        .eval_with_options(wrapped, script_options(file_str.clone(), false))
        .map_err(at(Stage::Compile))?;

    let run = at(Stage::Run);
    let exports = Object::new(ctx.clone()).map_err(&run)?;
    let module = Object::new(ctx.clone()).map_err(&run)?;
    module.set("exports", exports.clone()).map_err(&run)?;
    module.set("id", ".").map_err(&run)?;
    module.set("filename", file_str.as_str()).map_err(&run)?;
    module.set("loaded", false).map_err(&run)?;
    wrapper
        .call::<_, Value<'js>>((
            This(exports.clone()),
            exports,
            require,
            module.clone(),
            file_str,
            dir_str,
        ))
        .map_err(&run)?;
    module.set("loaded", true).map_err(&run)?;
    let settings: Value<'js> = module.get("exports").map_err(&run)?;

    if let Some(obj) = settings.as_object() {
        resolve_https(obj)?;
    }
    Converter::new(&introspect, deadline)
        .convert(settings)
        .map_err(|e| (Stage::Run, Failed::Convert(e)))
}

/// Calls a function-valued `https` with `this` = the settings object and no
/// arguments, as Node-RED's red.js does, and stores its (awaited) result.
fn resolve_https<'js>(settings: &Object<'js>) -> Staged<()> {
    let call = at(Stage::Https);
    let https: Value<'js> = settings.get("https").map_err(&call)?;
    let Some(function) = https.as_function() else {
        return Ok(());
    };
    let result: Value<'js> = function.call((This(settings.clone()),)).map_err(&call)?;
    let resolved = match result.as_promise() {
        Some(promise) => match promise.finish::<Value<'js>>() {
            Err(rquickjs::Error::WouldBlock) => return Err((Stage::Https, Failed::Unsettled)),
            other => other.map_err(&call)?,
        },
        None => result,
    };
    settings.set("https", resolved).map_err(&call)
}

fn script_options(filename: String, strict: bool) -> EvalOptions {
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = strict;
    options.filename = Some(filename);
    options
}

/// Drops a UTF-8 BOM and blanks a `#!` line (keeping line numbers), as Node does.
fn strip_preamble(src: &str) -> std::borrow::Cow<'_, str> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    if src.starts_with("#!") {
        std::borrow::Cow::Owned(format!("//{src}"))
    } else {
        std::borrow::Cow::Borrowed(src)
    }
}
