//! `msg.action` handling shared by mqtt in and mqtt out: `connect` (with
//! optional `msg.broker` options) and `disconnect`.

use super::conn::Broker;
use redoubt_core::Msg;
use redoubt_core::node::NodeError;
use redoubt_core::value::{Value, to_serde};
use std::sync::Arc;

/// `handleConnectAction`.
pub(crate) fn connect(broker: &Arc<Broker>, msg: &Msg) -> Result<(), NodeError> {
    let data = match msg.get("broker") {
        Some(v @ Value::Object(_)) => match to_serde(&v) {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        },
        _ => None,
    };
    if broker.can_connect() {
        if let Some(d) = &data {
            broker.apply_options(d)?;
        }
        broker.connect();
        return Ok(());
    }
    match data {
        None => Ok(()),
        Some(d) if d.get("force").is_some_and(|f| f == true || f == "true") => {
            broker.disconnect();
            broker.apply_options(&d)?;
            broker.connect();
            Ok(())
        }
        Some(_) => Err(NodeError::new("Disconnect from broker before connecting")),
    }
}

/// `handleDisconnectAction`.
pub(crate) fn disconnect(broker: &Arc<Broker>) {
    broker.disconnect();
}

/// The broker of the mqtt-broker node named in `broker`.
pub(crate) fn lookup(
    cx: &redoubt_core::node::BuildCtx,
) -> Result<Arc<Broker>, redoubt_core::node::ConfigError> {
    let id = cx.config().str("broker");
    cx.config_node(&id)
        .and_then(|h| h.downcast::<Broker>().ok())
        .ok_or_else(|| {
            redoubt_core::node::ConfigError::field(
                "broker",
                if id.is_empty() {
                    "missing broker configuration".to_string()
                } else {
                    format!(
                        "missing broker configuration: mqtt-broker {id:?} is missing or invalid"
                    )
                },
            )
        })
}
