//! redoubt-admin: Node-RED's admin HTTP API (`/flows`, `/nodes`,
//! `/settings`, `/context`, `/inject`, `/debug`, ...), the editor's `/comms`
//! websocket, and the editor's static assets, as an axum router mounted at
//! `httpAdminRoot`. Authorization sits in front of these routes as one
//! layer ([`access::guard`]) asking one question of
//! [`redoubt_auth::Authority`]: may this caller use this scope?

pub mod access;
pub mod assets;
pub mod comms;
pub mod error;
pub mod routes;
pub mod state;

pub use access::Exposure;
pub use access::headers::security_headers;
pub use error::ApiError;
pub use routes::admin_router;
pub use state::{AdminConfig, AdminState, EditorSettings, NodeCatalog, NodeSetInfo, StaticCatalog};
