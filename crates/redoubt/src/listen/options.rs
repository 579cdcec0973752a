//! Reading the listener's settings: Node-RED's `https` options (`key`,
//! `cert`, `ca` as PEM text), `requireHttps`, `httpsRefreshInterval` (hours),
//! and redoubt's `trustProxy`, `httpsWatchInterval` (seconds) and
//! `hstsMaxAge` (seconds). Express's `httpServerOptions['trust proxy']`
//! counts as `trustProxy`, so a Node-RED settings file behind a proxy works.

use crate::settings::Settings;
use anyhow::{Result, bail};
use redoubt_http::HttpsPolicy;
use redoubt_http::tls::TlsMaterial;
use serde_json::{Map, Value};
use std::time::Duration;

/// One year, the usual HSTS lifetime.
const DEFAULT_HSTS_MAX_AGE: u64 = 31_536_000;
/// How often certificate files are checked for changes by default.
const DEFAULT_WATCH_SECS: f64 = 60.0;

/// Node `tls.createServer` options redoubt replaces by fixed, safe choices.
const FIXED_BY_REDOUBT: &[&str] = &[
    "minVersion",
    "maxVersion",
    "ciphers",
    "secureProtocol",
    "secureOptions",
    "honorCipherOrder",
    "ecdhCurve",
    "sigalgs",
    "ALPNProtocols",
];

/// What [`listen_options`] found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListenOptions {
    pub(crate) policy: HttpsPolicy,
    /// Poll certificate files this often (`None`: never).
    pub(crate) watch_interval: Option<Duration>,
    /// Re-evaluate `https` this often (`None`: never).
    pub(crate) refresh_interval: Option<Duration>,
}

/// PEM text of one option: a string, or an array of strings (Node accepts
/// arrays of certificates). Buffers do not occur: redoubt's
/// `fs.readFileSync` returns text.
fn pem_text(https: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match https.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n"),
        )),
        // Never echo the value: it may be a private key.
        Some(_) => bail!("setting `https.{key}` must be PEM text (a string or array of strings)"),
    }
}

/// The key, certificate and CA chain from an evaluated `https` setting.
pub(crate) fn tls_material(https: &Map<String, Value>) -> Result<TlsMaterial> {
    for k in https.keys() {
        match k.as_str() {
            "key" | "cert" | "ca" => {}
            "pfx" | "passphrase" => bail!(
                "setting `https.{k}` is not supported by redoubt: give `key` and `cert` as unencrypted PEM (convert with `openssl pkcs12 -in file.pfx -nodes`)"
            ),
            k if FIXED_BY_REDOUBT.contains(&k) => tracing::warn!(
                "https.{k} is ignored: redoubt always uses TLS 1.2/1.3 with modern cipher suites and offers HTTP/2"
            ),
            k => tracing::warn!("https.{k} is ignored by redoubt"),
        }
    }
    let Some(key_pem) = pem_text(https, "key")? else {
        bail!("setting `https` has no `key` (PEM private key)");
    };
    let Some(cert_pem) = pem_text(https, "cert")? else {
        bail!("setting `https` has no `cert` (PEM certificate)");
    };
    Ok(TlsMaterial {
        key_pem,
        cert_pem,
        ca_pem: pem_text(https, "ca")?,
    })
}

/// A non-negative number of seconds (`None` when absent).
fn seconds(raw: &Map<String, Value>, key: &str) -> Result<Option<f64>> {
    match raw.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.is_finite() && f >= 0.0 => Ok(Some(f)),
            _ => bail!("setting `{key}` is {n}, expected a number 0 or more"),
        },
        Some(v) => bail!("setting `{key}` is {v}, expected a number 0 or more"),
    }
}

/// `trustProxy: true`, or Express's `httpServerOptions['trust proxy']`.
fn trust_proxy(raw: &Map<String, Value>) -> Result<bool> {
    let own = match raw.get("trustProxy") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => bail!("setting `trustProxy` is {v}, expected true or false"),
    };
    let express = match raw
        .get("httpServerOptions")
        .and_then(|o| o.get("trust proxy"))
    {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f > 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        _ => false,
    };
    Ok(own || express)
}

/// The listener options from the settings.
pub(crate) fn listen_options(s: &Settings) -> Result<ListenOptions> {
    let raw = &s.raw;
    let trust_proxy = trust_proxy(raw)?;
    let hsts = match seconds(raw, "hstsMaxAge")? {
        None => Some(DEFAULT_HSTS_MAX_AGE),
        Some(f) if f < 1.0 => None,
        Some(f) => Some(f as u64),
    };
    if s.require_https && s.https.is_none() && !trust_proxy {
        tracing::warn!(
            "requireHttps is on but https is not set and trustProxy is off: every request will be redirected to https://. \
             Set https (e.g. `redoubt admin gen-cert`), or trustProxy: true behind a TLS-terminating proxy."
        );
    }
    let watch = seconds(raw, "httpsWatchInterval")?.unwrap_or(DEFAULT_WATCH_SECS);
    let refresh_hours = s.https_refresh_interval.unwrap_or(0.0);
    Ok(ListenOptions {
        policy: HttpsPolicy {
            require_https: s.require_https,
            trust_proxy,
            hsts_max_age: hsts,
        },
        watch_interval: (watch > 0.0).then(|| Duration::from_secs_f64(watch)),
        refresh_interval: (refresh_hours > 0.0)
            .then(|| Duration::from_secs_f64(refresh_hours * 3600.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(v: Value) -> Settings {
        let Value::Object(m) = v else {
            panic!("object expected")
        };
        crate::settings::from_json(m).expect("valid settings")
    }

    #[test]
    fn pem_text_accepts_strings_and_arrays_and_hides_values() {
        let https = json!({"key": "K", "cert": ["A", "B"], "ca": "C"});
        let m = tls_material(https.as_object().expect("object")).expect("material");
        assert_eq!(m.cert_pem, "A\nB");
        assert_eq!(m.ca_pem.as_deref(), Some("C"));
        let bad = json!({"key": {"secret": "hunter2"}, "cert": "x"});
        let err = tls_material(bad.as_object().expect("object"))
            .expect_err("object key refused")
            .to_string();
        assert!(
            err.contains("https.key") && !err.contains("hunter2"),
            "{err}"
        );
        let pfx = json!({"pfx": "x", "passphrase": "p"});
        let err = tls_material(pfx.as_object().expect("object"))
            .expect_err("pfx refused")
            .to_string();
        assert!(err.contains("not supported"), "{err}");
    }

    #[test]
    fn options_read_trust_proxy_intervals_and_hsts() {
        let o = listen_options(&settings(json!({}))).expect("options");
        assert_eq!(o.policy.hsts_max_age, Some(DEFAULT_HSTS_MAX_AGE));
        assert!(!o.policy.trust_proxy && !o.policy.require_https);
        assert_eq!(o.watch_interval, Some(Duration::from_secs(60)));
        assert_eq!(o.refresh_interval, None);

        let o = listen_options(&settings(json!({
            "requireHttps": true, "trustProxy": true, "hstsMaxAge": 0,
            "httpsWatchInterval": 0.5, "httpsRefreshInterval": 12
        })))
        .expect("options");
        assert!(o.policy.require_https && o.policy.trust_proxy);
        assert_eq!(o.policy.hsts_max_age, None);
        assert_eq!(o.watch_interval, Some(Duration::from_millis(500)));
        assert_eq!(o.refresh_interval, Some(Duration::from_secs(12 * 3600)));

        let o = listen_options(&settings(
            json!({"httpServerOptions": {"trust proxy": true}}),
        ))
        .expect("options");
        assert!(o.policy.trust_proxy);
        assert!(listen_options(&settings(json!({"trustProxy": "yes"}))).is_err());
        assert!(listen_options(&settings(json!({"httpsWatchInterval": -1}))).is_err());
    }
}
