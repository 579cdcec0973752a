//! `describe('TCP in Node')`.

use super::{flow, listening_port, send_and_close, text};
use crate::testing::Harness;
use redoubt_core::value::Value;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// What a server-mode tcp in node outputs for each connection's data:
/// (is a Buffer, payload text) per message.
async fn server_recv(
    datamode: &str,
    datatype: &str,
    newline: &str,
    trim: bool,
    writes: &[&str],
    want: &[&str],
) {
    let mut h = Harness::start(flow(
        json!({"type":"tcp in","server":"server","host":"localhost",
        "port":0,"datamode":datamode,"datatype":datatype,"newline":newline,"trim":trim,
        "topic":"t","base64":false}),
    ))
    .await;
    let port = listening_port(&mut h, "n1").await;
    for w in writes {
        send_and_close(port, w.as_bytes()).await;
    }
    for expected in want {
        let m = h.recv("out").await;
        let p = m.payload();
        assert_eq!(matches!(p, Value::Buffer(_)), datatype == "buffer", "{p:?}");
        assert_eq!(text(&p), *expected, "{datamode}/{datatype}/{newline:?}");
        assert_eq!(m.get("topic").expect("test step").as_str(), Some("t"));
        assert!(
            m.get("ip")
                .expect("test step")
                .as_str()
                .expect("test step")
                .ends_with("127.0.0.1")
        );
        let s = m.get("_session").expect("test step");
        assert_eq!(
            s.as_object()
                .expect("test step")
                .get("type")
                .expect("test step")
                .as_str(),
            Some("tcp")
        );
    }
    h.stop().await;
}

/// it('should recv data (Stream/Buffer)')
/// it('should recv multiple data (Stream/Buffer)')
#[tokio::test]
async fn server_stream_buffer() {
    server_recv("stream", "buffer", "", false, &["foo"], &["foo"]).await;
    server_recv(
        "stream",
        "buffer",
        "",
        false,
        &["foo", "bar"],
        &["foo", "bar"],
    )
    .await;
}

/// it('should recv data (Stream/String/Delimiter:\\n)')
/// it('should recv data (Stream/String/Delimiter:o\\n)')
/// it('should recv data (Stream/String/Delimiter:o\\n) and reattach o')
/// it('should recv multiple data (Stream/String/Delimiter:\\n)')
#[tokio::test]
async fn server_stream_string_with_delimiter() {
    server_recv(
        "stream",
        "utf8",
        "\\n",
        false,
        &["foo\nbar"],
        &["foo", "bar"],
    )
    .await;
    server_recv(
        "stream",
        "utf8",
        "o\\n",
        false,
        &["foo\nbar"],
        &["fo", "bar"],
    )
    .await;
    server_recv(
        "stream",
        "utf8",
        "o\\n",
        true,
        &["foo\nbar"],
        &["foo\n", "bar"],
    )
    .await;
    server_recv(
        "stream",
        "utf8",
        "\\n",
        false,
        &["foo", "bar\nbaz"],
        &["foo", "bar", "baz"],
    )
    .await;
}

/// it('should recv data (Stream/String/No delimiter)')
/// it('should recv multiple data (Stream/String/No delimiter)')
#[tokio::test]
async fn server_stream_string_without_delimiter() {
    server_recv("stream", "utf8", "", false, &["foo\nbar"], &["foo\nbar"]).await;
    server_recv(
        "stream",
        "utf8",
        "",
        false,
        &["foo", "bar\nbaz"],
        &["foo", "bar\nbaz"],
    )
    .await;
}

/// it('should recv data (Stream/Base64)')
/// it('should recv multiple data (Stream/Base64)')
/// it('should recv data (Stream/Base64)') (single)
#[tokio::test]
async fn server_base64() {
    server_recv("stream", "base64", "", false, &["foo"], &["Zm9v"]).await;
    server_recv(
        "stream",
        "base64",
        "",
        false,
        &["foo", "bar"],
        &["Zm9v", "YmFy"],
    )
    .await;
    server_recv("single", "base64", "", false, &["foo"], &["Zm9v"]).await;
}

/// it('should recv data (Single/Buffer)')
/// it('should recv data (Single/String)')
#[tokio::test]
async fn server_single() {
    server_recv("single", "buffer", "", false, &["foo"], &["foo"]).await;
    server_recv(
        "single",
        "utf8",
        "\\n",
        false,
        &["foo\nbar\nbaz"],
        &["foo\nbar\nbaz"],
    )
    .await;
}

/// A client-mode node connecting to a server that writes `writes` and ends.
async fn client_recv(
    datamode: &str,
    datatype: &str,
    newline: &str,
    writes: &[&'static str],
    want: &[&str],
) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("test step");
    let port = l.local_addr().expect("test step").port();
    let data: Vec<&'static str> = writes.to_vec();
    let server = tokio::spawn(async move {
        let (mut s, _) = l.accept().await.expect("test step");
        for d in data {
            s.write_all(d.as_bytes()).await.expect("test step");
        }
        s.shutdown().await.expect("test step");
        // Keep the listener: the node reconnects after the close.
        let _again = l.accept().await;
    });
    let mut h = Harness::start(flow(
        json!({"type":"tcp in","server":"client","host":"localhost",
        "port":port,"datamode":datamode,"datatype":datatype,"newline":newline,"topic":"",
        "base64":false}),
    ))
    .await;
    for expected in want {
        let m = h.recv("out").await;
        assert_eq!(text(&m.payload()), *expected, "{datamode}/{datatype}");
        assert!(m.get("ip").is_none());
    }
    h.stop().await;
    server.abort();
}

/// it('should connect & recv data (Stream/Buffer)')
/// it('should connect & recv data (Stream/String/Delimiter:\\n)')
/// it('should connect & recv data (Stream/String/No delimiter)')
/// it('should connect & recv data (Stream/Base64)')
/// it('should connect & recv data (Single/Buffer)')
/// it('should connect & recv data (Single/String)')
/// it('should connect & recv data (Stream/Base64)') (single)
#[tokio::test]
async fn client_mode_receives() {
    client_recv("stream", "buffer", "", &["foo"], &["foo"]).await;
    client_recv("stream", "utf8", "\\n", &["foo\nbar"], &["foo", "bar"]).await;
    client_recv("stream", "utf8", "", &["foo\nbar"], &["foo\nbar"]).await;
    client_recv("stream", "base64", "", &["foo"], &["Zm9v"]).await;
    client_recv("single", "buffer", "", &["foo"], &["foo"]).await;
    client_recv(
        "single",
        "utf8",
        "\\n",
        &["foo\nbar\nbaz"],
        &["foo\nbar\nbaz"],
    )
    .await;
    client_recv("single", "base64", "", &["foo"], &["Zm9v"]).await;
}

/// A redeploy that rebuilds a listening node listens on the same port
/// again (the old listener is released while the new one starts).
#[tokio::test]
async fn listens_again_after_a_redeploy() {
    let node = |topic: &str, port: u16| {
        serde_json::json!({"id":"n1","type":"tcp in","z":"t1","server":"server","port":port,
            "datamode":"stream","datatype":"utf8","newline":"","topic":topic,"x":1,"y":1,
            "wires":[["out"]]})
    };
    let mut h = Harness::start(flow(json!({"type":"tcp in","server":"server","port":0,
        "datamode":"stream","datatype":"utf8","newline":"","topic":"a"})))
    .await;
    let port = listening_port(&mut h, "n1").await;
    for topic in ["b", "c"] {
        h.engine
            .deploy(
                vec![
                    json!({"id":"t1","type":"tab"}),
                    node(topic, port),
                    json!({"id":"out","type":"helper","z":"t1","x":1,"y":1}),
                ],
                serde_json::Map::new(),
                redoubt_core::engine::DeployKind::Full,
            )
            .await
            .expect("deploy");
        assert_eq!(listening_port(&mut h, "n1").await, port);
        send_and_close(port, b"x").await;
        assert_eq!(
            h.recv("out").await.get("topic").expect("topic").as_str(),
            Some(topic)
        );
    }
}

/// Flow control: while the engine holds more than `Backlog::HIGH` messages
/// no node has taken, a tcp in node does not read its sockets, so a peer's
/// data waits in TCP (which slows the peer down) instead of in memory. It
/// is read, and nothing is lost, once there is room.
#[tokio::test]
async fn does_not_read_while_the_backlog_is_full() {
    use std::time::Duration;
    use tokio::net::TcpStream;
    let mut h = Harness::start(flow(
        json!({"type":"tcp in","server":"server","host":"localhost",
        "port":0,"datamode":"stream","datatype":"utf8","newline":"","trim":false,
        "topic":"t","base64":false}),
    ))
    .await;
    let port = listening_port(&mut h, "n1").await;
    let full = h.fill_backlog();
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("test step");
    s.write_all(b"held").await.expect("test step");
    assert!(
        h.nothing("out", Duration::from_millis(300)).await,
        "read while the backlog was full"
    );
    drop(full);
    assert_eq!(text(&h.recv("out").await.payload()), "held");
    s.write_all(b"next").await.expect("test step");
    assert_eq!(text(&h.recv("out").await.payload()), "next");
    h.stop().await;
}
