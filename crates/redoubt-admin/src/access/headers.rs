//! Security headers on every editor and admin API response. The Content
//! Security Policy is the strictest the stock Node-RED editor works under:
//! it needs inline scripts and `eval` (its page bootstrap and Monaco), and
//! opens its websocket on the same host.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy sent with the editor.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self' ws: wss:; \
worker-src 'self' blob:; frame-src 'self'; frame-ancestors 'self'; base-uri 'self'; \
form-action 'self'; object-src 'none'";

const HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "SAMEORIGIN"),
    ("referrer-policy", "same-origin"),
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("cross-origin-opener-policy", "same-origin"),
];

/// Adds the security headers (unless a handler set its own).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    for (k, v) in HEADERS {
        let name = HeaderName::from_static(k);
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(v));
        }
    }
    resp
}
