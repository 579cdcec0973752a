//! udp out: sends each payload as a datagram to the configured address and
//! port, or `msg.ip`/`msg.port`; unicast, broadcast or multicast; from a
//! given local port, a random one, or the socket of a udp in node on that
//! port. Base64 payloads can be decoded first.

use super::{iface, in_use, join, open};
use crate::network::tcp::base64_decode;
use bytes::Bytes;
use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeHandle, NodeType, Pending,
    Status,
};
use redoubt_core::value::Value;
use std::sync::Arc;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

pub(crate) struct UdpOutType;

#[derive(Clone, Copy, PartialEq)]
enum Cast {
    Unicast,
    Broadcast,
    Multicast,
}

struct UdpOut {
    addr: String,
    port: Option<u16>,
    outport: Option<u16>,
    base64: bool,
    cast: Cast,
    iface: String,
    ipv6: bool,
    tx: Option<mpsc::UnboundedSender<Send>>,
}

/// One datagram for the sending task.
struct Send {
    msg: Msg,
    pending: Option<Pending>,
    data: Bytes,
    host: String,
    port: u16,
}

fn opt_port(cfg: &NodeConfig, key: &str) -> Result<Option<u16>, ConfigError> {
    match cfg.num(key)? {
        None => Ok(None),
        Some(0.0) => Ok(None),
        Some(n) if n.fract() == 0.0 && (1.0..=65535.0).contains(&n) => Ok(Some(n as u16)),
        Some(_) => Err(ConfigError::field(
            key,
            format!("udp: port number not valid: {:?}", cfg.str(key)),
        )),
    }
}

impl NodeType for UdpOutType {
    fn type_name(&self) -> &'static str {
        "udp out"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let cast = match cfg.str("multicast").as_str() {
            "" | "false" => Cast::Unicast,
            "board" => Cast::Broadcast,
            "multi" => Cast::Multicast,
            other => {
                return Err(ConfigError::field(
                    "multicast",
                    format!("unknown mode {other:?} (expected false, board or multi)"),
                ));
            }
        };
        Ok(Box::new(UdpOut {
            addr: cfg.str("addr"),
            port: opt_port(cfg, "port")?,
            outport: opt_port(cfg, "outport")?,
            base64: cfg.bool("base64"),
            cast,
            iface: cfg.str("iface"),
            ipv6: cfg.str("ipv") == "udp6",
            tx: None,
        }))
    }
}

impl Node for UdpOut {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let node = cx.handle();
        let iface = iface(&self.iface, |w| node.warn(w));
        let shared = self.outport.or(self.port).and_then(in_use);
        let sock = match shared {
            Some(s) => {
                if self.cast != Cast::Unicast {
                    let _ = s.set_broadcast(true);
                    let _ = s.set_multicast_loop_v4(false);
                }
                cx.log(&format!(
                    "udp re-use socket: {} -> {}:{}",
                    self.outport.unwrap_or(0),
                    self.addr,
                    self.port.unwrap_or(0)
                ));
                s
            }
            None => match open(self.ipv6, self.outport.unwrap_or(0)) {
                Ok(s) => Arc::new(s),
                Err(e) => {
                    cx.error(NodeError::new(format!("error: {e}")), None);
                    return Ok(());
                }
            },
        };
        let local = sock.local_addr().map(|a| a.port()).unwrap_or(0);
        let (host, port) = (&self.addr, self.port.unwrap_or(0));
        match self.cast {
            Cast::Multicast => match join(&sock, &self.addr, iface.as_deref()) {
                Ok(()) => {
                    if let Some(i) = &iface {
                        cx.status(Status::text(format!("{} : {i}", self.iface)));
                    }
                    let i = iface.as_deref().unwrap_or("");
                    cx.log(&format!(
                        "udp multicast ready: {i}:{local} -> {host}:{port}"
                    ));
                }
                Err(e) => cx.error(NodeError::new(e), None),
            },
            Cast::Broadcast => {
                let _ = sock.set_broadcast(true);
                let _ = sock.set_multicast_loop_v4(false);
                cx.log(&format!("udp broadcast ready: {local} -> {host}:{port}"));
            }
            Cast::Unicast => cx.log(&format!("udp ready: {local} -> {host}:{port}")),
        }
        let (tx, rx) = mpsc::unbounded_channel();
        self.tx = Some(tx);
        cx.spawn_detached(sender(sock, rx, node));
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        if !msg.object().contains_key("payload") {
            return Ok(());
        }
        let host = if self.addr.is_empty() {
            msg.get("ip")
                .filter(|v| !v.is_nullish())
                .map(|v| v.to_js_string())
                .unwrap_or_default()
        } else {
            self.addr.clone()
        };
        let port = match self.port {
            Some(p) => f64::from(p),
            None => msg.get("port").map(|v| v.to_number()).unwrap_or(0.0),
        };
        if host.is_empty() {
            cx.warn("udp: ip address not set");
            return Ok(());
        }
        if port == 0.0 {
            cx.warn("udp: port not set");
            return Ok(());
        }
        if port.is_nan() || port.fract() != 0.0 || !(1.0..=65535.0).contains(&port) {
            cx.warn("udp: port number not valid");
            return Ok(());
        }
        let payload = msg.payload();
        let data = match &payload {
            Value::Buffer(b) => b.clone(),
            Value::String(s) if self.base64 => base64_decode(s).into(),
            other => Bytes::from(other.to_js_string()),
        };
        let Some(tx) = &self.tx else {
            return Ok(());
        };
        let job = Send {
            pending: cx.defer(),
            msg,
            data,
            host,
            port: port as u16,
        };
        // The sender lives as long as the node.
        let _ = tx.send(job);
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        cx.log("udp output stopped");
        cx.status(Status::clear());
    }
}

async fn sender(sock: Arc<UdpSocket>, mut rx: mpsc::UnboundedReceiver<Send>, node: NodeHandle) {
    while let Some(job) = rx.recv().await {
        if let Err(e) = sock.send_to(&job.data, (job.host.as_str(), job.port)).await {
            node.error(NodeError::new(format!("udp : Error: {e}")), Some(job.msg));
        }
        if let Some(p) = job.pending {
            node.complete(p, Ok(()));
        }
    }
}
