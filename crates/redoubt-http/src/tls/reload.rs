//! The TLS configuration new connections use, replaceable at runtime. A
//! replacement that fails to build is reported and the current one stays.

use super::config::{TlsError, TlsMaterial, fingerprint_sha256, server_config};
use parking_lot::RwLock;
use rustls::ServerConfig;
use std::sync::Arc;

/// Current configuration plus the fingerprint of its certificate.
struct Current {
    config: Arc<ServerConfig>,
    material: TlsMaterial,
    fingerprint: String,
}

/// Holds the configuration that the accept loop hands to each new
/// connection. Connections already established keep theirs.
pub struct TlsConfigHolder {
    current: RwLock<Arc<Current>>,
}

impl std::fmt::Debug for TlsConfigHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfigHolder")
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

fn build(material: TlsMaterial) -> Result<Current, TlsError> {
    Ok(Current {
        config: server_config(&material)?,
        fingerprint: fingerprint_sha256(&material.cert_pem)?,
        material,
    })
}

impl TlsConfigHolder {
    /// Builds the first configuration.
    pub fn new(material: TlsMaterial) -> Result<TlsConfigHolder, TlsError> {
        Ok(TlsConfigHolder {
            current: RwLock::new(Arc::new(build(material)?)),
        })
    }

    /// The configuration for a new connection.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.current.read().config.clone()
    }

    /// SHA-256 fingerprint of the certificate in service.
    pub fn fingerprint(&self) -> String {
        self.current.read().fingerprint.clone()
    }

    /// Replaces the configuration with one built from `material`. Returns
    /// `Ok(false)` when `material` is what is already in service, `Ok(true)`
    /// when it was replaced; on error the current configuration stays.
    pub fn reload(&self, material: TlsMaterial) -> Result<bool, TlsError> {
        if self.current.read().material == material {
            return Ok(false);
        }
        let next = Arc::new(build(material)?);
        *self.current.write() = next;
        Ok(true)
    }
}
