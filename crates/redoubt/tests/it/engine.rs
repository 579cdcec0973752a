//! Engine properties under load: cycles never deadlock, and a runaway
//! function node is interrupted while other flows keep answering.

use crate::support::{Redoubt, client};
use serde_json::json;

#[test]
fn a_cycle_under_concurrent_load_never_deadlocks() {
    // Each request loops 200 times through change -> switch -> change before answering.
    let r = Redoubt::start(&json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"in","type":"http in","z":"t","url":"/loop","method":"get","x":1,"y":1,"wires":[["init"]]},
        {"id":"init","type":"change","z":"t","x":1,"y":1,"wires":[["inc"]],
         "rules":[{"t":"set","p":"payload","pt":"msg","to":"0","tot":"num"}]},
        {"id":"inc","type":"change","z":"t","x":1,"y":1,"wires":[["sw"]],
         "rules":[{"t":"set","p":"payload","pt":"msg","to":"payload + 1","tot":"jsonata"}]},
        {"id":"sw","type":"switch","z":"t","property":"payload","propertyType":"msg","checkall":"true","outputs":2,
         "rules":[{"t":"lt","v":"200","vt":"num"},{"t":"else"}],"x":1,"y":1,"wires":[["inc"],["out"]]},
        {"id":"out","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]}
    ]));
    let url = r.url("/loop");
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let c = client();
                for _ in 0..25 {
                    let body = c.get(&url).send().expect("req").text().expect("text");
                    assert_eq!(body, "200");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client thread");
    }
}

#[test]
fn a_runaway_function_is_interrupted_while_http_keeps_answering() {
    let r = Redoubt::start(&json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"spin-in","type":"http in","z":"t","url":"/spin","method":"get","x":1,"y":1,"wires":[["spin"]]},
        {"id":"spin","type":"function","z":"t","func":"while (true) {}\nreturn msg;","outputs":1,"timeout":5,
         "noerr":0,"initialize":"","finalize":"","libs":[],"x":1,"y":1,"wires":[["spin-out"]]},
        {"id":"spin-out","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]},
        {"id":"catch","type":"catch","z":"t","scope":["spin"],"uncaught":false,"x":1,"y":1,"wires":[["caught"]]},
        {"id":"caught","type":"change","z":"t","x":1,"y":1,"wires":[["spin-out"]],
         "rules":[{"t":"set","p":"statusCode","pt":"msg","to":"500","tot":"num"},
                  {"t":"set","p":"payload","pt":"msg","to":"error.message","tot":"msg"}]},
        {"id":"ok-in","type":"http in","z":"t","url":"/ok","method":"get","x":1,"y":1,"wires":[["ok-out"]]},
        {"id":"ok-out","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]}
    ]));
    let spin_url = r.url("/spin");
    let spinner = std::thread::spawn(move || client().get(&spin_url).send().expect("req"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    // While the script spins, another endpoint answers: the five requests
    // complete before the runaway script is interrupted (its timeout is 5 s).
    let c = client();
    for _ in 0..5 {
        assert_eq!(c.get(r.url("/ok")).send().expect("req").status(), 200);
    }
    assert!(
        !spinner.is_finished(),
        "the /ok requests waited for the runaway script"
    );
    let resp = spinner.join().expect("thread");
    assert_eq!(resp.status(), 500);
    let text = resp.text().expect("text");
    assert!(
        text.to_lowercase().contains("timed out") || text.contains("timeout"),
        "{text}"
    );
    // The function node still works afterwards.
    assert_eq!(c.get(r.url("/ok")).send().expect("req").status(), 200);
}
