//! Settings of the storage and exec nodes, read from settings.js by the real
//! binary: `execNodeEnabled` (off: the node is refused at deploy; on: it
//! runs) and `fileWorkingDirectory` with `fileRestrictToWorkingDirectory`.

use crate::support::{Redoubt, client};
use serde_json::json;
use std::time::{Duration, Instant};

fn settings(extra: &str) -> String {
    format!(
        r#"module.exports = {{
    uiHost: "127.0.0.1",
    credentialSecret: "test-secret",
    logging: {{ console: {{ level: "info" }} }},
    {extra}
}};
"#
    )
}

fn exec_flow() -> serde_json::Value {
    json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"in","type":"http in","z":"t","url":"/run","method":"get","x":1,"y":1,"wires":[["ex1"]]},
        {"id":"ex1","type":"exec","z":"t","command":"echo","addpay":"req.query.word","append":"",
         "useSpawn":"false","oldrc":"false","x":1,"y":1,"wires":[["out"],[],[]]},
        {"id":"out","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]}
    ])
}

#[test]
fn an_exec_node_is_refused_without_exec_node_enabled() {
    let r = Redoubt::start(&exec_flow());
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut lines = r.lines();
    while !lines
        .iter()
        .any(|l| l.contains("ex1") && l.contains("execNodeEnabled"))
    {
        assert!(
            Instant::now() < deadline,
            "no error naming the node: {lines:?}"
        );
        lines.extend(r.log.recv_timeout(Duration::from_millis(200)));
    }
}

#[test]
fn an_exec_node_runs_with_exec_node_enabled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = Redoubt::start_in(dir, &exec_flow(), &settings("execNodeEnabled: true"));
    let body = client()
        .get(r.url("/run?word=hello"))
        .send()
        .expect("request")
        .text()
        .expect("body");
    assert_eq!(body, "hello\n");
}

#[test]
fn file_nodes_stay_inside_the_restricted_working_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = dir.path().join("files");
    std::fs::create_dir(&files).expect("mkdir");
    let extra = format!(
        "fileWorkingDirectory: {:?}, fileRestrictToWorkingDirectory: true",
        files.to_str().expect("utf-8 path")
    );
    let r = Redoubt::start_in(
        dir,
        &json!([
            {"id":"t","type":"tab","label":"T"},
            {"id":"in","type":"http in","z":"t","url":"/save","method":"get","x":1,"y":1,"wires":[["name"]]},
            {"id":"name","type":"change","z":"t","x":1,"y":1,"wires":[["write"]],
             "rules":[{"t":"set","p":"filename","pt":"msg","to":"req.query.name","tot":"msg"},
                      {"t":"set","p":"payload","pt":"msg","to":"saved","tot":"str"}]},
            {"id":"write","type":"file","z":"t","filename":"filename","filenameType":"msg",
             "appendNewline":false,"createDir":true,"overwriteFile":"true","encoding":"none",
             "x":1,"y":1,"wires":[["ok"]]},
            {"id":"ok","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]},
            {"id":"c","type":"catch","z":"t","scope":["write"],"uncaught":false,"x":1,"y":1,"wires":[["err"]]},
            {"id":"err","type":"change","z":"t","x":1,"y":1,"wires":[["ok"]],
             "rules":[{"t":"set","p":"statusCode","pt":"msg","to":"403","tot":"num"},
                      {"t":"set","p":"payload","pt":"msg","to":"error.message","tot":"msg"}]}
        ]),
        &settings(&extra),
    );
    let c = client();
    let ok = c.get(r.url("/save?name=a/b.txt")).send().expect("request");
    assert_eq!(ok.status(), 200);
    let escape = c
        .get(r.url("/save?name=../escape.txt"))
        .send()
        .expect("request");
    assert_eq!(escape.status(), 403);
    let text = escape.text().expect("body");
    assert!(
        text.contains("node write") && text.contains("outside"),
        "{text}"
    );
    let (_, dir) = r.stop();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("files/a/b.txt")).expect("written"),
        "saved"
    );
    assert!(!dir.path().join("escape.txt").exists());
}
