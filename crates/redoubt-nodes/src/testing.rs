//! Test support: run a real engine on a small flow and watch what arrives
//! at `helper` nodes (the same idea as Node-RED's node-test-helper).
//!
//! ```ignore
//! let mut h = Harness::start(json!([
//!     {"id":"n1","type":"change","rules":[...],"wires":[["h1"]]},
//!     {"id":"h1","type":"helper"}
//! ])).await;
//! h.send("n1", Msg::from_json(json!({"payload": 1}))).await;
//! let m = h.recv("h1").await;
//! ```

use indexmap::IndexMap;
use redoubt_core::Msg;
use redoubt_core::context::{ContextManager, ContextStore, MemoryStore};
use redoubt_core::engine::{
    Backlog, DeployKind, Engine, EngineConfig, RuntimeEvent, RuntimeSettings, Services,
};
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType, Registry,
};
use serde_json::{Value as Json, json};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

struct HelperType(mpsc::UnboundedSender<(String, Msg)>);
struct Helper(mpsc::UnboundedSender<(String, Msg)>, String);

impl NodeType for HelperType {
    fn type_name(&self) -> &'static str {
        "helper"
    }
    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(Helper(self.0.clone(), cfg.id.to_string())))
    }
}

impl Node for Helper {
    fn on_input(&mut self, msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let _ = self.0.send((self.1.clone(), msg));
        Ok(())
    }
}

/// The engine's backlog held full by [`Harness::fill_backlog`]; dropping
/// it gives the room back.
pub struct FullBacklog(Arc<Backlog>);

impl Drop for FullBacklog {
    fn drop(&mut self) {
        self.0.leave(Backlog::HIGH + 1);
    }
}

/// A running engine with helper nodes.
pub struct Harness {
    /// The engine.
    pub engine: Engine,
    rx: mpsc::UnboundedReceiver<(String, Msg)>,
    buffered: HashMap<String, VecDeque<Msg>>,
    events: broadcast::Receiver<Arc<RuntimeEvent>>,
}

/// Adds node types to the harness registry.
pub type RegistryHook = Box<dyn FnOnce(&mut Registry)>;

/// Options for [`Harness::start_with`].
#[derive(Default)]
pub struct HarnessOptions {
    /// Runtime settings.
    pub settings: RuntimeSettings,
    /// Services for nodes.
    pub services: Services,
    /// Extra node types.
    pub extra: Vec<RegistryHook>,
    /// Env lookup (default: none but what tests set).
    pub env: Vec<(String, String)>,
    /// Credentials by node id.
    pub credentials: serde_json::Map<String, Json>,
}

impl Harness {
    /// Starts the flow with default options.
    pub async fn start(flow: Json) -> Harness {
        Harness::start_with(flow, HarnessOptions::default()).await
    }

    /// Starts the flow. Nodes without `z` go on tab `t1`; flow nodes without
    /// `x`/`y` get them (config node types are left alone).
    pub async fn start_with(flow: Json, opts: HarnessOptions) -> Harness {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut reg = crate::builtin_registry();
        reg.register(HelperType(tx));
        for f in opts.extra {
            f(&mut reg);
        }
        let mut stores: IndexMap<String, Arc<dyn ContextStore>> = IndexMap::new();
        stores.insert("memory".into(), Arc::new(MemoryStore::default()));
        stores.insert("alt".into(), Arc::new(MemoryStore::default()));
        let env: HashMap<String, String> = opts.env.into_iter().collect();
        let engine = Engine::start(EngineConfig {
            registry: reg.clone(),
            context: ContextManager::new(stores, "memory".into()),
            settings: opts.settings,
            services: opts.services,
            global_env: Some(Arc::new(move |k: &str| env.get(k).cloned())),
        });
        let events = engine.events();
        let mut nodes = match flow {
            Json::Array(a) => a,
            other => vec![other],
        };
        let mut has_tab = false;
        for n in nodes.iter_mut() {
            let Some(o) = n.as_object_mut() else { continue };
            let ty = o
                .get("type")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string();
            if ty == "tab" {
                has_tab = true;
                continue;
            }
            if ty == "subflow" || ty == "group" {
                continue;
            }
            let is_config = reg.get(&ty).map(|t| t.is_config()).unwrap_or(false);
            if !o.contains_key("z") && !is_config {
                o.insert("z".into(), json!("t1"));
            }
            if !is_config && !o.contains_key("x") {
                o.insert("x".into(), json!(100));
                o.insert("y".into(), json!(100));
            }
        }
        if !has_tab {
            nodes.insert(0, json!({"id":"t1","type":"tab","label":"Flow 1"}));
        }
        if let Err(e) = engine
            .deploy(nodes, opts.credentials, DeployKind::Full)
            .await
        {
            panic!("deploy failed: {e}");
        }
        Harness {
            engine,
            rx,
            buffered: HashMap::new(),
            events,
        }
    }

    /// Sends `msg` to node `id`'s input.
    pub async fn send(&self, id: &str, msg: Msg) {
        assert!(self.engine.input(id, msg).await, "no running node {id}");
    }

    /// Sends `{payload}` to node `id`.
    pub async fn send_json(&self, id: &str, msg: Json) {
        self.send(id, Msg::from_json(&msg)).await
    }

    /// The next message at helper `id`; panics after 10 s (virtual time when paused).
    pub async fn recv(&mut self, id: &str) -> Msg {
        match self.recv_within(id, Duration::from_secs(10)).await {
            Some(m) => m,
            None => panic!("no message arrived at {id}"),
        }
    }

    /// The next message at helper `id`, or `None` after `wait`.
    pub async fn recv_within(&mut self, id: &str, wait: Duration) -> Option<Msg> {
        if let Some(m) = self.buffered.get_mut(id).and_then(VecDeque::pop_front) {
            return Some(m);
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let r = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .ok()??;
            if r.0 == id {
                return Some(r.1);
            }
            self.buffered.entry(r.0).or_default().push_back(r.1);
        }
    }

    /// The next message's JSON at helper `id`.
    pub async fn recv_json(&mut self, id: &str) -> Json {
        let m = self.recv(id).await;
        redoubt_core::value::to_serde(&m.to_value())
    }

    /// True when nothing arrives at `id` within `wait`.
    pub async fn nothing(&mut self, id: &str, wait: Duration) -> bool {
        self.recv_within(id, wait).await.is_none()
    }

    /// Counts more messages than [`Backlog::HIGH`] as waiting, as flows far
    /// behind would, until the returned guard is dropped: a source that
    /// waits for room (`NodeHandle::room`) holds meanwhile.
    pub fn fill_backlog(&self) -> FullBacklog {
        let backlog = self.engine.backlog().clone();
        backlog.enter(Backlog::HIGH + 1);
        FullBacklog(backlog)
    }

    /// Runtime events seen so far (logs, status, debug).
    pub fn drain_events(&mut self) -> Vec<RuntimeEvent> {
        let mut v = Vec::new();
        while let Ok(e) = self.events.try_recv() {
            v.push(Arc::unwrap_or_clone(e));
        }
        v
    }

    /// Stops the engine.
    pub async fn stop(self) {
        self.engine.stop().await;
    }
}
