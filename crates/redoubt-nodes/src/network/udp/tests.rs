//! Ported from `test/nodes/core/network/32-udpin_spec.js` and
//! `32-udpout_spec.js`, with real datagrams on the loopback interface
//! (ports picked by the OS; the nodes log the port they got).

use crate::testing::Harness;
use redoubt_core::engine::RuntimeEvent;
use redoubt_core::value::Value;
use serde_json::{Value as Json, json};
use std::time::Duration;
use tokio::net::UdpSocket;

fn flow(node: Json) -> Json {
    let mut n = node;
    n["id"] = json!("n1");
    n["wires"] = json!([["out"]]);
    json!([n, {"id": "out", "type": "helper"}])
}

/// Log lines of node `n1` up to and including the first starting with `prefix`.
async fn logs_until(h: &mut Harness, prefix: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..500 {
        for e in h.drain_events() {
            if let RuntimeEvent::Log { id, text, .. } = e
                && id == "n1"
            {
                seen.push(text);
            }
        }
        if seen.iter().any(|t| t.starts_with(prefix)) {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no log starting {prefix:?} in {seen:?}");
}

/// The text after `prefix` in a log line of node `n1`.
async fn log_after(h: &mut Harness, prefix: &str) -> String {
    let seen = logs_until(h, prefix).await;
    let line = seen
        .iter()
        .find(|t| t.starts_with(prefix))
        .expect("test step");
    line[prefix.len()..].to_string()
}

/// The port a udp in node listens on.
async fn listening_port(h: &mut Harness) -> u16 {
    let at = log_after(h, "udp listener at ").await;
    at.rsplit(':')
        .next()
        .expect("test step")
        .parse()
        .expect("test step")
}

async fn recv_in(ipv: &str, datatype: &str, want: Value) {
    let mut h = Harness::start(flow(
        json!({"type":"udp in","group":"","port":0,"datatype":datatype,
        "iface":"","multicast":"false","ipv":ipv}),
    ))
    .await;
    let port = listening_port(&mut h).await;
    let (bind, to) = if ipv == "udp6" {
        ("[::1]:0", "::1")
    } else {
        ("127.0.0.1:0", "127.0.0.1")
    };
    let s = UdpSocket::bind(bind).await.expect("test step");
    s.send_to(b"abc", (to, port)).await.expect("test step");
    let m = h.recv("out").await;
    assert!(
        redoubt_core::value::strict_eq(&m.payload(), &want)
            || matches!((&m.payload(), &want), (Value::Buffer(a), Value::Buffer(b)) if a == b),
        "{ipv} {datatype}: {:?}",
        m.payload()
    );
    let from = s.local_addr().expect("test step").port();
    assert_eq!(m.get("ip").expect("test step").as_str(), Some(to));
    assert_eq!(
        m.get("port").expect("test step").to_number(),
        f64::from(from)
    );
    assert_eq!(
        m.get("fromip").expect("test step").to_js_string(),
        format!("{to}:{from}")
    );
}

/// it('should recv IPv4 data (Buffer)')
/// it('should recv IPv4 data (String)')
/// it('should recv IPv4 data (base64)')
/// it('should recv IPv6 data (Buffer)')
/// it('should recv IPv6 data (String)')
/// it('should recv IPv6 data (base64)')
#[tokio::test]
async fn receives_ipv4_and_ipv6_datagrams() {
    for ipv in ["udp4", "udp6"] {
        recv_in(ipv, "buffer", Value::Buffer(b"abc".as_slice().into())).await;
        recv_in(ipv, "utf8", Value::str("abc")).await;
        recv_in(ipv, "base64", Value::str("YWJj")).await;
    }
}

/// A udp in node joined to a multicast group on the loopback interface
/// receives what is sent to the group.
#[tokio::test]
async fn receives_multicast() {
    let mut h = Harness::start(flow(
        json!({"type":"udp in","group":"239.11.12.13","port":0,
        "datatype":"utf8","iface":"127.0.0.1","multicast":"true","ipv":"udp4"}),
    ))
    .await;
    let logs = logs_until(&mut h, "udp listener at ").await;
    assert!(
        logs.iter().any(|l| l == "udp multicast group 239.11.12.13"),
        "{logs:?}"
    );
    let port: u16 = logs
        .last()
        .expect("test step")
        .rsplit(':')
        .next()
        .expect("test step")
        .parse()
        .expect("test step");
    let s = UdpSocket::bind("127.0.0.1:0").await.expect("test step");
    s.set_multicast_loop_v4(true).expect("test step");
    socket2::SockRef::from(&s)
        .set_multicast_if_v4(&"127.0.0.1".parse().expect("test step"))
        .expect("test step");
    s.send_to(b"group", ("239.11.12.13", port))
        .await
        .expect("test step");
    assert_eq!(h.recv("out").await.payload().as_str(), Some("group"));
}

async fn receiver() -> (UdpSocket, u16) {
    let r = UdpSocket::bind("127.0.0.1:0").await.expect("test step");
    let port = r.local_addr().expect("test step").port();
    (r, port)
}

async fn datagram(r: &UdpSocket) -> (Vec<u8>, u16) {
    let mut buf = [0u8; 1024];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), r.recv_from(&mut buf))
        .await
        .expect("no datagram")
        .expect("test step");
    (buf[..n].to_vec(), from.port())
}

/// it('should send IPv4 data')
/// it('should send IPv4 data (base64)')
#[tokio::test]
async fn sends_ipv4_datagrams() {
    let (r, port) = receiver().await;
    for (base64, payload, want) in [(false, "abc", b"abc".as_slice()), (true, "YWJj", b"abc")] {
        let h = Harness::start(flow(
            json!({"type":"udp out","addr":"127.0.0.1","port":port,
            "iface":"","ipv":"udp4","outport":"","base64":base64,"multicast":"false"}),
        ))
        .await;
        h.send_json("n1", json!({"payload":payload})).await;
        assert_eq!(datagram(&r).await.0, want);
        h.stop().await;
    }
}

/// it('should send IPv4 data with dest from msg')
/// and the warnings for a missing address or port.
#[tokio::test]
async fn sends_to_the_message_destination() {
    let (r, port) = receiver().await;
    let mut h = Harness::start(flow(
        json!({"type":"udp out","addr":"","port":"","iface":"",
        "ipv":"udp4","outport":"","base64":false,"multicast":"false"}),
    ))
    .await;
    h.send_json("n1", json!({"payload":[1,2],"ip":"127.0.0.1","port":port}))
        .await;
    assert_eq!(datagram(&r).await.0, b"1,2");
    h.send_json("n1", json!({"payload":"x","port":port})).await;
    h.send_json("n1", json!({"payload":"x","ip":"127.0.0.1"}))
        .await;
    h.send_json("n1", json!({"payload":"x","ip":"127.0.0.1","port":70000}))
        .await;
    let mut warned = Vec::new();
    for _ in 0..100 {
        warned.extend(h.drain_events().into_iter().filter_map(|e| match e {
            RuntimeEvent::Log {
                level: redoubt_core::engine::LogLevel::Warn,
                text,
                ..
            } => Some(text),
            _ => None,
        }));
        if warned.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        warned,
        [
            "udp: ip address not set",
            "udp: port not set",
            "udp: port number not valid"
        ]
    );
}

/// Binding to a given local port, and re-using a udp in node's socket when
/// the local port is that node's port (replies come from the listening port).
#[tokio::test]
async fn sends_from_a_local_port_or_a_udp_in_socket() {
    let (r, port) = receiver().await;
    let mut h = Harness::start(json!([
        {"id":"n1","type":"udp in","group":"","port":0,"datatype":"buffer","iface":"",
         "multicast":"false","ipv":"udp4","wires":[]}
    ]))
    .await;
    let in_port = listening_port(&mut h).await;
    h.engine
        .deploy(
            vec![
                json!({"id":"t1","type":"tab"}),
                json!({"id":"n1","type":"udp in","z":"t1","group":"","port":in_port,"datatype":"buffer",
                       "iface":"","multicast":"false","ipv":"udp4","wires":[]}),
                json!({"id":"o1","type":"udp out","z":"t1","addr":"127.0.0.1","port":port,"iface":"",
                       "ipv":"udp4","outport":in_port,"base64":false,"multicast":"false","wires":[]}),
            ],
            serde_json::Map::new(),
            redoubt_core::engine::DeployKind::Full,
        )
        .await
        .expect("test step");
    listening_port(&mut h).await;
    assert!(
        h.engine
            .input("o1", redoubt_core::Msg::with_payload(Value::str("r")))
            .await
    );
    assert_eq!(datagram(&r).await, (b"r".to_vec(), in_port));
}

/// Broadcast mode enables SO_BROADCAST, so a subnet broadcast address works.
#[tokio::test]
async fn sends_broadcasts() {
    let r = UdpSocket::bind("0.0.0.0:0").await.expect("test step");
    let port = r.local_addr().expect("test step").port();
    let h = Harness::start(flow(
        json!({"type":"udp out","addr":"127.255.255.255","port":port,
        "iface":"","ipv":"udp4","outport":"","base64":false,"multicast":"board"}),
    ))
    .await;
    h.send_json("n1", json!({"payload":"all"})).await;
    assert_eq!(datagram(&r).await.0, b"all");
}

/// Flow control: while the engine holds more than `Backlog::HIGH` messages
/// no node has taken, a udp in node does not read its socket; datagrams
/// wait in the socket's receive buffer and are read once there is room.
#[tokio::test]
async fn does_not_read_while_the_backlog_is_full() {
    let mut h = Harness::start(flow(
        json!({"type":"udp in","group":"","port":0,"datatype":"utf8",
        "iface":"","multicast":"false","ipv":"udp4"}),
    ))
    .await;
    let port = listening_port(&mut h).await;
    let full = h.fill_backlog();
    // The node is already waiting in a read: the first datagram is taken
    // by it, the following ones wait.
    let s = UdpSocket::bind("127.0.0.1:0").await.expect("test step");
    for d in [b"one", b"two", b"six"] {
        s.send_to(d, ("127.0.0.1", port)).await.expect("test step");
    }
    assert_eq!(h.recv("out").await.payload().to_js_string(), "one");
    assert!(
        h.nothing("out", Duration::from_millis(300)).await,
        "read while the backlog was full"
    );
    drop(full);
    assert_eq!(h.recv("out").await.payload().to_js_string(), "two");
    assert_eq!(h.recv("out").await.payload().to_js_string(), "six");
    h.stop().await;
}
