//! The contract between http-in nodes and whatever serves HTTP. Core knows
//! only `http` crate types; the server crate implements [`HttpHost`].

use crate::msg::Msg;
use crate::value::Value;
use std::sync::Arc;

/// A route an http-in node serves.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// `get`, `post`, `put`, `delete`, `patch`.
    pub method: String,
    /// The path pattern, Express style (`/users/:id`).
    pub path: String,
    /// Accept `multipart/form-data` file uploads.
    pub upload: bool,
    /// The http-in node's id.
    pub node_id: String,
}

/// How the response for one request is sent back (by `http response`).
pub trait ResponseSink: Send + Sync {
    /// Sends status, headers, cookies and body. Returns false if already sent.
    fn respond(&self, reply: HttpReply) -> bool;
}

/// What `http response` answers.
#[derive(Debug, Clone, Default)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// Headers, in order (names as given).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: bytes::Bytes,
}

/// Registers http-in routes. Registration returns a guard; dropping it
/// removes the route.
pub trait HttpHost: Send + Sync + 'static {
    /// Adds a route; each request becomes a message passed to `on_request`.
    fn add_route(
        &self,
        spec: RouteSpec,
        on_request: Arc<dyn Fn(Msg) + Send + Sync>,
    ) -> Result<Box<dyn RouteGuard>, String>;
}

/// Keeps a route registered while alive.
pub trait RouteGuard: Send + Sync {}

/// The value stored in `msg.res` / `msg.req`: an opaque handle that survives
/// cloning of the message because it is carried by reference.
pub fn response_key() -> &'static str {
    "_res"
}

/// Helper: the value kept for the response handle inside a message.
pub fn is_response_handle(v: &Value) -> bool {
    matches!(v, Value::Object(_))
}
