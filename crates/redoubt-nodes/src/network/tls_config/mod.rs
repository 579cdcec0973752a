//! tls-config (`@node-red/nodes/core/network/05-tls.js`): a config node
//! holding a certificate, key and CA (from files, from the node's
//! credentials, or from environment variables), `verifyservercert`,
//! `servername` and one ALPN protocol. It produces a [`TlsHandle`] with
//! rustls client configurations (aws-lc-rs provider) for the nodes that
//! connect out (http request, mqtt-broker, websocket-client, tcp nodes)
//! and a server configuration for the tcp nodes that accept connections.
//!
//! Deviations:
//! - `certType: "pfx"` (PKCS#12) and passphrase-encrypted keys are not
//!   supported: such a node fails to deploy with an error naming the field.
//! - `tlsConfigDisableLocalFiles: true` only hides the file inputs in
//!   Node-RED's editor; here it is also enforced at run time: a node that
//!   names a local file fails to deploy.

mod insecure;
mod material;

#[cfg(test)]
pub(crate) mod tests;

pub(crate) use material::{TlsError, client_config};

pub(crate) use material::Material;
use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use std::any::Any;
use std::sync::Arc;

pub(crate) struct TlsConfigType;

/// What other nodes get from a tls-config node.
pub(crate) struct TlsHandle {
    /// The configuration as the node specifies it.
    pub(crate) client: Arc<ClientConfig>,
    /// The same material without certificate verification (for
    /// `msg.rejectUnauthorized = false` on http request).
    pub(crate) insecure: Arc<ClientConfig>,
    /// `servername`, when set: the name sent in SNI and verified.
    pub(crate) servername: Option<String>,
    /// For nodes that accept TLS (tcp in, tcp out in server mode): present
    /// when the node has a certificate and key.
    pub(crate) server: Option<Arc<rustls::ServerConfig>>,
}

impl TlsHandle {
    /// The name to present and verify when connecting to `host`.
    pub(crate) fn server_name(&self, host: &str) -> Result<ServerName<'static>, String> {
        let name = self.servername.as_deref().unwrap_or(host);
        ServerName::try_from(name.to_string())
            .map_err(|e| format!("invalid server name {name:?}: {e}"))
    }
}

/// The tls-config node at run time: it only holds the handle.
struct TlsConfigNode(Arc<TlsHandle>);

impl Node for TlsConfigNode {
    fn on_input(&mut self, _msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        Ok(())
    }
    fn shared(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(self.0.clone())
    }
}

/// The [`TlsHandle`] of the tls-config node named in `field` of the node
/// being built; `None` when the field is empty.
pub(crate) fn lookup(cx: &BuildCtx, field: &str) -> Result<Option<Arc<TlsHandle>>, ConfigError> {
    let id = cx.config().str(field);
    if id.is_empty() {
        return Ok(None);
    }
    cx.config_node(&id)
        .and_then(|h| h.downcast::<TlsHandle>().ok())
        .map(Some)
        .ok_or_else(|| {
            ConfigError::field(
                field,
                format!("tls-config node {id:?} is missing or invalid"),
            )
        })
}

fn disable_local_files(cx: &BuildCtx) -> bool {
    redoubt_core::flows::lenient::as_bool(cx.settings().raw.get("tlsConfigDisableLocalFiles"))
}

fn read_files(cfg: &NodeConfig, cx: &BuildCtx) -> Result<Option<Material>, ConfigError> {
    let path = |k: &str| cfg.str(k).trim().to_string();
    let (cert, key, ca) = (path("cert"), path("key"), path("ca"));
    if cert.is_empty() && key.is_empty() && ca.is_empty() {
        return Ok(None);
    }
    if disable_local_files(cx) {
        let field = [("cert", &cert), ("key", &key), ("ca", &ca)]
            .into_iter()
            .find(|(_, v)| !v.is_empty())
            .map_or("cert", |(k, _)| k);
        return Err(ConfigError::field(
            field,
            "local certificate files are disabled by the tlsConfigDisableLocalFiles setting; paste the PEM text instead",
        ));
    }
    if cert.is_empty() != key.is_empty() {
        return Err(ConfigError::field(
            if cert.is_empty() { "cert" } else { "key" },
            "No certificate/key file provided: both cert and key are needed",
        ));
    }
    let read = |field: &str, p: &str| -> Result<Option<Vec<u8>>, ConfigError> {
        if p.is_empty() {
            return Ok(None);
        }
        std::fs::read(p)
            .map(Some)
            .map_err(|e| ConfigError::field(field, format!("cannot read {p:?}: {e}")))
    };
    Ok(Some(Material {
        cert: read("cert", &cert)?,
        key: read("key", &key)?,
        ca: read("ca", &ca)?,
    }))
}

fn from_credentials(cx: &BuildCtx) -> Result<Material, ConfigError> {
    let get = |k: &str| {
        cx.credentials()
            .and_then(|c| c.get(k))
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| s.as_bytes().to_vec())
    };
    if get("p12data").is_some() {
        return Err(ConfigError::field(
            "p12data",
            "PKCS#12 (p12/pfx) certificates are not supported",
        ));
    }
    let m = Material {
        cert: get("certdata"),
        key: get("keydata"),
        ca: get("cadata"),
    };
    if m.cert.is_some() != m.key.is_some() {
        return Err(ConfigError::field(
            if m.cert.is_some() {
                "keydata"
            } else {
                "certdata"
            },
            "No certificate/key file provided: both certificate and key are needed",
        ));
    }
    Ok(m)
}

fn from_env(cfg: &NodeConfig, cx: &BuildCtx) -> Material {
    let get = |k: &str| {
        let name = cfg.str(k);
        if name.is_empty() {
            return None;
        }
        let v = cx
            .env(&name)
            .as_str()
            .map(str::to_string)
            .unwrap_or_default();
        (!v.is_empty()).then(|| v.into_bytes())
    };
    Material {
        cert: get("certEnv"),
        key: get("keyEnv"),
        ca: get("caEnv"),
    }
}

impl NodeType for TlsConfigType {
    fn type_name(&self) -> &'static str {
        "tls-config"
    }

    fn is_config(&self) -> bool {
        true
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let material = match cfg.str("certType").as_str() {
            "" | "files" => match read_files(cfg, cx)? {
                Some(m) => m,
                None => from_credentials(cx)?,
            },
            "env" => from_env(cfg, cx),
            "pfx" => {
                return Err(ConfigError::field(
                    "certType",
                    "PKCS#12 (p12/pfx) certificates are not supported; use PEM cert and key",
                ));
            }
            other => {
                return Err(ConfigError::field(
                    "certType",
                    format!("unknown certificate type {other:?} (expected files, env or pfx)"),
                ));
            }
        };
        let verify = match cfg.get("verifyservercert") {
            None | Some(serde_json::Value::Null) => true,
            Some(_) => cfg.bool("verifyservercert"),
        };
        let alpn = cfg.str("alpnprotocol").trim().to_string();
        let alpn = (!alpn.is_empty()).then_some(alpn.as_str());
        let fail = |e: TlsError| {
            let field = match &e {
                TlsError::NoKey => "key",
                TlsError::NoCertificate(w) | TlsError::BadPem(w, _) => w,
                _ => "cert",
            };
            ConfigError::field(field, e.to_string())
        };
        let client = material::client_config(&material, verify, alpn).map_err(fail)?;
        let insecure = material::client_config(&material, false, alpn).map_err(fail)?;
        let server = material::server_config(&material, alpn).map_err(fail)?;
        let servername = cfg.str("servername").trim().to_string();
        Ok(Box::new(TlsConfigNode(Arc::new(TlsHandle {
            client: Arc::new(client),
            insecure: Arc::new(insecure),
            servername: (!servername.is_empty()).then_some(servername),
            server: server.map(Arc::new),
        }))))
    }
}
