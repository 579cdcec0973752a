//! Context persisted by the localfilesystem store survives a restart.

use crate::support::{Redoubt, SETTINGS, client};
use serde_json::json;

fn flows() -> serde_json::Value {
    json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"set-in","type":"http in","z":"t","url":"/set","method":"post","x":1,"y":1,"wires":[["set-c"]]},
        {"id":"set-c","type":"change","z":"t","x":1,"y":1,"wires":[["set-out"]],
         "rules":[{"t":"set","p":"#:(file)::saved","pt":"global","to":"payload","tot":"msg"}]},
        {"id":"set-out","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]},
        {"id":"get-in","type":"http in","z":"t","url":"/get","method":"get","x":1,"y":1,"wires":[["get-c"]]},
        {"id":"get-c","type":"change","z":"t","x":1,"y":1,"wires":[["get-out"]],
         "rules":[{"t":"set","p":"payload","pt":"msg","to":"#:(file)::saved","tot":"global"}]},
        {"id":"get-out","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]}
    ])
}

#[test]
fn persisted_context_survives_a_restart() {
    let r = Redoubt::start(&flows());
    let c = client();
    let v = json!({"kept": [1, "two", {"three": 3}]});
    assert_eq!(
        c.post(r.url("/set")).json(&v).send().expect("req").status(),
        200
    );
    let (code, dir) = r.stop();
    assert_eq!(code, Some(0));
    let file = dir.path().join("context/global/global.json");
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("context file")).expect("json");
    assert_eq!(on_disk["saved"], v);
    let r = Redoubt::start_in(dir, &flows(), SETTINGS);
    let got: serde_json::Value = c
        .get(r.url("/get"))
        .send()
        .expect("req")
        .json()
        .expect("json");
    assert_eq!(got, v);
}
