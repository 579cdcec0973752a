//! The executor: one task that owns every running node, a FIFO queue of
//! deliveries, and the routing tables. Node hooks run here one at a time.

use super::info::{NodeInfo, NodeKey};
use super::plan::{self, Builtin, DeployKind, DeployRequest, FlowsError, Plan};
use super::routing::{FlowRoutes, Listener, Routes, Scope};
use super::{Command, LogLevel, RuntimeEvent, Shared};
use crate::msg::Msg;
use crate::node::ctx::Effect;
use crate::node::{BuildCtx, ConfigError, Node, NodeCtx, NodeError, NodeEvent, Registry, Status};
use crate::value::{Object, Str, Value};
use std::any::Any;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

static INSTANCE: AtomicU64 = AtomicU64::new(1);

/// What a deploy did.
#[derive(Debug, Clone, Default)]
pub struct DeployReport {
    /// Nodes that were (re)started.
    pub started: usize,
    /// Nodes kept running unchanged.
    pub kept: usize,
    /// Nodes left out because their configuration is invalid.
    pub errors: Vec<ConfigError>,
}

struct Slot {
    info: Arc<NodeInfo>,
    node: Option<Box<dyn Node>>,
    wires: Vec<Vec<usize>>,
    wire_ids: Vec<Vec<Str>>,
    tasks: Vec<tokio::task::AbortHandle>,
    status: Option<Status>,
    shared_handle: Option<Arc<dyn Any + Send + Sync>>,
    digest: String,
    tab: Str,
    /// Some Complete node listens to this node.
    watched: bool,
}

pub(crate) struct Executor {
    shared: Arc<Shared>,
    registry: Registry,
    slots: Vec<Slot>,
    by_id: HashMap<Str, usize>,
    queue: VecDeque<(usize, Msg)>,
    routes: Routes,
    effects: Vec<Effect>,
    /// Effects submitted as batches and applied this round (see `Backlog`).
    routed: usize,
}

impl Executor {
    pub(crate) fn new(shared: Arc<Shared>, registry: Registry) -> Executor {
        Executor {
            shared,
            registry,
            slots: Vec::new(),
            by_id: HashMap::new(),
            queue: VecDeque::new(),
            routes: Routes::default(),
            effects: Vec::new(),
            routed: 0,
        }
    }

    pub(crate) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        loop {
            // Take what has arrived, then work the queue in bounded batches so
            // outside commands (HTTP input, timers, deploys) are never starved.
            let cmd = if self.queue.is_empty() {
                match rx.recv().await {
                    Some(c) => Some(c),
                    None => return,
                }
            } else {
                rx.try_recv().ok()
            };
            if let Some(c) = cmd {
                if self.command(c) {
                    return;
                }
                let mut n = 0;
                while n < 256 {
                    match rx.try_recv() {
                        Ok(c) => {
                            if self.command(c) {
                                return;
                            }
                        }
                        Err(_) => break,
                    }
                    n += 1;
                }
            }
            let mut budget = 1024;
            while budget > 0 {
                let Some((to, msg)) = self.queue.pop_front() else {
                    break;
                };
                self.deliver(to, msg);
                budget -= 1;
            }
            // Once per round, not per message: producers only need to know
            // the order of magnitude (see `Backlog`).
            let routed = std::mem::take(&mut self.routed);
            self.shared.backlog.routed(self.queue.len(), routed);
            if !self.queue.is_empty() {
                tokio::task::yield_now().await;
            }
        }
    }

    /// Handles one command; true means stop.
    fn command(&mut self, c: Command) -> bool {
        match c {
            Command::Input(key, msg) => {
                if let Some(i) = self.slot_of(&key) {
                    self.queue.push_back((i, msg));
                }
            }
            Command::InputById(id, msg, reply) => {
                let found = self
                    .by_id
                    .get(id.as_str())
                    .copied()
                    .filter(|i| self.slots[*i].node.is_some());
                if let Some(i) = found {
                    self.queue.push_back((i, msg));
                }
                let _ = reply.send(found.is_some());
            }
            Command::EventById(id, ev, reply) => {
                let found = self
                    .by_id
                    .get(id.as_str())
                    .copied()
                    .filter(|i| self.slots[*i].node.is_some());
                if let Some(i) = found {
                    self.event(i, ev);
                }
                let _ = reply.send(found.is_some());
            }
            Command::Statuses(reply) => {
                let v = self
                    .slots
                    .iter()
                    .filter_map(|s| s.status.clone().map(|st| (s.info.id.to_string(), st)))
                    .collect();
                let _ = reply.send(v);
            }
            Command::Emit(key, port, msg) => {
                // Entered the backlog when sent (`NodeHandle::send`).
                self.routed += 1;
                if let Some(i) = self.slot_of(&key) {
                    self.effects.push(Effect::Send(port, msg));
                    self.apply(i);
                }
            }
            Command::Event(key, ev) => {
                if let Some(i) = self.slot_of(&key) {
                    self.event(i, ev);
                }
            }
            Command::Status(key, st) => {
                if let Some(i) = self.slot_of(&key) {
                    self.effects.push(Effect::Status(st));
                    self.apply(i);
                }
            }
            Command::Error(key, err, msg) => {
                if let Some(i) = self.slot_of(&key) {
                    self.effects.push(Effect::Error(err, msg));
                    self.apply(i);
                }
            }
            Command::Complete(key, msg, err) => {
                if let Some(i) = self.slot_of(&key) {
                    self.effects.push(Effect::Complete(msg, err));
                    self.apply(i);
                }
            }
            Command::Effects(key, effects) => {
                // Entered the backlog when submitted (`NodeHandle::submit`).
                self.routed += effects.len();
                if let Some(i) = self.slot_of(&key) {
                    self.effects.extend(effects);
                    self.apply(i);
                }
            }
            Command::Deploy(req, reply) => {
                let r = self.deploy(*req);
                let _ = reply.send(r);
            }
            Command::Stop(reply) => {
                self.stop_all();
                let _ = reply.send(());
                return true;
            }
        }
        false
    }

    fn slot_of(&self, key: &NodeKey) -> Option<usize> {
        let i = *self.by_id.get(&key.id)?;
        (self.slots[i].info.instance == key.instance).then_some(i)
    }

    /// Runs one hook of node `i` with a fresh context; `None` when the node
    /// does not run. Returns whether the hook deferred `done()`.
    fn hook<R>(
        &mut self,
        i: usize,
        current: Option<Msg>,
        f: impl FnOnce(&mut Box<dyn Node>, &mut NodeCtx<'_>) -> R,
    ) -> Option<(R, bool)> {
        let slot = self.slots.get_mut(i)?;
        let node = slot.node.as_mut()?;
        let mut cx = NodeCtx {
            info: &slot.info,
            shared: &self.shared,
            effects: &mut self.effects,
            tasks: &mut slot.tasks,
            deferred: false,
            current,
            watched: slot.watched,
        };
        let r = f(node, &mut cx);
        Some((r, cx.deferred))
    }

    fn deliver(&mut self, to: usize, msg: Msg) {
        let input = msg.clone();
        let Some((r, deferred)) = self.hook(to, Some(msg.clone()), |n, cx| n.on_input(input, cx))
        else {
            return;
        };
        match r {
            Ok(()) if !deferred && self.slots[to].watched => {
                self.effects.push(Effect::Complete(msg, None))
            }
            Ok(()) => {}
            Err(e) => self.effects.push(Effect::Error(e, Some(msg))),
        }
        self.apply(to);
    }

    fn event(&mut self, to: usize, ev: NodeEvent) {
        if let Some((Err(e), _)) = self.hook(to, None, |n, cx| n.on_event(ev, cx)) {
            self.effects.push(Effect::Error(e, None));
        }
        self.apply(to);
    }

    /// Applies the effects a hook of `from` produced.
    fn apply(&mut self, from: usize) {
        if self.effects.is_empty() {
            return;
        }
        let mut effects = std::mem::take(&mut self.effects);
        for e in effects.drain(..) {
            match e {
                Effect::Send(port, msg) => self.route(from, port, msg),
                Effect::SendTo(id, msg) => {
                    if let Some(&i) = self.by_id.get(&id) {
                        self.queue.push_back((i, msg));
                    }
                }
                Effect::EventTo(id, ev) => {
                    if let Some(&i) = self.by_id.get(&id) {
                        self.event(i, ev);
                    }
                }
                Effect::Status(st) => self.status(from, st),
                Effect::Error(err, msg) => {
                    let handled = match &msg {
                        Some(m) => self.handle_error(from, from, &err, m),
                        None => false,
                    };
                    if !handled {
                        let info = self.slots[from].info.clone();
                        self.shared.log(&info, LogLevel::Error, &err.message);
                    }
                }
                Effect::Complete(msg, None) => self.complete(from, &msg),
                Effect::Complete(msg, Some(err)) => {
                    if !self.handle_error(from, from, &err, &msg) {
                        let info = self.slots[from].info.clone();
                        self.shared.log(&info, LogLevel::Error, &err.message);
                    }
                }
            }
        }
        // Keep the allocation for the next hook.
        if self.effects.is_empty() {
            self.effects = effects;
        }
    }

    fn route(&mut self, from: usize, port: usize, msg: Msg) {
        let Some(targets) = self.slots[from].wires.get(port) else {
            return;
        };
        match targets.len() {
            0 => {}
            1 => self.queue.push_back((targets[0], msg)),
            _ => {
                let targets = targets.clone();
                for (k, t) in targets.iter().enumerate() {
                    let m = if k == 0 {
                        msg.clone()
                    } else {
                        msg.deep_clone()
                    };
                    self.queue.push_back((*t, m));
                }
            }
        }
    }

    fn status(&mut self, from: usize, st: Status) {
        let info = self.slots[from].info.clone();
        self.slots[from].status = Some(st.clone());
        self.shared.publish(RuntimeEvent::Status {
            id: info.id.to_string(),
            status: st.clone(),
        });
        self.handle_status(&info, &info.flow.id, info.g.as_ref(), &info.id, &st);
    }

    fn handle_status(
        &mut self,
        source: &NodeInfo,
        flow: &str,
        g: Option<&Str>,
        reporter: &str,
        st: &Status,
    ) -> bool {
        let Some(fr) = self.routes.flows.get(flow) else {
            return false;
        };
        let targets: Vec<usize> = self
            .routes
            .candidates(&fr.status, reporter, g)
            .iter()
            .map(|l| l.slot)
            .collect();
        let parent = fr.parent.clone();
        let inst = fr.instance_slot;
        let mut handled = false;
        for t in targets {
            let m = Msg::new();
            let sv = st.to_value();
            if let Value::Object(o) = &sv {
                let src = Object::new();
                src.insert("id", Value::String(source.id.clone()));
                src.insert("type", Value::String(source.type_name.clone()));
                src.insert("name", Value::String(source.name.clone()));
                o.insert("source", Value::Object(src));
            }
            m.set("status", sv);
            self.queue.push_back((t, m));
            handled = true;
        }
        if !handled && let (Some(p), Some(i)) = (parent, inst) {
            let iinfo = self.slots[i].info.clone();
            return self.handle_status(source, &p, iinfo.g.as_ref(), &iinfo.id, st);
        }
        handled
    }

    /// Routes an error to Catch nodes; true when one took it.
    fn handle_error(&mut self, source: usize, reporter: usize, err: &NodeError, msg: &Msg) -> bool {
        let sinfo = self.slots[source].info.clone();
        let rinfo = self.slots[reporter].info.clone();
        let mut count = 1.0;
        if let Some(Value::Object(e)) = msg.get("error")
            && let Some(Value::Object(src)) = e.get("source")
            && src
                .get("id")
                .and_then(|v| v.as_str().map(|s| s == &*sinfo.id))
                == Some(true)
        {
            count = src.get("count").map(|c| c.to_number()).unwrap_or(0.0) + 1.0;
            if count >= 10.0 {
                self.shared.log(
                    &sinfo,
                    LogLevel::Warn,
                    "Message exceeded maximum number of catches",
                );
                return false;
            }
        }
        let flow = rinfo.z.clone();
        let Some(fr) = self.routes.flows.get(&flow) else {
            return false;
        };
        let cands: Vec<Listener> = self
            .routes
            .candidates(&fr.catch, &rinfo.id, rinfo.g.as_ref())
            .into_iter()
            .cloned()
            .collect();
        let parent = fr.parent.clone();
        let inst = fr.instance_slot;
        let mut handled = false;
        let mut handled_by_uncaught = false;
        for c in cands {
            if c.uncaught && !handled_by_uncaught {
                if handled {
                    continue;
                }
                handled_by_uncaught = true;
            }
            let em = msg.deep_clone();
            if let Some(prev) = em.get("error") {
                em.set("_error", prev);
            }
            let e = Object::new();
            e.insert("message", Value::str(&err.message));
            let src = Object::new();
            src.insert("id", Value::String(sinfo.id.clone()));
            src.insert("type", Value::String(sinfo.type_name.clone()));
            src.insert("name", Value::String(sinfo.name.clone()));
            src.insert("count", Value::Number(count));
            e.insert("source", Value::Object(src));
            if let Some(code) = &err.code {
                e.insert("code", Value::str(code));
            }
            if let Some(stack) = &err.stack {
                e.insert("stack", Value::str(stack));
            }
            em.set("error", Value::Object(e));
            self.queue.push_back((c.slot, em));
            handled = true;
        }
        if !handled && let (Some(_), Some(i)) = (parent, inst) {
            return self.handle_error(source, i, err, msg);
        }
        handled
    }

    fn complete(&mut self, from: usize, msg: &Msg) {
        let info = &self.slots[from].info;
        let Some(targets) = self.routes.complete.get(&info.id) else {
            return;
        };
        let targets = targets.clone();
        let info = info.clone();
        for t in targets {
            let m = msg.deep_clone();
            let c = Object::new();
            let src = Object::new();
            src.insert("id", Value::String(info.id.clone()));
            src.insert("type", Value::String(info.type_name.clone()));
            src.insert("name", Value::String(info.name.clone()));
            c.insert("source", Value::Object(src));
            m.set("complete", Value::Object(c));
            self.queue.push_back((t, m));
        }
    }

    fn close_slot(&mut self, i: usize, removed: bool) {
        let slot = &mut self.slots[i];
        if let Some(mut node) = slot.node.take() {
            let mut cx = NodeCtx {
                info: &slot.info,
                shared: &self.shared,
                effects: &mut self.effects,
                tasks: &mut slot.tasks,
                deferred: false,
                current: None,
                watched: slot.watched,
            };
            node.close(removed, &mut cx);
        }
        for t in slot.tasks.drain(..) {
            t.abort();
        }
        // Effects produced while closing (a last status) are dropped with the node.
        self.effects.clear();
    }

    fn stop_all(&mut self) {
        for i in (0..self.slots.len()).rev() {
            self.close_slot(i, false);
        }
        self.slots.clear();
        self.by_id.clear();
        self.queue.clear();
        if let Err(e) = self.shared.context.flush_all() {
            tracing::error!("Flushing context failed: {e}.");
        }
        self.shared
            .publish(RuntimeEvent::FlowsState { state: "stop" });
    }

    fn deploy(&mut self, mut req: DeployRequest) -> Result<DeployReport, FlowsError> {
        let share = matches!(req.kind, DeployKind::Full | DeployKind::Reload);
        let plan = plan::build_plan(
            &req.flows,
            share,
            &req.credentials,
            &self.registry,
            &self.shared.env_root,
        )?;
        if !plan.missing.is_empty() {
            return Err(FlowsError::MissingTypes(plan.missing));
        }
        // Nothing below rejects the flows.
        if let Some(accepted) = req.accepted.take() {
            let _ = accepted.send(());
        }
        // Decide what survives.
        let new_digests: HashMap<&str, (&str, &str)> = plan
            .nodes
            .iter()
            .map(|n| (&*n.cfg.id, (n.digest.as_str(), &*n.tab)))
            .collect();
        let changed_tabs: HashSet<Str> = match req.kind {
            DeployKind::Flows => {
                let mut t = HashSet::new();
                for s in &self.slots {
                    if new_digests.get(&*s.info.id).map(|(d, _)| *d) != Some(s.digest.as_str()) {
                        t.insert(s.tab.clone());
                    }
                }
                for n in &plan.nodes {
                    if !self.by_id.contains_key(&n.cfg.id) {
                        t.insert(n.tab.clone());
                    }
                }
                t
            }
            _ => HashSet::new(),
        };
        let keep = |s: &Slot| -> bool {
            let same = new_digests.get(&*s.info.id).map(|(d, _)| *d) == Some(s.digest.as_str());
            match req.kind {
                DeployKind::Full | DeployKind::Reload => false,
                DeployKind::Nodes => same,
                DeployKind::Flows => same && !changed_tabs.contains(&s.tab),
            }
        };
        let mut kept: HashMap<Str, Slot> = HashMap::new();
        let old: Vec<Slot> = std::mem::take(&mut self.slots);
        self.by_id.clear();
        self.queue.clear();
        let mut to_close = Vec::new();
        for s in old {
            if keep(&s) {
                kept.insert(s.info.id.clone(), s);
            } else {
                to_close.push(s);
            }
        }
        // A kept node that names a config node being rebuilt is rebuilt too
        // (Node-RED's diffConfigs marks the users of a changed config node
        // as changed); repeat for config nodes naming config nodes.
        let config_ids: HashSet<Str> = plan
            .nodes
            .iter()
            .filter(|n| n.is_config)
            .map(|n| n.cfg.id.clone())
            .collect();
        loop {
            let rebuilt: HashSet<&str> = config_ids
                .iter()
                .filter(|id| !kept.contains_key(*id))
                .map(|id| &**id)
                .collect();
            let stale: Vec<Str> =
                kept.values()
                    .filter(|s| {
                        s.info.config.raw.iter().any(|(k, v)| {
                            k != "id" && v.as_str().is_some_and(|x| rebuilt.contains(x))
                        })
                    })
                    .map(|s| s.info.id.clone())
                    .collect();
            if stale.is_empty() {
                break;
            }
            for id in stale {
                if let Some(s) = kept.remove(&id) {
                    to_close.push(s);
                }
            }
        }
        // Close the nodes that go, newest first as Node-RED stops them.
        self.slots = to_close;
        for i in (0..self.slots.len()).rev() {
            let removed = !new_digests.contains_key(&*self.slots[i].info.id);
            self.close_slot(i, removed);
        }
        self.slots.clear();
        let report = self.install(plan, kept);
        self.shared
            .publish(RuntimeEvent::FlowsState { state: "start" });
        Ok(report)
    }

    fn install(&mut self, mut plan: Plan, mut kept: HashMap<Str, Slot>) -> DeployReport {
        let mut report = DeployReport::default();
        let mut fresh: Vec<usize> = Vec::new();
        let mut configs: HashMap<Str, Arc<dyn Any + Send + Sync>> = HashMap::new();
        for s in kept.values() {
            if let Some(h) = &s.shared_handle {
                configs.insert(s.info.id.clone(), h.clone());
            }
        }
        // Config nodes first, then flow nodes, in flows.json order. Config
        // nodes that name another config node (mqtt-broker -> tls-config)
        // come after those that do not, so the one they name is built.
        let order = install_order(&plan.nodes);
        // Each planned node moves into its slot (its configuration is not
        // copied again); `order` names every index once.
        let mut planned: Vec<Option<plan::PlannedNode>> = std::mem::take(&mut plan.nodes)
            .into_iter()
            .map(Some)
            .collect();
        for i in order {
            let Some(p) = planned.get_mut(i).and_then(Option::take) else {
                continue;
            };
            if let Some(s) = kept.remove(&p.cfg.id) {
                report.kept += 1;
                self.by_id.insert(s.info.id.clone(), self.slots.len());
                self.slots.push(Slot {
                    wire_ids: p.wires,
                    ..s
                });
                continue;
            }
            let context_scope =
                NodeInfo::context_scope_of(&p.cfg.id, p.cfg.alias.as_deref(), &p.cfg.z);
            let info = Arc::new(NodeInfo {
                id: p.cfg.id.clone(),
                type_name: p.cfg.type_name.clone(),
                name: p.cfg.name.clone(),
                z: p.cfg.z.clone(),
                g: p.g,
                alias: p.cfg.alias.clone(),
                path: p.path,
                flow: p.flow,
                env: p.env,
                config: p.cfg,
                instance: INSTANCE.fetch_add(1, Ordering::Relaxed),
                context_scope,
            });
            let cfg = &info.config;
            let built: Result<Box<dyn Node>, ConfigError> = match &p.builtin {
                Some(Builtin::SubflowInstance) => {
                    Ok(Box::new(super::subflow_port::SubflowInstance))
                }
                None => match self.registry.get(&cfg.type_name) {
                    Some(t) => {
                        let lookup = |id: &str| configs.get(id).cloned();
                        let bcx = BuildCtx {
                            info: &info,
                            shared: &self.shared,
                            configs: &lookup,
                            credentials: p.credentials.as_ref(),
                        };
                        t.build(cfg, &bcx)
                    }
                    None => Err(ConfigError::field(
                        "type",
                        format!("unknown type {}", cfg.type_name),
                    )),
                },
            };
            let node = match built {
                Ok(n) => Some(n),
                Err(mut e) => {
                    e.node_id = cfg.id.to_string();
                    e.node_type = cfg.type_name.to_string();
                    tracing::error!("{e}");
                    self.shared.log(&info, LogLevel::Error, &e.to_string());
                    report.errors.push(e);
                    None
                }
            };
            let shared_handle = node.as_ref().and_then(|n| n.shared());
            if let Some(h) = &shared_handle {
                configs.insert(info.id.clone(), h.clone());
            }
            if node.is_some() {
                fresh.push(self.slots.len());
            }
            self.by_id.insert(info.id.clone(), self.slots.len());
            self.slots.push(Slot {
                info,
                node,
                wires: vec![],
                wire_ids: p.wires,
                tasks: vec![],
                status: None,
                shared_handle,
                digest: p.digest,
                tab: p.tab,
                watched: false,
            });
        }
        // Resolve wires to slot indices (wires to missing or disabled nodes drop).
        for i in 0..self.slots.len() {
            let wires: Vec<Vec<usize>> = self.slots[i]
                .wire_ids
                .iter()
                .map(|port| {
                    port.iter()
                        .filter_map(|id| self.by_id.get(id).copied())
                        .collect()
                })
                .collect();
            self.slots[i].wires = wires;
        }
        self.build_routes(&plan);
        *self.shared.directory.write() = self
            .slots
            .iter()
            .filter(|s| s.node.is_some())
            .map(|s| {
                (
                    s.info.type_name.clone(),
                    s.info.id.clone(),
                    s.info.name.clone(),
                )
            })
            .collect();
        report.started = fresh.len();
        for i in fresh {
            if let Some((Err(e), _)) = self.hook(i, None, |n, cx| n.start(cx)) {
                self.effects.push(Effect::Error(e, None));
            }
            self.apply(i);
        }
        report
    }

    fn build_routes(&mut self, plan: &Plan) {
        let mut routes = Routes {
            groups: plan.groups.clone(),
            ..Routes::default()
        };
        for f in &plan.flows {
            let parent = f.parent.as_ref().map(|p| p.id.clone());
            let instance_slot = f
                .subflow_instance
                .as_ref()
                .and_then(|id| self.by_id.get(id).copied());
            routes.flows.insert(
                f.id.clone(),
                FlowRoutes {
                    parent,
                    instance_slot,
                    ..FlowRoutes::default()
                },
            );
        }
        for (i, s) in self.slots.iter().enumerate() {
            let ty = &*s.info.type_name;
            if !matches!(ty, "catch" | "status" | "complete") || s.node.is_none() {
                continue;
            }
            let raw = &s.info.config.raw;
            let scope = match raw.get("scope") {
                Some(serde_json::Value::Array(ids)) => {
                    let prefix = s
                        .info
                        .alias
                        .as_ref()
                        .and_then(|a| s.info.id.strip_suffix(&**a));
                    Scope::Nodes(
                        ids.iter()
                            .filter_map(|v| v.as_str())
                            .map(|x| match prefix {
                                Some(p) => Str::from(format!("{p}{x}")),
                                None => Str::from(x),
                            })
                            .collect(),
                    )
                }
                Some(serde_json::Value::String(g)) if g == "group" => Scope::Group,
                _ => Scope::All,
            };
            if ty == "complete" {
                if let Scope::Nodes(ids) = &scope {
                    for id in ids {
                        routes.complete.entry(id.clone()).or_default().push(i);
                    }
                }
                continue;
            }
            let uncaught = raw
                .get("uncaught")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            let l = Listener {
                slot: i,
                scope,
                uncaught,
                g: s.info.g.clone(),
            };
            if let Some(fr) = routes.flows.get_mut(&s.info.z) {
                if ty == "catch" {
                    fr.catch.push(l);
                } else {
                    fr.status.push(l);
                }
            }
        }
        for s in self.slots.iter_mut() {
            s.watched = routes.complete.contains_key(&s.info.id);
        }
        self.routes = routes;
    }
}

/// The order nodes are built in, as indices into `nodes`: config nodes
/// that name no other config node, then those that do (an mqtt-broker
/// naming a tls-config, so the one named is built first), then flow nodes,
/// each group in flows.json order.
fn install_order(nodes: &[plan::PlannedNode]) -> Vec<usize> {
    let config_ids: HashSet<&str> = nodes
        .iter()
        .filter(|n| n.is_config)
        .map(|n| &*n.cfg.id)
        .collect();
    let names_config = |n: &plan::PlannedNode| {
        n.cfg
            .raw
            .iter()
            .any(|(k, v)| k != "id" && v.as_str().is_some_and(|s| config_ids.contains(s)))
    };
    let rank = |n: &plan::PlannedNode| -> u8 {
        match (n.is_config, n.is_config && names_config(n)) {
            (true, false) => 0,
            (true, true) => 1,
            (false, _) => 2,
        }
    };
    let ranks: Vec<u8> = nodes.iter().map(rank).collect();
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    // Stable: flows.json order is kept within each rank.
    order.sort_by_key(|&i| ranks[i]);
    order
}
