//! UDP nodes (`32-udp.js`): udp in and udp out. Shared here: opening a
//! socket as Node's `dgram` does (`reuseAddr`, IPv4 or IPv6), multicast
//! membership, and Node-RED's `udpInputPortsInUse`: a udp out node whose
//! local port is a udp in node's port sends from that node's socket.

#[cfg(test)]
mod tests;
mod udp_in;
mod udp_out;

use parking_lot::Mutex;
use redoubt_core::node::Registry;
use socket2::{Domain, Protocol, Socket, Type};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, LazyLock, Weak};
use tokio::net::UdpSocket;

pub(crate) fn register(reg: &mut Registry) {
    reg.register(udp_in::UdpInType);
    reg.register(udp_out::UdpOutType);
}

/// Sockets of running udp in nodes, by port.
static IN_USE: LazyLock<Mutex<HashMap<u16, Weak<UdpSocket>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A udp in node's socket, held in [`IN_USE`] while the guard lives.
pub(crate) struct InUse(u16);

impl InUse {
    fn new(port: u16, sock: &Arc<UdpSocket>) -> InUse {
        IN_USE.lock().insert(port, Arc::downgrade(sock));
        InUse(port)
    }
}

impl Drop for InUse {
    fn drop(&mut self) {
        IN_USE.lock().remove(&self.0);
    }
}

/// The socket a udp in node holds on `port`, if any.
fn in_use(port: u16) -> Option<Arc<UdpSocket>> {
    IN_USE.lock().get(&port).and_then(Weak::upgrade)
}

/// Opens a UDP socket bound to `port` on every interface, with
/// `SO_REUSEADDR` as Node's `reuseAddr: true`.
fn open(ipv6: bool, port: u16) -> std::io::Result<UdpSocket> {
    let (domain, ip) = if ipv6 {
        (Domain::IPV6, IpAddr::V6(Ipv6Addr::UNSPECIFIED))
    } else {
        (Domain::IPV4, IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    };
    let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.bind(&SocketAddr::new(ip, port).into())?;
    s.set_nonblocking(true)?;
    UdpSocket::from_std(s.into())
}

/// Broadcast on, multicast loopback off, TTL 128 and membership of `group`
/// (on interface `iface`, an address), as both UDP nodes set up multicast.
fn join(sock: &UdpSocket, group: &str, iface: Option<&str>) -> Result<(), String> {
    sock.set_broadcast(true).map_err(|e| e.to_string())?;
    let group: IpAddr = group
        .parse()
        .map_err(|_| "Bad Multicast Address".to_string())?;
    if !group.is_multicast() {
        return Err("Bad Multicast Address".into());
    }
    match group {
        IpAddr::V4(g) => {
            let _ = sock.set_multicast_loop_v4(false);
            let _ = sock.set_multicast_ttl_v4(128);
            let i = match iface {
                Some(i) => i
                    .parse::<Ipv4Addr>()
                    .map_err(|_| "Must be ip address of the required interface".to_string())?,
                None => Ipv4Addr::UNSPECIFIED,
            };
            sock.join_multicast_v4(g, i)
                .map_err(|e| format!("error: {e}"))
        }
        IpAddr::V6(g) => {
            let _ = sock.set_multicast_loop_v6(false);
            sock.join_multicast_v6(&g, 0)
                .map_err(|e| format!("error: {e}"))
        }
    }
}

/// An interface property: Node-RED accepts an address here (or a name,
/// which redoubt does not resolve). Empty is none.
fn iface(raw: &str, warn: impl Fn(&str)) -> Option<String> {
    if raw.is_empty() {
        return None;
    }
    if raw.parse::<IpAddr>().is_ok() {
        return Some(raw.to_string());
    }
    warn(&format!("udp: interface {raw} not found"));
    None
}
