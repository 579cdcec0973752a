//! The `function` node (`@node-red/nodes/core/function/10-function.js`):
//! runs the user's JavaScript for every message, with On Start and On Stop
//! code, several outputs and a per-node timeout.
//!
//! The script runs in its own QuickJS runtime (`redoubt_js::function`), on
//! tokio's blocking pool rather than the engine's executor, so a slow or
//! endless script never holds up other flows; the timeout interrupts it and
//! the node stays usable. Each message's `done()` is deferred until the
//! script has finished with it (or calls `node.done()` itself).
//!
//! Deviations: external modules (`libs`) cannot be loaded, so a node that
//! lists any is a configuration error naming them; a syntax error is a
//! configuration error with its line and column (Node-RED starts the node and
//! logs the error); each node's JS heap is limited to 64 MiB; the timeout
//! (the node's, else `functionTimeout` for nodes saved without one, else
//! `globalFunctionTimeout`) also bounds promise continuations and timers.
//! See `redoubt_js::function` for the sandbox's own deviations.

use parking_lot::Mutex;
use redoubt_core::Msg;
use redoubt_core::context::NodeContext;
use redoubt_core::engine::{Backlog, LogLevel};
use redoubt_core::node::{
    Batch, BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeHandle, NodeType,
    Pending, Status,
};
use redoubt_core::value::Value;
use redoubt_js::function::{
    DEFAULT_MEMORY_LIMIT, FunctionRunner, FunctionSpec, ScriptSink, check_syntax,
};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Effects gathered before they go to the engine at the latest: a batch
/// of this many is passed on at once ... (Small on purpose: the engine
/// works on the first sends while the script makes the next ones. With
/// 64, http-in -> function -> response lost 15 % of its requests per
/// second; with 8, the 10-node chain's counter wakes the engine an eighth
/// as often and the http flow keeps its rate.)
const GATHER_MAX: usize = 8;
/// ... and one whose oldest effect waited this long is passed on at the end
/// of the turn, so a slow script does not hold back what it already sent.
const GATHER_AGE: Duration = Duration::from_millis(1);

/// The `function` node type.
pub(crate) struct FunctionType;

struct FunctionNode {
    spec: Option<FunctionSpec>,
    runner: Option<FunctionRunner>,
    sink: Arc<NodeSink>,
    next_id: u64,
}

impl NodeType for FunctionType {
    fn type_name(&self) -> &'static str {
        "function"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        check_libs(cfg.get("libs"))?;
        let outputs = cfg.num("outputs")?.unwrap_or(1.0);
        if !(0.0..=1000.0).contains(&outputs) {
            return Err(ConfigError::field(
                "outputs",
                format!("expected 0 to 1000 outputs, got {outputs}"),
            ));
        }
        let spec = FunctionSpec {
            id: cfg.id.to_string(),
            name: cfg.name.to_string(),
            path: cx.info().path.clone(),
            outputs: outputs as usize,
            func: cfg.str("func"),
            initialize: cfg.str("initialize"),
            finalize: cfg.str("finalize"),
            timeout: timeout(cfg, cx)?,
            memory_limit: DEFAULT_MEMORY_LIMIT,
        };
        let handle = cx.handle();
        let sink = Arc::new(NodeSink {
            context: handle.context(),
            handle,
            pending: Mutex::new(HashMap::new()),
            gathered: Mutex::new(Gathered::default()),
        });
        // Only a syntax check here; the sandbox is built by the node's runner
        // task, in parallel with other nodes and off the deploy path.
        check_syntax(&spec).map_err(|e| ConfigError::field(e.field, e.message))?;
        Ok(Box::new(FunctionNode {
            spec: Some(spec),
            runner: None,
            sink,
            next_id: 0,
        }))
    }
}

/// `libs` lists npm modules to load into the sandbox; redoubt has none.
fn check_libs(libs: Option<&Json>) -> Result<(), ConfigError> {
    let Some(Json::Array(libs)) = libs else {
        return Ok(());
    };
    let names: Vec<String> = libs
        .iter()
        .map(|l| {
            let module = l.get("module").and_then(Json::as_str).unwrap_or("?");
            match l.get("var").and_then(Json::as_str) {
                Some(var) if !var.is_empty() => format!("{module} (as {var})"),
                _ => module.to_string(),
            }
        })
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    Err(ConfigError::field(
        "libs",
        format!(
            "external modules are not supported by redoubt: {}",
            names.join(", ")
        ),
    ))
}

/// The node's `timeout` in seconds; nodes saved without one get the editor
/// default (`functionTimeout`), and `globalFunctionTimeout` applies when
/// neither is set.
fn timeout(cfg: &NodeConfig, cx: &BuildCtx) -> Result<Option<Duration>, ConfigError> {
    let own = match cfg.get("timeout") {
        None => Some(cx.settings().function_timeout),
        Some(_) => cfg.num("timeout")?,
    };
    let global = cx
        .settings()
        .raw
        .get("globalFunctionTimeout")
        .and_then(|v| match v {
            Json::Number(n) => n.as_f64(),
            Json::String(s) => s.trim().parse().ok(),
            _ => None,
        });
    let secs = own.filter(|s| *s > 0.0).or(global.filter(|s| *s > 0.0));
    match secs {
        Some(s) if !s.is_finite() || s > 1e9 => Err(ConfigError::field(
            "timeout",
            format!("timeout {s} s is too large"),
        )),
        Some(s) => Ok(Some(Duration::from_secs_f64(s))),
        None => Ok(None),
    }
}

impl Node for FunctionNode {
    fn start(&mut self, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        if let Some(spec) = self.spec.take() {
            self.runner = Some(FunctionRunner::start_lazy(spec, self.sink.clone()));
        }
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let Some(runner) = &self.runner else {
            return Ok(());
        };
        self.next_id += 1;
        if let Some(pending) = cx.defer() {
            self.sink.pending.lock().insert(self.next_id, pending);
        }
        runner.input(self.next_id, msg);
        Ok(())
    }

    fn close(&mut self, removed: bool, _cx: &mut NodeCtx<'_>) {
        if let Some(runner) = self.runner.take() {
            runner.close(removed);
        }
        self.sink.pending.lock().clear();
    }
}

/// Applies what the script does through the node's engine handle: sends,
/// completions, statuses and errors are gathered into a [`Batch`] and
/// reach the engine together (see [`ScriptSink::flush`]), in order.
struct NodeSink {
    handle: NodeHandle,
    context: NodeContext,
    pending: Mutex<HashMap<u64, Pending>>,
    gathered: Mutex<Gathered>,
}

/// Effects not yet passed on, and when the oldest was added.
#[derive(Default)]
struct Gathered {
    batch: Batch,
    since: Option<Instant>,
}

impl NodeSink {
    fn gather(&self, add: impl FnOnce(&mut Batch)) {
        let mut g = self.gathered.lock();
        add(&mut g.batch);
        if g.batch.is_empty() {
            return;
        }
        if g.since.is_none() {
            g.since = Some(Instant::now());
        }
        if g.batch.len() >= GATHER_MAX {
            self.pass_on(&mut g);
        }
    }

    fn pass_on(&self, g: &mut Gathered) {
        g.since = None;
        self.handle.submit(std::mem::take(&mut g.batch));
    }
}

impl ScriptSink for NodeSink {
    fn send(&self, port: usize, msg: Msg) {
        self.gather(|b| b.send(port, msg));
    }

    fn done(&self, id: u64, result: Result<(), NodeError>) {
        let pending = self.pending.lock().remove(&id);
        if let Some(p) = pending {
            self.gather(|b| b.complete(p, result));
        }
    }

    fn discard(&self, id: u64) {
        self.pending.lock().remove(&id);
    }

    fn status(&self, status: Status) {
        self.gather(|b| b.status(status));
    }

    fn error(&self, err: NodeError, msg: Option<Msg>) {
        self.gather(|b| b.error(err, msg));
    }

    fn log(&self, level: LogLevel, text: &str) {
        match level {
            LogLevel::Warn => self.handle.warn(text),
            LogLevel::Info => self.handle.log(text),
            LogLevel::Debug => tracing::debug!("[function:{}] {text}", self.handle.info().label()),
            LogLevel::Error => tracing::error!("[function:{}] {text}", self.handle.info().label()),
        }
    }

    fn context(&self) -> NodeContext {
        self.context.clone()
    }

    fn env(&self, name: &str) -> Value {
        let info = self.handle.info();
        info.env.get(name, Some(info)).unwrap_or_default()
    }

    fn backlog(&self) -> Option<Arc<Backlog>> {
        Some(self.handle.backlog().clone())
    }

    fn flush(&self, all: bool) {
        let mut g = self.gathered.lock();
        let due = match g.since {
            None => return,
            Some(since) => all || since.elapsed() >= GATHER_AGE,
        };
        if due {
            self.pass_on(&mut g);
        }
    }
}

#[cfg(test)]
mod tests;
