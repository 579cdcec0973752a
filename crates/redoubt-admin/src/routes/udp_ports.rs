//! `GET /udp-ports/:id` (registered by Node-RED's `32-udp.js`): the ports
//! deployed `udp in` nodes listen on, as strings, which the udp nodes' edit
//! dialog uses to warn about a port already in use.

use crate::state::AdminState;
use axum::Json;
use axum::extract::State;
use serde_json::Value;
use std::collections::BTreeSet;

/// The ports of the deployed, enabled `udp in` nodes.
pub async fn get_udp_ports(State(state): State<AdminState>) -> Json<Value> {
    let flows = state.flows();
    let disabled_tabs: BTreeSet<&str> = flows
        .iter()
        .filter(|n| n["type"] == "tab" && n["disabled"] == true)
        .filter_map(|n| n["id"].as_str())
        .collect();
    let mut ports: Vec<String> = Vec::new();
    for n in flows
        .iter()
        .filter(|n| n["type"] == "udp in" && n["d"] != true)
    {
        if n["z"].as_str().is_some_and(|z| disabled_tabs.contains(z)) {
            continue;
        }
        let port = match &n["port"] {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Number(p) => p.to_string(),
            _ => continue,
        };
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    Json(Value::from(ports))
}
