//! One call into a kept settings.js ([`Caller`]): finds the function at a
//! dotted key, calls it with `this` = its parent and JSON arguments, drives
//! the job queue until a returned Promise settles, and converts the result
//! to JSON, all under one per-call deadline. Errors are built from the key
//! and what the user's code threw, never from the arguments.

use std::time::{Duration, Instant};

use rquickjs::function::Args;
use rquickjs::{Ctx, Function, Promise, Value};

use super::convert::{ConvertError, Converter, Introspect};
use super::error::{Caught, JsException, THROWN_VALUE};
use super::hooks::HookError;
use super::session::Session;

/// Calls functions of one evaluated settings object.
pub(crate) struct Caller<'s, 'js> {
    session: &'s Session,
    settings: Value<'js>,
    introspect: Introspect<'js>,
    timeout: Duration,
}

/// How a call ended, before it is mapped to JSON or a [`HookError`].
enum Failed {
    NotAFunction,
    Threw(rquickjs::Error),
    Rejected(rquickjs::Error),
    Late,
    Unsettled,
    Convert(ConvertError),
}

impl<'s, 'js> Caller<'s, 'js> {
    pub(crate) fn new(
        session: &'s Session,
        settings: Value<'js>,
        introspect: Introspect<'js>,
        timeout: Duration,
    ) -> Self {
        Self {
            session,
            settings,
            introspect,
            timeout,
        }
    }

    /// Calls the function at `key` with `args`; see [`crate::SettingsHooks::call`].
    pub(crate) fn call(
        &self,
        ctx: &Ctx<'js>,
        key: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<serde_json::Value, HookError> {
        let clock = self.session.clock();
        let deadline = clock.arm(self.timeout);
        let outcome = self.run(ctx, key, args, deadline);
        clock.disarm();
        outcome.map_err(|failed| self.error(ctx, key, failed))
    }

    fn run(
        &self,
        ctx: &Ctx<'js>,
        key: &str,
        args: Vec<serde_json::Value>,
        deadline: Instant,
    ) -> Result<serde_json::Value, Failed> {
        let (this, function) = self
            .lookup(key)
            .map_err(Failed::Threw)?
            .ok_or(Failed::NotAFunction)?;
        let mut js_args = Args::new(ctx.clone(), args.len());
        js_args.this(this).map_err(Failed::Threw)?;
        for arg in args {
            // JSON text is JS syntax for the same value, so this is exact.
            let value = ctx.json_parse(arg.to_string()).map_err(Failed::Threw)?;
            js_args.push_arg(value).map_err(Failed::Threw)?;
        }
        let returned: Value<'js> = function.call_arg(js_args).map_err(Failed::Threw)?;
        let result = match returned.as_promise() {
            Some(promise) => settle(ctx, promise, self.session, deadline)?,
            None => returned,
        };
        Converter::new(&self.introspect, deadline)
            .convert(result)
            .map_err(Failed::Convert)
    }

    /// The function at `key` and its parent object, if `key` names one.
    /// Reading properties may run getters, so this runs under the deadline.
    fn lookup(&self, key: &str) -> rquickjs::Result<Option<(Value<'js>, Function<'js>)>> {
        let Some(steps) = parse_key(key) else {
            return Ok(None);
        };
        let mut parent = self.settings.clone();
        let mut current = self.settings.clone();
        for step in steps {
            let Some(obj) = current.as_object() else {
                return Ok(None);
            };
            let next: Value<'js> = match step {
                Step::Key(name) => obj.get(name)?,
                Step::Index(index) => obj.get(index)?,
            };
            parent = current;
            current = next;
        }
        Ok(current.into_function().map(|f| (parent, f)))
    }

    fn error(&self, ctx: &Ctx<'js>, key: &str, failed: Failed) -> HookError {
        let key = key.to_owned();
        let failure = self.session.failure(self.timeout);
        let timeout = HookError::Timeout {
            key: key.clone(),
            after: self.timeout,
        };
        if failure.interrupted {
            return timeout;
        }
        let (err, rejected) = match failed {
            Failed::NotAFunction => return HookError::NotAFunction { key },
            Failed::Late => return timeout,
            Failed::Unsettled => return HookError::Unsettled { key },
            Failed::Convert(ConvertError::Circular { path }) => {
                return HookError::Unconvertible {
                    key,
                    path,
                    reason: String::from("is a circular reference"),
                };
            }
            Failed::Convert(ConvertError::Unsupported { path, reason }) => {
                return HookError::Unconvertible { key, path, reason };
            }
            Failed::Convert(ConvertError::TooLarge) => {
                return HookError::Unconvertible {
                    key,
                    path: String::from("module.exports"),
                    reason: String::from("holds more than a million values"),
                };
            }
            Failed::Convert(ConvertError::Deadline) => return timeout,
            Failed::Convert(ConvertError::Js(e)) | Failed::Threw(e) => (e, false),
            Failed::Rejected(e) => (e, true),
        };
        match failure.classify(ctx, err) {
            Caught::Timeout => timeout,
            Caught::OutOfMemory => HookError::OutOfMemory {
                key,
                limit_mib: failure.limit_mib,
            },
            Caught::Engine(message) => HookError::Engine { key, message },
            Caught::Exception(exception) if rejected => HookError::Rejected {
                key,
                message: describe(&exception),
            },
            Caught::Exception(exception) => HookError::Threw {
                key,
                message: describe(&exception),
            },
        }
    }
}

/// Runs queued jobs until `promise` settles, the deadline passes, or
/// nothing is left that could settle it.
fn settle<'js>(
    ctx: &Ctx<'js>,
    promise: &Promise<'js>,
    session: &Session,
    deadline: Instant,
) -> Result<Value<'js>, Failed> {
    loop {
        match promise.result::<Value<'js>>() {
            Some(Ok(value)) => return Ok(value),
            Some(Err(e)) => return Err(Failed::Rejected(e)),
            None => {}
        }
        if session.clock().fired() || Instant::now() >= deadline {
            return Err(Failed::Late);
        }
        if !ctx.execute_pending_job() {
            return Err(Failed::Unsettled);
        }
    }
}

/// `TypeError: boom (at /etc/settings.js:12:9)`; a thrown non-Error value
/// is shown as its string.
fn describe(exception: &JsException) -> String {
    let text = if exception.name == THROWN_VALUE {
        exception.message.clone()
    } else if exception.message.is_empty() {
        exception.name.clone()
    } else {
        format!("{}: {}", exception.name, exception.message)
    };
    if exception.location.line.is_some() {
        format!("{text} (at {})", exception.location)
    } else {
        text
    }
}

/// One step of a key: a property name or an array index.
#[derive(Debug, PartialEq, Eq)]
enum Step<'k> {
    Key(&'k str),
    Index(u32),
}

/// Splits `adminAuth.users` or `httpNodeMiddleware[0]` into steps; `None`
/// when the key is malformed (empty parts, bad brackets).
fn parse_key(key: &str) -> Option<Vec<Step<'_>>> {
    let mut steps = Vec::new();
    for part in key.split('.') {
        let (name, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if name.is_empty() {
            return None;
        }
        steps.push(Step::Key(name));
        while !rest.is_empty() {
            let (index, after) = rest.strip_prefix('[')?.split_once(']')?;
            steps.push(Step::Index(index.parse().ok()?));
            rest = after;
        }
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::{Step, parse_key};

    #[test]
    fn keys_parse_into_steps() {
        assert_eq!(
            parse_key("adminAuth.users"),
            Some(vec![Step::Key("adminAuth"), Step::Key("users")])
        );
        assert_eq!(
            parse_key("a[0][1].b"),
            Some(vec![
                Step::Key("a"),
                Step::Index(0),
                Step::Index(1),
                Step::Key("b")
            ])
        );
        for bad in ["", "a.", ".a", "a[", "a[x]", "a[0]b", "[0]"] {
            assert_eq!(parse_key(bad), None, "{bad:?}");
        }
    }
}
