//! Telling a TLS handshake from plain HTTP on the HTTPS port by peeking at
//! the first byte (0x16 = TLS handshake record), and the small service that
//! answers plain HTTP there with a redirect to the `https://` URL.

use axum::body::Body;
use http::{HeaderValue, Request, Response, StatusCode, header};
use std::time::Duration;
use tokio::net::TcpStream;

/// The first byte of every TLS connection: a handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// How long a client may stay silent before its first byte.
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the client opened the connection with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opening {
    Tls,
    Plain,
    /// Closed or silent before sending anything.
    Nothing,
}

/// Peeks (without consuming) at the first byte of `stream`.
pub(crate) async fn peek_opening(stream: &TcpStream) -> Opening {
    let mut first = [0u8; 1];
    match tokio::time::timeout(FIRST_BYTE_TIMEOUT, stream.peek(&mut first)).await {
        Ok(Ok(1)) if first[0] == TLS_HANDSHAKE => Opening::Tls,
        Ok(Ok(1)) => Opening::Plain,
        _ => Opening::Nothing,
    }
}

/// `https://<host><path>` for a request, from its `Host` header (HTTP/1) or
/// URI authority (HTTP/2). `None` when neither is present.
pub(crate) fn https_url<B>(req: &Request<B>) -> Option<String> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))?;
    if host.is_empty() || host.contains(['/', '\\', '@', ' ']) {
        return None;
    }
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    Some(format!("https://{host}{path}"))
}

/// A permanent redirect to `url` that keeps the method and body (308), or
/// 400 when the request named no host.
pub(crate) fn redirect_response(url: Option<String>) -> Response<Body> {
    let mut res = Response::new(Body::empty());
    match url.and_then(|u| HeaderValue::from_str(&u).ok()) {
        Some(location) => {
            *res.status_mut() = StatusCode::PERMANENT_REDIRECT;
            res.headers_mut().insert(header::LOCATION, location);
        }
        None => {
            *res.status_mut() = StatusCode::BAD_REQUEST;
            *res.body_mut() = Body::from("This port speaks HTTPS; the request named no Host.\n");
        }
    }
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}
