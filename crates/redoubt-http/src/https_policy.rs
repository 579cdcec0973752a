//! `requireHttps`, trusted proxies and `Strict-Transport-Security`, as one
//! middleware over the whole app (editor, admin API, `/auth/*`, node routes,
//! static files). A request counts as secure when it arrived over TLS, or
//! when a trusted proxy says so in `X-Forwarded-Proto`.

use crate::tls::sniff::{https_url, redirect_response};
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, header};
use std::sync::Arc;

/// How the connection a request arrived on was made; the server inserts
/// it into the extensions of every request that arrived over TLS (one
/// without it came in plain HTTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transport {
    /// The connection is TLS.
    pub tls: bool,
}

/// The HTTPS rules for the app.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpsPolicy {
    /// Redirect every request that is not secure to its `https://` URL.
    pub require_https: bool,
    /// Believe `X-Forwarded-Proto` (set when a TLS-terminating proxy is in
    /// front and is the only way in).
    pub trust_proxy: bool,
    /// `Strict-Transport-Security: max-age=<n>` on secure responses.
    pub hsts_max_age: Option<u64>,
}

impl Transport {
    /// Whether `req` arrived over a TLS connection (the server marks every
    /// request; an unmarked one did not).
    pub(crate) fn is_tls(req: &Request) -> bool {
        req.extensions().get::<Transport>().is_some_and(|t| t.tls)
    }
}

impl HttpsPolicy {
    /// Whether `req` reached us over HTTPS.
    fn is_secure(&self, req: &Request) -> bool {
        if Transport::is_tls(req) {
            return true;
        }
        self.trust_proxy
            && req
                .headers()
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                // A chain of proxies appends: the first entry is the client's.
                .and_then(|v| v.split(',').next())
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
    }
}

/// Wraps `app` in the policy's middleware. `tls` says whether the
/// listener serves HTTPS. A policy that cannot change any response on this
/// listener adds nothing (no middleware on every request): one without
/// `require_https` whose HSTS could never be sent, because no request is
/// secure on a plain-HTTP listener unless a proxy is trusted to say so.
pub fn apply_https_policy(app: Router, policy: HttpsPolicy, tls: bool) -> Router {
    let can_be_secure = tls || policy.trust_proxy;
    if !policy.require_https && (policy.hsts_max_age.is_none() || !can_be_secure) {
        return app;
    }
    app.layer(axum::middleware::from_fn_with_state(
        Arc::new(policy),
        enforce,
    ))
}

async fn enforce(State(policy): State<Arc<HttpsPolicy>>, req: Request, next: Next) -> Response {
    let secure = policy.is_secure(&req);
    if policy.require_https && !secure {
        return redirect_response(https_url(&req));
    }
    let mut res = next.run(req).await;
    if let (true, Some(age)) = (secure, policy.hsts_max_age)
        && let Ok(v) = HeaderValue::from_str(&format!("max-age={age}"))
    {
        res.headers_mut()
            .insert(header::STRICT_TRANSPORT_SECURITY, v);
    }
    res
}

#[cfg(test)]
mod tests;
