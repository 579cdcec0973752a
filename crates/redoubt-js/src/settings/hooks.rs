//! [`SettingsHooks`]: a settings.js kept alive on its own thread, so the
//! functions it defines (`adminAuth.users`, `adminAuth.authenticate`,
//! `adminAuth.tokens`, `adminAuth.default`, `https`, …) can be called for
//! the life of the process in the context that evaluated the file, with
//! their closures over its top-level variables and `require`d modules.
//!
//! The file is evaluated once, exactly as [`crate::eval_settings_file`] does
//! (same session code, limits and errors). The thread then serves calls one
//! at a time from a channel; each call runs under its own deadline and the
//! runtime's heap limit. The thread ends when the last handle is dropped.
//!
//! Arguments may be secrets (passwords, tokens): they are never logged and
//! never part of an error; errors carry the key and the text the user's code
//! threw.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use super::call::Caller;
use super::encoded::{EncodedKind, encoded_values};
use super::error::SettingsJsError;
use super::session::{Evaluated, Session};
use crate::settings_js::{SettingsJsLimits, read_settings};

/// Deadline of one hook call when none is given: 5 seconds.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Stack of the settings thread; QuickJS itself stops recursion at 1 MiB.
const THREAD_STACK: usize = 4 * 1024 * 1024;

/// Why a call into settings.js failed. No variant holds the call's
/// arguments.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// Nothing callable is at `key` in the evaluated `module.exports`.
    #[error("settings.js `{key}` is not a function")]
    NotAFunction {
        /// The dotted key, such as `adminAuth.users`.
        key: String,
    },
    /// The function threw.
    #[error("settings.js `{key}` threw {message}")]
    Threw {
        /// The dotted key.
        key: String,
        /// The thrown error's name and message, and where it was thrown.
        message: String,
    },
    /// The Promise the function returned was rejected.
    #[error("settings.js `{key}` rejected with {message}")]
    Rejected {
        /// The dotted key.
        key: String,
        /// The rejection reason's name and message, and where it was made.
        message: String,
    },
    /// The function (or its Promise) did not finish before the deadline.
    #[error("settings.js `{key}` did not finish within {after:?}")]
    Timeout {
        /// The dotted key.
        key: String,
        /// The per-call deadline that passed.
        after: Duration,
    },
    /// The returned Promise can never settle: nothing is left to run.
    #[error("the Promise returned by settings.js `{key}` never settled")]
    Unsettled {
        /// The dotted key.
        key: String,
    },
    /// The call exceeded the JavaScript heap limit.
    #[error("settings.js `{key}` exceeded the {limit_mib} MiB JavaScript memory limit")]
    OutOfMemory {
        /// The dotted key.
        key: String,
        /// The limit, in MiB.
        limit_mib: usize,
    },
    /// The returned value cannot be represented as JSON.
    #[error("settings.js `{key}` returned a value whose `{path}` {reason}")]
    Unconvertible {
        /// The dotted key.
        key: String,
        /// Property path inside the result (`module.exports` for the result itself).
        path: String,
        /// What is wrong with the value there.
        reason: String,
    },
    /// The JavaScript engine itself failed.
    #[error("JavaScript engine error while calling settings.js `{key}`: {message}")]
    Engine {
        /// The dotted key.
        key: String,
        /// The engine's description.
        message: String,
    },
    /// The settings thread is gone (it panicked).
    #[error("the settings.js thread has stopped")]
    Stopped,
}

/// One call for the settings thread.
struct Request {
    key: String,
    args: Vec<serde_json::Value>,
    reply: oneshot::Sender<Result<serde_json::Value, HookError>>,
}

/// What the thread reports once the file is evaluated.
type Loaded = Result<(serde_json::Value, BTreeSet<String>, Vec<PathBuf>), SettingsJsError>;

/// settings.js kept alive on its own thread so its functions can be called
/// later. Cheap to clone; the thread stops when the last clone is dropped
/// (after finishing the call it is running, if any).
#[derive(Clone)]
pub struct SettingsHooks {
    inner: Arc<Inner>,
}

struct Inner {
    requests: mpsc::Sender<Request>,
    /// Keys that held a function when the file was evaluated.
    functions: BTreeSet<String>,
    /// The files the evaluation read with `fs.readFileSync`.
    files: Vec<PathBuf>,
    /// The settings thread; dropping the handle detaches it.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "kept for the thread's lifetime; tests join it")
    )]
    thread: parking_lot::Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for SettingsHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsHooks")
            .field("functions", &self.inner.functions)
            .finish_non_exhaustive()
    }
}

impl SettingsHooks {
    /// Evaluates the settings file at `path` once, with the same wrapping,
    /// shims, limits and errors as [`crate::eval_settings_file`], and returns
    /// the same JSON together with a handle that keeps `module.exports`
    /// alive. Calls get [`DEFAULT_CALL_TIMEOUT`] each.
    pub fn load(path: &Path) -> Result<(serde_json::Value, SettingsHooks), SettingsJsError> {
        SettingsHooks::load_with(path, &SettingsJsLimits::default(), DEFAULT_CALL_TIMEOUT)
    }

    /// [`SettingsHooks::load`] with explicit limits for the evaluation and
    /// the heap, and a deadline for each later call.
    pub fn load_with(
        path: &Path,
        limits: &SettingsJsLimits,
        call_timeout: Duration,
    ) -> Result<(serde_json::Value, SettingsHooks), SettingsJsError> {
        let src = read_settings(path)?;
        let (loaded_tx, loaded_rx) = mpsc::sync_channel::<Loaded>(1);
        let (requests, requests_rx) = mpsc::channel::<Request>();
        let file = path.to_owned();
        let limits = limits.clone();
        let thread = std::thread::Builder::new()
            .name(String::from("settings-js"))
            .stack_size(THREAD_STACK)
            .spawn(move || serve(&src, &file, &limits, call_timeout, &loaded_tx, &requests_rx))
            .map_err(|e| stopped(path, &e.to_string()))?;
        let (json, functions, files) = loaded_rx
            .recv()
            .map_err(|_| stopped(path, "the settings.js thread stopped while evaluating"))??;
        let hooks = SettingsHooks {
            inner: Arc::new(Inner {
                requests,
                functions,
                files,
                thread: parking_lot::Mutex::new(Some(thread)),
            }),
        };
        Ok((json, hooks))
    }

    /// Calls the function at dotted `key` (such as `adminAuth.users`) with
    /// `this` = its parent object and `args` converted from JSON, awaits a
    /// returned Promise and converts the result to JSON (`undefined` is
    /// `null`). Calls are served one at a time, each under the call deadline.
    pub async fn call(
        &self,
        key: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<serde_json::Value, HookError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            key: key.to_owned(),
            args,
            reply,
        };
        self.inner
            .requests
            .send(request)
            .map_err(|_| HookError::Stopped)?;
        answer.await.map_err(|_| HookError::Stopped)?
    }

    /// The files the evaluation read with `fs.readFileSync` (absolute, in
    /// order, no repeats): certificate files to watch, typically.
    pub fn files_read(&self) -> &[PathBuf] {
        &self.inner.files
    }

    /// Whether `key` held a function when the file was evaluated. Keys are
    /// dotted property paths (`adminAuth.users`), `[n]` for array slots.
    pub fn is_function(&self, key: &str) -> bool {
        self.inner.functions.contains(key)
    }

    /// The settings thread, for tests that watch it stop.
    #[cfg(test)]
    fn take_thread(&self) -> Option<JoinHandle<()>> {
        self.inner.thread.lock().take()
    }
}

fn stopped(path: &Path, message: &str) -> SettingsJsError {
    SettingsJsError::Engine {
        file: PathBuf::from(path),
        message: message.to_owned(),
    }
}

/// The settings thread: evaluates the file, reports the outcome, then
/// serves calls until every handle is gone.
fn serve(
    src: &str,
    file: &Path,
    limits: &SettingsJsLimits,
    call_timeout: Duration,
    loaded: &mpsc::SyncSender<Loaded>,
    requests: &mpsc::Receiver<Request>,
) {
    let session = match Session::new(file, limits) {
        Ok(session) => session,
        Err(e) => {
            let _ = loaded.send(Err(e));
            return;
        }
    };
    session.evaluate(src, |ctx, outcome| {
        let Evaluated {
            settings,
            json,
            https_function,
            introspect,
        } = match outcome {
            Ok(evaluated) => evaluated,
            Err(e) => {
                let _ = loaded.send(Err(e));
                return;
            }
        };
        let functions = function_keys(&json, https_function);
        if loaded
            .send(Ok((json, functions, session.files_read())))
            .is_err()
        {
            return;
        }
        let caller = Caller::new(&session, settings, introspect, call_timeout);
        while let Ok(request) = requests.recv() {
            let outcome = caller.call(ctx, &request.key, request.args);
            // The caller may have stopped waiting; the call still happened.
            let _ = request.reply.send(outcome);
        }
    });
}

/// The keys of the functions in the evaluated settings: every encoded
/// function in `json`, plus `https` when it was a function (`json` holds its
/// result instead, so nothing inside that result is a key).
fn function_keys(json: &serde_json::Value, https_function: bool) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = json
        .as_object()
        .map(|map| {
            encoded_values(map)
                .into_iter()
                .filter(|e| e.kind == EncodedKind::Function)
                .filter(|e| !(https_function && is_under(&e.path, "https")))
                .map(|e| e.path)
                .collect()
        })
        .unwrap_or_default();
    if https_function {
        keys.insert(String::from("https"));
    }
    keys
}

/// Whether property path `path` is `root` or inside it.
fn is_under(path: &str, root: &str) -> bool {
    path.strip_prefix(root)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

#[cfg(test)]
#[path = "hooks_tests.rs"]
mod tests;
