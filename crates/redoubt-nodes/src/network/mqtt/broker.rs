//! mqtt-broker (`10-mqtt.js`, `MQTTBrokerNode`): the config node holding
//! one connection ([`Broker`]) for all mqtt in/out nodes that name it.

use super::conn::{Broker, BrokerDeps};
use super::settings;
use crate::network::tls_config;
use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct MqttBrokerType;

struct MqttBrokerNode {
    broker: Arc<Broker>,
    warnings: Vec<String>,
}

/// `mqttReconnectTime` in ms, default 5000.
fn reconnect_time(cx: &BuildCtx) -> Duration {
    let ms = settings::int(cx.settings().raw.get("mqttReconnectTime"))
        .filter(|v| *v > 0)
        .unwrap_or(5000);
    Duration::from_millis(ms.unsigned_abs())
}

/// `'nodered' + RED.util.generateId()`.
fn generated_id() -> String {
    format!("nodered{:016x}", rand::random::<u64>())
}

impl NodeType for MqttBrokerType {
    fn type_name(&self) -> &'static str {
        "mqtt-broker"
    }

    fn is_config(&self) -> bool {
        true
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let (s, warnings) = settings::parse(&cfg.raw, cx.credentials(), &generated_id())?;
        let tls = if s.tls {
            tls_config::lookup(cx, "tls")?
        } else {
            None
        };
        let broker = Broker::new(
            s,
            BrokerDeps {
                tls,
                reconnect: reconnect_time(cx),
                me: cx.handle(),
                raw: (*cfg.raw).clone(),
                creds: cx.credentials().cloned(),
            },
        );
        Ok(Box::new(MqttBrokerNode { broker, warnings }))
    }
}

impl Node for MqttBrokerNode {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        for w in &self.warnings {
            cx.warn(w);
        }
        Ok(())
    }

    fn on_input(&mut self, _msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        Ok(())
    }

    fn close(&mut self, _removed: bool, _cx: &mut NodeCtx<'_>) {
        self.broker.disconnect();
    }

    fn shared(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(self.broker.clone())
    }
}
