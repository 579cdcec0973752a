//! tcp out: writes payloads to a server it connects to (client), to every
//! client connected to it (server), or back to the tcp in socket a message
//! came from (`reply`, by `msg._session`; all pooled sockets without one).
//! Base64 strings can be decoded first; "close after send" ends the
//! connection after each write.

use super::pool::{self, Cmd};
use super::secure::Tls;
use super::socket;
use super::{TcpSettings, connections, listen, payload_bytes, port, session_id};
use parking_lot::Mutex;
use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeHandle, NodeType, Status,
};
use redoubt_core::value::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

pub(crate) struct TcpOutType;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Client,
    Server,
    Reply,
}

#[derive(Clone)]
struct Spec {
    host: String,
    port: u16,
    base64: bool,
    end: bool,
    settings: TcpSettings,
    tls: Tls,
}

/// Sockets connected to a server-mode node, by a local number.
type Clients = Arc<Mutex<HashMap<u64, UnboundedSender<Cmd>>>>;

struct TcpOut {
    mode: Mode,
    spec: Spec,
    /// Client mode: the connection task's commands and whether it is up.
    client: Option<(UnboundedSender<Cmd>, Arc<AtomicBool>)>,
    client_rx: Option<UnboundedReceiver<Cmd>>,
    /// Client mode: ask the task to reconnect at once after a close.
    quick: Arc<AtomicBool>,
    clients: Clients,
}

impl NodeType for TcpOutType {
    fn type_name(&self) -> &'static str {
        "tcp out"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let mode = match cfg.str("beserver").as_str() {
            "" | "client" => Mode::Client,
            "server" => Mode::Server,
            "reply" => Mode::Reply,
            other => {
                return Err(ConfigError::field(
                    "beserver",
                    format!("unknown type {other:?} (expected client, server or reply)"),
                ));
            }
        };
        // Reply mode answers on tcp in's sockets, which carry their own TLS.
        let tls = match mode {
            Mode::Reply => Tls::default(),
            _ => Tls::from_config(cx, mode == Mode::Server)?,
        };
        let host = cfg.str("host");
        if mode == Mode::Client && host.is_empty() {
            return Err(ConfigError::field("host", "Host and/or port not set"));
        }
        let port = if mode == Mode::Reply {
            0
        } else {
            port(cfg, "port")?
        };
        let (tx, rx) = mpsc::unbounded_channel();
        Ok(Box::new(TcpOut {
            mode,
            spec: Spec {
                host,
                port,
                base64: cfg.bool("base64"),
                end: cfg.bool("end"),
                settings: TcpSettings::from(cx.settings()),
                tls,
            },
            client: (mode == Mode::Client).then(|| (tx, Arc::new(AtomicBool::new(false)))),
            client_rx: Some(rx),
            quick: Arc::new(AtomicBool::new(false)),
            clients: Arc::default(),
        }))
    }
}

impl Node for TcpOut {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        match self.mode {
            Mode::Client => {
                if let (Some((_, up)), Some(rx)) = (&self.client, self.client_rx.take()) {
                    let task = client(
                        self.spec.clone(),
                        rx,
                        up.clone(),
                        self.quick.clone(),
                        cx.handle(),
                    );
                    cx.spawn_detached(task);
                }
            }
            Mode::Server => {
                cx.status(Status::text(connections(0)));
                let task = serve(self.spec.clone(), self.clients.clone(), cx.handle());
                cx.spawn_detached(task);
            }
            Mode::Reply => {}
        }
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let payload = msg.payload();
        match self.mode {
            Mode::Client => {
                let Some((tx, up)) = &self.client else {
                    return Ok(());
                };
                // Node-RED drops messages while it is not connected.
                if up.load(Ordering::SeqCst) && !payload.is_nullish() {
                    let _ = tx.send(Cmd::Write(payload_bytes(&payload, self.spec.base64)));
                    if self.spec.end {
                        up.store(false, Ordering::SeqCst);
                        self.quick.store(true, Ordering::SeqCst);
                        cx.status(Status::clear());
                        let _ = tx.send(Cmd::Destroy);
                    }
                }
            }
            Mode::Server => {
                if !payload.is_nullish() {
                    let b = payload_bytes(&payload, self.spec.base64);
                    for tx in self.clients.lock().values() {
                        let cmd = if self.spec.end {
                            Cmd::End(b.clone())
                        } else {
                            Cmd::Write(b.clone())
                        };
                        let _ = tx.send(cmd);
                    }
                }
            }
            Mode::Reply => {
                let reset = matches!(msg.get("reset"), Some(Value::Bool(true)));
                let cmd = if reset {
                    Cmd::Destroy
                } else {
                    Cmd::Write(payload_bytes(&payload, self.spec.base64))
                };
                match session_id(&msg) {
                    Some(id) => {
                        pool::send(&id, cmd);
                    }
                    None => pool::broadcast(&cmd),
                }
            }
        }
        Ok(())
    }
}

async fn client(
    spec: Spec,
    mut rx: UnboundedReceiver<Cmd>,
    up: Arc<AtomicBool>,
    quick: Arc<AtomicBool>,
    node: NodeHandle,
) {
    let addr = format!("{}:{}", spec.host, spec.port);
    loop {
        node.log(&format!("connecting to {addr}"));
        node.status(Status::new("grey", "dot", "common.status.connecting"));
        match spec.tls.connect(&spec.host, spec.port).await {
            Ok(stream) => {
                // Commands queued while disconnected are stale.
                while rx.try_recv().is_ok() {}
                up.store(true, Ordering::SeqCst);
                node.log(&format!("connected to {addr}"));
                node.status(Status::new("green", "dot", "common.status.connected"));
                socket::run(stream, &mut rx, None, None, |_| {}, || {}).await;
                up.store(false, Ordering::SeqCst);
            }
            Err(e) => node.log(&format!("error: Error: {e}")),
        }
        node.status(Status::new("red", "ring", "common.status.disconnected"));
        if quick.swap(false, Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        } else {
            node.log(&format!("connection lost to {addr}"));
            tokio::time::sleep(spec.settings.reconnect).await;
        }
    }
}

async fn serve(spec: Spec, clients: Clients, node: NodeHandle) {
    let Some(l) = listen(spec.port, &node).await else {
        return;
    };
    let mut conns = tokio::task::JoinSet::new();
    let mut next = 0u64;
    loop {
        let (stream, peer) = tokio::select! {
            r = l.accept() => match r {
                Ok(a) => a,
                Err(_) => continue,
            },
            Some(_) = conns.join_next() => continue,
        };
        next += 1;
        let key = next;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let n = {
            let mut c = clients.lock();
            c.insert(key, tx);
            c.len()
        };
        node.log(&format!("connection from {}:{}", peer.ip(), peer.port()));
        node.status(Status::text(connections(n)));
        let clients = clients.clone();
        let node = node.clone();
        let idle = spec.settings.idle;
        let port = spec.port;
        let tls = spec.tls.clone();
        conns.spawn(async move {
            let stream = match tls.accept(stream).await {
                Ok(s) => s,
                Err(e) => {
                    node.log(&format!("TLS handshake with {peer} failed: {e}"));
                    clients.lock().remove(&key);
                    return;
                }
            };
            socket::run(
                stream,
                &mut rx,
                idle,
                None,
                |_| {},
                || node.log(&format!("timeout closed socket port {port}")),
            )
            .await;
            let n = {
                let mut c = clients.lock();
                c.remove(&key);
                c.len()
            };
            node.log(&format!(
                "connection closed from {}:{}",
                peer.ip(),
                peer.port()
            ));
            node.status(Status::text(connections(n)));
        });
    }
}
