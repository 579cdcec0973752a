//! The engine: compiles flows into running nodes, routes messages between
//! them on one executor task, and applies deploys.
//!
//! Routing mirrors Node-RED: a node's output goes to every wire of that
//! port, the first wire gets the message itself and the others deep copies;
//! deliveries are queued FIFO, so a flow with cycles never blocks a handler
//! and never deadlocks. Errors go to Catch nodes, status changes to Status
//! nodes and `done()` to Complete nodes, each scoped as in Node-RED.

mod backlog;
mod env;
mod executor;
mod info;
mod plan;
mod routing;
mod services;
mod subflow_port;

pub use backlog::Backlog;
pub use env::{EnvScope, GlobalEnv, substitute};
pub use executor::DeployReport;
pub use info::{FlowInfo, NodeInfo, NodeKey};
pub use plan::{DeployKind, FlowsError};
pub use services::Services;

use crate::context::ContextManager;
use crate::msg::Msg;
use crate::node::{NodeError, NodeEvent, Registry, Status};
use crate::value::{Str, Value};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};

/// Settings the engine and nodes read.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Default function node timeout in seconds (0 = none).
    pub function_timeout: f64,
    /// Longest debug output before truncation.
    pub debug_max_length: usize,
    /// Whether exec nodes may run.
    pub exec_enabled: bool,
    /// The user directory.
    pub user_dir: std::path::PathBuf,
    /// `fileWorkingDirectory`.
    pub file_working_directory: Option<std::path::PathBuf>,
    /// `functionGlobalContext` values, copied into global context at start.
    pub function_global_context: Vec<(String, Value)>,
    /// Other settings, raw, for nodes that need them.
    pub raw: serde_json::Map<String, serde_json::Value>,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        RuntimeSettings {
            function_timeout: 0.0,
            debug_max_length: 1000,
            exec_enabled: false,
            user_dir: std::path::PathBuf::from("."),
            file_working_directory: None,
            function_global_context: Vec::new(),
            raw: serde_json::Map::new(),
        }
    }
}

/// Log severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `node.error` without catch.
    Error,
    /// `node.warn`.
    Warn,
    /// `node.log`.
    Info,
    /// Debug.
    Debug,
}

/// What the runtime reports to the outside (console, editor comms, audit).
#[derive(Debug, Clone)]
pub enum RuntimeEvent {
    /// A node logged something.
    Log {
        /// Severity.
        level: LogLevel,
        /// Node id.
        id: String,
        /// Node type.
        type_name: String,
        /// Node name.
        name: String,
        /// Text.
        text: String,
        /// For errors routed with a message: the message id.
        msgid: Option<String>,
    },
    /// A node's status changed.
    Status {
        /// Node id.
        id: String,
        /// The new status.
        status: Status,
    },
    /// A debug node produced output (already in the editor's shape).
    Debug(Value),
    /// Flows were started or stopped.
    FlowsState {
        /// `start` or `stop`.
        state: &'static str,
    },
}

pub(crate) enum Command {
    Input(NodeKey, Msg),
    Emit(NodeKey, usize, Msg),
    Event(NodeKey, NodeEvent),
    Status(NodeKey, Status),
    Error(NodeKey, NodeError, Option<Msg>),
    Complete(NodeKey, Msg, Option<NodeError>),
    /// A [`crate::node::Batch`]: several of the above from one node, in order.
    Effects(NodeKey, Vec<crate::node::ctx::Effect>),
    InputById(String, Msg, oneshot::Sender<bool>),
    EventById(String, NodeEvent, oneshot::Sender<bool>),
    Statuses(oneshot::Sender<Vec<(String, Status)>>),
    Deploy(
        Box<plan::DeployRequest>,
        oneshot::Sender<Result<DeployReport, FlowsError>>,
    ),
    Stop(oneshot::Sender<()>),
}

/// State shared by the executor, node handles and the outside world.
pub(crate) struct Shared {
    pub(crate) tx: mpsc::UnboundedSender<Command>,
    pub(crate) context: ContextManager,
    /// Runtime events, shared: every subscriber gets the same allocation, and
    /// the channel's 1024 slots hold a pointer each (a `RuntimeEvent` is
    /// about 150 bytes, which made the empty ring ~200 KB of idle memory).
    pub(crate) events: broadcast::Sender<Arc<RuntimeEvent>>,
    pub(crate) settings: RuntimeSettings,
    pub(crate) services: Services,
    pub(crate) env_root: Arc<EnvScope>,
    /// (type, id, name) of every running node, for lookups by name.
    pub(crate) directory: parking_lot::RwLock<Vec<(Str, Str, Str)>>,
    /// Messages no node has taken yet (flow control, see [`Backlog`]).
    pub(crate) backlog: Arc<Backlog>,
}

impl Shared {
    /// Sends a runtime event to every subscriber; with none (no editor, no
    /// test listening) it is dropped, which is what an event is for.
    pub(crate) fn publish(&self, ev: RuntimeEvent) {
        let _ = self.events.send(Arc::new(ev));
    }

    pub(crate) fn command(&self, c: Command) {
        // The executor only stops at shutdown; a command sent after that has
        // nothing left to act on, so dropping it is correct.
        let _ = self.tx.send(c);
    }

    pub(crate) fn find_nodes(&self, type_name: &str, id_or_name: &str) -> Vec<String> {
        let dir = self.directory.read();
        if let Some((_, id, _)) = dir
            .iter()
            .find(|(t, id, _)| &**t == type_name && &**id == id_or_name)
        {
            return vec![id.to_string()];
        }
        dir.iter()
            .filter(|(t, _, n)| &**t == type_name && &**n == id_or_name)
            .map(|(_, id, _)| id.to_string())
            .collect()
    }

    pub(crate) fn log(&self, info: &NodeInfo, level: LogLevel, text: &str) {
        let label = if info.name.is_empty() {
            info.id.to_string()
        } else {
            info.name.to_string()
        };
        match level {
            LogLevel::Error => tracing::error!("[{}:{}] {}", info.type_name, label, text),
            LogLevel::Warn => tracing::warn!("[{}:{}] {}", info.type_name, label, text),
            LogLevel::Info => tracing::info!("[{}:{}] {}", info.type_name, label, text),
            LogLevel::Debug => tracing::debug!("[{}:{}] {}", info.type_name, label, text),
        }
        self.publish(RuntimeEvent::Log {
            level,
            id: info.id.to_string(),
            type_name: info.type_name.to_string(),
            name: info.name.to_string(),
            text: text.to_string(),
            msgid: None,
        });
    }
}

/// A running engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

/// What [`Engine::start`] needs.
pub struct EngineConfig {
    /// Node types.
    pub registry: Registry,
    /// Context stores.
    pub context: ContextManager,
    /// Settings.
    pub settings: RuntimeSettings,
    /// Shared services for nodes.
    pub services: Services,
    /// Process-level env lookup (defaults to `std::env::var`).
    pub global_env: Option<GlobalEnv>,
}

impl Engine {
    /// Starts the executor task (with no flows) on the current tokio runtime.
    pub fn start(cfg: EngineConfig) -> Engine {
        let (tx, rx) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(1024);
        let global: GlobalEnv = cfg
            .global_env
            .unwrap_or_else(|| Arc::new(|k: &str| std::env::var(k).ok()));
        let shared = Arc::new(Shared {
            tx,
            context: cfg.context,
            events,
            settings: cfg.settings,
            services: cfg.services,
            env_root: EnvScope::root(global),
            directory: parking_lot::RwLock::new(Vec::new()),
            backlog: Arc::new(Backlog::new()),
        });
        for (k, v) in &shared.settings.function_global_context {
            if let Err(e) = shared.context.set(None, "global", k, Some(v.clone())) {
                tracing::warn!("Could not set functionGlobalContext.{k}: {e}.");
            }
        }
        let exec = executor::Executor::new(shared.clone(), cfg.registry);
        tokio::spawn(exec.run(rx));
        Engine { shared }
    }

    /// Deploys flows (a flows.json array) with Node-RED's deployment types.
    /// On error nothing changes and the old flows keep running. The array
    /// is only read: a caller that keeps it (the admin API's deployed state)
    /// passes an `Arc` and shares it instead of copying it.
    pub async fn deploy(
        &self,
        flows: impl Into<Arc<Vec<serde_json::Value>>>,
        credentials: serde_json::Map<String, serde_json::Value>,
        kind: DeployKind,
    ) -> Result<DeployReport, FlowsError> {
        self.send_deploy(flows.into(), credentials, kind, None)
            .await
    }

    /// [`Engine::deploy`] that also tells `accepted` as soon as the flows
    /// are known to be valid, before the old nodes stop and the new ones
    /// start. From then on the deploy cannot be rejected, so a caller can
    /// save the flows while they start. `accepted` is dropped unsent when
    /// the flows are rejected (or the engine is stopping).
    pub async fn deploy_accepting(
        &self,
        flows: impl Into<Arc<Vec<serde_json::Value>>>,
        credentials: serde_json::Map<String, serde_json::Value>,
        kind: DeployKind,
        accepted: oneshot::Sender<()>,
    ) -> Result<DeployReport, FlowsError> {
        self.send_deploy(flows.into(), credentials, kind, Some(accepted))
            .await
    }

    async fn send_deploy(
        &self,
        flows: Arc<Vec<serde_json::Value>>,
        credentials: serde_json::Map<String, serde_json::Value>,
        kind: DeployKind,
        accepted: Option<oneshot::Sender<()>>,
    ) -> Result<DeployReport, FlowsError> {
        let (tx, rx) = oneshot::channel();
        let req = plan::DeployRequest {
            flows,
            credentials,
            kind,
            accepted,
        };
        self.shared.command(Command::Deploy(Box::new(req), tx));
        rx.await.map_err(|_| FlowsError::Stopped)?
    }

    /// Delivers `msg` to the input of node `id` (the admin API's inject button
    /// and tests). False when no such node runs.
    pub async fn input(&self, id: &str, msg: Msg) -> bool {
        let (tx, rx) = oneshot::channel();
        self.shared
            .command(Command::InputById(id.to_string(), msg, tx));
        rx.await.unwrap_or(false)
    }

    /// Delivers `ev` to node `id`'s `on_event` (the admin API toggling a
    /// debug node, for example). False when no such node runs.
    pub async fn event(&self, id: &str, ev: NodeEvent) -> bool {
        let (tx, rx) = oneshot::channel();
        self.shared
            .command(Command::EventById(id.to_string(), ev, tx));
        rx.await.unwrap_or(false)
    }

    /// The last status of every node that set one (for the editor's replay).
    pub async fn statuses(&self) -> Vec<(String, Status)> {
        let (tx, rx) = oneshot::channel();
        self.shared.command(Command::Statuses(tx));
        rx.await.unwrap_or_default()
    }

    /// Stops every node (closing them) and the executor.
    pub async fn stop(&self) {
        let (tx, rx) = oneshot::channel();
        self.shared.command(Command::Stop(tx));
        let _ = rx.await;
    }

    /// Subscribes to runtime events.
    pub fn events(&self) -> broadcast::Receiver<Arc<RuntimeEvent>> {
        self.shared.events.subscribe()
    }

    /// The context stores.
    pub fn context(&self) -> &ContextManager {
        &self.shared.context
    }

    /// Messages no node has taken yet (see [`Backlog`]).
    pub fn backlog(&self) -> &Arc<Backlog> {
        &self.shared.backlog
    }

    /// Settings.
    pub fn settings(&self) -> &RuntimeSettings {
        &self.shared.settings
    }
}
