//! TCP nodes (`31-tcpin.js`): tcp in, tcp out and tcp request, plain or
//! over TLS through a tls-config node ([`secure`]). Shared here: the
//! session pool, socket task, tcp in framing, and the settings and
//! conversions all three use.

mod framing;
pub(crate) mod pool;
mod request;
mod secure;
mod socket;
mod tcp_in;
mod tcp_out;
#[cfg(test)]
mod tests;

use base64::Engine as _;
use bytes::Bytes;
use redoubt_core::Msg;
use redoubt_core::engine::RuntimeSettings;
use redoubt_core::node::{ConfigError, NodeConfig, NodeError, NodeHandle, Registry};
use redoubt_core::value::{Object, Value};
use std::time::Duration;

pub(crate) fn register(reg: &mut Registry) {
    reg.register(tcp_in::TcpInType);
    reg.register(tcp_out::TcpOutType);
    reg.register(request::TcpRequestType);
}

/// The TCP settings of settings.js.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpSettings {
    /// `socketReconnectTime` (default 10 s).
    pub(crate) reconnect: Duration,
    /// `socketTimeout`: idle time after which a socket is ended.
    pub(crate) idle: Option<Duration>,
    /// `tcpMsgQueueSize` (default 1000).
    pub(crate) queue: usize,
}

impl TcpSettings {
    pub(crate) fn from(s: &RuntimeSettings) -> TcpSettings {
        let num = |k: &str| {
            s.raw
                .get(k)
                .and_then(serde_json::Value::as_f64)
                .filter(|n| *n > 0.0)
        };
        TcpSettings {
            reconnect: Duration::from_millis(num("socketReconnectTime").unwrap_or(10_000.0) as u64),
            idle: num("socketTimeout").map(|ms| Duration::from_millis(ms as u64)),
            queue: num("tcpMsgQueueSize").unwrap_or(1000.0) as usize,
        }
    }
}

/// A port property: a number 0–65535 (`0` picks a free port).
pub(crate) fn port(cfg: &NodeConfig, key: &str) -> Result<u16, ConfigError> {
    let n = cfg.num(key)?.unwrap_or(-1.0);
    if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) {
        Ok(n as u16)
    } else {
        Err(ConfigError::field(
            key,
            format!("invalid port {:?}", cfg.str(key)),
        ))
    }
}

/// Binds a listener on every interface (IPv6 and IPv4 where the system
/// allows, like Node's `server.listen(port)`).
fn bind(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let std = std::net::TcpListener::bind(("::", port))
        .or_else(|_| std::net::TcpListener::bind(("0.0.0.0", port)))?;
    std.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(std)
}

/// Listens on `port` for a server node and logs `listening on port N`, or
/// reports Node-RED's "unable to listen" error. A port still held by the
/// node this one replaces in a redeploy (its task is being cancelled) is
/// retried for up to two seconds.
pub(crate) async fn listen(port: u16, node: &NodeHandle) -> Option<tokio::net::TcpListener> {
    let mut tries = 0;
    loop {
        match bind(port) {
            Ok(l) => {
                let bound = l.local_addr().map(|a| a.port()).unwrap_or(port);
                node.log(&format!("listening on port {bound}"));
                return Some(l);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && tries < 40 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => {
                let text = format!("unable to listen on port {port}, error: Error: {e}");
                node.error(NodeError::new(text), None);
                return None;
            }
        }
    }
}

/// `Buffer.from(s, "base64")`: lenient, ignores what is not base64.
pub(crate) fn base64_decode(s: &str) -> Vec<u8> {
    let mut clean: String = s
        .chars()
        .take_while(|c| *c != '=')
        .filter_map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '+' | '/' => Some(c),
            '-' => Some('+'),
            '_' => Some('/'),
            _ => None,
        })
        .collect();
    if clean.len() % 4 == 1 {
        clean.pop();
    }
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(clean)
        .unwrap_or_default()
}

/// The bytes tcp out writes for a payload: a Buffer as it is, a string
/// decoded from base64 when asked, anything else as its JS string.
pub(crate) fn payload_bytes(payload: &Value, base64: bool) -> Bytes {
    match payload {
        Value::Buffer(b) => b.clone(),
        Value::String(s) if base64 => base64_decode(s).into(),
        other => Bytes::from(other.to_js_string()),
    }
}

/// Turns `\n`, `\r`, `\t` typed in the editor into the characters.
pub(crate) fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
        .replace("\\r", "\r")
        .replace("\\t", "\t")
}

/// `msg._session` of a TCP socket.
pub(crate) fn session(id: &str) -> Value {
    let o = Object::new();
    o.insert("type", Value::str("tcp"));
    o.insert("id", Value::str(id));
    Value::Object(o)
}

/// `"1 connection"`, `"2 connections"`.
pub(crate) fn connections(n: usize) -> String {
    if n == 1 {
        "1 connection".into()
    } else {
        format!("{n} connections")
    }
}

/// The `_session` id of a message, when it came from a TCP socket.
pub(crate) fn session_id(msg: &Msg) -> Option<String> {
    let s = msg.get("_session")?;
    let o = s.as_object()?;
    if o.get("type")?.as_str()? != "tcp" {
        return None;
    }
    Some(o.get("id")?.to_js_string())
}
