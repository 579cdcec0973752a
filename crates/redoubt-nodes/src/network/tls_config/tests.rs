//! tls-config through the http request node against a real TLS server on
//! 127.0.0.1:0 (tokio-rustls, test certificates in `testdata/tls`).

use crate::testing::{Harness, HarnessOptions};
use redoubt_core::engine::{LogLevel, RuntimeEvent, RuntimeSettings};
use serde_json::{Value as Json, json};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The PEM text of a test file (`ca.pem`, `server.key`, ...).
pub(crate) fn pem(name: &str) -> String {
    std::fs::read_to_string(path(name)).expect("test certificate")
}

/// The path of a test file.
pub(crate) fn path(name: &str) -> String {
    format!("{}/testdata/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A rustls server configuration with the test server certificate; with
/// `client_auth` it demands a client certificate signed by the test CA.
pub(crate) fn server_config(client_auth: bool) -> Arc<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let provider = super::material::provider();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path("server.pem"))
        .expect("server.pem")
        .map(|c| c.expect("cert"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(path("server.key")).expect("server.key");
    let b = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let b = if client_auth {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_file(path("ca.pem")).expect("ca"))
            .expect("add ca");
        let v =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("verifier");
        b.with_client_cert_verifier(v)
    } else {
        b.with_no_client_auth()
    };
    let mut c = b.with_single_cert(certs, key).expect("server cert");
    c.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(c)
}

/// An HTTPS server answering every request with `hello` (after a
/// successful handshake); returns its port.
async fn https_server(client_auth: bool) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config(client_auth));
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(s).await else {
                    return;
                };
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
                    )
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn flow(url: &str, tls: Json) -> Json {
    let mut tls = tls;
    tls["id"] = json!("tls1");
    tls["type"] = json!("tls-config");
    json!([
        {"id": "n1", "type": "http request", "method": "GET", "ret": "txt", "url": url,
         "tls": "tls1", "wires": [["out"]]},
        tls,
        {"id": "out", "type": "helper"}
    ])
}

fn creds(list: &[(&str, &str)]) -> serde_json::Map<String, Json> {
    let mut c = serde_json::Map::new();
    let m: serde_json::Map<String, Json> = list
        .iter()
        .map(|(k, v)| (k.to_string(), json!(pem(v))))
        .collect();
    c.insert("tls1".into(), Json::Object(m));
    c
}

fn errors(h: &mut Harness) -> Vec<String> {
    h.drain_events()
        .into_iter()
        .filter_map(|e| match e {
            RuntimeEvent::Log {
                level: LogLevel::Error,
                text,
                ..
            } => Some(text),
            _ => None,
        })
        .collect()
}

async fn fetch(flow: Json, opts: HarnessOptions) -> (Json, Harness) {
    let mut h = Harness::start_with(flow, opts).await;
    h.send_json("n1", json!({"payload": ""})).await;
    let m = h.recv_json("out").await;
    (m, h)
}

#[tokio::test]
async fn client_certificate_and_ca_from_credentials_complete_mutual_tls() {
    let port = https_server(true).await;
    let url = format!("https://localhost:{port}/");
    let opts = HarnessOptions {
        credentials: creds(&[
            ("certdata", "client.pem"),
            ("keydata", "client.key"),
            ("cadata", "ca.pem"),
        ]),
        ..Default::default()
    };
    let (m, h) = fetch(flow(&url, json!({"verifyservercert": true})), opts).await;
    assert_eq!(m["statusCode"], 200, "{m}");
    assert_eq!(m["payload"], "hello");
    h.stop().await;
}

#[tokio::test]
async fn without_the_client_certificate_the_server_refuses() {
    let port = https_server(true).await;
    let url = format!("https://localhost:{port}/");
    let opts = HarnessOptions {
        credentials: creds(&[("cadata", "ca.pem")]),
        ..Default::default()
    };
    let (m, h) = fetch(flow(&url, json!({"verifyservercert": true})), opts).await;
    assert!(
        m["payload"]
            .as_str()
            .is_some_and(|p| p.starts_with("RequestError")),
        "{m}"
    );
    h.stop().await;
}

#[tokio::test]
async fn verifying_against_platform_roots_rejects_the_test_ca() {
    let port = https_server(false).await;
    let url = format!("https://localhost:{port}/");
    let (m, h) = fetch(
        flow(&url, json!({"verifyservercert": true})),
        HarnessOptions::default(),
    )
    .await;
    assert!(
        m["payload"]
            .as_str()
            .is_some_and(|p| p.starts_with("RequestError")),
        "{m}"
    );
    h.stop().await;
}

#[tokio::test]
async fn verifyservercert_false_accepts_an_unknown_server_certificate() {
    let port = https_server(false).await;
    let url = format!("https://localhost:{port}/");
    let (m, h) = fetch(
        flow(&url, json!({"verifyservercert": false})),
        HarnessOptions::default(),
    )
    .await;
    assert_eq!(m["payload"], "hello", "{m}");
    h.stop().await;
}

#[tokio::test]
async fn certificate_files_are_read_from_disk() {
    let port = https_server(true).await;
    let url = format!("https://localhost:{port}/");
    let tls = json!({"cert": path("client.pem"), "key": path("client.key"), "ca": path("ca.pem"),
                     "verifyservercert": true});
    let (m, h) = fetch(flow(&url, tls), HarnessOptions::default()).await;
    assert_eq!(m["payload"], "hello", "{m}");
    h.stop().await;
}

#[tokio::test]
async fn tls_config_disable_local_files_rejects_file_paths() {
    let mut settings = RuntimeSettings::default();
    settings
        .raw
        .insert("tlsConfigDisableLocalFiles".into(), json!(true));
    let tls = json!({"id": "tls1", "type": "tls-config", "ca": path("ca.pem")});
    let mut h = Harness::start_with(
        json!([tls]),
        HarnessOptions {
            settings,
            ..Default::default()
        },
    )
    .await;
    let errs = errors(&mut h);
    assert!(
        errs.iter().any(|e| e.contains("tls1")
            && e.contains("ca:")
            && e.contains("tlsConfigDisableLocalFiles")),
        "{errs:?}"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_certificate_without_its_key_is_a_config_error() {
    let mut h = Harness::start_with(
        json!([{"id": "tls1", "type": "tls-config"}]),
        HarnessOptions {
            credentials: creds(&[("certdata", "client.pem")]),
            ..Default::default()
        },
    )
    .await;
    let errs = errors(&mut h);
    assert!(
        errs.iter()
            .any(|e| e.contains("keydata") && e.contains("No certificate/key")),
        "{errs:?}"
    );
    assert!(
        !errs.iter().any(|e| e.contains("BEGIN")),
        "PEM text must not leak into errors"
    );
    h.stop().await;
}

#[tokio::test]
async fn pfx_certificates_are_refused_with_the_field_named() {
    let mut h =
        Harness::start(json!([{"id": "tls1", "type": "tls-config", "certType": "pfx"}])).await;
    let errs = errors(&mut h);
    assert!(
        errs.iter()
            .any(|e| e.contains("certType") && e.contains("PKCS#12")),
        "{errs:?}"
    );
    h.stop().await;
}

#[tokio::test]
async fn alpn_protocol_is_offered() {
    let cfg = super::material::client_config(&super::Material::default(), false, Some("mqtt"))
        .expect("config");
    assert_eq!(cfg.alpn_protocols, vec![b"mqtt".to_vec()]);
}

#[tokio::test]
async fn the_server_configuration_serves_the_nodes_certificate() {
    use crate::network::tls_config::{Material, material};
    let server_side = Material {
        cert: Some(pem("server.pem").into_bytes()),
        key: Some(pem("server.key").into_bytes()),
        ca: None,
    };
    let server = material::server_config(&server_side, None)
        .expect("config")
        .expect("cert and key");
    let client_side = Material {
        ca: Some(pem("ca.pem").into_bytes()),
        ..Material::default()
    };
    let client = material::client_config(&client_side, true, None).expect("client");
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let srv = tokio::spawn(async move {
        let (s, _) = l.accept().await.expect("accept");
        let mut tls = acceptor.accept(s).await.expect("handshake");
        tls.write_all(b"ok").await.expect("write");
        tls.shutdown().await.expect("shutdown");
    });
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect(name, tcp)
        .await
        .expect("client handshake");
    let mut got = String::new();
    tls.read_to_string(&mut got).await.expect("read");
    assert_eq!(got, "ok");
    srv.await.expect("server");
    assert!(
        material::server_config(&Material::default(), None)
            .expect("ok")
            .is_none()
    );
}
