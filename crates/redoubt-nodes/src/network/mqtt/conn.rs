//! [`Broker`]: the one connection of an mqtt-broker node, shared by its
//! mqtt in and mqtt out nodes. It keeps the users (for their status), the
//! subscriptions (re-sent on every connect), and a task that polls the
//! connection, dispatches messages, and reconnects after
//! `mqttReconnectTime` (default 5 s).
//!
//! Flow control: a QoS 1 or 2 message is acknowledged only once the
//! engine's backlog has room (see [`client::Ack`]), by a second task so the
//! connection keeps sending publishes and keep-alives meanwhile. QoS 0 has
//! no acknowledgement to hold; its messages are taken as they come.

use super::bridge::{self, Bridge};
use super::client::{self, ConnectSpec, LoopEvent, MqttClient, OutMessage, SubOptions};
use super::convert::{self, Datatype};
use super::settings::BrokerSettings;
use super::topic;
use crate::network::tls_config::TlsHandle;
use indexmap::IndexMap;
use parking_lot::Mutex;
use redoubt_core::node::{NodeError, NodeHandle, Status};
use rustls::ClientConfig;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// Who receives a subscription's messages.
#[derive(Clone)]
pub(crate) struct Sink {
    pub(crate) node: NodeHandle,
    pub(crate) datatype: Datatype,
}

#[derive(Clone)]
struct Sub {
    opts: SubOptions,
    sink: Sink,
}

/// What a connection needs besides its settings.
pub(crate) struct BrokerDeps {
    /// The tls-config node's handle, when one is set and `usetls` is on.
    pub(crate) tls: Option<Arc<TlsHandle>>,
    /// `mqttReconnectTime`.
    pub(crate) reconnect: Duration,
    /// The broker node itself, for its log lines.
    pub(crate) me: NodeHandle,
    /// The node's properties and credentials, for `msg.broker` merges.
    pub(crate) raw: serde_json::Map<String, serde_json::Value>,
    pub(crate) creds: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Default)]
struct State {
    users: IndexMap<String, NodeHandle>,
    /// filter -> subscriber node id -> subscription.
    subs: IndexMap<String, IndexMap<String, Sub>>,
    client: Option<Arc<dyn MqttClient>>,
    task: Option<tokio::task::AbortHandle>,
    connected: bool,
    connecting: bool,
    closing: bool,
    /// Bumped by every connect and disconnect; a connection task whose
    /// generation is stale stops instead of reconnecting.
    generation: u64,
}

/// The shared connection of one mqtt-broker node.
pub(crate) struct Broker {
    settings: Mutex<BrokerSettings>,
    deps: BrokerDeps,
    state: Mutex<State>,
}

fn connected() -> Status {
    Status::new("green", "dot", "node-red:common.status.connected")
}
fn connecting() -> Status {
    Status::new("yellow", "ring", "node-red:common.status.connecting")
}
pub(crate) fn disconnected() -> Status {
    Status::new("red", "ring", "node-red:common.status.disconnected")
}

impl Broker {
    pub(crate) fn new(settings: BrokerSettings, deps: BrokerDeps) -> Arc<Broker> {
        Arc::new(Broker {
            settings: Mutex::new(settings),
            deps,
            state: Mutex::new(State::default()),
        })
    }

    /// The current settings.
    pub(crate) fn settings(&self) -> BrokerSettings {
        self.settings.lock().clone()
    }

    /// Applies a connect action's `msg.broker` over the node's properties;
    /// takes effect on the next connect.
    pub(crate) fn apply_options(
        &self,
        over: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), NodeError> {
        let raw = super::settings::merge(&self.deps.raw, over);
        let id = self.settings.lock().client_id.clone();
        let (s, _) = super::settings::parse(&raw, self.deps.creds.as_ref(), &id)
            .map_err(|e| NodeError::new(format!("{}: {}", e.field, e.message)))?;
        *self.settings.lock() = s;
        Ok(())
    }

    pub(crate) fn is_v5(&self) -> bool {
        self.settings.lock().v5
    }

    /// True when neither connected nor connecting (`canConnect`).
    pub(crate) fn can_connect(&self) -> bool {
        let st = self.state.lock();
        !st.connected && !st.connecting
    }

    fn who(&self) -> String {
        let s = self.settings.lock();
        if s.fixed_id {
            format!("{}@{}", s.client_id, s.url)
        } else {
            s.url.clone()
        }
    }

    fn status_all(&self, st: Status) {
        for u in self.state.lock().users.values() {
            u.status(st.clone());
        }
    }

    /// A node starts using this broker; the first one connects it (autoConnect).
    pub(crate) fn register(self: &Arc<Self>, id: &str, node: NodeHandle) {
        let first = {
            let mut st = self.state.lock();
            let status = if st.connected {
                connected()
            } else if st.connecting {
                connecting()
            } else {
                disconnected()
            };
            node.status(status);
            st.users.insert(id.to_string(), node);
            st.users.len() == 1
        };
        if first && self.settings.lock().auto_connect {
            self.connect();
        }
    }

    /// A node stops using this broker; when it was removed and was the last
    /// user, the connection closes.
    pub(crate) fn deregister(self: &Arc<Self>, id: &str, removed: bool) {
        let last = {
            let mut st = self.state.lock();
            st.users.shift_remove(id);
            st.users.is_empty() && st.connected && !st.closing
        };
        if removed && last {
            self.disconnect();
        }
    }

    /// Subscribes node `owner` to `filter` (replacing its earlier one).
    pub(crate) fn subscribe(&self, filter: &str, owner: &str, opts: SubOptions, sink: Sink) {
        let client = {
            let mut st = self.state.lock();
            st.subs
                .entry(filter.to_string())
                .or_default()
                .insert(owner.to_string(), Sub { opts, sink });
            st.connected.then(|| st.client.clone()).flatten()
        };
        if let Some(c) = client
            && let Err(e) = c.subscribe(filter, opts)
        {
            self.deps
                .me
                .warn(&format!("Cannot subscribe to {filter}: {e}"));
        }
    }

    /// Removes `owner`'s subscription to `filter`; the broker is told when
    /// no node subscribes to it any more and `unsub` (or autoUnsubscribe).
    pub(crate) fn unsubscribe(&self, filter: &str, owner: &str, unsub: bool) {
        let client = {
            let mut st = self.state.lock();
            let auto = self.settings.lock().auto_unsubscribe;
            let Some(subs) = st.subs.get_mut(filter) else {
                return;
            };
            subs.shift_remove(owner);
            if !subs.is_empty() {
                return;
            }
            st.subs.shift_remove(filter);
            if !(unsub || auto) {
                return;
            }
            st.connected.then(|| st.client.clone()).flatten()
        };
        if let Some(c) = client {
            let _ = c.unsubscribe(filter);
        }
    }

    /// Publishes `m`. While the connection is down the message waits for
    /// the reconnect (rumqttc's request queue).
    pub(crate) fn publish(&self, m: &OutMessage) -> Result<(), NodeError> {
        let client = self.state.lock().client.clone();
        match client {
            Some(c) => c.publish(m).map_err(NodeError::new),
            None => Err(NodeError::new(format!(
                "Not connected to broker: {}",
                self.who()
            ))),
        }
    }

    /// Opens the connection (no-op when connected or connecting).
    pub(crate) fn connect(self: &Arc<Self>) {
        let settings = self.settings();
        {
            let mut st = self.state.lock();
            if st.connected || st.connecting {
                return;
            }
            st.connecting = true;
            st.closing = false;
            st.generation += 1;
        }
        let generation = self.state.lock().generation;
        self.status_all(connecting());
        let mut spec = ConnectSpec {
            v5: settings.v5,
            host: settings.host.clone(),
            port: settings.port,
            unix: false,
            client_id: settings.client_id.clone(),
            clean: settings.clean,
            keepalive: settings.keepalive,
            credentials: settings.credentials.clone(),
            will: settings.will.clone(),
            session_expiry: settings.session_expiry,
            user_props: settings.user_props.clone(),
        };
        let bridge = if settings.tls {
            match self.start_bridge(&settings) {
                Ok(b) => {
                    spec.unix = true;
                    spec.host = b.socket.to_string_lossy().into_owned();
                    Some(b)
                }
                Err(e) => {
                    self.state.lock().connecting = false;
                    self.status_all(disconnected());
                    self.deps.me.error(NodeError::new(e), None);
                    return;
                }
            }
        } else {
            None
        };
        let (c, lp) = client::open(spec);
        let c: Arc<dyn MqttClient> = Arc::from(c);
        let me = self.clone();
        let task = tokio::spawn(async move { me.run(lp, bridge, generation).await }).abort_handle();
        let mut st = self.state.lock();
        st.client = Some(c);
        if let Some(old) = st.task.replace(task) {
            old.abort();
        }
    }

    fn start_bridge(&self, s: &BrokerSettings) -> Result<Bridge, String> {
        let (config, name): (Arc<ClientConfig>, _) = match &self.deps.tls {
            Some(t) => (t.client.clone(), t.server_name(&s.host)?),
            None => {
                let m = crate::network::tls_config::Material::default();
                let c = crate::network::tls_config::client_config(&m, s.verify, None)
                    .map_err(|e| e.to_string())?;
                let name = rustls_pki_types::ServerName::try_from(s.host.clone())
                    .map_err(|e| format!("invalid broker host {:?}: {e}", s.host))?;
                (Arc::new(c), name)
            }
        };
        let me = self.deps.me.clone();
        bridge::start(
            bridge::Target {
                host: s.host.clone(),
                port: s.port,
                name,
                config,
            },
            move |e| me.log(&e),
        )
        .map_err(|e| format!("cannot start the TLS connection: {e}"))
    }

    fn current(&self, generation: u64) -> bool {
        let st = self.state.lock();
        st.generation == generation && !st.closing
    }

    async fn run(
        self: Arc<Self>,
        mut lp: Box<dyn client::MqttLoop>,
        _bridge: Option<Bridge>,
        generation: u64,
    ) {
        let (acks, pending) = mpsc::unbounded_channel();
        // Counts connects: an acknowledgement still waiting when the
        // connection dropped is not sent on the next one, where its packet
        // id may name another message. The broker sends an unacknowledged
        // message again on a persistent session; a clean one forgot it.
        let session = Arc::new(AtomicU64::new(0));
        let unreleased = Arc::new(Mutex::new(HashSet::new()));
        // The acknowledging task lives in the set, which aborts it when
        // this task ends or is aborted.
        let mut acker = tokio::task::JoinSet::new();
        acker.spawn(acknowledge(
            pending,
            session.clone(),
            unreleased.clone(),
            self.deps.me.clone(),
        ));
        // QoS 2 messages the flows got on the previous connection whose
        // PUBREC never went out: the kept session sends them again (DUP),
        // and they must not reach the flows twice.
        let mut delivered: HashSet<u16> = HashSet::new();
        loop {
            let ev = lp.poll().await;
            if !self.current(generation) {
                // Closing: keep polling so the close message and DISCONNECT
                // go out; stop at the first error (the 2 s abort is the cap).
                if ev.is_err() {
                    return;
                }
                continue;
            }
            match ev {
                Ok(LoopEvent::Connected { session_present }) => {
                    session.fetch_add(1, Ordering::SeqCst);
                    let held = std::mem::take(&mut *unreleased.lock());
                    delivered = if session_present {
                        held
                    } else {
                        HashSet::new()
                    };
                    self.on_connected();
                }
                Ok(LoopEvent::Message(m, ack)) => {
                    let again = ack
                        .as_ref()
                        .is_some_and(|a| a.exactly_once() && a.dup && delivered.remove(&a.pkid()));
                    if !again {
                        self.dispatch(&m);
                    }
                    if let Some(a) = ack {
                        if a.exactly_once() {
                            unreleased.lock().insert(a.pkid());
                        }
                        // The acker lives as long as this loop (`acker`).
                        let _ = acks.send((session.load(Ordering::SeqCst), a));
                    }
                }
                Ok(LoopEvent::BrokerDisconnect(reason)) => self.deps.me.log(&format!(
                    "Broker {} disconnected client: {reason}",
                    self.who()
                )),
                Ok(LoopEvent::Other) => {}
                Err(e) => {
                    let was = {
                        let mut st = self.state.lock();
                        let was = st.connected;
                        st.connected = false;
                        st.connecting = true;
                        was
                    };
                    if was {
                        self.deps
                            .me
                            .log(&format!("Disconnected from broker: {}", self.who()));
                        self.status_all(disconnected());
                    } else {
                        tracing::debug!(error = %e, "MQTT connect failed.");
                        self.deps
                            .me
                            .log(&format!("Connection failed to broker: {}", self.who()));
                    }
                    tokio::time::sleep(self.deps.reconnect).await;
                    self.status_all(connecting());
                }
            }
        }
    }

    fn on_connected(&self) {
        let (client, subs) = {
            let mut st = self.state.lock();
            st.connected = true;
            st.connecting = false;
            let subs: Vec<(String, SubOptions)> = st
                .subs
                .iter()
                .filter_map(|(f, m)| {
                    // One SUBSCRIBE per filter, with the highest QoS asked for.
                    let mut it = m.values();
                    let first = it.next()?.opts;
                    Some((
                        f.clone(),
                        it.fold(first, |a, s| SubOptions {
                            qos: a.qos.max(s.opts.qos),
                            ..a
                        }),
                    ))
                })
                .collect();
            (st.client.clone(), subs)
        };
        self.deps
            .me
            .log(&format!("Connected to broker: {}", self.who()));
        self.status_all(connected());
        let Some(c) = client else { return };
        for (f, o) in subs {
            if let Err(e) = c.subscribe(&f, o) {
                self.deps.me.warn(&format!("Cannot subscribe to {f}: {e}"));
            }
        }
        if let Some(b) = self.settings.lock().birth.clone() {
            let _ = c.publish(&b);
        }
    }

    fn dispatch(&self, m: &client::InMessage) {
        let sinks: Vec<Sink> = {
            let st = self.state.lock();
            st.subs
                .iter()
                .filter(|(f, _)| topic::matches(f, &m.topic))
                .flat_map(|(_, subs)| subs.values().map(|s| s.sink.clone()))
                .collect()
        };
        let local = {
            let s = self.settings.lock();
            s.host == "localhost" || s.host == "127.0.0.1"
        };
        for s in sinks {
            match convert::to_msg(m, s.datatype, local) {
                Ok(msg) => s.node.send(0, msg),
                Err(r) => s.node.error(NodeError::new(r.text), Some(r.msg)),
            }
        }
    }

    /// Closes the connection: publishes the close message, sends
    /// DISCONNECT, and gives the connection 2 s to finish.
    pub(crate) fn disconnect(self: &Arc<Self>) {
        let (client, task, was) = {
            let mut st = self.state.lock();
            st.closing = true;
            st.generation += 1;
            let was = st.connected || st.connecting;
            st.connected = false;
            st.connecting = false;
            (st.client.take(), st.task.take(), was)
        };
        if was {
            self.status_all(disconnected());
        }
        let close = self.settings.lock().close.clone();
        if let Some(c) = &client {
            if let (true, Some(m)) = (was, close) {
                let _ = c.publish(&m);
            }
            let _ = c.disconnect();
        }
        if let Some(t) = task {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(2)).await;
                t.abort();
            });
        }
    }
}

/// Sends the received messages' acknowledgements in the order they came,
/// each once the engine's backlog has room, so a broker sending faster than
/// the flows take its messages is held back by its in-flight window (the
/// unacknowledged messages waiting here are at most that window). Nothing
/// is dropped: the broker keeps what it holds back.
///
/// `unreleased` holds the packet ids of the QoS 2 messages given to the
/// flows whose PUBREC has not gone out yet.
async fn acknowledge(
    mut pending: mpsc::UnboundedReceiver<(u64, client::Ack)>,
    session: Arc<AtomicU64>,
    unreleased: Arc<Mutex<HashSet<u16>>>,
    gate: NodeHandle,
) {
    while let Some((of, a)) = pending.recv().await {
        gate.room().await;
        if session.load(Ordering::SeqCst) != of {
            continue;
        }
        if a.exactly_once() {
            unreleased.lock().remove(&a.pkid());
        }
        if let Err(e) = a.send().await {
            tracing::debug!(error = %e, "MQTT acknowledgement not sent.");
        }
    }
}
