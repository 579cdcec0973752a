//! The MQTT nodes (`@node-red/nodes/core/network/10-mqtt.js`): the
//! mqtt-broker config node and mqtt in / mqtt out, MQTT 3.1.1 and 5 over
//! rumqttc (see `client.rs` for the seam and why TLS is ours).
//!
//! Deviations from Node-RED, all documented in docs/nodes-network.md:
//! MQTT 3.1 (`compatmode`) and MQTT over websockets (`ws://`, `wss://`)
//! are refused at deploy; topic aliases and subscription identifiers are
//! not used (messages are routed by topic matching); an `mqtts` broker
//! without a tls-config node verifies the server certificate unless the
//! broker node says `verifyservercert: false`.

mod actions;
mod bridge;
mod broker;
mod client;
mod conn;
mod convert;
mod mqtt_in;
mod mqtt_out;
mod settings;
mod topic;

#[cfg(test)]
mod tests;

pub(crate) use broker::MqttBrokerType;
pub(crate) use mqtt_in::MqttInType;
pub(crate) use mqtt_out::MqttOutType;
