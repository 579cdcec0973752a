//! udp in: listens on a port (IPv4 or IPv6, optionally joined to a
//! multicast group) and sends each datagram as a Buffer, a string or
//! Base64, with `fromip`, `ip` and `port` of the sender.

use super::{InUse, iface, in_use, join, open};
use base64::Engine as _;
use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeHandle, NodeType, Status,
};
use redoubt_core::value::Value;
use std::sync::Arc;
use tokio::net::UdpSocket;

pub(crate) struct UdpInType;

#[derive(Clone, Copy, PartialEq)]
enum DataType {
    Buffer,
    Utf8,
    Base64,
}

struct UdpIn {
    port: u16,
    datatype: DataType,
    multicast: Option<String>,
    iface: String,
    ipv6: bool,
    _in_use: Option<InUse>,
}

impl NodeType for UdpInType {
    fn type_name(&self) -> &'static str {
        "udp in"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
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
        let port = cfg.num("port")?.unwrap_or(-1.0);
        if !(port.fract() == 0.0 && (0.0..=65535.0).contains(&port)) {
            return Err(ConfigError::field(
                "port",
                format!("udp: port number not valid: {:?}", cfg.str("port")),
            ));
        }
        let multicast = (cfg.str("multicast") == "true").then(|| cfg.str("group"));
        Ok(Box::new(UdpIn {
            port: port as u16,
            datatype,
            multicast,
            iface: cfg.str("iface"),
            ipv6: cfg.str("ipv") == "udp6",
            _in_use: None,
        }))
    }
}

impl Node for UdpIn {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let node = cx.handle();
        let iface = iface(&self.iface, |w| node.warn(w));
        let sock = match in_use(self.port).filter(|_| self.port != 0) {
            Some(s) => {
                cx.log(&format!("udp: port {} already in use", self.port));
                s
            }
            None => match open(self.ipv6, self.port) {
                Ok(s) => Arc::new(s),
                Err(e) => {
                    let text =
                        if e.kind() == std::io::ErrorKind::PermissionDenied && self.port < 1024 {
                            "UDP access error, you may need root access for ports below 1024"
                                .to_string()
                        } else {
                            format!("error: {e}")
                        };
                    cx.error(NodeError::new(text), None);
                    return Ok(());
                }
            },
        };
        let port = sock.local_addr().map(|a| a.port()).unwrap_or(self.port);
        if let Some(group) = &self.multicast {
            match join(&sock, group, iface.as_deref()) {
                Ok(()) => {
                    if let Some(i) = &iface {
                        cx.status(Status::text(format!("{} : {i}", self.iface)));
                    }
                    cx.log(&format!("udp multicast group {group}"));
                }
                Err(e) => cx.error(NodeError::new(e), None),
            }
        }
        let host = iface.clone().unwrap_or_else(|| {
            if self.ipv6 {
                "::".into()
            } else {
                "0.0.0.0".into()
            }
        });
        cx.log(&format!("udp listener at {host}:{port}"));
        self._in_use = Some(InUse::new(port, &sock));
        cx.spawn_detached(listen(sock, self.datatype, node));
        Ok(())
    }

    fn on_input(&mut self, _msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        self._in_use = None;
        cx.log("udp listener stopped");
        cx.status(Status::clear());
    }
}

async fn listen(sock: Arc<UdpSocket>, datatype: DataType, node: NodeHandle) {
    let mut buf = vec![0u8; 65536];
    loop {
        // While the flows are behind, datagrams wait in the socket's
        // receive buffer, and the kernel drops what does not fit, as it
        // does for any UDP reader that falls behind.
        node.room().await;
        let (n, from) = match sock.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                node.error(NodeError::new(format!("error: {e}")), None);
                return;
            }
        };
        let data = &buf[..n];
        let payload = match datatype {
            DataType::Buffer => Value::Buffer(bytes::Bytes::copy_from_slice(data)),
            DataType::Utf8 => Value::from(String::from_utf8_lossy(data).into_owned()),
            DataType::Base64 => Value::from(base64::engine::general_purpose::STANDARD.encode(data)),
        };
        let ip = from.ip().to_string();
        let m = Msg::new();
        m.set("payload", payload);
        m.set("fromip", Value::from(format!("{ip}:{}", from.port())));
        m.set("ip", Value::from(ip));
        m.set("port", Value::Number(f64::from(from.port())));
        node.send(0, m);
    }
}
