//! The websocket nodes (`@node-red/nodes/core/network/22-websocket.js`):
//! websocket-listener (served by redoubt's own HTTP server under
//! `httpNodeRoot`), websocket-client (connects out), websocket in and
//! websocket out.
//!
//! Deviations: `webSocketNodeVerifyClient` (a JavaScript function setting)
//! is refused when settings load; a websocket-client does not use
//! `proxyOptions`/`http_proxy`; a reply (`msg._session`) through a
//! websocket-client reaches its current connection (upstream drops it).

mod client;
mod hub;
mod listener;
mod ws_in;
mod ws_out;

#[cfg(test)]
mod tests;

pub(crate) use client::WebsocketClientType;
pub(crate) use listener::WebsocketListenerType;
pub(crate) use ws_in::WebsocketInType;
pub(crate) use ws_out::WebsocketOutType;
