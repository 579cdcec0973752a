//! redoubt-http: the HTTP listener. It serves the routes `http in` nodes
//! register ([`NodeRoutes`], the `HttpHost` of `redoubt-core`) under
//! `httpNodeRoot`, and is the one place more apps mount later (the admin
//! API and editor, dashboards, socket.io): [`build_app`] takes them as
//! extra axum routers. It serves plain HTTP or HTTPS ([`tls`]), and applies
//! `requireHttps` and HSTS to the whole app ([`apply_https_policy`]).

mod drain;
mod front_door;
mod head;
mod https_policy;
mod node_app;
mod node_future;
mod pattern;
mod routes;
mod server;
mod static_files;
mod ws;

pub mod tls;

pub use front_door::{FrontDoor, basic_gate, request_ip};
pub use https_policy::{HttpsPolicy, Transport, apply_https_policy};
pub use node_app::{NodeAppState, node_handler};
pub use node_future::NodeFuture;
pub use routes::NodeRoutes;
pub use server::{ServeError, build_app, serve, serve_with};
pub use static_files::{StaticError, StaticMount};
