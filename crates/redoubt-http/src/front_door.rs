//! What stands in front of the node routes and static files: Basic auth
//! (`httpNodeAuth`, `httpStaticAuth`) and the `httpStatic` directories.
//!
//! Node-RED skips Basic auth for `OPTIONS` requests and never applies it to
//! websocket-in endpoints; redoubt checks every method and every upgrade
//! under `httpNodeRoot` (a CORS preflight to a protected endpoint is
//! therefore refused: browsers do not send credentials with it).

use crate::static_files::StaticMount;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use redoubt_auth::{BasicAuth, BasicOutcome};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Basic auth for node routes and the static directories.
#[derive(Clone, Default)]
pub struct FrontDoor {
    /// `httpNodeAuth`: in front of everything under `httpNodeRoot`.
    pub node_auth: Option<Arc<BasicAuth>>,
    /// `httpStatic` directories (each with its `httpStaticAuth`).
    pub statics: Arc<Vec<StaticMount>>,
}

/// The client address of a request.
pub fn request_ip(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Answers a request whose Basic auth failed; `None` lets it through.
pub async fn basic_gate(
    auth: &BasicAuth,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
) -> Option<Response> {
    match auth.check(headers, ip).await {
        BasicOutcome::Allowed => None,
        BasicOutcome::Unauthorized => {
            let mut r = Response::new(Body::from("Unauthorized"));
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(redoubt_auth::basic::CHALLENGE),
            );
            Some(r)
        }
        BasicOutcome::Throttled(wait) => {
            let mut r = Response::new(Body::from("Too Many Requests"));
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Some(r)
        }
    }
}
