//! Ported from `test/nodes/core/function/90-exec_spec.js`, running real
//! commands (Node-RED's tests stub `child_process.exec` for some cases; here
//! `echo`/`printf` run for real). Timeouts and kills act on real child
//! processes, so they use the real clock with short (≤ 300 ms) timers.

use crate::testing::{Harness, HarnessOptions};
use redoubt_core::engine::RuntimeSettings;
use redoubt_core::value::Value;
use serde_json::{Value as Json, json};
use std::time::Duration;

fn enabled() -> HarnessOptions {
    HarnessOptions {
        settings: RuntimeSettings {
            exec_enabled: true,
            ..Default::default()
        },
        ..Default::default()
    }
}

fn flow(node: Json) -> Json {
    let mut n = node;
    n["id"] = json!("n1");
    n["type"] = json!("exec");
    n["wires"] = json!([["out"], ["err"], ["rc"]]);
    json!([n, {"id":"out","type":"helper"}, {"id":"err","type":"helper"}, {"id":"rc","type":"helper"}])
}

async fn start(node: Json) -> Harness {
    Harness::start_with(flow(node), enabled()).await
}

/// redoubt: without `execNodeEnabled: true` the node is left out of the
/// deploy with an error naming the node and the setting.
#[tokio::test]
async fn is_refused_unless_exec_node_enabled() {
    let h = Harness::start(flow(json!({"command":"echo"}))).await;
    assert!(!h.engine.input("n1", redoubt_core::Msg::new()).await);
    let report = h
        .engine
        .deploy(
            vec![
                json!({"id":"t1","type":"tab"}),
                json!({"id":"x1","type":"exec","z":"t1","command":"echo","wires":[]}),
            ],
            serde_json::Map::new(),
            redoubt_core::engine::DeployKind::Full,
        )
        .await
        .expect("test step");
    assert_eq!(report.errors.len(), 1);
    let text = report.errors[0].to_string();
    assert!(
        text.contains("x1") && text.contains("execNodeEnabled"),
        "{text}"
    );
}

/// it('should exec a simple command')
/// it('should preserve existing properties on msg object')
#[tokio::test]
async fn execs_a_simple_command() {
    let mut h = start(json!({"command":"echo","addpay":false,"append":"","oldrc":"false"})).await;
    h.send_json("n1", json!({"payload":"and","topic":"t","foo":1}))
        .await;
    let out = h.recv_json("out").await;
    assert_eq!(out["payload"], "\n");
    assert_eq!(out["rc"], json!({"code":0}));
    assert_eq!(out["topic"], "t");
    assert_eq!(out["foo"], 1);
    let rc = h.recv_json("rc").await;
    assert_eq!(rc["payload"], json!({"code":0}));
    assert_eq!(rc["foo"], 1);
    assert!(h.nothing("err", Duration::from_millis(50)).await);
}

/// it('should exec a simple command with appended value from message')
/// it('should exec a simple command with extra parameters')
#[tokio::test]
async fn appends_the_message_property_and_extra_parameters() {
    let mut h =
        start(json!({"command":"echo","addpay":"topic","append":"more","oldrc":"false"})).await;
    h.send_json("n1", json!({"topic":"bar"})).await;
    assert_eq!(h.recv_json("out").await["payload"], "bar more\n");
    let mut h =
        start(json!({"command":"echo","addpay":true,"append":"more","oldrc":"false"})).await;
    h.send_json("n1", json!({"payload":"and"})).await;
    assert_eq!(h.recv_json("out").await["payload"], "and more\n");
}

/// it('should be able to return a binary buffer')
#[tokio::test]
async fn returns_a_binary_buffer() {
    let mut h =
        start(json!({"command":"printf '\\xff\\x01'","addpay":false,"oldrc":"false"})).await;
    h.send_json("n1", json!({})).await;
    let m = h.recv("out").await;
    let Value::Buffer(b) = m.payload() else {
        panic!("not a buffer: {:?}", m.payload())
    };
    assert_eq!(&b[..], [0xff, 0x01]);
}

/// it('should be able to timeout a long running command')
#[tokio::test]
async fn times_out_a_long_running_command() {
    let mut h =
        start(json!({"command":"sleep","addpay":false,"append":"5","timer":"0.3","oldrc":"false"}))
            .await;
    h.send_json("n1", json!({})).await;
    let rc = h.recv_json("rc").await;
    assert_eq!(rc["payload"]["signal"], "SIGTERM");
    assert_eq!(rc["payload"]["code"], Json::Null);
}

/// it('should be able to kill a long running command')
/// it('should be able to kill a long running command - SIGINT')
#[tokio::test]
async fn kills_a_long_running_command() {
    for (kill, sig) in [("", "SIGTERM"), ("SIGINT", "SIGINT")] {
        let mut h = start(
            json!({"command":"sleep","addpay":false,"append":"5","timer":"2","oldrc":"false"}),
        )
        .await;
        h.send_json("n1", json!({})).await;
        h.send_json("n1", json!({"kill":kill})).await;
        let out = h.recv_json("out").await;
        assert_eq!(out["rc"]["code"], Json::Null);
        assert_eq!(out["rc"]["signal"], sig);
        assert_eq!(h.recv_json("rc").await["payload"]["signal"], sig);
    }
}

/// it('should return the rc for a failing command')
/// it('should preserve existing properties on msg object for a failing command')
#[tokio::test]
async fn returns_the_rc_of_a_failing_command() {
    let mut h =
        start(json!({"command":"echo out; echo ERR >&2; exit 3","addpay":false,"oldrc":"false"}))
            .await;
    h.send_json("n1", json!({"payload":"and","foo":"x"})).await;
    let out = h.recv_json("out").await;
    assert_eq!(out["payload"], "out\n");
    assert_eq!(out["rc"]["code"], 3);
    assert_eq!(out["foo"], "x");
    let err = h.recv_json("err").await;
    assert_eq!(err["payload"], "ERR\n");
    assert_eq!(err["rc"]["code"], 3);
    let rc = h.recv_json("rc").await;
    assert_eq!(rc["payload"]["code"], 3);
    assert!(
        rc["payload"]["message"]
            .as_str()
            .expect("test step")
            .starts_with("Command failed: echo out")
    );
}

/// Old-style return code: no third message when the command succeeds.
#[tokio::test]
async fn old_style_rc_sends_nothing_on_success() {
    let mut h = start(json!({"command":"true","addpay":false,"oldrc":"true"})).await;
    h.send_json("n1", json!({})).await;
    let out = h.recv_json("out").await;
    assert!(out.get("rc").is_none());
    assert!(h.nothing("rc", Duration::from_millis(100)).await);
}

/// `execMaxBufferSize` caps exec mode's buffered output.
#[tokio::test]
async fn exec_max_buffer_size_kills_verbose_commands() {
    let mut opts = enabled();
    opts.settings
        .raw
        .insert("execMaxBufferSize".into(), json!(10));
    let mut h = Harness::start_with(
        flow(json!({"command":"yes","addpay":false,"oldrc":"false"})),
        opts,
    )
    .await;
    h.send_json("n1", json!({})).await;
    let out = h.recv_json("out").await;
    assert_eq!(out["payload"], "y\ny\ny\ny\ny\n");
    assert_eq!(out["rc"]["code"], "ERR_CHILD_PROCESS_STDIO_MAXBUFFER");
}

/// it('should spawn a simple command')
/// it('should spawn a simple command with a non string payload parameter')
/// it('should preserve existing properties on msg object') (spawn)
#[tokio::test]
async fn spawns_a_simple_command() {
    let mut h = start(
        json!({"command":"echo","addpay":true,"append":"","useSpawn":"true","oldrc":"false"}),
    )
    .await;
    h.send_json("n1", json!({"payload":123,"foo":"x"})).await;
    let out = h.recv_json("out").await;
    assert_eq!(out["payload"], "123\n");
    assert_eq!(out["foo"], "x");
    let rc = h.recv_json("rc").await;
    assert_eq!(rc["payload"], json!({"code":0}));
    assert_eq!(rc["foo"], "x");
}

/// Not in Node-RED: in spawn mode, while the engine's backlog is full the
/// child's output is not read (it waits in the pipe, which blocks a child
/// writing more); once there is room it arrives, then the return code.
#[tokio::test]
async fn spawn_does_not_read_output_while_the_backlog_is_full() {
    let mut h = start(
        json!({"command":"echo","addpay":true,"append":"","useSpawn":"true","oldrc":"false"}),
    )
    .await;
    let full = h.fill_backlog();
    h.send_json("n1", json!({"payload":"held"})).await;
    assert!(
        h.nothing("out", Duration::from_millis(300)).await,
        "read while the backlog was full"
    );
    drop(full);
    assert_eq!(h.recv_json("out").await["payload"], "held\n");
    assert_eq!(h.recv_json("rc").await["payload"], json!({"code":0}));
}

/// it('should spawn a simple command and return binary buffer')
/// it('should work if passed multiple words to spawn command')
#[tokio::test]
async fn spawns_with_quoted_words_and_binary_output() {
    let mut h = start(
        json!({"command":"printf","addpay":false,"append":"\"%s|%s\" \"a b\" c",
        "useSpawn":"true","oldrc":"false"}),
    )
    .await;
    h.send_json("n1", json!({})).await;
    assert_eq!(h.recv_json("out").await["payload"], "a b|c");
    let mut h = start(json!({"command":"printf","addpay":false,"append":"\\377",
        "useSpawn":"true","oldrc":"false"}))
    .await;
    h.send_json("n1", json!({})).await;
    let m = h.recv("out").await;
    assert!(matches!(m.payload(), Value::Buffer(b) if b[..] == [0xff]));
}

/// it('should return an error for a bad command')
#[tokio::test]
async fn spawn_reports_a_bad_command_as_a_negative_code() {
    let mut h = start(json!({"command":"madeupcommandshouldfail","addpay":false,
        "useSpawn":"true","oldrc":"false"}))
    .await;
    h.send_json("n1", json!({"payload":null})).await;
    let rc = h.recv_json("rc").await;
    assert!(rc["payload"]["code"].as_f64().expect("test step") < 0.0);
}

/// it('should return an error for a failing command')
#[tokio::test]
async fn spawn_streams_stderr_of_a_failing_command() {
    let mut h = start(json!({"command":"mkdir /foo/bar/doo/dah","addpay":false,
        "useSpawn":"true","oldrc":"false"}))
    .await;
    h.send_json("n1", json!({"payload":null})).await;
    assert_eq!(h.recv_json("rc").await["payload"]["code"], 1);
    // stderr may come in several pieces, all sent before the return code.
    let mut text = String::new();
    while let Some(m) = h.recv_within("err", Duration::ZERO).await {
        text.push_str(m.payload().as_str().expect("stderr text"));
    }
    assert!(text.contains(" directory"), "{text:?}");
}

/// it('should be able to timeout a long running command') (spawn)
/// it('should be able to kill a long running command') (spawn)
#[tokio::test]
async fn spawn_times_out_and_kills() {
    let mut h = start(
        json!({"command":"sleep","addpay":false,"append":"5","timer":"0.3",
        "useSpawn":"true","oldrc":"false"}),
    )
    .await;
    h.send_json("n1", json!({})).await;
    assert_eq!(
        h.recv_json("rc").await["payload"],
        json!({"code":null,"signal":"SIGTERM"})
    );

    let mut h = start(
        json!({"command":"sleep","addpay":false,"append":"5","timer":"2",
        "useSpawn":"true","oldrc":"false"}),
    )
    .await;
    h.send_json("n1", json!({})).await;
    h.send_json("n1", json!({"kill":"SIGINT"})).await;
    assert_eq!(
        h.recv_json("rc").await["payload"],
        json!({"code":null,"signal":"SIGINT"})
    );
}
