//! The TCP nodes in the real binary: a request/response flow (tcp in →
//! change → tcp out "reply") answered to a real TCP client, and a tcp
//! request node fetching from a real TCP server.

use crate::support::{Redoubt, client};
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// The port a tcp in node reports in its "listening on port N" log line.
fn listening_port(r: &Redoubt) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = r.lines();
    loop {
        for line in &seen {
            if let Some(rest) = line.split("listening on port ").nth(1) {
                return rest.trim().parse().expect("port number");
            }
        }
        assert!(Instant::now() < deadline, "no listening line in {seen:?}");
        seen = r
            .log
            .recv_timeout(Duration::from_millis(200))
            .into_iter()
            .collect();
    }
}

#[test]
fn a_tcp_client_gets_answers_from_a_flow() {
    let r = Redoubt::start(&json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"in","type":"tcp in","z":"t","server":"server","port":"0","datamode":"stream",
         "datatype":"utf8","newline":"\\n","topic":"","x":1,"y":1,"wires":[["up"]]},
        {"id":"up","type":"change","z":"t","x":1,"y":1,"wires":[["reply"]],
         "rules":[{"t":"set","p":"payload","pt":"msg","to":"$uppercase(payload) & \"\\n\"","tot":"jsonata"}]},
        {"id":"reply","type":"tcp out","z":"t","beserver":"reply","base64":false,"end":false,
         "x":1,"y":1,"wires":[]}
    ]));
    let port = listening_port(&r);
    let mut clients: Vec<_> = (0..2)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("test step");
        let mut reader = BufReader::new(c.try_clone().expect("test step"));
        for word in ["hello", "world"] {
            writeln!(c, "{word} {i}").expect("test step");
            let mut line = String::new();
            reader.read_line(&mut line).expect("reply");
            assert_eq!(line, format!("{} {i}\n", word.to_uppercase()));
        }
    }
}

#[test]
fn tcp_request_fetches_from_a_server_over_http() {
    let server = TcpListener::bind("127.0.0.1:0").expect("test step");
    let port = server.local_addr().expect("test step").port();
    std::thread::spawn(move || {
        for s in server.incoming() {
            let Ok(mut s) = s else { return };
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).unwrap_or(0);
            let _ = s.write_all(&[b"got:", &buf[..n], b";"].concat());
        }
    });
    let r = Redoubt::start(&json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"in","type":"http in","z":"t","url":"/ask","method":"get","x":1,"y":1,"wires":[["set"]]},
        {"id":"set","type":"change","z":"t","x":1,"y":1,"wires":[["req"]],
         "rules":[{"t":"set","p":"payload","pt":"msg","to":"req.query.q","tot":"msg"}]},
        {"id":"req","type":"tcp request","z":"t","server":"127.0.0.1","port":port.to_string(),
         "out":"char","splitc":";","ret":"string","x":1,"y":1,"wires":[["out"]]},
        {"id":"out","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]}
    ]));
    let body = client()
        .get(r.url("/ask?q=ping"))
        .send()
        .expect("request")
        .text()
        .expect("body");
    assert_eq!(body, "got:ping;");
}
