//! Errors of settings.js evaluation ([`SettingsJsError`]) and the mapping from
//! an rquickjs failure (exception, thrown value, engine error) to them, with
//! the file, line and column recovered from the QuickJS stack trace.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rquickjs::{CaughtError, Coerced, Ctx};

use super::convert::ConvertError;

/// A place in the settings file. Line and column are 1-based and absent when
/// QuickJS did not report them (for example for `throw "a string"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsLocation {
    /// The settings file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// 1-based column, when known.
    pub column: Option<u32>,
}

impl fmt::Display for JsLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// A JavaScript exception raised while evaluating the settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsException {
    /// Where it was raised, as precisely as QuickJS told us.
    pub location: JsLocation,
    /// The error's `name` (`SyntaxError`, `TypeError`, …), or `thrown value`
    /// when something that is not an Error object was thrown.
    pub name: String,
    /// The error's `message`.
    pub message: String,
    /// The QuickJS stack trace, when there is one.
    pub stack: Option<String>,
}

impl fmt::Display for JsException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.name, self.message)
    }
}

/// Why a settings.js could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum SettingsJsError {
    /// The file could not be read.
    #[error("cannot read settings file {}: {source}", path.display())]
    Read {
        /// The settings file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JavaScript.
    #[error("syntax error in settings file {0}")]
    Syntax(JsException),
    /// Evaluating the file threw (including a disallowed `require`).
    #[error("settings file threw {0}")]
    Exception(JsException),
    /// The function-valued `https` setting threw or rejected, or its Promise
    /// never settled.
    #[error("the `https` function of the settings file failed: {0}")]
    Https(JsException),
    /// Evaluation ran past its deadline (for example an endless loop).
    #[error("settings file {} did not finish within {timeout:?}", file.display())]
    Timeout {
        /// The settings file.
        file: PathBuf,
        /// The time limit that passed.
        timeout: Duration,
    },
    /// Evaluation exceeded the JavaScript heap limit. QuickJS signals this by
    /// throwing `null` when it cannot allocate an error, so a literal
    /// `throw null` in a settings.js is reported the same way.
    #[error("settings file {} exceeded the {limit_mib} MiB JavaScript memory limit", file.display())]
    OutOfMemory {
        /// The settings file.
        file: PathBuf,
        /// The limit, in MiB.
        limit_mib: usize,
    },
    /// The exported settings hold a value that cannot be represented.
    #[error("settings file {}: `{key_path}` {reason}", file.display())]
    Unconvertible {
        /// The settings file.
        file: PathBuf,
        /// Property path, such as `functionGlobalContext.a[0]`.
        key_path: String,
        /// What is wrong with the value there.
        reason: String,
    },
    /// The JavaScript engine itself failed.
    #[error("JavaScript engine error while evaluating {}: {message}", file.display())]
    Engine {
        /// The settings file.
        file: PathBuf,
        /// The engine's description.
        message: String,
    },
}

/// What was running when a JS failure happened; picks the error variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Setting up the runtime and the prelude (a failure is a bug or OOM).
    Setup,
    /// Compiling the wrapped settings file.
    Compile,
    /// Running the settings file.
    Run,
    /// Calling the `https` function and settling its Promise.
    Https,
}

/// The `name` of a [`JsException`] for a thrown value that is not an Error.
pub(crate) const THROWN_VALUE: &str = "thrown value";

/// What an rquickjs error stands for, before it becomes a public error.
pub(crate) enum Caught {
    /// The deadline interrupted the script.
    Timeout,
    /// The heap limit was hit.
    OutOfMemory,
    /// The engine itself failed.
    Engine(String),
    /// JS code threw (or a Promise rejected with) this.
    Exception(JsException),
}

/// Facts about one evaluation needed to build errors.
pub(crate) struct Failure<'a> {
    pub(crate) file: &'a Path,
    /// The interrupt handler fired (the deadline passed).
    pub(crate) interrupted: bool,
    pub(crate) timeout: Duration,
    pub(crate) limit_mib: usize,
    /// Length of the wrapper text before line 1 of the file, for columns.
    pub(crate) line1_offset: u32,
}

impl Failure<'_> {
    /// Maps an rquickjs error raised during `stage` into a [`SettingsJsError`].
    pub(crate) fn js_error(
        &self,
        ctx: &Ctx<'_>,
        err: rquickjs::Error,
        stage: Stage,
    ) -> SettingsJsError {
        let exception = match self.classify(ctx, err) {
            Caught::Timeout => return self.timeout(),
            Caught::OutOfMemory => return self.out_of_memory(),
            Caught::Engine(message) => return self.engine(message),
            Caught::Exception(exception) => exception,
        };
        match stage {
            Stage::Compile if exception.name == "SyntaxError" => SettingsJsError::Syntax(exception),
            Stage::Https => SettingsJsError::Https(exception),
            Stage::Setup => self.engine(exception.to_string()),
            Stage::Compile | Stage::Run => SettingsJsError::Exception(exception),
        }
    }

    /// Tells what an rquickjs error stands for: the deadline, the heap
    /// limit, an engine failure, or an exception thrown by JS.
    pub(crate) fn classify(&self, ctx: &Ctx<'_>, err: rquickjs::Error) -> Caught {
        if self.interrupted {
            return Caught::Timeout;
        }
        match CaughtError::from_error(ctx, err) {
            CaughtError::Error(rquickjs::Error::Allocation) => Caught::OutOfMemory,
            CaughtError::Error(e) => Caught::Engine(e.to_string()),
            CaughtError::Exception(ex) => {
                let name = ex
                    .as_object()
                    .get::<_, Option<Coerced<String>>>("name")
                    .ok()
                    .flatten()
                    .map_or_else(|| String::from("Error"), |n| n.0);
                let message = ex.message().unwrap_or_default();
                if name == "InternalError" && message == "out of memory" {
                    return Caught::OutOfMemory;
                }
                let stack = ex.stack().filter(|s| !s.trim().is_empty());
                Caught::Exception(JsException {
                    location: self.locate(stack.as_deref()),
                    name,
                    message,
                    stack,
                })
            }
            // QuickJS throws `null` when it cannot even allocate the
            // "out of memory" InternalError (quickjs.c, JS_ThrowError2).
            CaughtError::Value(value) if value.is_null() => Caught::OutOfMemory,
            CaughtError::Value(value) => Caught::Exception(JsException {
                location: self.locate(None),
                name: String::from(THROWN_VALUE),
                message: value
                    .get::<Coerced<String>>()
                    .map_or_else(|_| String::from("(unprintable)"), |s| s.0),
                stack: None,
            }),
        }
    }

    /// Maps a conversion failure of the exported value.
    pub(crate) fn convert_error(&self, ctx: &Ctx<'_>, err: ConvertError) -> SettingsJsError {
        let unconvertible = |key_path: String, reason: &str| SettingsJsError::Unconvertible {
            file: self.file.to_owned(),
            key_path,
            reason: reason.to_owned(),
        };
        match err {
            ConvertError::Circular { path } => unconvertible(path, "is a circular reference"),
            ConvertError::Unsupported { path, reason } => unconvertible(path, &reason),
            ConvertError::TooLarge => unconvertible(
                String::from("module.exports"),
                "holds more than a million values",
            ),
            ConvertError::Deadline => self.timeout(),
            ConvertError::Js(e) => self.js_error(ctx, e, Stage::Run),
        }
    }

    /// An [`SettingsJsError::Https`] without a JS exception behind it.
    pub(crate) fn https(&self, message: &str) -> SettingsJsError {
        SettingsJsError::Https(JsException {
            location: self.locate(None),
            name: String::from("Error"),
            message: message.to_owned(),
            stack: None,
        })
    }

    pub(crate) fn engine(&self, message: String) -> SettingsJsError {
        SettingsJsError::Engine {
            file: self.file.to_owned(),
            message,
        }
    }

    fn timeout(&self) -> SettingsJsError {
        SettingsJsError::Timeout {
            file: self.file.to_owned(),
            timeout: self.timeout,
        }
    }

    fn out_of_memory(&self) -> SettingsJsError {
        SettingsJsError::OutOfMemory {
            file: self.file.to_owned(),
            limit_mib: self.limit_mib,
        }
    }

    /// Finds the innermost stack frame in the settings file. QuickJS writes
    /// frames as `    at name (<file>:<line>:<col>)` or `    at <file>:<l>:<c>`.
    fn locate(&self, stack: Option<&str>) -> JsLocation {
        let file_name = self.file.to_string_lossy();
        let needle = format!("{file_name}:");
        let found = stack.and_then(|stack| {
            stack.lines().find_map(|frame| {
                let start = frame.find(needle.as_str())? + needle.len();
                parse_line_col(&frame[start..])
            })
        });
        let (line, column) = match found {
            Some((1, col)) => (Some(1), Some(col.saturating_sub(self.line1_offset).max(1))),
            Some((line, col)) => (Some(line), Some(col)),
            None => (None, None),
        };
        JsLocation {
            file: self.file.to_owned(),
            line,
            column,
        }
    }
}

/// Parses `<line>:<col>` at the start of `text`.
fn parse_line_col(text: &str) -> Option<(u32, u32)> {
    let (line, rest) = text.split_once(':')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.parse().ok()?, digits.parse().ok()?))
}
