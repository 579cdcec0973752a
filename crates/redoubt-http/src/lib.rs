//! redoubt-http: the HTTP listener. It serves the routes `http in` nodes
//! register ([`NodeRoutes`], the `HttpHost` of `redoubt-core`) under
//! `httpNodeRoot`, and is the one place more apps mount later (the admin
//! API and editor, dashboards, socket.io): [`build_app`] takes them as
//! extra axum routers.

mod node_app;
mod pattern;
mod routes;
mod server;
mod ws;

pub use node_app::{NodeAppState, node_handler};
pub use routes::NodeRoutes;
pub use server::{ServeError, build_app, serve};
