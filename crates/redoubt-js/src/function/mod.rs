//! The function node's script host: runs the user's JavaScript in QuickJS
//! with the sandbox Node-RED's `10-function.js` gives it (`msg`, `node`,
//! `context`/`flow`/`global`, `env`, `RED.util`, `Buffer`, `console`,
//! `util`, timers, Promises), On Start and On Stop code, a per-node memory
//! limit and a per-turn timeout.
//!
//! The node in `redoubt-nodes` supplies a [`ScriptSink`] (its engine
//! handle) and drives a [`FunctionRunner`]; everything that touches the
//! engine stays in this module:
//!
//! - [`Sandbox`]: one QuickJS runtime and context per node, the prelude
//!   (`prelude.js`, `buffer.js`) and the compiled code.
//! - `bytecode`: the prelude compiled once per process, loaded by each.
//! - `convert`: redoubt values to JS and back, without JSON.
//! - `host`: the Rust functions the prelude calls.
//! - `cache`: the prelude objects every turn uses, looked up once.
//! - [`FunctionRunner`]: the per-node task and the blocking pool.
//!
//! Known deviations from Node-RED: `node.linkcall` and external modules
//! (`libs`) are not available; `util` is a small subset of Node's; there
//! is no `URL`/`URLSearchParams`; QuickJS's error texts differ from V8's
//! (`cannot read property 'x' of undefined`); the timeout also bounds
//! promise continuations and timer callbacks (Node-RED's only bounds the
//! synchronous part); a due timer waits while more than
//! `redoubt_core::engine::Backlog::HIGH` messages wait in the engine (flow
//! control; Node-RED queues without limit). Values are converted, not
//! shared: the input message (with the objects inside it) and the context
//! values the script reads or stores are written back in place (object by
//! object, only what changed) when the message is done or the turn ends,
//! so their holders see the script's changes as in Node-RED, and a second
//! `get` of a context object in the same turn returns the same JS object;
//! changes to a context value made in a later timer or promise turn are
//! not seen, and a new message built around parts of the input message
//! gets copies.
//! A turn that reads context objects holds a process-wide lock until it has
//! written them back (see `consistency`), so two scripts never lose each
//! other's changes.
//!
//! On Message code without `await` is compiled as a plain function rather
//! than Node-RED's `async function` (much cheaper to call); its result or
//! exception is settled exactly when the async function's promise would
//! settle (see `sandbox.rs`), so sends, `done` and errors keep their order.

mod bytecode;
mod cache;
mod compile;
mod consistency;
mod convert;
mod flush;
mod host;
mod lane;
mod lazy_req;
mod runner;
mod sandbox;
mod twins;

#[cfg(test)]
mod tests;

pub use runner::FunctionRunner;
pub use sandbox::Sandbox;

use redoubt_core::Msg;
use redoubt_core::context::NodeContext;
use redoubt_core::engine::{Backlog, LogLevel};
use redoubt_core::node::{NodeError, Status};
use redoubt_core::value::Value;
use std::sync::Arc;
use std::time::Duration;

/// The default memory limit of one function node's JS heap.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 * 1024 * 1024;

/// A function node's code and limits.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// The node id (`node.id`).
    pub id: String,
    /// The node name (`node.name`).
    pub name: String,
    /// `node.path` (`NR_NODE_PATH`).
    pub path: String,
    /// `node.outputCount`.
    pub outputs: usize,
    /// The On Message code.
    pub func: String,
    /// The On Start code.
    pub initialize: String,
    /// The On Stop code.
    pub finalize: String,
    /// Longest a turn may run before it is interrupted.
    pub timeout: Option<Duration>,
    /// The JS heap limit in bytes.
    pub memory_limit: usize,
}

/// Where a script's effects go: the node's engine handle, or a test double.
/// Every method may be called from a blocking-pool thread.
pub trait ScriptSink: Send + Sync + 'static {
    /// Sends `msg` on output `port`.
    fn send(&self, port: usize, msg: Msg);
    /// Input message `id` is done (`done()` or `done(err)`).
    fn done(&self, id: u64, result: Result<(), NodeError>);
    /// Input message `id` will never be done (dropped, or the node closed).
    fn discard(&self, id: u64);
    /// `node.status(...)`.
    fn status(&self, status: Status);
    /// `node.error(err, msg)`: routed to Catch nodes when there is a message.
    fn error(&self, err: NodeError, msg: Option<Msg>);
    /// `node.log/warn/debug` (and errors reported while closing).
    fn log(&self, level: LogLevel, text: &str);
    /// The node's context.
    fn context(&self) -> NodeContext;
    /// `env.get(name)`.
    fn env(&self, name: &str) -> Value;
    /// Passes on what `send`, `done`, `status` and `error` gathered, for a
    /// sink that gathers them (the node's, so the engine is woken once per
    /// batch of messages rather than once per message). Called after every
    /// turn with `all = false`, when the sink may keep what is small and
    /// recent, and with `all = true` at the end of each batch of work the
    /// runner took (at most 1,024 messages) and when the node closes. A sink
    /// that applies every call at once has nothing to pass on.
    fn flush(&self, all: bool) {
        let _ = all;
    }
    /// The engine's count of messages no node has taken yet: the runner
    /// counts its input queue there, and the script's timers wait while it
    /// is full (see [`Backlog`]). `None` (a test double's default) leaves
    /// both out.
    fn backlog(&self) -> Option<Arc<Backlog>> {
        None
    }
}

thread_local! {
    /// One small engine per thread for deploy-time syntax checks.
    static CHECKER: std::cell::RefCell<Option<(rquickjs::Runtime, rquickjs::Context)>> =
        const { std::cell::RefCell::new(None) };
    /// Code this thread's checker found to compile (see [`Compiled`]).
    static COMPILED: std::cell::RefCell<Compiled> =
        std::cell::RefCell::new(Compiled::default());
}

/// The code of nodes that compiled, remembered so a deploy that starts an
/// unchanged function node again (every node of a full deploy) does not
/// parse its code once more on the engine's executor. Keyed by the exact
/// code, so only text that compiled before is let through; forgotten all
/// at once when it holds more than [`Compiled::MAX_BYTES`] of code.
#[derive(Default)]
struct Compiled {
    codes: std::collections::HashSet<String>,
    bytes: usize,
}

impl Compiled {
    const MAX_BYTES: usize = 1 << 20;

    /// The three parts as one unambiguous key (lengths first).
    fn key(spec: &FunctionSpec) -> String {
        let parts = [&spec.func, &spec.initialize, &spec.finalize];
        let mut key = format!("{}:{}:{}:", parts[0].len(), parts[1].len(), parts[2].len());
        key.reserve(parts.iter().map(|p| p.len()).sum());
        for p in parts {
            key.push_str(p);
        }
        key
    }

    fn remember(&mut self, key: String) {
        if self.bytes + key.len() > Self::MAX_BYTES {
            self.codes.clear();
            self.bytes = 0;
        }
        self.bytes += key.len();
        self.codes.insert(key);
    }
}

/// Checks that the node's code compiles, without building its sandbox
/// (that happens in the node's runner task, off the deploy path).
pub fn check_syntax(spec: &FunctionSpec) -> Result<(), CompileError> {
    let key = Compiled::key(spec);
    if COMPILED.with(|c| c.borrow().codes.contains(&key)) {
        return Ok(());
    }
    CHECKER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let engine = |e: rquickjs::Error| CompileError::engine(e.to_string());
            let rt = rquickjs::Runtime::new().map_err(engine)?;
            rt.set_memory_limit(16 * 1024 * 1024);
            let ctx = rquickjs::Context::full(&rt).map_err(engine)?;
            *slot = Some((rt, ctx));
        }
        match slot.as_ref() {
            Some((_, ctx)) => ctx.with(|ctx| compile::check(&ctx, spec)),
            None => Err(CompileError::engine("no syntax checker".into())),
        }
    })?;
    COMPILED.with(|c| c.borrow_mut().remember(key));
    Ok(())
}

/// The node's code does not compile (or the engine could not start).
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("{message}")]
pub struct CompileError {
    /// The configuration property: `func`, `initialize` or `finalize`.
    pub field: &'static str,
    /// `SyntaxError: ... (body:line L, col C)`.
    pub message: String,
    /// Line within the user's code (1-based; 0 when unknown).
    pub line: usize,
    /// Column (1-based; 0 when unknown).
    pub column: usize,
}

impl CompileError {
    fn engine(message: String) -> CompileError {
        CompileError {
            field: "func",
            message: format!("JavaScript engine error: {message}"),
            line: 0,
            column: 0,
        }
    }
}

/// True when the code calls `node.done()` itself, so the node must not call
/// done when the function returns (Node-RED checks the same text, then the
/// syntax tree; comments and strings are skipped here instead).
pub fn calls_node_done(func: &str) -> bool {
    let code = strip_comments_and_strings(func);
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(pos) = code[from..].find("node.done") {
        let at = from + pos;
        let before_ok = at == 0 || !is_ident(bytes[at - 1]);
        let rest = code[at + "node.done".len()..].trim_start();
        if before_ok && rest.starts_with('(') {
            return true;
        }
        from = at + 1;
    }
    false
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'.'
}

/// The code with comments and string literal contents blanked out.
fn strip_comments_and_strings(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
                out.push(' ');
            }
            '"' | '\'' | '`' => {
                out.push(c);
                let mut escaped = false;
                for n in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if n == '\\' {
                        escaped = true;
                    } else if n == c {
                        break;
                    }
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}
