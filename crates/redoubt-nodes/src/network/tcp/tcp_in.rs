//! tcp in: listens on a port (server) or connects to one (client,
//! reconnecting after `socketReconnectTime`) and sends what arrives,
//! framed by [`super::framing`]. Every socket joins the session pool so a
//! tcp out node in reply mode can answer on it.

use super::framing::{DataType, Framer, Framing};
use super::pool::{self, Cmd};
use super::secure::Tls;
use super::socket::{self, Ended};
use super::{TcpSettings, connections, listen, port, session, unescape};
use redoubt_core::Msg;
use redoubt_core::msg::new_msgid;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeHandle, NodeType, Status,
};
use redoubt_core::value::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

pub(crate) struct TcpInType;

#[derive(Clone)]
struct Spec {
    server: bool,
    host: String,
    port: u16,
    topic: String,
    framing: Framing,
    settings: TcpSettings,
    tls: Tls,
}

struct TcpIn {
    spec: Spec,
}

impl NodeType for TcpInType {
    fn type_name(&self) -> &'static str {
        "tcp in"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let server = match cfg.get("server") {
            Some(serde_json::Value::Bool(b)) => *b,
            _ => cfg.str("server") == "server",
        };
        let datatype = match cfg.str("datatype").as_str() {
            "" | "buffer" => DataType::Buffer,
            "utf8" => DataType::Utf8,
            "base64" => DataType::Base64,
            other => {
                return Err(ConfigError::field(
                    "datatype",
                    format!("unknown output {other:?} (expected buffer, utf8 or base64)"),
                ));
            }
        };
        let host = cfg.str("host");
        if !server && host.is_empty() {
            return Err(ConfigError::field("host", "Host and/or port not set"));
        }
        let tls = Tls::from_config(cx, server)?;
        let mode = cfg.str("datamode");
        Ok(Box::new(TcpIn {
            spec: Spec {
                server,
                host,
                port: port(cfg, "port")?,
                topic: cfg.str("topic"),
                framing: Framing {
                    datatype,
                    stream: mode.is_empty() || mode == "stream",
                    newline: unescape(&cfg.str("newline")),
                    trim: cfg.bool("trim"),
                },
                settings: TcpSettings::from(cx.settings()),
                tls,
            },
        }))
    }
}

impl Node for TcpIn {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let spec = self.spec.clone();
        let node = cx.handle();
        if spec.server {
            cx.spawn_detached(serve(spec, node));
        } else {
            cx.spawn_detached(client(spec, node));
        }
        Ok(())
    }

    fn on_input(&mut self, _msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        if self.spec.server {
            cx.log(&format!("stopped listening on port {}", self.spec.port));
        }
    }
}

fn message(spec: &Spec, payload: Value, peer: Option<SocketAddr>, id: &str) -> Msg {
    let m = Msg::new();
    m.set("topic", Value::str(&spec.topic));
    m.set("payload", payload);
    if let Some(a) = peer {
        m.set("ip", Value::from(a.ip().to_string()));
        m.set("port", Value::Number(f64::from(a.port())));
    }
    m.set("_session", session(id));
    m
}

async fn serve(spec: Spec, node: NodeHandle) {
    let Some(l) = listen(spec.port, &node).await else {
        return;
    };
    let count = Arc::new(AtomicUsize::new(0));
    // Connections live in the set: when the node closes, this task is
    // aborted and the set drops, closing every socket.
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            r = l.accept() => match r {
                Ok(a) => a,
                Err(_) => continue,
            },
            Some(_) = conns.join_next() => continue,
        };
        let spec = spec.clone();
        let node = node.clone();
        let count = count.clone();
        conns.spawn(async move {
            let stream = match spec.tls.accept(stream).await {
                Ok(s) => s,
                Err(e) => {
                    node.log(&format!("TLS handshake with {peer} failed: {e}"));
                    return;
                }
            };
            let id = new_msgid();
            let (tx, mut rx) = mpsc::unbounded_channel::<Cmd>();
            let _reg = pool::register(&id, tx);
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            node.status(Status::text(connections(n)));
            let mut framer = Framer::new(spec.framing.clone(), true);
            let ended = socket::run(
                stream,
                &mut rx,
                spec.settings.idle,
                Some(&node),
                |chunk| {
                    for p in framer.data(chunk) {
                        node.send(0, message(&spec, p, Some(peer), &id));
                    }
                },
                || node.log(&format!("timeout closed socket port {}", spec.port)),
            )
            .await;
            if ended == Ended::Remote
                && let Some(p) = framer.end()
            {
                node.send(0, message(&spec, p, Some(peer), &id));
            }
            let n = count.fetch_sub(1, Ordering::SeqCst) - 1;
            node.status(Status::text(connections(n)));
        });
    }
}

async fn client(spec: Spec, node: NodeHandle) {
    let addr = format!("{}:{}", spec.host, spec.port);
    loop {
        node.log(&format!("connecting to {addr}"));
        node.status(Status::new("grey", "dot", "common.status.connecting"));
        let mut quick = false;
        match spec.tls.connect(&spec.host, spec.port).await {
            Ok(stream) => {
                node.log(&format!("connected to {addr}"));
                node.status(Status::new("green", "dot", "common.status.connected"));
                let id = new_msgid();
                let (tx, mut rx) = mpsc::unbounded_channel::<Cmd>();
                let reg = pool::register(&id, tx);
                let mut framer = Framer::new(spec.framing.clone(), false);
                let ended = socket::run(
                    stream,
                    &mut rx,
                    spec.settings.idle,
                    Some(&node),
                    |chunk| {
                        for p in framer.data(chunk) {
                            node.send(0, message(&spec, p, None, &id));
                        }
                    },
                    || {},
                )
                .await;
                drop(reg);
                if ended == Ended::Remote
                    && let Some(p) = framer.end()
                {
                    // Asked to close after a reply: reconnect at once.
                    quick = true;
                    node.send(0, message(&spec, p, None, &id));
                }
            }
            Err(e) => node.log(&format!("Error: {e}")),
        }
        node.status(Status::new("red", "ring", "common.status.disconnected"));
        if quick {
            tokio::time::sleep(Duration::from_millis(20)).await;
        } else {
            node.log(&format!("connection lost to {addr}"));
            tokio::time::sleep(spec.settings.reconnect).await;
        }
    }
}
