//! Building a rustls `ServerConfig` from Node-RED's `https` options: `key`
//! and `cert` (PEM text, the certificate possibly followed by its chain) and
//! `ca` (PEM certificates appended to the chain that is sent). TLS 1.2 and
//! 1.3 only, the aws-lc-rs provider's AEAD suites with ECDHE key exchange,
//! ALPN `h2` then `http/1.1`.

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The PEM text of a key, its certificate chain and extra CA certificates.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsMaterial {
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: String,
    /// PEM certificate, leaf first, optionally followed by intermediates.
    pub cert_pem: String,
    /// PEM certificates appended to the chain (Node-RED's `https.ca`).
    pub ca_pem: Option<String>,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("key_pem", &"<redacted>")
            .field("cert_pem", &format_args!("{} bytes", self.cert_pem.len()))
            .field("ca_pem", &self.ca_pem.as_ref().map(String::len))
            .finish()
    }
}

/// Why a TLS configuration could not be built. Never carries key material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// No PEM block of the expected kind.
    #[error("https.{field}: no PEM {what} found")]
    Missing {
        /// `key`, `cert` or `ca`.
        field: &'static str,
        /// What was looked for.
        what: &'static str,
    },
    /// A certificate PEM block could not be decoded.
    #[error("https.{field}: cannot read PEM certificate: {reason}")]
    BadCertificate {
        /// `cert` or `ca`.
        field: &'static str,
        /// The decoder's message.
        reason: String,
    },
    /// The private key could not be decoded (details withheld: it is secret).
    #[error("https.key: cannot read the PEM private key")]
    BadKey,
    /// rustls refused the key or certificate (e.g. key and certificate differ).
    #[error("https: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Parses every PEM certificate in `pem`.
fn certificates(field: &'static str, pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCertificate {
            field,
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Missing {
            field,
            what: "certificate",
        });
    }
    Ok(certs)
}

/// Builds the server configuration. Fails when the key does not belong to
/// the first certificate.
pub fn server_config(material: &TlsMaterial) -> Result<Arc<ServerConfig>, TlsError> {
    let mut chain = certificates("cert", &material.cert_pem)?;
    if let Some(ca) = &material.ca_pem {
        for c in certificates("ca", ca)? {
            if !chain.contains(&c) {
                chain.push(c);
            }
        }
    }
    let key = PrivateKeyDer::from_pem_slice(material.key_pem.as_bytes()).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::Missing {
            field: "key",
            what: "private key",
        },
        _ => TlsError::BadKey,
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// SHA-256 of the first certificate in `cert_pem`, as colon-separated
/// upper-case hex (the form browsers and `openssl x509 -fingerprint` show).
pub fn fingerprint_sha256(cert_pem: &str) -> Result<String, TlsError> {
    let leaf = certificates("cert", cert_pem)?
        .into_iter()
        .next()
        .ok_or(TlsError::Missing {
            field: "cert",
            what: "certificate",
        })?;
    Ok(fingerprint_der(&leaf))
}

/// SHA-256 of a DER certificate, colon-separated upper-case hex.
pub(crate) fn fingerprint_der(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
