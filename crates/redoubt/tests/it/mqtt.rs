//! MQTT end to end: the redoubt binary against a real mosquitto. One flow
//! publishes (QoS 1, retain, v5 properties), another subscribes with a
//! wildcard; the broker is restarted (persistence on) in between.

use crate::support::{Redoubt, SETTINGS, client};
use redoubt_nodes::test_broker::{BrokerOptions, Mosquitto};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn flows(port: u16) -> Value {
    json!([
        {"id": "tp", "type": "tab", "label": "Publisher"},
        {"id": "bp", "type": "mqtt-broker", "broker": "127.0.0.1", "port": port,
         "protocolVersion": "5", "clientid": "e2e-pub", "cleansession": true},
        {"id": "pin", "type": "http in", "z": "tp", "url": "/publish", "method": "post",
         "x": 1, "y": 1, "wires": [["unwrap", "pres"]]},
        {"id": "unwrap", "type": "function", "z": "tp", "x": 1, "y": 1,
         "func": "return msg.payload;", "outputs": 1, "wires": [["pout"]]},
        {"id": "pout", "type": "mqtt out", "z": "tp", "broker": "bp", "qos": "1", "retain": "true",
         "x": 1, "y": 1, "wires": []},
        {"id": "pres", "type": "http response", "z": "tp", "x": 1, "y": 1, "wires": []},

        {"id": "ts", "type": "tab", "label": "Subscriber"},
        {"id": "bs", "type": "mqtt-broker", "broker": "127.0.0.1", "port": port,
         "protocolVersion": "5", "clientid": "e2e-sub", "cleansession": false, "sessionExpiry": 3600},
        {"id": "sin", "type": "mqtt in", "z": "ts", "broker": "bs", "topic": "sensors/#", "qos": "1",
         "datatype": "auto-detect", "x": 1, "y": 1, "wires": [["keep"]]},
        {"id": "keep", "type": "function", "z": "ts", "x": 1, "y": 1, "outputs": 1, "wires": [[]],
         "func": "const l = global.get('got') || []; l.push({topic: msg.topic, payload: msg.payload, qos: msg.qos, retain: msg.retain, contentType: msg.contentType, userProperties: msg.userProperties, correlationData: msg.correlationData ? msg.correlationData.toString() : undefined}); global.set('got', l); return null;"},
        {"id": "gin", "type": "http in", "z": "ts", "url": "/received", "method": "get",
         "x": 1, "y": 1, "wires": [["list"]]},
        {"id": "list", "type": "function", "z": "ts", "x": 1, "y": 1, "outputs": 1, "wires": [["gres"]],
         "func": "msg.payload = global.get('got') || []; return msg;"},
        {"id": "gres", "type": "http response", "z": "ts", "x": 1, "y": 1, "wires": []}
    ])
}

/// Polls `/received` until it holds `n` messages.
fn received(r: &Redoubt, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got: Vec<Value> = client()
            .get(r.url("/received"))
            .send()
            .expect("GET /received")
            .json()
            .expect("json");
        if got.len() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {n} messages arrived: {got:?}",
            got.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn publish(r: &Redoubt, msg: Value) {
    let resp = client()
        .post(r.url("/publish"))
        .json(&msg)
        .send()
        .expect("POST /publish");
    assert_eq!(resp.status(), 200);
}

fn wait_log(r: &Redoubt, seen: &mut Vec<String>, needle: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.iter().filter(|l| l.contains(needle)).count() < count {
        assert!(
            Instant::now() < deadline,
            "never logged {needle:?} {count} times: {seen:?}"
        );
        if let Ok(l) = r.log.recv_timeout(Duration::from_millis(100)) {
            seen.push(l);
        }
    }
}

#[test]
fn qos1_retained_v5_round_trip_survives_a_broker_restart() {
    let mut broker = Mosquitto::start(BrokerOptions {
        persistence: true,
        ..Default::default()
    });
    let settings = SETTINGS.replace(
        "functionTimeout: 0,",
        "functionTimeout: 0,\n    mqttReconnectTime: 200,",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let r = Redoubt::start_in(dir, &flows(broker.port), &settings);
    let mut seen = r.lines();
    wait_log(
        &r,
        &mut seen,
        "Connected to broker: e2e-sub@mqtt://127.0.0.1:",
        1,
    );
    wait_log(
        &r,
        &mut seen,
        "Connected to broker: e2e-pub@mqtt://127.0.0.1:",
        1,
    );

    publish(
        &r,
        json!({"topic": "sensors/kitchen/temp", "payload": {"c": 21.5},
                       "contentType": "application/json", "correlationData": "req-1",
                       "userProperties": {"site": "home"}}),
    );
    let got = received(&r, 1);
    assert_eq!(
        got[0],
        json!({"topic": "sensors/kitchen/temp", "payload": {"c": 21.5}, "qos": 1, "retain": false,
               "contentType": "application/json", "userProperties": {"site": "home"},
               "correlationData": "req-1"})
    );

    broker.restart();
    // Sent straight away: the publisher queues it until it is back.
    publish(
        &r,
        json!({"topic": "sensors/hall/door", "payload": "open",
                       "userProperties": {"after": "restart"}}),
    );
    wait_log(
        &r,
        &mut seen,
        "Connected to broker: e2e-sub@mqtt://127.0.0.1:",
        2,
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !received(&r, 1)
        .iter()
        .any(|m| m["topic"] == "sensors/hall/door")
    {
        assert!(
            Instant::now() < deadline,
            "the message sent during the restart was lost"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let got = received(&r, 2);
    // Live deliveries (retain false) arrive exactly once each, in order.
    let live: Vec<&Value> = got.iter().filter(|m| m["retain"] == false).collect();
    assert_eq!(live.len(), 2, "{got:?}");
    assert_eq!(live[0]["topic"], "sensors/kitchen/temp");
    assert_eq!(live[1]["topic"], "sensors/hall/door");
    assert_eq!(live[1]["payload"], "open");
    assert_eq!(live[1]["qos"], 1);
    assert_eq!(live[1]["userProperties"], json!({"after": "restart"}));
    // Re-subscribing on reconnect (as Node-RED does) replays the retained
    // messages, flagged as retained, with their properties.
    let replayed: Vec<&Value> = got.iter().filter(|m| m["retain"] == true).collect();
    assert!(!replayed.is_empty(), "{got:?}");
    for m in replayed {
        assert!(
            live.iter().any(|l| l["topic"] == m["topic"]
                && l["payload"] == m["payload"]
                && l["userProperties"] == m["userProperties"]),
            "{m}"
        );
    }
}
