//! redoubt-core: the message value type, the flow model and the engine that
//! runs Node-RED flows. It owns node lifecycles, routing, catch/status/
//! complete scoping, context, typed inputs and JSONata.
//!
//! It must not depend on an HTTP framework, a JavaScript engine or sockets:
//! those live in `redoubt-http`, `redoubt-js` and `redoubt-nodes`, which
//! plug in through [`node::NodeType`], [`engine::Services`] and
//! [`http_host::HttpHost`].

pub mod background;
pub mod context;
pub mod engine;
pub mod expr;
pub mod flows;
pub mod http_host;
pub mod moment;
pub mod msg;
pub mod node;
pub mod propex;
pub mod typed;
pub mod value;

pub use msg::Msg;
pub use value::Value;
