//! The policy on a real plain-HTTP listener, as behind a TLS-terminating
//! proxy: `X-Forwarded-Proto` counts only when the proxy is trusted.

use super::*;
use crate::{NodeRoutes, build_app, serve};
use axum::routing::get;

async fn start(policy: HttpsPolicy) -> (String, tokio::sync::oneshot::Sender<()>) {
    let extra = Router::new().route("/editor", get(|| async { "editor" }));
    let app = apply_https_policy(
        build_app(
            NodeRoutes::new(),
            Some("/"),
            vec![extra],
            crate::FrontDoor::default(),
        ),
        policy,
        false,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, async move {
        let _ = rx.await;
    }));
    (format!("127.0.0.1:{}", addr.port()), tx)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[tokio::test]
async fn trusted_proxy_header_decides_redirect_and_hsts() {
    let (host, _stop) = start(HttpsPolicy {
        require_https: true,
        trust_proxy: true,
        hsts_max_age: Some(600),
    })
    .await;
    let c = client();
    for path in ["/editor", "/auth/token", "/node/route?q=1"] {
        let r = c
            .get(format!("http://{host}{path}"))
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), 308, "{path}");
        assert_eq!(
            r.headers()["location"],
            format!("https://{host}{path}").as_str()
        );
        assert!(!r.headers().contains_key("strict-transport-security"));
    }
    let r = c
        .get(format!("http://{host}/editor"))
        .header("x-forwarded-proto", "https, http")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=600");
    let r = c
        .get(format!("http://{host}/editor"))
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 308);
}

#[tokio::test]
async fn untrusted_forwarded_proto_is_ignored() {
    let (host, _stop) = start(HttpsPolicy {
        require_https: true,
        trust_proxy: false,
        hsts_max_age: Some(600),
    })
    .await;
    let r = client()
        .get(format!("http://{host}/editor"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 308);
}

#[tokio::test]
async fn without_require_https_plain_requests_pass_without_hsts() {
    let (host, _stop) = start(HttpsPolicy {
        require_https: false,
        trust_proxy: false,
        hsts_max_age: Some(600),
    })
    .await;
    let r = client()
        .get(format!("http://{host}/editor"))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 200);
    assert!(!r.headers().contains_key("strict-transport-security"));
}

/// Without `require_https` the middleware stays only where HSTS can apply:
/// behind a trusted proxy, a request it calls secure gets the header.
#[tokio::test]
async fn hsts_reaches_requests_a_trusted_proxy_calls_secure() {
    let (host, _stop) = start(HttpsPolicy {
        require_https: false,
        trust_proxy: true,
        hsts_max_age: Some(600),
    })
    .await;
    let c = client();
    let r = c
        .get(format!("http://{host}/editor"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=600");
    let r = c
        .get(format!("http://{host}/editor"))
        .send()
        .await
        .expect("req");
    assert!(!r.headers().contains_key("strict-transport-security"));
}
