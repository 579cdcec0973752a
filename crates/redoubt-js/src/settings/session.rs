//! One settings.js engine: a QuickJS runtime with the heap limit and a
//! re-armable deadline ([`Clock`]), and the evaluation of the file in it
//! (prelude, CommonJS wrapper, `https`, conversion to JSON). Both the
//! one-shot [`crate::settings_js`] API and the long-lived
//! [`crate::SettingsHooks`] thread evaluate through [`Session::evaluate`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rquickjs::context::EvalOptions;
use rquickjs::function::This;
use rquickjs::{Context, Ctx, Function, Object, Runtime, Value};

use super::convert::{Converter, Introspect};
use super::error::{Failure, SettingsJsError, Stage};
use super::{PRELUDE_JS, PRELUDE_NAME, host};
use crate::settings_js::SettingsJsLimits;

/// Text placed before line 1 of the file. It has no newline, so QuickJS line
/// numbers are the file's own; columns on line 1 are shifted by its length.
const WRAP_HEAD: &str = "(function (exports, require, module, __filename, __dirname) {";
/// Text placed after the file. The newline ends a trailing `//` comment.
const WRAP_TAIL: &str = "\n})";

/// The interrupt handler's view of the current deadline.
pub(crate) struct Clock {
    base: Instant,
    /// Nanoseconds after `base`; `u64::MAX` when disarmed.
    deadline: AtomicU64,
    /// The handler interrupted the script since the last [`Clock::arm`].
    fired: AtomicBool,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            base: Instant::now(),
            deadline: AtomicU64::new(u64::MAX),
            fired: AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Starts a deadline `limit` from now and returns it as an [`Instant`].
    pub(crate) fn arm(&self, limit: Duration) -> Instant {
        self.fired.store(false, Ordering::Relaxed);
        let nanos = u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX);
        self.deadline
            .store(self.now().saturating_add(nanos), Ordering::Relaxed);
        Instant::now() + limit
    }

    /// Stops the deadline (JS may run unbounded only while nothing runs).
    pub(crate) fn disarm(&self) {
        self.deadline.store(u64::MAX, Ordering::Relaxed);
    }

    /// Whether the deadline interrupted JS since the last [`Clock::arm`].
    pub(crate) fn fired(&self) -> bool {
        self.fired.load(Ordering::Relaxed)
    }

    fn interrupt(&self) -> bool {
        let at = self.deadline.load(Ordering::Relaxed);
        if at != u64::MAX && self.now() >= at {
            self.fired.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }
}

/// A runtime and context set up for one settings file.
pub(crate) struct Session {
    context: Context,
    clock: Arc<Clock>,
    file: PathBuf,
    limits: SettingsJsLimits,
    /// The files the settings.js read with `fs.readFileSync`.
    reads: host::FileReads,
}

/// A successfully evaluated settings file, still inside its context.
pub(crate) struct Evaluated<'js> {
    /// `module.exports` as the file left it (a function-valued `https` is
    /// still the function).
    pub(crate) settings: Value<'js>,
    /// What [`crate::eval_settings_file`] returns (`https` resolved).
    pub(crate) json: serde_json::Value,
    /// Whether `https` was a function (and was called for `json`).
    pub(crate) https_function: bool,
    /// The prelude's pristine builtins, for converting later values.
    pub(crate) introspect: Introspect<'js>,
}

impl Session {
    /// Builds the runtime with `limits` for the settings file `filename`.
    pub(crate) fn new(
        filename: &Path,
        limits: &SettingsJsLimits,
    ) -> Result<Session, SettingsJsError> {
        let file = std::path::absolute(filename).unwrap_or_else(|_| filename.to_owned());
        let clock = Arc::new(Clock::new());
        let engine = |e: rquickjs::Error| SettingsJsError::Engine {
            file: file.clone(),
            message: e.to_string(),
        };
        let runtime = Runtime::new().map_err(engine)?;
        runtime.set_memory_limit(limits.memory_bytes);
        let handler = Arc::clone(&clock);
        runtime.set_interrupt_handler(Some(Box::new(move || handler.interrupt())));
        let context = Context::full(&runtime).map_err(engine)?;
        Ok(Session {
            context,
            clock,
            file,
            limits: limits.clone(),
            reads: host::FileReads::default(),
        })
    }

    /// The files the evaluation read (absolute, in order, no repeats).
    pub(crate) fn files_read(&self) -> Vec<PathBuf> {
        self.reads.take()
    }

    /// The deadline shared with the interrupt handler.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Error-building facts for a step bounded by `timeout`.
    pub(crate) fn failure(&self, timeout: Duration) -> Failure<'_> {
        Failure {
            file: &self.file,
            interrupted: self.clock.fired(),
            timeout,
            limit_mib: self.limits.memory_bytes / (1024 * 1024),
            line1_offset: u32::try_from(WRAP_HEAD.len()).unwrap_or(0),
        }
    }

    /// Evaluates `src` under the evaluation deadline and hands the outcome,
    /// still inside the context, to `then` (which runs with no deadline).
    pub(crate) fn evaluate<R>(
        &self,
        src: &str,
        then: impl for<'js> FnOnce(&Ctx<'js>, Result<Evaluated<'js>, SettingsJsError>) -> R,
    ) -> R {
        let timeout = self.limits.timeout;
        let deadline = self.clock.arm(timeout);
        self.context.with(|ctx| {
            let outcome =
                evaluate(&ctx, src, &self.file, deadline, &self.reads).map_err(|(stage, err)| {
                    let failure = self.failure(timeout);
                    match err {
                        Failed::Js(e) => failure.js_error(&ctx, e, stage),
                        Failed::Convert(e) => failure.convert_error(&ctx, e),
                        Failed::Unsettled => {
                            failure.https("the Promise returned by `https` never settled")
                        }
                    }
                });
            self.clock.disarm();
            then(&ctx, outcome)
        })
    }
}

/// Internal failure, before it is mapped to a [`SettingsJsError`].
enum Failed {
    Js(rquickjs::Error),
    Convert(super::convert::ConvertError),
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
) -> Staged<Evaluated<'js>> {
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

    let https = match settings.as_object() {
        Some(obj) => resolve_https(obj)?,
        None => None,
    };
    let json = Converter::new(&introspect, deadline)
        .convert(settings.clone())
        .map_err(|e| (Stage::Run, Failed::Convert(e)))?;
    if let (Some(obj), Some(function)) = (settings.as_object(), &https) {
        // Keep the function itself for later calls (httpsRefreshInterval).
        obj.set("https", function.clone())
            .map_err(at(Stage::Https))?;
    }
    Ok(Evaluated {
        settings,
        json,
        https_function: https.is_some(),
        introspect,
    })
}

/// Calls a function-valued `https` with `this` = the settings object and no
/// arguments, as Node-RED's red.js does, and stores its (awaited) result in
/// its place for the conversion. Returns the function, if it was one.
fn resolve_https<'js>(settings: &Object<'js>) -> Staged<Option<Function<'js>>> {
    let call = at(Stage::Https);
    let https: Value<'js> = settings.get("https").map_err(&call)?;
    let Some(function) = https.into_function() else {
        return Ok(None);
    };
    let result: Value<'js> = function.call((This(settings.clone()),)).map_err(&call)?;
    let resolved = match result.as_promise() {
        Some(promise) => match promise.finish::<Value<'js>>() {
            Err(rquickjs::Error::WouldBlock) => return Err((Stage::Https, Failed::Unsettled)),
            other => other.map_err(&call)?,
        },
        None => result,
    };
    settings.set("https", resolved).map_err(&call)?;
    Ok(Some(function))
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
