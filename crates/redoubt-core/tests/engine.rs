//! Engine behaviour with small test node types: fan-out copies, cycles,
//! catch/status/complete scoping, subflows, link nodes, partial deploys.

use redoubt_core::Msg;
use redoubt_core::context::ContextManager;
use redoubt_core::engine::{DeployKind, Engine, EngineConfig, RuntimeSettings, Services};
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType, Registry, Status,
};
use redoubt_core::value::Value;
use serde_json::{Value as Json, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

type Tx = mpsc::UnboundedSender<(String, Msg)>;

/// Sends what it receives to the test.
struct SinkType(Tx);
struct Sink(Tx, String);
impl NodeType for SinkType {
    fn type_name(&self) -> &'static str {
        "sink"
    }
    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(Sink(self.0.clone(), cfg.id.to_string())))
    }
}
impl Node for Sink {
    fn on_input(&mut self, msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let _ = self.0.send((self.1.clone(), msg));
        Ok(())
    }
}

/// Sets `payload.by` to its own id (mutating what it received), then forwards.
struct StampType;
struct Stamp;
impl NodeType for StampType {
    fn type_name(&self) -> &'static str {
        "stamp"
    }
    fn build(&self, _cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(Stamp))
    }
}
impl Node for Stamp {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        msg.set_path("payload.by", Value::str(cx.id()))?;
        cx.send(0, msg);
        Ok(())
    }
}

/// Fails with the configured text; sets a status first.
struct FailType;
struct Fail(String);
impl NodeType for FailType {
    fn type_name(&self) -> &'static str {
        "fail"
    }
    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(Fail(cfg.str("text"))))
    }
}
impl Node for Fail {
    fn on_input(&mut self, _msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        cx.status(Status::new("red", "ring", "failing"));
        Err(NodeError::new(self.0.clone()))
    }
}

/// Forwards (used for catch/status/complete/link in/subflow-internal nodes).
struct PassType(&'static str);
struct Pass;
impl NodeType for PassType {
    fn type_name(&self) -> &'static str {
        self.0
    }
    fn build(&self, _cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(Pass))
    }
}
impl Node for Pass {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        cx.send(0, msg);
        Ok(())
    }
}

/// Counts messages in node context (for partial-deploy tests).
struct CountType;
struct Count(u32);
impl NodeType for CountType {
    fn type_name(&self) -> &'static str {
        "count"
    }
    fn build(&self, _cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(Count(0)))
    }
}
impl Node for Count {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        self.0 += 1;
        msg.set("count", Value::Number(f64::from(self.0)));
        cx.send(0, msg);
        Ok(())
    }
}

/// Reports at build time whether its properties are read in place from
/// the deployed array, and its `value` property.
struct ProbeType(Tx);
impl NodeType for ProbeType {
    fn type_name(&self) -> &'static str {
        "probe"
    }
    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let report = json!({"shared": cfg.raw.is_shared(), "value": cfg.str("value")});
        let _ = self
            .0
            .send((format!("built {}", cfg.id), Msg::from_json(&report)));
        Ok(Box::new(Pass))
    }
}

/// Sends what it receives five times through its `NodeHandle`, as a
/// background task does, and reports to the test how many messages the
/// engine's backlog counted right after.
struct EmitType(Tx);
struct Emit(Tx);
impl NodeType for EmitType {
    fn type_name(&self) -> &'static str {
        "emit"
    }
    fn build(&self, _cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        Ok(Box::new(Emit(self.0.clone())))
    }
}
impl Node for Emit {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let h = cx.handle();
        for _ in 0..5 {
            h.send(0, msg.clone());
        }
        let counted = h.backlog().len() as f64;
        let _ = self
            .0
            .send(("counted".into(), Msg::with_payload(Value::Number(counted))));
        Ok(())
    }
}

struct Rig {
    engine: Engine,
    rx: mpsc::UnboundedReceiver<(String, Msg)>,
}

impl Rig {
    fn new() -> Rig {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut reg = Registry::new();
        reg.register(ProbeType(tx.clone()));
        reg.register(EmitType(tx.clone()));
        reg.register(SinkType(tx));
        reg.register(StampType);
        reg.register(FailType);
        reg.register(CountType);
        for t in ["pass", "catch", "status", "complete", "link in", "link out"] {
            reg.register(PassType(t));
        }
        let engine = Engine::start(EngineConfig {
            registry: reg,
            context: ContextManager::default(),
            settings: RuntimeSettings::default(),
            services: Services::new(),
            global_env: Some(Arc::new(|k: &str| {
                (k == "FROM_PROCESS").then(|| "proc".to_string())
            })),
        });
        Rig { engine, rx }
    }

    async fn deploy(&self, nodes: Json, kind: DeployKind) {
        self.engine
            .deploy(with_tab(nodes), serde_json::Map::new(), kind)
            .await
            .expect("deploy");
    }

    async fn next(&mut self) -> (String, Msg) {
        tokio::time::timeout(Duration::from_secs(10), self.rx.recv())
            .await
            .expect("timed out")
            .expect("closed")
    }
}

#[tokio::test]
async fn one_output_to_ten_wires_gives_each_receiver_its_own_copy_10000_times() {
    let mut rig = Rig::new();
    let stamps: Vec<Json> = (0..10)
        .map(|i| json!({"id": format!("s{i}"), "type":"stamp","wires":[["sink"]]}))
        .collect();
    let wires: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    let mut nodes = vec![
        json!({"id":"src","type":"pass","wires":[wires]}),
        json!({"id":"sink","type":"sink"}),
    ];
    nodes.extend(stamps);
    rig.deploy(Json::Array(nodes), DeployKind::Full).await;
    for i in 0..10_000 {
        let m = Msg::from_json(&json!({"payload": {"n": i}}));
        assert!(rig.engine.input("src", m).await);
    }
    let mut seen = std::collections::HashMap::new();
    for _ in 0..100_000 {
        let (_, m) = rig.next().await;
        let by = m
            .get_path("payload.by")
            .expect("path")
            .expect("stamped")
            .to_js_string();
        // Each copy carries exactly the stamp of the node that received it.
        *seen.entry(by).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 10);
    assert!(seen.values().all(|c| *c == 10_000), "{seen:?}");
}

/// Messages a node sends from outside its hooks (`NodeHandle::send`, as
/// network inputs do) count in the engine's backlog until the executor has
/// routed them, and leave it then: the flow control of
/// `redoubt_core::engine::Backlog` sees them, and nothing stays counted.
#[tokio::test]
async fn messages_sent_through_a_handle_count_in_the_backlog_until_routed() {
    let mut rig = Rig::new();
    rig.deploy(
        json!([
            {"id":"e","type":"emit","wires":[["sink"]]},
            {"id":"sink","type":"sink"}
        ]),
        DeployKind::Full,
    )
    .await;
    assert!(
        rig.engine
            .input("e", Msg::with_payload(Value::from("x")))
            .await
    );
    let (what, m) = rig.next().await;
    assert_eq!(what, "counted");
    // Sent from inside a hook, so the executor has routed none of them yet.
    assert!(m.payload().to_number() >= 5.0, "{:?}", m.payload());
    for _ in 0..5 {
        assert_eq!(rig.next().await.0, "sink");
    }
    let backlog = rig.engine.backlog().clone();
    for _ in 0..500 {
        if backlog.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} messages still counted after delivery", backlog.len());
}

#[tokio::test]
async fn the_first_wire_gets_the_original_and_the_others_copies() {
    let mut rig = Rig::new();
    rig.deploy(json!([{"id":"src","type":"pass","wires":[["a","b"]]},{"id":"a","type":"sink"},{"id":"b","type":"sink"}]), DeployKind::Full)
        .await;
    let m = Msg::from_json(&json!({"payload": {"k": 1}}));
    rig.engine.input("src", m.clone()).await;
    let (_, a) = rig.next().await;
    let (_, b) = rig.next().await;
    assert!(a.object().ptr_eq(m.object()));
    assert!(!b.object().ptr_eq(m.object()));
    assert_eq!(a.id(), b.id());
}

#[tokio::test]
async fn a_cycle_delivers_in_fifo_order_without_deadlock() {
    let mut rig = Rig::new();
    // a -> b -> a ... and every pass through b is also sent to the sink.
    rig.deploy(
        json!([{"id":"a","type":"count","wires":[["b"]]},{"id":"b","type":"pass","wires":[["a","sink"]]},{"id":"sink","type":"sink"}]),
        DeployKind::Full,
    )
    .await;
    rig.engine.input("a", Msg::new()).await;
    for _ in 0..1000 {
        rig.next().await;
    }
}

#[tokio::test]
async fn errors_reach_catch_nodes_with_node_reds_shape_and_status_nodes_see_status() {
    let mut rig = Rig::new();
    rig.deploy(
        json!([
            {"id":"f","type":"fail","name":"failer","text":"boom","wires":[[]]},
            {"id":"c","type":"catch","scope":null,"uncaught":false,"wires":[["sink"]]},
            {"id":"st","type":"status","scope":["f"],"wires":[["sink"]]},
            {"id":"sink","type":"sink"}
        ]),
        DeployKind::Full,
    )
    .await;
    rig.engine
        .input("f", Msg::from_json(&json!({"payload": 1})))
        .await;
    let mut got = vec![];
    for _ in 0..2 {
        got.push(rig.next().await.1.to_json());
    }
    let status = got
        .iter()
        .find(|m| m.get("status").is_some())
        .expect("status message");
    assert_eq!(status["status"]["text"], "failing");
    assert_eq!(status["status"]["source"]["id"], "f");
    let err = got
        .iter()
        .find(|m| m.get("error").is_some())
        .expect("error message");
    assert_eq!(err["error"]["message"], "boom");
    assert_eq!(
        err["error"]["source"],
        json!({"id":"f","type":"fail","name":"failer","count":1})
    );
    assert_eq!(err["payload"], 1);
}

#[tokio::test]
async fn uncaught_only_catch_fires_when_no_other_catch_does() {
    let mut rig = Rig::new();
    rig.deploy(
        json!([
            {"id":"f1","type":"fail","text":"one","wires":[[]]},
            {"id":"f2","type":"fail","text":"two","wires":[[]]},
            {"id":"scoped","type":"catch","scope":["f1"],"wires":[["sink"]]},
            {"id":"u","type":"catch","scope":null,"uncaught":true,"wires":[["sink2"]]},
            {"id":"sink","type":"sink"},{"id":"sink2","type":"sink"}
        ]),
        DeployKind::Full,
    )
    .await;
    rig.engine.input("f1", Msg::new()).await;
    let (who, m) = rig.next().await;
    assert_eq!(
        (who.as_str(), m.to_json()["error"]["message"].as_str()),
        ("sink", Some("one"))
    );
    rig.engine.input("f2", Msg::new()).await;
    let (who, m) = rig.next().await;
    assert_eq!(
        (who.as_str(), m.to_json()["error"]["message"].as_str()),
        ("sink2", Some("two"))
    );
}

#[tokio::test]
async fn complete_nodes_fire_after_done_with_a_copy() {
    let mut rig = Rig::new();
    rig.deploy(
        json!([{"id":"p","type":"pass","wires":[[]]},{"id":"done","type":"complete","scope":["p"],"wires":[["sink"]]},{"id":"sink","type":"sink"}]),
        DeployKind::Full,
    )
    .await;
    rig.engine
        .input("p", Msg::from_json(&json!({"payload":"x"})))
        .await;
    let (_, m) = rig.next().await;
    let j = m.to_json();
    assert_eq!(j["payload"], "x");
    assert_eq!(j["complete"]["source"]["id"], "p");
}

#[tokio::test]
async fn subflow_instances_expand_with_outputs_env_and_errors_passed_up() {
    let mut rig = Rig::new();
    rig.deploy(
        json!([
            {"id":"sf","type":"subflow","name":"SF","in":[{"wires":[{"id":"inner"}]}],
             "out":[{"wires":[{"id":"inner","port":0}]},{"wires":[{"id":"sf"}]}],
             "env":[{"name":"GREETING","type":"str","value":"default"}]},
            {"id":"inner","type":"stamp","z":"sf","wires":[[]]},
            {"id":"boom","type":"fail","z":"sf","text":"inner failure","wires":[[]]},
            {"id":"inst","type":"subflow:sf","env":[{"name":"GREETING","type":"str","value":"hi"}],"wires":[["sink"],["sink2"]]},
            {"id":"c","type":"catch","scope":null,"wires":[["sink3"]]},
            {"id":"sink","type":"sink"},{"id":"sink2","type":"sink"},{"id":"sink3","type":"sink"}
        ]),
        DeployKind::Full,
    )
    .await;
    rig.engine
        .input("inst", Msg::from_json(&json!({"payload":{}})))
        .await;
    let mut by = std::collections::HashMap::new();
    for _ in 0..2 {
        let (who, m) = rig.next().await;
        by.insert(who, m.to_json());
    }
    // Inner node ids are instance-original, as in Node-RED.
    assert_eq!(by["sink"]["payload"]["by"], "inst-inner");
    assert!(by.contains_key("sink2"), "input wired straight to output 2");
    rig.engine.input("inst-boom", Msg::new()).await;
    let (who, m) = rig.next().await;
    assert_eq!(who, "sink3");
    assert_eq!(m.to_json()["error"]["source"]["id"], "inst-boom");
}

#[tokio::test]
async fn nodes_deploy_keeps_unchanged_nodes_running_with_their_state() {
    let mut rig = Rig::new();
    let flow = |label: &str| {
        json!([
            {"id":"cnt","type":"count","wires":[["sink"]]},
            {"id":"other","type":"pass","name":label,"wires":[["sink"]]},
            {"id":"sink","type":"sink"}
        ])
    };
    rig.deploy(flow("a"), DeployKind::Full).await;
    rig.engine.input("cnt", Msg::new()).await;
    assert_eq!(rig.next().await.1.to_json()["count"], 1);
    rig.deploy(flow("b"), DeployKind::Nodes).await;
    rig.engine.input("cnt", Msg::new()).await;
    assert_eq!(
        rig.next().await.1.to_json()["count"],
        2,
        "unchanged node kept its state"
    );
    rig.deploy(flow("c"), DeployKind::Full).await;
    rig.engine.input("cnt", Msg::new()).await;
    assert_eq!(
        rig.next().await.1.to_json()["count"],
        1,
        "full deploy restarts everything"
    );
}

/// A full deploy lets nodes read their properties from the deployed array;
/// a node whose properties the engine changes (`${VAR}` substituted, inside
/// a subflow instance) gets its own copy, and so does every node a partial
/// deploy builds (the nodes it keeps would otherwise pin the old array).
#[tokio::test]
async fn full_deploys_share_the_deployed_properties_unless_changed() {
    let mut rig = Rig::new();
    let flow = |label: &str| {
        json!([
            {"id":"plain","type":"probe","value":"as is"},
            {"id":"env","type":"probe","value":"${FROM_PROCESS}"},
            {"id":"sf","type":"subflow","name":"SF","in":[],"out":[]},
            {"id":"inner","type":"probe","z":"sf","value":"inside"},
            {"id":"inst","type":"subflow:sf"},
            {"id":"changed","type":"probe","value":label}
        ])
    };
    rig.deploy(flow("a"), DeployKind::Full).await;
    let by = built(&mut rig.rx, 4).await;
    assert_eq!(by["built plain"], json!({"shared": true, "value": "as is"}));
    assert_eq!(by["built env"], json!({"shared": false, "value": "proc"}));
    assert_eq!(
        by["built inst-inner"],
        json!({"shared": false, "value": "inside"})
    );
    assert_eq!(by["built changed"], json!({"shared": true, "value": "a"}));
    rig.deploy(flow("b"), DeployKind::Nodes).await;
    let by = built(&mut rig.rx, 1).await;
    assert_eq!(by["built changed"], json!({"shared": false, "value": "b"}));
}

/// `deploy_accepting` tells the caller once the flows are valid, and never
/// for flows it rejects.
#[tokio::test]
async fn accepted_is_told_only_for_valid_flows() {
    let rig = Rig::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let bad = vec![json!({"id":"x","type":"nope"})];
    rig.engine
        .deploy_accepting(bad, serde_json::Map::new(), DeployKind::Full, tx)
        .await
        .expect_err("unknown type");
    assert!(rx.await.is_err(), "rejected flows are not accepted");
    let (tx, rx) = tokio::sync::oneshot::channel();
    let good = with_tab(json!([{"id":"p","type":"pass"}]));
    rig.engine
        .deploy_accepting(good, serde_json::Map::new(), DeployKind::Full, tx)
        .await
        .expect("deploy");
    assert_eq!(rx.await, Ok(()));
}

/// What the next `n` probes reported at build time, by node.
async fn built(
    rx: &mut mpsc::UnboundedReceiver<(String, Msg)>,
    n: usize,
) -> std::collections::HashMap<String, Json> {
    let mut by = std::collections::HashMap::new();
    for _ in 0..n {
        let (who, m) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("timed out")
            .expect("closed");
        let j = m.to_json();
        by.insert(who, json!({"shared": j["shared"], "value": j["value"]}));
    }
    by
}

/// `nodes` on tab t1 with a position, as the editor saves them.
fn with_tab(nodes: Json) -> Vec<Json> {
    let mut list = vec![json!({"id":"t1","type":"tab","label":"Tab 1"})];
    for mut n in nodes.as_array().cloned().unwrap_or_default() {
        if let Some(o) = n.as_object_mut() {
            o.entry("z").or_insert(json!("t1"));
            o.entry("x").or_insert(json!(1));
            o.entry("y").or_insert(json!(1));
        }
        list.push(n);
    }
    list
}

#[tokio::test]
async fn missing_types_are_listed_and_old_flows_keep_running() {
    let mut rig = Rig::new();
    rig.deploy(
        json!([{"id":"p","type":"pass","wires":[["sink"]]},{"id":"sink","type":"sink"}]),
        DeployKind::Full,
    )
    .await;
    let bad = vec![
        json!({"id":"t1","type":"tab"}),
        json!({"id":"x","type":"nope-a","z":"t1","x":1,"y":1}),
        json!({"id":"y","type":"nope-b","z":"t1","x":1,"y":1}),
    ];
    let err = rig
        .engine
        .deploy(bad, serde_json::Map::new(), DeployKind::Full)
        .await
        .expect_err("must fail");
    let text = err.to_string();
    assert!(text.contains("nope-a") && text.contains("nope-b"), "{text}");
    rig.engine.input("p", Msg::new()).await;
    assert_eq!(rig.next().await.0, "sink");
}

#[tokio::test]
async fn disabled_nodes_and_tabs_do_not_run() {
    let rig = Rig::new();
    let flows = vec![
        json!({"id":"t1","type":"tab"}),
        json!({"id":"t2","type":"tab","disabled":true}),
        json!({"id":"d","type":"pass","z":"t1","d":true,"x":1,"y":1,"wires":[]}),
        json!({"id":"e","type":"pass","z":"t2","x":1,"y":1,"wires":[]}),
        json!({"id":"ok","type":"pass","z":"t1","x":1,"y":1,"wires":[]}),
    ];
    rig.engine
        .deploy(flows, serde_json::Map::new(), DeployKind::Full)
        .await
        .expect("deploy");
    assert!(!rig.engine.input("d", Msg::new()).await);
    assert!(!rig.engine.input("e", Msg::new()).await);
    assert!(rig.engine.input("ok", Msg::new()).await);
}
