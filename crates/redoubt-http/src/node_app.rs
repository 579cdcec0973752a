//! Serving one request on an `http in` route: match, read the body (and
//! multipart uploads), hand an [`IncomingRequest`] to the node, and wait for
//! its `http response`. Websocket upgrades for a `websocket-listener` path
//! are answered here too (see `ws.rs`), so one handler guards both.

use crate::https_policy::Transport;
use crate::routes::NodeRoutes;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use http_body_util::BodyExt;
use redoubt_core::http_host::{IncomingRequest, ResponseHandle, UploadedFile};
use std::net::SocketAddr;

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

fn plain(status: StatusCode, body: &str, ctype: &str) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(ctype) {
        r.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    r
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

/// The fallback handler that serves node routes.
pub async fn node_handler(state: &NodeAppState, req: Request) -> Response {
    let remote = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let req_tls = Transport::is_tls(&req);
    let method = req.method().as_str().to_string();
    let full_path = req.uri().path().to_string();
    let Some(path) = strip_root(&full_path, &state.root) else {
        return not_found(&method, &full_path);
    };
    if crate::ws::is_upgrade(&req)
        && let Some(ep) = state.routes.websockets.find(path)
    {
        let info = request_info(&req, path, remote);
        return crate::ws::upgrade(ep, req, info).await;
    }
    let Some((route, params)) = state.routes.find(&method, path) else {
        return not_found(&method, &full_path);
    };
    let (parts, body) = req.into_parts();
    let bytes = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload Too Large",
                "text/plain; charset=utf-8",
            );
        }
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let query = parts.uri.query().unwrap_or("").to_string();
    let url = match parts.uri.query() {
        Some(q) => format!("{full_path}?{q}"),
        None => full_path.clone(),
    };
    let hostname = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map(|(a, _)| a).unwrap_or(h).to_string())
        .unwrap_or_default();
    let path = path.to_string();
    // The request head points into hyper's read buffer; dropping it now,
    // before waiting for the flow, lets hyper reuse that buffer for the
    // next request instead of allocating a new one.
    drop(parts);
    let head = method == "HEAD";
    let mut incoming = IncomingRequest {
        method,
        url,
        path,
        query,
        headers,
        params,
        body: bytes,
        fields: vec![],
        files: vec![],
        remote_ip: remote,
        protocol: protocol_of(req_tls).into(),
        hostname,
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
    let (handle, rx) = ResponseHandle::new();
    (route.handler)(incoming, handle);
    match rx.await {
        Ok(reply) => {
            let mut r = Response::new(Body::from(reply.body));
            *r.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
            for (k, v) in reply.headers {
                if let (Ok(name), Ok(val)) = (
                    http::HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(&v),
                ) {
                    r.headers_mut().append(name, val);
                }
            }
            if head {
                *r.body_mut() = Body::empty();
            }
            r
        }
        // Every reference to the response was dropped: nothing can answer any more.
        Err(_) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
            "text/plain; charset=utf-8",
        ),
    }
}

/// The upgrade request as nodes see it (no body, no route params).
fn request_info(req: &Request, path: &str, remote_ip: String) -> IncomingRequest {
    let req_tls = Transport::is_tls(req);
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let hostname = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map(|(a, _)| a).unwrap_or(h).to_string())
        .unwrap_or_default();
    IncomingRequest {
        method: req.method().as_str().to_string(),
        url: req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        path: path.to_string(),
        query: req.uri().query().unwrap_or("").to_string(),
        headers,
        remote_ip,
        protocol: protocol_of(req_tls).into(),
        hostname,
        ..IncomingRequest::default()
    }
}

fn strip_root<'a>(path: &'a str, root: &str) -> Option<&'a str> {
    if root.is_empty() {
        return Some(path);
    }
    let rest = path.strip_prefix(root)?;
    if rest.is_empty() {
        Some("/")
    } else if rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
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
