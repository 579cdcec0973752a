//! The thin seam between the mqtt nodes and the MQTT library: one
//! [`MqttClient`] (requests) and one [`MqttLoop`] (the connection, polled by
//! the broker's task), implemented for MQTT 3.1.1 and 5 over rumqttc.
//!
//! Connections run with manual acknowledgements: a received QoS 1/2
//! message comes with the [`Ack`] it owes, which the broker's task sends
//! once the flows have room (flow control, see `conn.rs`).
//!
//! rumqttc is built without its TLS features (they pull the unmaintained
//! `rustls-pemfile` and a second `rustls-webpki`); TLS connections go
//! through [`super::bridge`], which rumqttc reaches as a Unix socket.

use bytes::Bytes;
use rumqttc::v5::mqttbytes::v5 as p5;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// One message to publish (also birth, close and will messages).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct OutMessage {
    pub(crate) topic: String,
    pub(crate) payload: Bytes,
    pub(crate) qos: u8,
    pub(crate) retain: bool,
    /// MQTT 5 properties (ignored on 3.1.1).
    pub(crate) props: Props,
}

/// The MQTT 5 publish properties Node-RED maps to and from `msg`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Props {
    pub(crate) response_topic: Option<String>,
    pub(crate) correlation_data: Option<Bytes>,
    pub(crate) content_type: Option<String>,
    pub(crate) message_expiry: Option<u32>,
    pub(crate) payload_format: Option<bool>,
    pub(crate) user: Vec<(String, String)>,
    pub(crate) will_delay: Option<u32>,
}

/// A received message.
#[derive(Debug, Clone)]
pub(crate) struct InMessage {
    pub(crate) topic: String,
    pub(crate) payload: Bytes,
    pub(crate) qos: u8,
    pub(crate) retain: bool,
    /// `Some` on MQTT 5 connections.
    pub(crate) props: Option<Props>,
}

/// Subscription options (`nl`, `rap`, `rh` are MQTT 5 only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SubOptions {
    pub(crate) qos: u8,
    pub(crate) nl: bool,
    pub(crate) rap: bool,
    pub(crate) rh: u8,
}

/// What the connection reports.
#[derive(Debug)]
pub(crate) enum LoopEvent {
    /// CONNACK; `session_present` when the broker kept this client's
    /// session (and will send its unacknowledged messages again).
    Connected {
        session_present: bool,
    },
    /// A message, with the acknowledgement it owes the broker when its QoS
    /// is 1 or 2.
    Message(InMessage, Option<Ack>),
    /// The broker sent DISCONNECT (MQTT 5) with this reason.
    BrokerDisconnect(String),
    Other,
}

/// How to reach the broker.
pub(crate) struct ConnectSpec {
    pub(crate) v5: bool,
    /// Host and port, or for TLS the bridge's socket path (port unused).
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) unix: bool,
    pub(crate) client_id: String,
    pub(crate) clean: bool,
    pub(crate) keepalive: u16,
    pub(crate) credentials: Option<(String, String)>,
    pub(crate) will: Option<OutMessage>,
    pub(crate) session_expiry: Option<u32>,
    pub(crate) user_props: Vec<(String, String)>,
}

/// Requests to the connection; cheap, never blocks.
pub(crate) trait MqttClient: Send + Sync {
    fn publish(&self, m: &OutMessage) -> Result<(), String>;
    fn subscribe(&self, filter: &str, o: SubOptions) -> Result<(), String>;
    fn unsubscribe(&self, filter: &str) -> Result<(), String>;
    fn disconnect(&self) -> Result<(), String>;
}

/// The PUBACK (QoS 1) or PUBREC (QoS 2) a received message owes the
/// broker. The connection runs with manual acks: until this is sent the
/// message counts in the broker's in-flight window, and a full window makes
/// the broker hold further messages for this client. That is how a
/// subscriber slows the broker while the flows are behind, without pausing
/// the connection, which also carries the mqtt out nodes' publishes.
pub(crate) struct Ack {
    kind: AckKind,
    /// The broker marked the message as sent before (DUP).
    pub(crate) dup: bool,
}

enum AckKind {
    V4(rumqttc::AsyncClient, u16, rumqttc::QoS),
    V5(rumqttc::v5::AsyncClient, u16, rumqttc::v5::mqttbytes::QoS),
}

impl std::fmt::Debug for Ack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ack")
            .field("pkid", &self.pkid())
            .field("dup", &self.dup)
            .finish()
    }
}

impl Ack {
    /// The message's packet id.
    pub(crate) fn pkid(&self) -> u16 {
        match &self.kind {
            AckKind::V4(_, pkid, _) | AckKind::V5(_, pkid, _) => *pkid,
        }
    }

    /// True for a QoS 2 message (its acknowledgement is a PUBREC).
    pub(crate) fn exactly_once(&self) -> bool {
        match &self.kind {
            AckKind::V4(_, _, q) => *q == rumqttc::QoS::ExactlyOnce,
            AckKind::V5(_, _, q) => *q == rumqttc::v5::mqttbytes::QoS::ExactlyOnce,
        }
    }

    /// Queues the acknowledgement on the connection (waiting while its
    /// request queue is full).
    pub(crate) async fn send(self) -> Result<(), String> {
        match self.kind {
            AckKind::V4(c, pkid, qos) => {
                let mut p = rumqttc::Publish::new("", qos, Vec::new());
                p.pkid = pkid;
                c.ack(&p).await.map_err(|e| e.to_string())
            }
            AckKind::V5(c, pkid, qos) => {
                let mut p = p5::Publish::new("", qos, Vec::new(), None);
                p.pkid = pkid;
                c.ack(&p).await.map_err(|e| e.to_string())
            }
        }
    }
}

pub(crate) type PollFuture<'a> =
    Pin<Box<dyn Future<Output = Result<LoopEvent, String>> + Send + 'a>>;

/// The connection; each poll drives it, and polling after an error reconnects.
pub(crate) trait MqttLoop: Send {
    fn poll(&mut self) -> PollFuture<'_>;
}

/// Requests queued while the connection is down (published after reconnect).
const QUEUE: usize = 1000;

/// QoS 1 and 2 publishes in flight at once on an MQTT 3.1.1 connection.
/// 3.1.1 has no way for a broker to say how many it accepts, and mosquitto
/// (`max_inflight_messages`, 20 by default) drops a QoS 2 message beyond its
/// limit while still answering PUBREC, so a burst of more was silently
/// lost. MQTT 5 brokers send their receive maximum, which rumqttc obeys.
const INFLIGHT_V3: u16 = 20;

/// Connects lazily: nothing happens until the loop is polled.
pub(crate) fn open(spec: ConnectSpec) -> (Box<dyn MqttClient>, Box<dyn MqttLoop>) {
    if spec.v5 { v5(spec) } else { v4(spec) }
}

fn qos4(q: u8) -> rumqttc::QoS {
    match q {
        2 => rumqttc::QoS::ExactlyOnce,
        1 => rumqttc::QoS::AtLeastOnce,
        _ => rumqttc::QoS::AtMostOnce,
    }
}

fn qos5(q: u8) -> rumqttc::v5::mqttbytes::QoS {
    match q {
        2 => rumqttc::v5::mqttbytes::QoS::ExactlyOnce,
        1 => rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
        _ => rumqttc::v5::mqttbytes::QoS::AtMostOnce,
    }
}

/// rumqttc's v5 client refuses keep-alives under 5 s (it panics): they are
/// raised to 5 s, and 0 (off) becomes the protocol's maximum.
fn keepalive5(k: u16) -> Duration {
    Duration::from_secs(if k == 0 {
        u64::from(u16::MAX)
    } else {
        u64::from(k.max(5))
    })
}

// ---- MQTT 3.1.1 ----

struct V4(rumqttc::AsyncClient);
struct V4Loop(rumqttc::EventLoop, rumqttc::AsyncClient);

fn v4(s: ConnectSpec) -> (Box<dyn MqttClient>, Box<dyn MqttLoop>) {
    let mut o = rumqttc::MqttOptions::new(s.client_id, s.host, s.port);
    if s.unix {
        o.set_transport(rumqttc::Transport::Unix);
    }
    o.set_clean_session(s.clean);
    o.set_keep_alive(Duration::from_secs(u64::from(s.keepalive)));
    o.set_max_packet_size(256 * 1024 * 1024, 256 * 1024 * 1024);
    o.set_manual_acks(true);
    o.set_inflight(INFLIGHT_V3);
    if let Some((u, p)) = s.credentials {
        o.set_credentials(u, p);
    }
    if let Some(w) = s.will {
        o.set_last_will(rumqttc::LastWill::new(
            w.topic,
            w.payload.to_vec(),
            qos4(w.qos),
            w.retain,
        ));
    }
    let (c, l) = rumqttc::AsyncClient::new(o, QUEUE);
    (Box::new(V4(c.clone())), Box::new(V4Loop(l, c)))
}

impl MqttClient for V4 {
    fn publish(&self, m: &OutMessage) -> Result<(), String> {
        self.0
            .try_publish(m.topic.clone(), qos4(m.qos), m.retain, m.payload.to_vec())
            .map_err(|e| e.to_string())
    }
    fn subscribe(&self, filter: &str, o: SubOptions) -> Result<(), String> {
        self.0
            .try_subscribe(filter, qos4(o.qos))
            .map_err(|e| e.to_string())
    }
    fn unsubscribe(&self, filter: &str) -> Result<(), String> {
        self.0.try_unsubscribe(filter).map_err(|e| e.to_string())
    }
    fn disconnect(&self) -> Result<(), String> {
        self.0.try_disconnect().map_err(|e| e.to_string())
    }
}

impl MqttLoop for V4Loop {
    fn poll(&mut self) -> PollFuture<'_> {
        Box::pin(async move {
            use rumqttc::{Event, Packet};
            match self.0.poll().await.map_err(|e| e.to_string())? {
                Event::Incoming(Packet::ConnAck(c)) => Ok(LoopEvent::Connected {
                    session_present: c.session_present,
                }),
                Event::Incoming(Packet::Publish(p)) => {
                    let ack = (p.qos != rumqttc::QoS::AtMostOnce).then(|| Ack {
                        kind: AckKind::V4(self.1.clone(), p.pkid, p.qos),
                        dup: p.dup,
                    });
                    let m = InMessage {
                        topic: p.topic,
                        payload: p.payload,
                        qos: p.qos as u8,
                        retain: p.retain,
                        props: None,
                    };
                    Ok(LoopEvent::Message(m, ack))
                }
                _ => Ok(LoopEvent::Other),
            }
        })
    }
}

// ---- MQTT 5 ----

struct V5(rumqttc::v5::AsyncClient);
struct V5Loop(rumqttc::v5::EventLoop, rumqttc::v5::AsyncClient);

fn v5(s: ConnectSpec) -> (Box<dyn MqttClient>, Box<dyn MqttLoop>) {
    let mut o = rumqttc::v5::MqttOptions::new(s.client_id, s.host, s.port);
    if s.unix {
        o.set_transport(rumqttc::Transport::Unix);
    }
    o.set_clean_start(s.clean);
    o.set_keep_alive(keepalive5(s.keepalive));
    o.set_max_packet_size(Some(256 * 1024 * 1024));
    o.set_manual_acks(true);
    if let Some((u, p)) = s.credentials {
        o.set_credentials(u, p);
    }
    let mut cp = p5::ConnectProperties::new();
    cp.session_expiry_interval = s.session_expiry;
    cp.request_response_info = Some(1);
    cp.request_problem_info = Some(1);
    cp.user_properties = s.user_props;
    o.set_connect_properties(cp);
    if let Some(w) = s.will {
        let props = p5::LastWillProperties {
            delay_interval: w.props.will_delay,
            payload_format_indicator: w.props.payload_format.map(u8::from),
            message_expiry_interval: w.props.message_expiry,
            content_type: w.props.content_type,
            response_topic: w.props.response_topic,
            correlation_data: w.props.correlation_data,
            user_properties: w.props.user,
        };
        o.set_last_will(p5::LastWill::new(
            w.topic,
            w.payload.to_vec(),
            qos5(w.qos),
            w.retain,
            Some(props),
        ));
    }
    let (c, l) = rumqttc::v5::AsyncClient::new(o, QUEUE);
    (Box::new(V5(c.clone())), Box::new(V5Loop(l, c)))
}

fn props_out(p: &Props) -> p5::PublishProperties {
    p5::PublishProperties {
        payload_format_indicator: p.payload_format.map(u8::from),
        message_expiry_interval: p.message_expiry,
        topic_alias: None,
        response_topic: p.response_topic.clone(),
        correlation_data: p.correlation_data.clone(),
        user_properties: p.user.clone(),
        subscription_identifiers: Vec::new(),
        content_type: p.content_type.clone(),
    }
}

fn props_in(p: p5::PublishProperties) -> Props {
    Props {
        response_topic: p.response_topic,
        correlation_data: p.correlation_data,
        content_type: p.content_type,
        message_expiry: p.message_expiry_interval,
        payload_format: p.payload_format_indicator.map(|v| v == 1),
        user: p.user_properties,
        will_delay: None,
    }
}

impl MqttClient for V5 {
    fn publish(&self, m: &OutMessage) -> Result<(), String> {
        self.0
            .try_publish_with_properties(
                m.topic.clone(),
                qos5(m.qos),
                m.retain,
                m.payload.to_vec(),
                props_out(&m.props),
            )
            .map_err(|e| e.to_string())
    }
    fn subscribe(&self, filter: &str, o: SubOptions) -> Result<(), String> {
        let f = p5::Filter {
            path: filter.to_string(),
            qos: qos5(o.qos),
            nolocal: o.nl,
            preserve_retain: o.rap,
            retain_forward_rule: match o.rh {
                1 => p5::RetainForwardRule::OnNewSubscribe,
                2 => p5::RetainForwardRule::Never,
                _ => p5::RetainForwardRule::OnEverySubscribe,
            },
        };
        self.0.try_subscribe_many([f]).map_err(|e| e.to_string())
    }
    fn unsubscribe(&self, filter: &str) -> Result<(), String> {
        self.0.try_unsubscribe(filter).map_err(|e| e.to_string())
    }
    fn disconnect(&self) -> Result<(), String> {
        self.0.try_disconnect().map_err(|e| e.to_string())
    }
}

impl MqttLoop for V5Loop {
    fn poll(&mut self) -> PollFuture<'_> {
        Box::pin(async move {
            use rumqttc::v5::{Event, Incoming};
            match self.0.poll().await.map_err(|e| e.to_string())? {
                Event::Incoming(Incoming::ConnAck(c)) => Ok(LoopEvent::Connected {
                    session_present: c.session_present,
                }),
                Event::Incoming(Incoming::Publish(p)) => {
                    let ack = (p.qos != rumqttc::v5::mqttbytes::QoS::AtMostOnce).then(|| Ack {
                        kind: AckKind::V5(self.1.clone(), p.pkid, p.qos),
                        dup: p.dup,
                    });
                    let m = InMessage {
                        topic: String::from_utf8_lossy(&p.topic).into_owned(),
                        payload: p.payload,
                        qos: p.qos as u8,
                        retain: p.retain,
                        props: Some(p.properties.map(props_in).unwrap_or_default()),
                    };
                    Ok(LoopEvent::Message(m, ack))
                }
                Event::Incoming(Incoming::Disconnect(d)) => {
                    Ok(LoopEvent::BrokerDisconnect(format!("{:?}", d.reason_code)))
                }
                _ => Ok(LoopEvent::Other),
            }
        })
    }
}
