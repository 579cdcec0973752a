//! Serving one request on an `http in` route: match, read the body (and
//! multipart uploads), hand an [`IncomingRequest`] to the node, and wait for
//! its `http response`. Websocket upgrades for a `websocket-listener` path
//! are answered here too (see `ws.rs`), so one handler guards both.

use crate::https_policy::Transport;
use crate::node_future::{NodeFuture, Waiting, plain};
use crate::routes::NodeRoutes;
use crate::routes::Route;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use redoubt_core::http_host::{IncomingRequest, ResponseHandle, UploadedFile};
use std::net::SocketAddr;
use std::sync::Arc;

/// Largest request body accepted (Node-RED's `apiMaxLength` default, 5 MB).
const MAX_BODY: usize = 5 * 1024 * 1024;

/// State of the node-route handler.
#[derive(Clone)]
pub struct NodeAppState {
    /// The route table.
    pub routes: NodeRoutes,
    /// `httpNodeRoot` without a trailing slash ("" for `/`).
    pub root: String,
}

/// Express's `req.protocol` (without `trust proxy`): `https` over TLS.
fn protocol_of(tls: bool) -> &'static str {
    if tls { "https" } else { "http" }
}

/// Express's default 404 page.
fn not_found(method: &str, path: &str) -> Response {
    let esc = path
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot {method} {esc}</pre>\n</body>\n</html>\n"
    );
    plain(StatusCode::NOT_FOUND, &body, "text/html; charset=utf-8")
}

/// Starts answering `req` on the node routes: a request without a body is
/// handed to its `http in` node right here, and the future only waits for
/// the flow's answer (see [`NodeFuture`]).
pub fn node_handler(state: &NodeAppState, req: Request) -> NodeFuture {
    let Some(root_len) = root_len(req.uri().path(), &state.root) else {
        return NodeFuture::ready(not_found(req.method().as_str(), req.uri().path()));
    };
    let remote = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if crate::ws::is_upgrade(&req) {
        let info = request_info(&req, root_len, remote);
        if let Some(ep) = state.routes.websockets.find(info.path()) {
            return NodeFuture::boxed(crate::ws::upgrade(ep, req, info));
        }
    }
    let protocol = protocol_of(Transport::is_tls(&req));
    let (parts, body) = req.into_parts();
    // The node's view of the request is made here, before anything waits;
    // the head's bytes are the request's own (see `head.rs`), not hyper's,
    // and the node's strings are slices of them.
    let mut incoming = IncomingRequest {
        method: parts.method,
        uri: parts.uri,
        root_len,
        headers: parts.headers,
        remote_ip: remote,
        protocol,
        ..IncomingRequest::default()
    };
    let Some((route, params)) = state.routes.find(incoming.method.as_str(), incoming.path()) else {
        return NodeFuture::ready(not_found(incoming.method.as_str(), incoming.uri.path()));
    };
    incoming.params = params;
    if route.upload || !hyper::body::Body::is_end_stream(&body) {
        return NodeFuture::boxed(with_body(route, incoming, body));
    }
    NodeFuture::Waiting(send(&route, incoming))
}

/// Hands `incoming` to the route's `http in` node.
fn send(route: &Route, incoming: IncomingRequest) -> Waiting {
    let head = incoming.method == Method::HEAD;
    let (handle, rx) = ResponseHandle::new();
    (route.handler)(incoming, handle);
    Waiting { rx, head }
}

/// Reads the body (and a multipart upload) before the node gets the request.
async fn with_body(route: Arc<Route>, mut incoming: IncomingRequest, body: Body) -> Response {
    incoming.body = match read_body(body).await {
        Ok(b) => b,
        Err(()) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload Too Large",
                "text/plain; charset=utf-8",
            );
        }
    };
    if route.upload {
        let ctype = incoming.header("content-type").unwrap_or("").to_string();
        if let Ok(boundary) = multer::parse_boundary(&ctype) {
            match parse_multipart(incoming.body.clone(), boundary).await {
                Ok((fields, files)) => {
                    incoming.fields = fields;
                    incoming.files = files;
                    incoming.body = Bytes::new();
                }
                Err(e) => {
                    let full_path = incoming.uri.path();
                    tracing::warn!("Multipart upload on {full_path} rejected: {e}.");
                    return plain(
                        StatusCode::BAD_REQUEST,
                        "Bad Request",
                        "text/plain; charset=utf-8",
                    );
                }
            }
        }
    }
    send(&route, incoming).await
}

/// The request body, up to [`MAX_BODY`]; `Err` when it is longer.
async fn read_body(body: Body) -> Result<Bytes, ()> {
    match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(_) => Err(()),
    }
}

/// The upgrade request as nodes see it (no body, no route params).
fn request_info(
    req: &Request,
    root_len: usize,
    remote_ip: Option<std::net::IpAddr>,
) -> IncomingRequest {
    IncomingRequest {
        method: req.method().clone(),
        uri: req.uri().clone(),
        root_len,
        headers: req.headers().clone(),
        remote_ip,
        protocol: protocol_of(Transport::is_tls(req)),
        ..IncomingRequest::default()
    }
}

/// The length of `root` (`httpNodeRoot`, without a trailing slash) at the
/// start of `path`; `None` when `path` is not under it.
fn root_len(path: &str, root: &str) -> Option<usize> {
    let rest = path.strip_prefix(root)?;
    (rest.is_empty() || rest.starts_with('/') || root.is_empty()).then_some(root.len())
}

async fn parse_multipart(
    body: Bytes,
    boundary: String,
) -> Result<(Vec<(String, String)>, Vec<UploadedFile>), multer::Error> {
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    let mut files = Vec::new();
    while let Some(field) = mp.next_field().await? {
        let name = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(file_name) => {
                let mimetype = field
                    .content_type()
                    .map(|m| m.to_string())
                    .unwrap_or_default();
                let data = field.bytes().await?;
                files.push(UploadedFile {
                    fieldname: name,
                    originalname: file_name,
                    mimetype,
                    buffer: data,
                });
            }
            None => fields.push((name, field.text().await?)),
        }
    }
    Ok((fields, files))
}
