//! mqtt-broker, mqtt in and mqtt out against a real mosquitto on a free
//! loopback port (see `crate::test_broker`), driven through the engine.

use crate::test_broker::{BrokerOptions, Mosquitto};
use crate::testing::{Harness, HarnessOptions};
use redoubt_core::engine::{LogLevel, RuntimeEvent, RuntimeSettings};
use serde_json::{Value as Json, json};
use std::time::{Duration, Instant};

fn broker(id: &str, port: u16, extra: Json) -> Json {
    let mut b = json!({"id": id, "type": "mqtt-broker", "broker": "127.0.0.1", "port": port,
                       "protocolVersion": "5", "keepalive": 60, "cleansession": true});
    if let (Some(b), Json::Object(e)) = (b.as_object_mut(), extra) {
        b.extend(e);
    }
    b
}

fn fast_reconnect() -> RuntimeSettings {
    let mut s = RuntimeSettings::default();
    s.raw.insert("mqttReconnectTime".into(), json!(200));
    s
}

/// Waits until every node in `ids` shows a status whose text ends with `text`.
async fn wait_statuses(h: &mut Harness, ids: &[&str], text: &str) {
    let mut missing: Vec<&str> = ids.to_vec();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        for e in h.drain_events() {
            if let RuntimeEvent::Status { id, status } = e
                && status.text.as_deref().is_some_and(|t| t.ends_with(text))
            {
                missing.retain(|m| *m != id);
            }
        }
        if missing.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{missing:?} never showed status {text}");
}

async fn wait_status(h: &mut Harness, id: &str, text: &str) {
    wait_statuses(h, &[id], text).await
}

fn logs(events: &[RuntimeEvent], level: LogLevel) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            RuntimeEvent::Log { level: l, text, .. } if *l == level => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn pubsub(port: u16, sub_topic: &str, datatype: &str) -> Json {
    json!([
        broker("b1", port, json!({})),
        {"id": "in", "type": "mqtt in", "broker": "b1", "topic": sub_topic, "qos": "1",
         "datatype": datatype, "wires": [["got"]]},
        {"id": "got", "type": "helper"},
        {"id": "out", "type": "mqtt out", "broker": "b1", "wires": []},
        {"id": "c", "type": "catch", "scope": null, "wires": [["caught"]]},
        {"id": "caught", "type": "helper"}
    ])
}

async fn connected(flow: Json, opts: HarnessOptions, ids: &[&str]) -> Harness {
    let mut h = Harness::start_with(flow, opts).await;
    wait_statuses(&mut h, ids, "common.status.connected").await;
    h
}

#[tokio::test]
async fn qos1_retained_v5_message_reaches_a_wildcard_subscriber_with_properties() {
    let m = Mosquitto::start(BrokerOptions::default());
    let mut h = connected(
        pubsub(m.port, "sensors/#", "auto-detect"),
        HarnessOptions::default(),
        &["in", "out"],
    )
    .await;
    h.send_json(
        "out",
        json!({"topic": "sensors/kitchen/temp", "payload": {"t": 21.5}, "qos": 1, "retain": true,
               "contentType": "application/json", "responseTopic": "reply/here",
               "correlationData": "abc", "messageExpiryInterval": 300,
               "userProperties": {"site": "home", "n": 2}}),
    )
    .await;
    let got = h.recv_json("got").await;
    assert_eq!(got["topic"], "sensors/kitchen/temp");
    assert_eq!(got["payload"], json!({"t": 21.5}));
    assert_eq!(got["qos"], 1);
    assert_eq!(got["contentType"], "application/json");
    assert_eq!(got["responseTopic"], "reply/here");
    assert_eq!(
        got["correlationData"],
        json!({"type": "Buffer", "data": [97, 98, 99]})
    );
    assert_eq!(got["userProperties"], json!({"site": "home", "n": "2"}));
    assert!(
        got["messageExpiryInterval"]
            .as_f64()
            .is_some_and(|v| v > 0.0 && v <= 300.0),
        "{got}"
    );
    assert_eq!(
        got["_topic"], "sensors/kitchen/temp",
        "localhost brokers add msg._topic"
    );
    h.stop().await;

    // The retained message is delivered to a later subscriber with retain set.
    let mut h2 = connected(
        pubsub(m.port, "sensors/+/temp", "auto-detect"),
        HarnessOptions::default(),
        &["in"],
    )
    .await;
    let again = h2.recv_json("got").await;
    assert_eq!(again["retain"], true);
    assert_eq!(again["payload"], json!({"t": 21.5}));
    h2.stop().await;
}

#[tokio::test]
async fn output_types_follow_the_datatype_setting() {
    let m = Mosquitto::start(BrokerOptions::default());
    for (dt, payload, expect) in [
        ("utf8", json!("{\"a\":1}"), json!("{\"a\":1}")),
        ("auto-detect", json!("{\"a\":1}"), json!({"a": 1})),
        ("auto-detect", json!("plain"), json!("plain")),
        ("auto", json!("{\"a\":1}"), json!("{\"a\":1}")),
        ("json", json!("[1,2]"), json!([1, 2])),
        (
            "buffer",
            json!("hi"),
            json!({"type": "Buffer", "data": [104, 105]}),
        ),
        ("base64", json!("hi"), json!("aGk=")),
    ] {
        let mut h = connected(
            pubsub(m.port, "dt/x", dt),
            HarnessOptions::default(),
            &["in", "out"],
        )
        .await;
        h.send_json("out", json!({"topic": "dt/x", "payload": payload}))
            .await;
        assert_eq!(h.recv_json("got").await["payload"], expect, "datatype {dt}");
        h.stop().await;
    }
}

#[tokio::test]
async fn invalid_json_with_the_json_datatype_is_an_error() {
    let m = Mosquitto::start(BrokerOptions::default());
    let mut h = connected(
        pubsub(m.port, "j/x", "json"),
        HarnessOptions::default(),
        &["in", "out"],
    )
    .await;
    h.send_json("out", json!({"topic": "j/x", "payload": "not json"}))
        .await;
    let caught = h.recv_json("caught").await;
    assert_eq!(caught["error"]["message"], "Failed to parse JSON string");
    assert_eq!(caught["topic"], "j/x");
    assert!(h.nothing("got", Duration::from_millis(200)).await);
    h.stop().await;
}

#[tokio::test]
async fn an_invalid_publish_topic_is_warned_and_not_sent() {
    let m = Mosquitto::start(BrokerOptions::default());
    let mut h = connected(
        pubsub(m.port, "#", "utf8"),
        HarnessOptions::default(),
        &["in", "out"],
    )
    .await;
    h.send_json("out", json!({"topic": "a/+/b", "payload": "x"}))
        .await;
    assert!(h.nothing("got", Duration::from_millis(300)).await);
    assert!(
        logs(&h.drain_events(), LogLevel::Warn)
            .iter()
            .any(|w| w == "Invalid topic specified")
    );
    h.stop().await;
}

#[tokio::test]
async fn dynamic_subscriptions_follow_msg_action() {
    let m = Mosquitto::start(BrokerOptions::default());
    let flow = json!([
        broker("b1", m.port, json!({})),
        {"id": "in", "type": "mqtt in", "broker": "b1", "topic": "", "inputs": 1,
         "datatype": "utf8", "wires": [["got"]]},
        {"id": "got", "type": "helper"},
        {"id": "out", "type": "mqtt out", "broker": "b1", "wires": []}
    ]);
    let mut h = connected(flow, HarnessOptions::default(), &["out"]).await;
    h.send_json(
        "in",
        json!({"action": "subscribe", "topic": [{"topic": "dyn/a", "qos": 1}, "dyn/b/#"]}),
    )
    .await;
    h.send_json("in", json!({"action": "getSubscriptions"}))
        .await;
    let list = h.recv_json("got").await;
    assert_eq!(list["topic"], "subscriptions");
    assert_eq!(list["payload"][0]["topic"], "dyn/a");
    assert_eq!(list["payload"][0]["qos"], 1);
    assert_eq!(list["payload"][1]["topic"], "dyn/b/#");
    assert_eq!(list["payload"][1]["qos"], 2);
    // SUBSCRIBE and PUBLISH share one connection, so order is kept.
    h.send_json("out", json!({"topic": "dyn/b/c", "payload": "one"}))
        .await;
    assert_eq!(h.recv_json("got").await["payload"], "one");
    h.send_json("in", json!({"action": "unsubscribe", "topic": true}))
        .await;
    h.send_json("out", json!({"topic": "dyn/a", "payload": "two"}))
        .await;
    assert!(h.nothing("got", Duration::from_millis(300)).await);
    h.send_json("in", json!({"action": "bogus"})).await;
    h.stop().await;
}

#[tokio::test]
async fn disconnect_and_connect_actions_control_the_connection() {
    let m = Mosquitto::start(BrokerOptions::default());
    let mut h = connected(
        pubsub(m.port, "act/#", "utf8"),
        HarnessOptions::default(),
        &["in", "out"],
    )
    .await;
    h.send_json("out", json!({"action": "disconnect"})).await;
    wait_status(&mut h, "in", "common.status.disconnected").await;
    h.send_json("out", json!({"action": "connect"})).await;
    wait_status(&mut h, "in", "common.status.connected").await;
    h.send_json("out", json!({"topic": "act/1", "payload": "back"}))
        .await;
    assert_eq!(h.recv_json("got").await["payload"], "back");
    h.stop().await;
}

#[tokio::test]
async fn birth_and_close_messages_are_published() {
    let m = Mosquitto::start(BrokerOptions::default());
    let flow = json!([
        broker("watcher", m.port, json!({})),
        {"id": "in", "type": "mqtt in", "broker": "watcher", "topic": "status/#", "qos": "1",
         "datatype": "utf8", "wires": [["got"]]},
        {"id": "got", "type": "helper"},
        broker("b2", m.port, json!({"birthTopic": "status/dev", "birthPayload": "online", "birthQos": "1",
                                    "closeTopic": "status/dev", "closePayload": "offline", "closeQos": "1"})),
        {"id": "out", "type": "mqtt out", "broker": "b2", "wires": []}
    ]);
    let mut h = connected(flow, HarnessOptions::default(), &["in"]).await;
    let birth = h.recv_json("got").await;
    assert_eq!(
        (birth["topic"].clone(), birth["payload"].clone()),
        (json!("status/dev"), json!("online"))
    );
    h.send_json("out", json!({"action": "disconnect"})).await;
    assert_eq!(h.recv_json("got").await["payload"], "offline");
    h.stop().await;
}

#[tokio::test]
async fn the_will_is_published_when_the_client_vanishes() {
    let m = Mosquitto::start(BrokerOptions::default());
    let watcher = json!([
        broker("w", m.port, json!({})),
        {"id": "in", "type": "mqtt in", "broker": "w", "topic": "will/#", "qos": "1",
         "datatype": "utf8", "wires": [["got"]]},
        {"id": "got", "type": "helper"}
    ]);
    let mut hw = connected(watcher, HarnessOptions::default(), &["in"]).await;
    let victim = json!([
        broker("v", m.port, json!({"keepalive": 5, "willTopic": "will/dev", "willPayload": "gone", "willQos": "1"})),
        {"id": "out", "type": "mqtt out", "broker": "v", "wires": []}
    ]);
    // A crash, as the broker sees it: the victim's runtime is torn down
    // with its socket, and no DISCONNECT is sent.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let mut hv = connected(victim, HarnessOptions::default(), &["out"]).await;
            hv.drain_events();
            std::mem::forget(hv);
        });
        rt.shutdown_background();
    })
    .join()
    .expect("victim thread");
    let will = hw.recv_json("got").await;
    assert_eq!(
        (will["topic"].clone(), will["payload"].clone()),
        (json!("will/dev"), json!("gone"))
    );
    hw.stop().await;
}

#[tokio::test]
async fn credentials_are_sent_and_wrong_ones_never_connect() {
    let m = Mosquitto::start(BrokerOptions {
        user: Some(("alice".into(), "s3cret".into())),
        ..Default::default()
    });
    let creds = |pw: &str| {
        let mut c = serde_json::Map::new();
        c.insert("b1".into(), json!({"user": "alice", "password": pw}));
        c
    };
    let mut h = connected(
        pubsub(m.port, "c/#", "utf8"),
        HarnessOptions {
            credentials: creds("s3cret"),
            ..Default::default()
        },
        &["in", "out"],
    )
    .await;
    h.send_json("out", json!({"topic": "c/1", "payload": "ok"}))
        .await;
    assert_eq!(h.recv_json("got").await["payload"], "ok");
    h.stop().await;

    let mut bad = Harness::start_with(
        pubsub(m.port, "c/#", "utf8"),
        HarnessOptions {
            credentials: creds("wrong"),
            settings: fast_reconnect(),
            ..Default::default()
        },
    )
    .await;
    // Two failed attempts (the second after the 200 ms reconnect delay).
    let mut ev = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while logs(&ev, LogLevel::Info)
        .iter()
        .filter(|l| l.starts_with("Connection failed to broker"))
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "no failed attempts logged");
        tokio::time::sleep(Duration::from_millis(20)).await;
        ev.extend(bad.drain_events());
    }
    assert!(
        !ev.iter()
            .any(|e| matches!(e, RuntimeEvent::Status { status, .. }
        if status.text.as_deref() == Some("node-red:common.status.connected")))
    );
    let info = logs(&ev, LogLevel::Info);
    assert!(
        info.iter()
            .any(|l| l.starts_with("Connection failed to broker: mqtt://127.0.0.1:")),
        "{info:?}"
    );
    assert!(
        !info
            .iter()
            .chain(logs(&ev, LogLevel::Error).iter())
            .any(|l| l.contains("wrong")),
        "password leaked"
    );
    bad.stop().await;
}

#[tokio::test]
async fn mqtts_through_a_tls_config_node_with_client_certificates() {
    use crate::network::tls_config::tests::path;
    let m = Mosquitto::start(BrokerOptions {
        tls: Some((
            path("ca.pem").into(),
            path("server.pem").into(),
            path("server.key").into(),
        )),
        ..Default::default()
    });
    let mut flow = pubsub(m.port, "t/#", "utf8");
    flow[0]["broker"] = json!("localhost");
    flow[0]["usetls"] = json!(true);
    flow[0]["tls"] = json!("tls1");
    flow.as_array_mut()
        .expect("flow")
        .push(json!({"id": "tls1", "type": "tls-config",
        "cert": path("client.pem"), "key": path("client.key"), "ca": path("ca.pem"),
        "verifyservercert": true}));
    let mut h = connected(flow, HarnessOptions::default(), &["in", "out"]).await;
    h.send_json("out", json!({"topic": "t/1", "payload": "secure"}))
        .await;
    assert_eq!(h.recv_json("got").await["payload"], "secure");
    h.stop().await;
}

/// The subscriber's persistent session (clean = false, v5 session expiry)
/// keeps QoS 1 messages published while it is away, and the broker keeps
/// that session across its own restart (persistence on); the publisher
/// reconnects by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_session_survives_a_broker_restart_without_losing_qos1_messages() {
    let m = Mosquitto::start(BrokerOptions {
        persistence: true,
        ..Default::default()
    });
    let flow = json!([
        broker("sub", m.port, json!({"clientid": "redoubt-sub", "cleansession": false, "sessionExpiry": 3600})),
        {"id": "in", "type": "mqtt in", "broker": "sub", "topic": "p/#", "qos": "1",
         "datatype": "utf8", "wires": [["got"]]},
        {"id": "got", "type": "helper"},
        {"id": "subctl", "type": "mqtt out", "broker": "sub", "wires": []},
        broker("pub", m.port, json!({})),
        {"id": "out", "type": "mqtt out", "broker": "pub", "qos": "1", "wires": []}
    ]);
    let opts = HarnessOptions {
        settings: fast_reconnect(),
        ..Default::default()
    };
    let mut h = connected(flow, opts, &["in", "out"]).await;
    h.send_json("out", json!({"topic": "p/1", "payload": "before"}))
        .await;
    assert_eq!(h.recv_json("got").await["payload"], "before");

    h.send_json("subctl", json!({"action": "disconnect"})).await;
    wait_status(&mut h, "in", "common.status.disconnected").await;
    h.send_json("out", json!({"topic": "p/2", "payload": "while away"}))
        .await;
    // Let the broker acknowledge it before it goes down.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let m = tokio::task::spawn_blocking(move || {
        let mut m = m;
        m.restart();
        m
    })
    .await
    .expect("restart");
    // Published at once: the publisher queues it until it has reconnected.
    h.send_json("out", json!({"topic": "p/3", "payload": "after restart"}))
        .await;
    wait_status(&mut h, "out", "common.status.connected").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        h.nothing("got", Duration::from_millis(100)).await,
        "the subscriber is still away"
    );

    h.send_json("subctl", json!({"action": "connect"})).await;
    assert_eq!(h.recv_json("got").await["payload"], "while away");
    assert_eq!(h.recv_json("got").await["payload"], "after restart");
    h.stop().await;
    drop(m);
}

#[tokio::test]
async fn changing_the_broker_node_rebuilds_its_users_on_a_nodes_deploy() {
    use redoubt_core::engine::DeployKind;
    let m = Mosquitto::start(BrokerOptions::default());
    let mut h = connected(
        pubsub(m.port, "nd/#", "utf8"),
        HarnessOptions::default(),
        &["in", "out"],
    )
    .await;
    let mut changed = pubsub(m.port, "nd/#", "utf8");
    changed[0]["keepalive"] = json!(30);
    let mut nodes = changed.as_array().expect("flow").clone();
    nodes.insert(0, json!({"id": "t1", "type": "tab", "label": "Flow 1"}));
    for n in nodes.iter_mut().skip(2) {
        if n["type"] != "mqtt-broker" {
            n["z"] = json!("t1");
            n["x"] = json!(100);
            n["y"] = json!(100);
        }
    }
    h.engine
        .deploy(nodes, serde_json::Map::new(), DeployKind::Nodes)
        .await
        .expect("deploy");
    wait_statuses(&mut h, &["in", "out"], "common.status.connected").await;
    h.send_json("out", json!({"topic": "nd/1", "payload": "still here"}))
        .await;
    assert_eq!(h.recv_json("got").await["payload"], "still here");
    h.stop().await;
}

#[tokio::test]
async fn shared_subscriptions_receive_as_their_filter_says() {
    let m = Mosquitto::start(BrokerOptions::default());
    let mut h = connected(
        pubsub(m.port, "$share/g1/sh/#", "utf8"),
        HarnessOptions::default(),
        &["in", "out"],
    )
    .await;
    h.send_json("out", json!({"topic": "sh/a", "payload": "shared"}))
        .await;
    let got = h.recv_json("got").await;
    assert_eq!(
        (got["topic"].clone(), got["payload"].clone()),
        (json!("sh/a"), json!("shared"))
    );
    h.send_json("out", json!({"topic": "other/a", "payload": "no"}))
        .await;
    assert!(h.nothing("got", Duration::from_millis(300)).await);
    h.stop().await;
}

#[tokio::test]
async fn mqtt_3_1_1_round_trip_has_no_v5_properties() {
    let m = Mosquitto::start(BrokerOptions::default());
    let mut flow = pubsub(m.port, "v4/+", "auto-detect");
    flow[0]["protocolVersion"] = json!("4");
    let mut h = connected(flow, HarnessOptions::default(), &["in", "out"]).await;
    h.send_json(
        "out",
        json!({"topic": "v4/a", "payload": [1, 2], "qos": 2, "contentType": "application/json",
               "userProperties": {"k": "v"}}),
    )
    .await;
    let got = h.recv_json("got").await;
    assert_eq!(got["payload"], json!([1, 2]));
    assert_eq!(got["qos"], 1, "delivered at the subscription's QoS 1");
    assert!(
        got.get("contentType").is_none() && got.get("userProperties").is_none(),
        "{got}"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_connect_action_with_broker_options_and_force_reconnects_elsewhere() {
    let first = Mosquitto::start(BrokerOptions::default());
    let second = Mosquitto::start(BrokerOptions::default());
    let mut h = connected(
        pubsub(first.port, "mv/#", "utf8"),
        HarnessOptions::default(),
        &["in", "out"],
    )
    .await;
    h.send_json(
        "out",
        json!({"action": "connect", "broker": {"port": second.port}}),
    )
    .await;
    let caught = h.recv_json("caught").await;
    assert_eq!(
        caught["error"]["message"],
        "Disconnect from broker before connecting"
    );
    h.send_json(
        "out",
        json!({"action": "connect", "broker": {"port": second.port, "force": true}}),
    )
    .await;
    wait_statuses(&mut h, &["in", "out"], "common.status.connected").await;
    drop(first);
    h.send_json("out", json!({"topic": "mv/1", "payload": "moved"}))
        .await;
    assert_eq!(h.recv_json("got").await["payload"], "moved");
    h.stop().await;
}

/// Node settings win over the message (`node.qos || msg.qos`,
/// `node.retain || msg.retain`, where "0" and "false" are set values).
#[tokio::test]
async fn node_qos_and_retain_override_the_message() {
    let m = Mosquitto::start(BrokerOptions::default());
    let mut flow = pubsub(m.port, "ov/#", "utf8");
    flow[3]["qos"] = json!("0");
    flow[3]["retain"] = json!("false");
    let mut h = connected(flow, HarnessOptions::default(), &["in", "out"]).await;
    h.send_json(
        "out",
        json!({"topic": "ov/a", "payload": "x", "qos": 1, "retain": true}),
    )
    .await;
    assert_eq!(h.recv_json("got").await["qos"], 0);
    h.stop().await;
    // Nothing was retained: a new subscriber gets nothing.
    let mut h2 = connected(
        pubsub(m.port, "ov/#", "utf8"),
        HarnessOptions::default(),
        &["in"],
    )
    .await;
    assert!(h2.nothing("got", Duration::from_millis(300)).await);
    h2.stop().await;
}

/// Publishes `N` messages at `qos` (1 or 2, subscribed at the same QoS)
/// through the flow's own mqtt out while the engine's backlog is full: the
/// subscriber withholds its acknowledgements, so the broker stops at its
/// in-flight window, while the same connection keeps publishing (a second
/// connection subscribed at QoS 0, which has nothing to acknowledge, gets
/// them all meanwhile). Once there is room, every message arrives, in order.
async fn acked_messages_wait_at_the_broker_while_the_backlog_is_full(version: &str, qos: u8) {
    const N: usize = 200;
    let m = Mosquitto::start(BrokerOptions::default());
    let mut flow = pubsub(m.port, "held/#", "utf8");
    flow[0]["protocolVersion"] = json!(version);
    flow[1]["qos"] = json!(qos.to_string());
    if let Some(nodes) = flow.as_array_mut() {
        nodes.push(broker("b2", m.port, json!({"protocolVersion": version})));
        nodes.push(
            json!({"id": "in0", "type": "mqtt in", "broker": "b2", "topic": "held/#",
                          "qos": "0", "datatype": "utf8", "wires": [["got0"]]}),
        );
        nodes.push(json!({"id": "got0", "type": "helper"}));
    }
    let mut h = connected(flow, HarnessOptions::default(), &["in", "out", "in0"]).await;
    let full = h.fill_backlog();
    for i in 0..N {
        h.send_json(
            "out",
            json!({"topic": format!("held/{i}"), "payload": i.to_string(), "qos": qos}),
        )
        .await;
    }
    for _ in 0..N {
        h.recv("got0").await;
    }
    let mut got = Vec::new();
    while let Some(msg) = h.recv_within("got", Duration::from_millis(500)).await {
        got.push(redoubt_core::value::to_serde(&msg.payload()));
    }
    assert!(
        !got.is_empty() && got.len() < 50,
        "MQTT {version}, QoS {qos}: {} of {N} messages arrived while the backlog was full",
        got.len()
    );
    drop(full);
    while got.len() < N {
        let msg = h.recv("got").await;
        got.push(redoubt_core::value::to_serde(&msg.payload()));
    }
    let want: Vec<Json> = (0..N).map(|i| json!(i.to_string())).collect();
    assert_eq!(
        got, want,
        "MQTT {version}, QoS {qos}: every message, in order"
    );
    assert!(h.nothing("got", Duration::from_millis(300)).await);
    h.stop().await;
}

#[tokio::test]
async fn qos1_messages_wait_at_the_broker_while_the_backlog_is_full_v5() {
    acked_messages_wait_at_the_broker_while_the_backlog_is_full("5", 1).await;
}

#[tokio::test]
async fn qos2_messages_wait_at_the_broker_while_the_backlog_is_full_v5() {
    acked_messages_wait_at_the_broker_while_the_backlog_is_full("5", 2).await;
}

#[tokio::test]
async fn qos1_messages_wait_at_the_broker_while_the_backlog_is_full_v3() {
    acked_messages_wait_at_the_broker_while_the_backlog_is_full("4", 1).await;
}

#[tokio::test]
async fn qos2_messages_wait_at_the_broker_while_the_backlog_is_full_v3() {
    acked_messages_wait_at_the_broker_while_the_backlog_is_full("4", 2).await;
}

/// A burst of QoS 2 publishes on an MQTT 3.1.1 connection: mosquitto drops
/// those beyond its in-flight limit (20) while still answering PUBREC, so
/// the connection must never have more in flight (see `client::INFLIGHT_V3`).
#[tokio::test]
async fn a_burst_of_qos2_publishes_over_mqtt_3_1_1_loses_nothing() {
    const N: usize = 200;
    let m = Mosquitto::start(BrokerOptions::default());
    let flow = json!([
        broker("b1", m.port, json!({"protocolVersion": "4"})),
        {"id": "out", "type": "mqtt out", "broker": "b1", "wires": []},
        broker("b2", m.port, json!({"protocolVersion": "4"})),
        {"id": "in", "type": "mqtt in", "broker": "b2", "topic": "burst/#", "qos": "2",
         "datatype": "utf8", "wires": [["got"]]},
        {"id": "got", "type": "helper"}
    ]);
    let mut h = connected(flow, HarnessOptions::default(), &["out", "in"]).await;
    for i in 0..N {
        h.send_json(
            "out",
            json!({"topic": format!("burst/{i}"), "payload": i.to_string(), "qos": 2}),
        )
        .await;
    }
    for i in 0..N {
        let got = h.recv_within("got", Duration::from_secs(5)).await;
        let payload = got.map(|m| redoubt_core::value::to_serde(&m.payload()));
        assert_eq!(payload, Some(json!(i.to_string())), "message {i} of {N}");
    }
    assert!(h.nothing("got", Duration::from_millis(300)).await);
    h.stop().await;
}

/// Acknowledgements held back when the connection drops: on a persistent
/// session the broker sends those messages again after the reconnect, and
/// once the flows have room every message has arrived. At QoS 1 the ones
/// received before the drop may come twice, as QoS 1 allows; at QoS 2 each
/// arrives exactly once (the repeats are recognised by their packet ids).
async fn held_acknowledgements_across_a_broker_restart(qos: u8) {
    const N: usize = 60;
    let m = Mosquitto::start(BrokerOptions {
        persistence: true,
        ..Default::default()
    });
    let flow = json!([
        broker("sub", m.port, json!({"clientid": "redoubt-held", "cleansession": false, "sessionExpiry": 3600})),
        {"id": "in", "type": "mqtt in", "broker": "sub", "topic": "r/#", "qos": qos.to_string(),
         "datatype": "utf8", "wires": [["got"]]},
        {"id": "got", "type": "helper"},
        broker("pub", m.port, json!({})),
        {"id": "out", "type": "mqtt out", "broker": "pub", "qos": qos.to_string(), "wires": []}
    ]);
    let opts = HarnessOptions {
        settings: fast_reconnect(),
        ..Default::default()
    };
    let mut h = connected(flow, opts, &["in", "out"]).await;
    let full = h.fill_backlog();
    for i in 0..N {
        h.send_json(
            "out",
            json!({"topic": format!("r/{i}"), "payload": i.to_string()}),
        )
        .await;
    }
    let mut got: Vec<String> = Vec::new();
    while let Some(msg) = h.recv_within("got", Duration::from_millis(500)).await {
        got.push(msg.payload().as_str().unwrap_or_default().to_string());
    }
    assert!(
        !got.is_empty() && got.len() < N,
        "QoS {qos}: {} of {N} arrived before the restart",
        got.len()
    );
    let m = tokio::task::spawn_blocking(move || {
        let mut m = m;
        m.restart();
        m
    })
    .await
    .expect("restart");
    wait_status(&mut h, "in", "common.status.connected").await;
    drop(full);
    let distinct = |got: &[String]| got.iter().collect::<std::collections::BTreeSet<_>>().len();
    let deadline = Instant::now() + Duration::from_secs(15);
    while distinct(&got) < N && Instant::now() < deadline {
        if let Some(msg) = h.recv_within("got", Duration::from_millis(500)).await {
            got.push(msg.payload().as_str().unwrap_or_default().to_string());
        }
    }
    while let Some(msg) = h.recv_within("got", Duration::from_millis(300)).await {
        got.push(msg.payload().as_str().unwrap_or_default().to_string());
    }
    let mut sorted = got.clone();
    sorted.sort_by_key(|p| p.parse::<usize>().unwrap_or(usize::MAX));
    let mut want: Vec<String> = (0..N).map(|i| i.to_string()).collect();
    if qos == 1 {
        sorted.dedup();
    } else {
        want.sort_by_key(|p| p.parse::<usize>().unwrap_or(usize::MAX));
    }
    assert_eq!(
        sorted,
        want,
        "QoS {qos}: every message, {}",
        if qos == 1 {
            "at least once"
        } else {
            "exactly once"
        }
    );
    h.stop().await;
    drop(m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_qos1_acknowledgements_lose_nothing_across_a_broker_restart() {
    held_acknowledgements_across_a_broker_restart(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_qos2_acknowledgements_deliver_exactly_once_across_a_broker_restart() {
    held_acknowledgements_across_a_broker_restart(2).await;
}
