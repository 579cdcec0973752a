//! The "network" palette category: http in, http response, http request
//! (more network nodes arrive with the core-palette work).

mod cookies;
mod http_in;
mod http_response;
mod qs;
// -- http request (owner: http-request work): `mod http_request;`
mod http_request;
// -- tcp, udp (owner: nodes-io work)
mod tcp;
mod udp;
// -- tls-config, http proxy, mqtt, websocket (owner: nodes-net work)
mod http_proxy;
mod mqtt;
mod tls_config;
mod websocket;

use redoubt_core::node::Registry;

pub(crate) fn register(reg: &mut Registry) {
    reg.register(http_in::HttpInType);
    reg.register(http_response::HttpResponseType);
    // -- http request
    reg.register(http_request::HttpRequestType);
    // -- tcp, udp
    tcp::register(reg);
    udp::register(reg);
    // -- tls-config, http proxy, mqtt, websocket
    reg.register(tls_config::TlsConfigType);
    reg.register(http_proxy::HttpProxyType);
    reg.register(mqtt::MqttBrokerType);
    reg.register(mqtt::MqttInType);
    reg.register(mqtt::MqttOutType);
    reg.register(websocket::WebsocketListenerType);
    reg.register(websocket::WebsocketClientType);
    reg.register(websocket::WebsocketInType);
    reg.register(websocket::WebsocketOutType);
}
