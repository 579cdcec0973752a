//! End-to-end tests: each boots the real `redoubt` binary on 127.0.0.1:0
//! with a temporary user directory and drives it over HTTP.

mod support;

mod admin;
mod cli;
mod context;
mod engine;
mod http;
mod mqtt;
mod websocket;
