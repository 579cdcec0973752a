//! Turning PEM text (from files, credentials or environment variables)
//! into rustls client configurations, with the aws-lc-rs provider.
//!
//! Node's `ca` option replaces the default trust store; so does ours: with
//! a CA only that CA is trusted, without one the platform's roots are.

use super::insecure::AcceptAnyServerCert;
use rustls::ClientConfig;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use rustls_platform_verifier::BuilderVerifierExt;
use std::sync::Arc;

/// Why TLS material could not be used. Never carries key bytes.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsError {
    #[error("no PEM certificate found in {0}")]
    NoCertificate(&'static str),
    #[error("{0} is not valid PEM: {1}")]
    BadPem(&'static str, String),
    #[error(
        "no unencrypted private key found in key (encrypted keys protected by a passphrase are not supported)"
    )]
    NoKey,
    #[error("{0}")]
    Rustls(#[from] rustls::Error),
    #[error("cannot load the platform's trusted certificates: {0}")]
    Platform(String),
}

/// PEM text for the three parts, any of them may be missing.
#[derive(Default)]
pub(crate) struct Material {
    pub(crate) cert: Option<Vec<u8>>,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) ca: Option<Vec<u8>>,
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Material")
            .field("cert", &self.cert.is_some())
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("ca", &self.ca.is_some())
            .finish()
    }
}

/// The process-wide provider: aws-lc-rs.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn certs(pem: &[u8], what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let list = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadPem(what, e.to_string()))?;
    if list.is_empty() {
        return Err(TlsError::NoCertificate(what));
    }
    Ok(list)
}

/// Builds the client configuration for `m`; `verify` is `verifyservercert`.
pub(crate) fn client_config(
    m: &Material,
    verify: bool,
    alpn: Option<&str>,
) -> Result<ClientConfig, TlsError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = if !verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert(provider)))
    } else if let Some(ca) = &m.ca {
        let mut roots = rustls::RootCertStore::empty();
        for c in certs(ca, "ca")? {
            roots.add(c)?;
        }
        builder.with_root_certificates(roots)
    } else {
        builder
            .with_platform_verifier()
            .map_err(|e| TlsError::Platform(e.to_string()))?
    };
    let mut config = match (&m.cert, &m.key) {
        (Some(cert), Some(key)) => {
            let chain = certs(cert, "cert")?;
            let key = PrivateKeyDer::from_pem_slice(key).map_err(|_| TlsError::NoKey)?;
            builder.with_client_auth_cert(chain, key)?
        }
        _ => builder.with_no_client_auth(),
    };
    if let Some(p) = alpn {
        config.alpn_protocols = vec![p.as_bytes().to_vec()];
    }
    Ok(config)
}

/// The server configuration for nodes that accept TLS (tcp in): the
/// node's certificate and key; clients are not asked for a certificate
/// (Node's `tls.createServer` without `requestCert`). `None` without both.
pub(crate) fn server_config(
    m: &Material,
    alpn: Option<&str>,
) -> Result<Option<rustls::ServerConfig>, TlsError> {
    let (Some(cert), Some(key)) = (&m.cert, &m.key) else {
        return Ok(None);
    };
    let chain = certs(cert, "cert")?;
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|_| TlsError::NoKey)?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    if let Some(p) = alpn {
        config.alpn_protocols = vec![p.as_bytes().to_vec()];
    }
    Ok(Some(config))
}
