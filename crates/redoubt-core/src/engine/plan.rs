//! Turns a flows.json array into a deploy plan: tabs and subflow instances
//! become flows, subflow definitions are expanded per instance (ids become
//! `instance-original`, as Node-RED does), link out nodes get their wires,
//! `${VAR}` properties are substituted, and env entries are evaluated.

use super::env::EnvScope;
use super::info::FlowInfo;
use crate::node::{NodeConfig, Raw, Registry};
use crate::value::{Str, Value};
use indexmap::IndexMap;
use serde_json::{Map, Value as Json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Node-RED's deployment types (`Node-RED-Deployment-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployKind {
    /// Stop everything, start everything.
    Full,
    /// Restart only the nodes that changed.
    Nodes,
    /// Restart only the flows (tabs) that changed.
    Flows,
    /// Reload from storage: same as full.
    Reload,
}

impl DeployKind {
    /// Parses the header value; unknown values are `Full`, as in Node-RED.
    pub fn from_header(s: &str) -> DeployKind {
        match s {
            "nodes" => DeployKind::Nodes,
            "flows" => DeployKind::Flows,
            "reload" => DeployKind::Reload,
            _ => DeployKind::Full,
        }
    }
}

/// Why flows could not be deployed. The running flows are untouched.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FlowsError {
    /// The flows are not structurally valid.
    #[error("invalid flows: {0}")]
    Invalid(String),
    /// Some node types are not implemented.
    #[error("missing node types: {}", .0.join(", "))]
    MissingTypes(Vec<String>),
    /// The engine has stopped.
    #[error("the runtime is stopped")]
    Stopped,
}

pub(crate) struct DeployRequest {
    pub(crate) flows: Arc<Vec<Json>>,
    pub(crate) credentials: Map<String, Json>,
    pub(crate) kind: DeployKind,
    /// Told once the flows are known to be valid (see
    /// [`super::Engine::deploy_accepting`]); dropped unsent on rejection.
    pub(crate) accepted: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Engine-provided node kinds that have no flows.json type of their own.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Builtin {
    /// A subflow instance: forwards input to the subflow's input wires.
    SubflowInstance,
}

pub(crate) struct PlannedNode {
    pub(crate) cfg: NodeConfig,
    pub(crate) flow: Arc<FlowInfo>,
    pub(crate) env: Arc<EnvScope>,
    pub(crate) g: Option<Str>,
    pub(crate) wires: Vec<Vec<Str>>,
    pub(crate) is_config: bool,
    pub(crate) builtin: Option<Builtin>,
    /// What decides "changed" for partial deploys.
    pub(crate) digest: String,
    /// The top-level tab this node belongs to (for `flows` deploys).
    pub(crate) tab: Str,
    pub(crate) path: String,
    pub(crate) credentials: Option<Map<String, Json>>,
}

pub(crate) struct Plan {
    pub(crate) nodes: Vec<PlannedNode>,
    pub(crate) flows: Vec<Arc<FlowInfo>>,
    /// group id -> (parent group id, flow id)
    pub(crate) groups: HashMap<Str, Option<Str>>,
    pub(crate) missing: Vec<String>,
}

impl<'a> Ctx<'a> {
    /// The deployed array and `n`'s index in it, when nodes share it.
    fn shared_at(&self, n: &Map<String, Json>) -> Option<(&'a Arc<Vec<Json>>, usize)> {
        let source = self.source?;
        let id = n.get("id").and_then(Json::as_str)?;
        Some((source, *self.index.get(id)?))
    }
}

/// A string property's text, or "" when it is missing or not a string.
fn s(v: Option<&Json>) -> &str {
    match v {
        Some(Json::String(s)) => s,
        _ => "",
    }
}

fn has_xy(n: &Map<String, Json>) -> bool {
    n.contains_key("x") && n.contains_key("y")
}

struct Ctx<'a> {
    registry: &'a Registry,
    /// The deployed array, when nodes may read their properties in place
    /// (see [`config_from`]), and each node's index in it by id.
    source: Option<&'a Arc<Vec<Json>>>,
    index: HashMap<&'a str, usize>,
    subflows: HashMap<String, &'a Map<String, Json>>,
    by_z: HashMap<String, Vec<&'a Map<String, Json>>>,
    creds: &'a Map<String, Json>,
    out: Vec<PlannedNode>,
    flows: Vec<Arc<FlowInfo>>,
    groups: HashMap<Str, Option<Str>>,
    missing: Vec<String>,
    depth: usize,
}

/// Builds the plan. `Err` only for structural problems. With `share`, the
/// nodes the engine runs unchanged read their properties from `flows` in
/// place instead of each getting a copy: a full deploy, where the array is
/// the one deployed, and not a partial one, where the kept nodes would pin
/// each earlier array.
pub(crate) fn build_plan(
    flows: &Arc<Vec<Json>>,
    share: bool,
    creds: &Map<String, Json>,
    registry: &Registry,
    env_root: &Arc<EnvScope>,
) -> Result<Plan, FlowsError> {
    let mut ids = HashSet::new();
    let mut nodes = Vec::with_capacity(flows.len());
    let mut index = HashMap::new();
    for (i, n) in flows.iter().enumerate() {
        let Json::Object(m) = n else {
            return Err(FlowsError::Invalid(format!("item {i} is not an object")));
        };
        let id = match m.get("id") {
            Some(Json::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                return Err(FlowsError::Invalid(format!(
                    "item {i} has no string \"id\""
                )));
            }
        };
        if !matches!(m.get("type"), Some(Json::String(_))) {
            return Err(FlowsError::Invalid(format!(
                "node {id} has no string \"type\""
            )));
        }
        if !ids.insert(id.clone()) {
            return Err(FlowsError::Invalid(format!("duplicate node id {id}")));
        }
        if share && let Some(Json::String(id)) = m.get("id") {
            index.insert(id.as_str(), i);
        }
        nodes.push(m);
    }
    let mut cx = Ctx {
        registry,
        source: share.then_some(flows),
        index,
        subflows: HashMap::new(),
        by_z: HashMap::new(),
        creds,
        out: Vec::new(),
        flows: Vec::new(),
        groups: HashMap::new(),
        missing: Vec::new(),
        depth: 0,
    };
    let mut tabs = Vec::new();
    let mut globals = Vec::new();
    for n in &nodes {
        let ty = s(n.get("type"));
        match ty {
            "tab" => tabs.push(*n),
            "subflow" => {
                cx.subflows.insert(s(n.get("id")).to_string(), *n);
            }
            _ => {
                let z = s(n.get("z"));
                if z.is_empty() {
                    globals.push(*n);
                } else {
                    cx.by_z.entry(z.to_string()).or_default().push(*n);
                }
            }
        }
    }
    // Nodes whose z names no tab or subflow get an implicit tab, as in Node-RED.
    let known: HashSet<&str> = tabs
        .iter()
        .map(|t| s(t.get("id")))
        .chain(cx.subflows.keys().map(String::as_str))
        .collect();
    let mut implicit: Vec<Map<String, Json>> = Vec::new();
    for z in cx.by_z.keys() {
        if !known.contains(z.as_str()) {
            let mut t = Map::new();
            t.insert("id".into(), Json::String(z.clone()));
            t.insert("type".into(), Json::String("tab".into()));
            implicit.push(t);
        }
    }
    check_types(&mut cx, &nodes);
    // Global config nodes live in a pseudo-flow named "global".
    let global_flow = Arc::new(FlowInfo {
        id: Str::from("global"),
        label: Str::from("global"),
        context_scopes: Arc::new(vec![]),
        path: String::new(),
        subflow_instance: None,
        parent: None,
    });
    for n in &globals {
        if s(n.get("type")) == "group" {
            continue;
        }
        if n.get("d").and_then(Json::as_bool) == Some(true) {
            continue;
        }
        let cfg = config_from(n, None, env_root, None, cx.shared_at(n));
        let digest = node_json(n);
        let creds = cx.creds.get(&*cfg.id).and_then(Json::as_object).cloned();
        cx.out.push(PlannedNode {
            cfg,
            flow: global_flow.clone(),
            env: env_root.clone(),
            g: None,
            wires: vec![],
            is_config: true,
            builtin: None,
            digest,
            tab: Str::from("global"),
            path: String::new(),
            credentials: creds,
        });
    }
    let implicit_refs: Vec<&Map<String, Json>> = implicit.iter().collect();
    for t in tabs.iter().copied().chain(implicit_refs) {
        if t.get("disabled").and_then(Json::as_bool) == Some(true) {
            continue;
        }
        let id = Str::from(s(t.get("id")));
        let label = Str::from(s(t.get("label")));
        let mut builtins = IndexMap::new();
        builtins.insert("NR_FLOW_NAME", Value::String(label.clone()));
        builtins.insert("NR_FLOW_ID", Value::String(id.clone()));
        let vars = eval_env_list(t.get("env"), env_root, cx.creds.get(&*id));
        let env = EnvScope::child(env_root, vars, builtins);
        let flow = Arc::new(FlowInfo {
            id: id.clone(),
            label,
            context_scopes: Arc::new(vec![id.to_string()]),
            path: id.to_string(),
            subflow_instance: None,
            parent: None,
        });
        cx.flows.push(flow.clone());
        let env_digest = t.get("env").map(|e| e.to_string()).unwrap_or_default();
        let members = cx.by_z.get(&*id).cloned().unwrap_or_default();
        expand(
            &mut cx,
            &members,
            &flow,
            &env,
            None,
            &env_digest,
            &id,
            &HashMap::new(),
        )?;
    }
    Ok(Plan {
        nodes: cx.out,
        flows: cx.flows,
        groups: cx.groups,
        missing: cx.missing,
    })
}

fn check_types(cx: &mut Ctx<'_>, nodes: &[&Map<String, Json>]) {
    for n in nodes {
        let ty = s(n.get("type"));
        if matches!(ty, "tab" | "subflow" | "group") {
            continue;
        }
        let known = match ty.strip_prefix("subflow:") {
            Some(sf) => cx.subflows.contains_key(sf),
            None => cx.registry.get(ty).is_some(),
        };
        if !known && !cx.missing.iter().any(|m| m == ty) {
            cx.missing.push(ty.to_string());
        }
    }
}

/// Evaluates a tab/group/subflow `env` list in the parent scope.
fn eval_env_list(
    list: Option<&Json>,
    parent: &Arc<EnvScope>,
    creds: Option<&Json>,
) -> IndexMap<String, Value> {
    let mut vars = IndexMap::new();
    let Some(Json::Array(items)) = list else {
        return vars;
    };
    for it in items {
        let name = s(it.get("name"));
        if name.is_empty() {
            continue;
        }
        let ty = s(it.get("type"));
        let raw = it.get("value").cloned().unwrap_or(Json::Null);
        let text = match &raw {
            Json::String(s) => s.clone(),
            Json::Null => String::new(),
            other => other.to_string(),
        };
        let v = match ty {
            "num" => Value::Number(
                crate::value::from_json_str(&text)
                    .ok()
                    .map(|v| v.to_number())
                    .unwrap_or_else(|| Value::str(&text).to_number()),
            ),
            "bool" => Value::Bool(text == "true"),
            "json" => crate::value::from_json_str(&text).unwrap_or_else(|_| Value::str(&text)),
            "env" => {
                // An env-typed entry names another variable of the parent (with ${} allowed).
                if text.contains("${") {
                    Value::from(super::env::substitute(&text, |k| parent.get(k, None)))
                } else {
                    parent.get(&text, None).unwrap_or_default()
                }
            }
            "cred" => creds
                .and_then(|c| c.get(name))
                .map(crate::value::from_serde)
                .unwrap_or_default(),
            "jsonata" => {
                crate::expr::jsonata::eval_env_expression(&text, parent).unwrap_or_default()
            }
            "bin" => crate::typed::parse_bin(&text).unwrap_or_default(),
            _ => Value::str(&text),
        };
        vars.insert(name.to_string(), v);
    }
    vars
}

/// The env scope of a node: its groups' scopes over the flow scope.
fn group_env(
    cx: &mut Ctx<'_>,
    g: Option<&str>,
    members: &[&Map<String, Json>],
    flow_env: &Arc<EnvScope>,
    cache: &mut HashMap<String, Arc<EnvScope>>,
    prefix: Option<&str>,
) -> Arc<EnvScope> {
    let Some(g) = g else { return flow_env.clone() };
    if let Some(e) = cache.get(g) {
        return e.clone();
    }
    let group = members
        .iter()
        .find(|n| s(n.get("id")) == g && s(n.get("type")) == "group")
        .copied();
    let Some(group) = group else {
        return flow_env.clone();
    };
    let parent_g = group.get("g").and_then(Json::as_str).map(str::to_string);
    let parent = group_env(cx, parent_g.as_deref(), members, flow_env, cache, prefix);
    let mut builtins = IndexMap::new();
    builtins.insert("NR_GROUP_NAME", Value::str(s(group.get("name"))));
    builtins.insert("NR_GROUP_ID", Value::str(&map_id(prefix, g)));
    let vars = eval_env_list(group.get("env"), &parent, cx.creds.get(g));
    let e = EnvScope::child(&parent, vars, builtins);
    cx.groups.insert(
        Str::from(map_id(prefix, g)),
        parent_g.map(|p| Str::from(map_id(prefix, &p))),
    );
    cache.insert(g.to_string(), e.clone());
    e
}

fn map_id(prefix: Option<&str>, id: &str) -> String {
    match prefix {
        Some(p) => format!("{p}-{id}"),
        None => id.to_string(),
    }
}

/// A node's JSON text (its digest: a node whose text is unchanged keeps
/// running), written from the borrowed map rather than a clone of it.
fn node_json(n: &Map<String, Json>) -> String {
    // Serializing a map of JSON values cannot fail: its keys are strings and
    // every value is JSON already.
    serde_json::to_string(n).unwrap_or_default()
}

/// Builds a NodeConfig with ids mapped and `${VAR}` properties substituted.
/// A node the engine runs as flows.json gives it (not inside a subflow
/// instance, no property substituted) reads its properties in place from
/// `shared`, the deployed array and the node's index in it, when given.
fn config_from(
    n: &Map<String, Json>,
    prefix: Option<&str>,
    env: &Arc<EnvScope>,
    z: Option<&str>,
    shared: Option<(&Arc<Vec<Json>>, usize)>,
) -> NodeConfig {
    let orig = s(n.get("id"));
    let id = map_id(prefix, orig);
    let name = s(n.get("name"));
    let info_for_env = (name.to_string(), id);
    // Checked only where the node could share (full deploys): the scan
    // looks up every `${VAR}`.
    let unchanged = || {
        prefix.is_none()
            && z.is_none_or(|z| n.get("z").and_then(Json::as_str) == Some(z))
            && !n
                .iter()
                .any(|(k, v)| substitutable(k) && needs_env(v, env, &info_for_env))
    };
    let raw = match shared.filter(|_| unchanged()) {
        Some((flows, index)) => Raw::shared(flows.clone(), index),
        None => {
            let mut raw = n.clone();
            raw.insert("id".into(), Json::String(info_for_env.1.clone()));
            if let Some(z) = z {
                raw.insert("z".into(), Json::String(z.to_string()));
            }
            for (k, v) in raw.iter_mut() {
                if substitutable(k) {
                    map_env_props(v, env, &info_for_env);
                }
            }
            Raw::from(raw)
        }
    };
    let (name, id) = info_for_env;
    NodeConfig {
        id: Str::from(id),
        type_name: Str::from(s(n.get("type"))),
        name: Str::from(name),
        z: Str::from(z.unwrap_or_else(|| s(n.get("z")))),
        alias: prefix.map(|_| Str::from(orig)),
        raw,
    }
}

/// Whether `${VAR}` substitution applies to property `key`.
fn substitutable(key: &str) -> bool {
    !matches!(key, "id" | "type" | "z" | "g" | "wires" | "x" | "y")
}

/// `mapEnvVarProperties`: a whole string `${VAR}` (or `$(VAR)`) becomes the
/// variable's value when it is defined.
fn map_env_props(v: &mut Json, env: &Arc<EnvScope>, node: &(String, String)) {
    match v {
        Json::String(text) => {
            if let Some(val) = env_value(text, env, node) {
                *v = val;
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|i| map_env_props(i, env, node)),
        Json::Object(m) => m.values_mut().for_each(|i| map_env_props(i, env, node)),
        _ => {}
    }
}

/// Whether [`map_env_props`] would change `v`.
fn needs_env(v: &Json, env: &Arc<EnvScope>, node: &(String, String)) -> bool {
    match v {
        Json::String(text) => env_value(text, env, node).is_some(),
        Json::Array(items) => items.iter().any(|i| needs_env(i, env, node)),
        Json::Object(m) => m.values().any(|i| needs_env(i, env, node)),
        _ => false,
    }
}

/// The value a whole-string `${VAR}` or `$(VAR)` stands for, when defined.
fn env_value(text: &str, env: &Arc<EnvScope>, node: &(String, String)) -> Option<Json> {
    let whole = (text.starts_with("${") && text.ends_with('}'))
        || (text.starts_with("$(") && text.ends_with(')'));
    let name = whole.then(|| &text[2..text.len() - 1])?;
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return None;
    }
    let val = match name {
        "NR_NODE_NAME" => Some(Value::str(&node.0)),
        "NR_NODE_ID" => Some(Value::str(&node.1)),
        _ => env.get(name, None),
    };
    val.filter(|v| !v.is_undefined())
        .map(|v| crate::value::to_serde(&v))
}

fn wires_of(n: &Map<String, Json>, prefix: Option<&str>) -> Vec<Vec<Str>> {
    let Some(Json::Array(ports)) = n.get("wires") else {
        return vec![];
    };
    ports
        .iter()
        .map(|p| match p {
            Json::Array(ts) => ts
                .iter()
                .filter_map(Json::as_str)
                .map(|t| Str::from(map_id(prefix, t)))
                .collect(),
            _ => vec![],
        })
        .collect()
}

/// Expands the members of one flow (a tab, or a subflow definition for one instance).
#[allow(clippy::too_many_arguments)]
fn expand(
    cx: &mut Ctx<'_>,
    members: &[&Map<String, Json>],
    flow: &Arc<FlowInfo>,
    flow_env: &Arc<EnvScope>,
    prefix: Option<&str>,
    env_digest: &str,
    tab: &Str,
    // internal id (subflow definition) -> extra wires per port, for subflow outputs
    extra: &HashMap<String, Vec<(usize, Vec<Str>)>>,
) -> Result<(), FlowsError> {
    cx.depth += 1;
    if cx.depth > 32 {
        return Err(FlowsError::Invalid(format!(
            "subflows nested too deeply in {}",
            flow.id
        )));
    }
    let mut genv_cache = HashMap::new();
    let config_ids: HashSet<&str> = members
        .iter()
        .filter(|n| !has_xy(n) && s(n.get("type")) != "group")
        .map(|n| s(n.get("id")))
        .collect();
    // link wiring: link out -> link in targets, from both sides
    let mut link_targets: HashMap<String, Vec<String>> = HashMap::new();
    for n in members {
        let ty = s(n.get("type"));
        let id = s(n.get("id"));
        let links: Vec<String> = n
            .get("links")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Json::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        if ty == "link out" {
            let e = link_targets.entry(id.to_string()).or_default();
            for l in links {
                if !e.contains(&l) {
                    e.push(l);
                }
            }
        } else if ty == "link in" {
            for l in links {
                let e = link_targets.entry(l).or_default();
                if !e.iter().any(|x| x == id) {
                    e.push(id.to_string());
                }
            }
        }
    }
    // link in nodes on other tabs are wired from the global view too
    for (lo, targets) in collect_cross_links(cx, members) {
        let e = link_targets.entry(lo).or_default();
        for t in targets {
            if !e.contains(&t) {
                e.push(t);
            }
        }
    }
    for n in members {
        let ty = s(n.get("type"));
        if ty == "group" {
            let _ = group_env(
                cx,
                Some(s(n.get("id"))),
                members,
                flow_env,
                &mut genv_cache,
                prefix,
            );
            continue;
        }
        if n.get("d").and_then(Json::as_bool) == Some(true) {
            continue;
        }
        let orig = s(n.get("id"));
        let g = n.get("g").and_then(Json::as_str).map(str::to_string);
        let env = group_env(cx, g.as_deref(), members, flow_env, &mut genv_cache, prefix);
        let mut cfg = config_from(n, prefix, &env, Some(&flow.id), cx.shared_at(n));
        if prefix.is_some() {
            // References to config nodes of the subflow definition point at this instance's copies.
            for (k, v) in cfg.raw.iter_mut() {
                if k == "id" {
                    continue;
                }
                if let Json::String(sv) = v
                    && config_ids.contains(sv.as_str())
                {
                    *v = Json::String(map_id(prefix, sv));
                }
            }
        }
        let mut digest = node_json(n);
        digest.push('|');
        digest.push_str(env_digest);
        let path = format!("{}/{}", flow.path, orig);
        let creds = cx
            .creds
            .get(&*cfg.id)
            .or_else(|| cx.creds.get(orig))
            .and_then(Json::as_object)
            .cloned();
        if !has_xy(n) {
            // Node-RED treats a node without x/y as a config node, but still
            // creates it with its wires (so an http-in without a position works).
            cx.out.push(PlannedNode {
                cfg,
                flow: flow.clone(),
                env,
                g: g.map(|g| Str::from(map_id(prefix, &g))),
                wires: wires_of(n, prefix),
                is_config: true,
                builtin: None,
                digest,
                tab: tab.clone(),
                path,
                credentials: creds,
            });
            continue;
        }
        let mut wires = if ty == "link out" && s(n.get("mode")) != "return" {
            vec![
                link_targets
                    .get(orig)
                    .map(|t| t.iter().map(|x| Str::from(map_id(prefix, x))).collect())
                    .unwrap_or_default(),
            ]
        } else {
            wires_of(n, prefix)
        };
        if let Some(ex) = extra.get(orig) {
            for (port, targets) in ex {
                while wires.len() <= *port {
                    wires.push(vec![]);
                }
                wires[*port].extend(targets.iter().cloned());
            }
        }
        if let Some(sf) = ty.strip_prefix("subflow:") {
            expand_instance(cx, n, sf, cfg, flow, &env, wires, prefix, tab, g, path)?;
            continue;
        }
        cx.out.push(PlannedNode {
            cfg,
            flow: flow.clone(),
            env,
            g: g.map(|g| Str::from(map_id(prefix, &g))),
            wires,
            is_config: false,
            builtin: None,
            digest,
            tab: tab.clone(),
            path,
            credentials: creds,
        });
    }
    cx.depth -= 1;
    Ok(())
}

/// Link in nodes anywhere that list a link out of these members.
fn collect_cross_links(cx: &Ctx<'_>, members: &[&Map<String, Json>]) -> Vec<(String, Vec<String>)> {
    let outs: HashSet<&str> = members
        .iter()
        .filter(|n| s(n.get("type")) == "link out")
        .map(|n| s(n.get("id")))
        .collect();
    if outs.is_empty() {
        return vec![];
    }
    let mut res: HashMap<String, Vec<String>> = HashMap::new();
    for list in cx.by_z.values() {
        for n in list {
            if s(n.get("type")) != "link in" {
                continue;
            }
            let id = s(n.get("id"));
            for l in n
                .get("links")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
            {
                if outs.contains(l) {
                    res.entry(l.to_string()).or_default().push(id.to_string());
                }
            }
        }
    }
    res.into_iter().collect()
}

#[allow(clippy::too_many_arguments)]
fn expand_instance(
    cx: &mut Ctx<'_>,
    inst: &Map<String, Json>,
    sf_id: &str,
    cfg: NodeConfig,
    parent_flow: &Arc<FlowInfo>,
    parent_env: &Arc<EnvScope>,
    wires: Vec<Vec<Str>>,
    _prefix: Option<&str>,
    tab: &Str,
    g: Option<String>,
    path: String,
) -> Result<(), FlowsError> {
    let Some(def) = cx.subflows.get(sf_id).copied() else {
        return Err(FlowsError::MissingTypes(vec![format!("subflow:{sf_id}")]));
    };
    let inst_id = cfg.id.clone();
    // env: definition defaults, overridden by the instance
    let mut env_list: Vec<Json> = def
        .get("env")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(Json::Array(over)) = inst.get("env") {
        for o in over {
            let name = s(o.get("name"));
            if let Some(slot) = env_list.iter_mut().find(|e| s(e.get("name")) == name) {
                *slot = o.clone();
            } else {
                env_list.push(o.clone());
            }
        }
    }
    let name = s(inst.get("name"));
    let mut builtins = IndexMap::new();
    builtins.insert("NR_SUBFLOW_NAME", Value::str(name));
    builtins.insert("NR_SUBFLOW_ID", Value::String(inst_id.clone()));
    builtins.insert("NR_SUBFLOW_PATH", Value::str(&path));
    let vars = eval_env_list(
        Some(&Json::Array(env_list.clone())),
        parent_env,
        cx.creds.get(&*inst_id),
    );
    let env = EnvScope::child(parent_env, vars, builtins);
    let mut scopes = vec![inst_id.to_string()];
    scopes.extend(parent_flow.context_scopes.iter().cloned());
    let flow = Arc::new(FlowInfo {
        id: inst_id.clone(),
        label: Str::from(s(def.get("name"))),
        context_scopes: Arc::new(scopes),
        path: path.clone(),
        subflow_instance: Some(inst_id.clone()),
        parent: Some(parent_flow.clone()),
    });
    cx.flows.push(flow.clone());
    // Output ports: internal node ports that feed subflow output k.
    let mut extra: HashMap<String, Vec<(usize, Vec<Str>)>> = HashMap::new();
    let mut instance_wires: Vec<Str> = Vec::new();
    let outs = def
        .get("out")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let mut add = |src: String, port: usize, targets: &[Str], inst_wires: &mut Vec<Str>| {
        if src == sf_id {
            inst_wires.extend(targets.iter().cloned());
        } else {
            extra.entry(src).or_default().push((port, targets.to_vec()));
        }
    };
    for (k, o) in outs.iter().enumerate() {
        let targets = wires.get(k).cloned().unwrap_or_default();
        for w in o
            .get("wires")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let port = w.get("port").and_then(Json::as_u64).unwrap_or(0) as usize;
            add(
                s(w.get("id")).to_string(),
                port,
                &targets,
                &mut instance_wires,
            );
        }
    }
    if let Some(st) = def.get("status") {
        let targets = wires.get(outs.len()).cloned().unwrap_or_default();
        for w in st
            .get("wires")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let port = w.get("port").and_then(Json::as_u64).unwrap_or(0) as usize;
            add(
                s(w.get("id")).to_string(),
                port,
                &targets,
                &mut instance_wires,
            );
        }
    }
    // Input: the instance node forwards to the input wires.
    let mut in_targets: Vec<Str> = Vec::new();
    for i in def.get("in").and_then(Json::as_array).into_iter().flatten() {
        for w in i
            .get("wires")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            in_targets.push(Str::from(format!("{inst_id}-{}", s(w.get("id")))));
        }
    }
    in_targets.extend(instance_wires);
    let digest = format!("{}|{}", node_json(inst), node_json(def));
    cx.out.push(PlannedNode {
        cfg,
        flow: parent_flow.clone(),
        env: env.clone(),
        g: g.map(Str::from),
        wires: vec![in_targets],
        is_config: false,
        builtin: Some(Builtin::SubflowInstance),
        digest,
        tab: tab.clone(),
        path: path.clone(),
        credentials: None,
    });
    let members = cx.by_z.get(sf_id).cloned().unwrap_or_default();
    let env_digest = format!("{}|{}", Json::Array(env_list), inst_id);
    expand(
        cx,
        &members,
        &flow,
        &env,
        Some(&inst_id),
        &env_digest,
        tab,
        &extra,
    )
}
