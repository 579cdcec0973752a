//! http proxy (`@node-red/nodes/core/network/06-httpproxy.js`): a config
//! node naming a proxy `url`, a `noproxy` list and, in its credentials, a
//! `username` and `password`. The http request node sends through it.
//!
//! As in Node-RED 5 (which feeds the node to `proxy-from-env` as
//! `http_proxy`/`https_proxy`/`no_proxy`), `noproxy` entries use the
//! `no_proxy` rules: host names match as domain suffixes, `*` matches
//! everything, IP addresses and CIDR ranges match addresses.

#[cfg(test)]
mod tests;

use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use std::any::Any;
use std::sync::Arc;

pub(crate) struct HttpProxyType;

/// What other nodes get from an http proxy node.
#[derive(Clone)]
pub(crate) struct ProxyHandle {
    /// The proxy URL (`http://host:port`).
    pub(crate) url: String,
    /// Hosts reached directly.
    pub(crate) noproxy: Vec<String>,
    /// `username`, `password` from the credentials.
    pub(crate) auth: Option<(String, String)>,
}

impl std::fmt::Debug for ProxyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyHandle")
            .field("url", &self.url)
            .field("noproxy", &self.noproxy)
            .field("auth", &self.auth.as_ref().map(|(u, _)| (u, "<redacted>")))
            .finish()
    }
}

impl ProxyHandle {
    /// The proxy as reqwest applies it to every request of a client.
    pub(crate) fn to_reqwest(&self) -> Result<reqwest::Proxy, reqwest::Error> {
        let mut p = reqwest::Proxy::all(&self.url)?
            .no_proxy(reqwest::NoProxy::from_string(&self.noproxy.join(",")));
        if let Some((u, pw)) = &self.auth {
            p = p.basic_auth(u, pw);
        }
        Ok(p)
    }
}

struct HttpProxyNode(Arc<ProxyHandle>);

impl Node for HttpProxyNode {
    fn on_input(&mut self, _msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        Ok(())
    }
    fn shared(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(self.0.clone())
    }
}

/// The [`ProxyHandle`] of the http proxy node named in `field`; `None` when empty.
pub(crate) fn lookup(cx: &BuildCtx, field: &str) -> Result<Option<Arc<ProxyHandle>>, ConfigError> {
    let id = cx.config().str(field);
    if id.is_empty() {
        return Ok(None);
    }
    cx.config_node(&id)
        .and_then(|h| h.downcast::<ProxyHandle>().ok())
        .map(Some)
        .ok_or_else(|| {
            ConfigError::field(
                field,
                format!("http proxy node {id:?} is missing or invalid"),
            )
        })
}

impl NodeType for HttpProxyType {
    fn type_name(&self) -> &'static str {
        "http proxy"
    }

    fn is_config(&self) -> bool {
        true
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let url = cfg.str("url").trim().to_string();
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| ConfigError::field("url", format!("invalid proxy url {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ConfigError::field(
                "url",
                format!("proxy url {url:?} must start with http:// or https://"),
            ));
        }
        let noproxy = match cfg.get("noproxy") {
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(serde_json::Value::as_str)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            Some(serde_json::Value::String(s)) => s
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            _ => Vec::new(),
        };
        let cred = |k: &str| {
            cx.credentials()
                .and_then(|c| c.get(k))
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (user, pass) = (cred("username"), cred("password"));
        let auth = (!user.is_empty() || !pass.is_empty()).then_some((user, pass));
        Ok(Box::new(HttpProxyNode(Arc::new(ProxyHandle {
            url,
            noproxy,
            auth,
        }))))
    }
}
