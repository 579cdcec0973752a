//! End-to-end tests: each boots the real `redoubt` binary on 127.0.0.1:0
//! with a temporary user directory and drives it over HTTP.

mod support;

mod admin;
mod auth;
mod auth_http;
mod cli;
mod context;
mod credentials;
mod engine;
mod http;
mod mqtt;
mod nodes_io;
mod tcp;
mod tls;
mod websocket;
