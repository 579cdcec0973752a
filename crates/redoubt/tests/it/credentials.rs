//! Credentials through the real binary: the startup warning when the key
//! sits beside flows_cred.json, and a password that never leaves the
//! server (flows API, credentials API, debug output, logs, file on disk).

use crate::support::{Redoubt, client};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PASSWORD: &str = "pw-Zq93xY";
/// base64("bob:pw-Zq93xY"), as it would appear in an Authorization header.
const BASIC: &str = "Ym9iOnB3LVpxOTN4WQ==";

#[test]
fn a_secret_written_in_settings_beside_the_credentials_is_warned_about() {
    // The test settings carry `credentialSecret: "test-secret"` literally.
    let r = Redoubt::start(&json!([]));
    let lines = r.lines();
    let warnings: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("credentialSecret is written literally"))
        .collect();
    assert_eq!(warnings.len(), 1, "{lines:#?}");
    assert!(warnings[0].contains("REDOUBT_CREDENTIAL_SECRET"));
    assert!(
        !warnings[0].contains("test-secret"),
        "the secret is not logged"
    );
}

#[test]
fn a_password_credential_never_leaves_the_server() {
    let r = Redoubt::start(&json!([]));
    let c = client();
    let target = r.url("/ok");
    let flows = json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"ok","type":"http in","z":"t","url":"/ok","method":"get","x":1,"y":1,"wires":[["okr"]]},
        {"id":"okr","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]},
        {"id":"go","type":"inject","z":"t","once":true,"onceDelay":0.1,"repeat":"","topic":"",
         "payload":"","payloadType":"date","props":[{"p":"payload"}],"x":1,"y":1,"wires":[["hr"]]},
        {"id":"hr","type":"http request","z":"t","method":"GET","ret":"txt","paytoqs":"ignore",
         "url":target,"authType":"basic","tls":"","persist":false,"proxy":"","senderr":false,
         "credentials":{"user":"bob","password":PASSWORD},"x":1,"y":1,"wires":[["dbg"]]},
        {"id":"dbg","type":"debug","z":"t","active":true,"tosidebar":true,"console":true,
         "tostatus":false,"complete":"true","targetType":"full","x":1,"y":1,"wires":[]}
    ]);
    let resp = c
        .post(r.url("/flows"))
        .header("Node-RED-API-Version", "v2")
        .json(&json!({"flows": flows}))
        .send()
        .expect("deploy");
    assert_eq!(resp.status(), 200);

    // Wait for the debug node to print the whole message to the log.
    let mut seen = r.lines();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !seen.iter().any(|l| l.contains("statusCode")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match r.log.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("no debug output of the request's response:\n{seen:#?}"),
        }
    }
    for line in &seen {
        assert!(
            !line.contains(PASSWORD) && !line.contains(BASIC),
            "leaked: {line}"
        );
    }

    let flows_api = c
        .get(r.url("/flows"))
        .header("Node-RED-API-Version", "v2")
        .send()
        .expect("flows")
        .text()
        .expect("text");
    assert!(!flows_api.contains(PASSWORD), "{flows_api}");
    let creds: Value = c
        .get(r.url("/credentials/http%20request/hr"))
        .send()
        .expect("credentials")
        .json()
        .expect("json");
    assert_eq!(creds, json!({"user": "bob", "has_password": true}));

    let (_, dir) = r.stop();
    for file in ["flows.json", "flows_cred.json"] {
        let text = std::fs::read_to_string(dir.path().join(file)).expect("read");
        assert!(
            !text.contains(PASSWORD) && !text.contains("bob"),
            "{file}: {text}"
        );
    }
}
