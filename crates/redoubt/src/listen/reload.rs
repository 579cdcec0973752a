//! Replacing the certificate while running. Two triggers: a poll of the
//! files the settings.js read (and the settings.js itself), every
//! `httpsWatchInterval` seconds, catching Let's Encrypt renewals; and
//! Node-RED's `httpsRefreshInterval`, every so many hours. Either way the
//! settings.js is evaluated again (which calls a function-valued `https`
//! again) and its `https` result replaces the configuration for new
//! connections. A result that does not build (bad PEM, key not matching
//! the certificate) is logged and the certificate in service stays.

use crate::settings;
use anyhow::{Context, Result};
use redoubt_http::tls::{FileStamps, TlsConfigHolder};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// Where the `https` setting comes from.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) settings_path: PathBuf,
    pub(crate) defines: Vec<(String, Value)>,
}

/// Evaluates the settings again and reloads; returns the files it read.
/// Blocking (runs QuickJS): call from `spawn_blocking`.
fn reload_now(holder: &TlsConfigHolder, source: &Source) -> Result<(bool, Vec<PathBuf>)> {
    let (s, files) = settings::load_traced(&source.settings_path, &source.defines)
        .with_context(|| format!("in settings file {}", source.settings_path.display()))?;
    let https = s
        .https
        .context("`https` is no longer set (turning HTTPS off needs a restart)")?;
    let material = super::tls_material(&https)?;
    let changed = holder.reload(material)?;
    Ok((changed, files))
}

/// Runs [`reload_now`] off the async threads and logs the outcome.
async fn reload_logged(holder: &Arc<TlsConfigHolder>, source: &Source) -> Option<Vec<PathBuf>> {
    let (h, s) = (holder.clone(), source.clone());
    match tokio::task::spawn_blocking(move || reload_now(&h, &s)).await {
        Ok(Ok((true, files))) => {
            tracing::info!(
                "HTTPS certificate reloaded; now serving SHA-256 {}",
                holder.fingerprint()
            );
            Some(files)
        }
        Ok(Ok((false, files))) => {
            tracing::debug!("HTTPS certificate unchanged");
            Some(files)
        }
        Ok(Err(e)) => {
            tracing::error!(
                "New HTTPS certificate not used, the previous one stays in service: {e:#}"
            );
            None
        }
        Err(e) => {
            tracing::error!("HTTPS reload task failed: {e}");
            None
        }
    }
}

fn ticker(every: Duration) -> tokio::time::Interval {
    let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

/// Polls `files` every `every`; reloads when one changed.
pub(crate) fn spawn_watch(
    holder: Arc<TlsConfigHolder>,
    source: Source,
    files: Vec<PathBuf>,
    every: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut stamps = FileStamps::new(files);
        let mut tick = ticker(every);
        loop {
            tick.tick().await;
            if !stamps.changed() {
                continue;
            }
            if let Some(mut files) = reload_logged(&holder, &source).await {
                // The settings may now read other files: watch those.
                files.push(source.settings_path.clone());
                if !files.iter().eq(stamps.paths()) {
                    stamps = FileStamps::new(files);
                }
            }
        }
    })
}

/// Reloads every `every` (Node-RED's `httpsRefreshInterval`).
pub(crate) fn spawn_refresh(
    holder: Arc<TlsConfigHolder>,
    source: Source,
    every: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = ticker(every);
        loop {
            tick.tick().await;
            reload_logged(&holder, &source).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::generate_cert;
    use redoubt_http::tls::fingerprint_sha256;

    #[test]
    fn an_https_function_is_called_again_and_a_bad_result_keeps_the_old_certificate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let live = dir.path().join("live");
        let a = generate_cert(&["a.test".into()], &[], &live).expect("pair a");
        let b = generate_cert(&["b.test".into()], &[], &dir.path().join("b")).expect("pair b");
        let settings = dir.path().join("settings.js");
        let js = |p: &std::path::Path| Value::String(p.display().to_string()).to_string();
        std::fs::write(
            &settings,
            format!(
                "const fs = require('fs');\nmodule.exports = {{ https: function () {{ return {{ key: fs.readFileSync({}), cert: fs.readFileSync({}) }}; }} }};\n",
                js(&a.key_path),
                js(&a.cert_path)
            ),
        )
        .expect("settings");
        let source = Source {
            settings_path: settings.clone(),
            defines: Vec::new(),
        };
        let (s, files) = settings::load_traced(&settings, &[]).expect("load");
        assert_eq!(files, vec![a.key_path.clone(), a.cert_path.clone()]);
        let https = s.https.expect("https");
        let holder = TlsConfigHolder::new(super::super::tls_material(&https).expect("material"))
            .expect("tls");
        assert_eq!(holder.fingerprint(), a.fingerprint);
        assert!(!reload_now(&holder, &source).expect("same").0);

        // Renewal: the live files now hold pair b.
        std::fs::copy(&b.key_path, &a.key_path).expect("key");
        std::fs::copy(&b.cert_path, &a.cert_path).expect("cert");
        let (changed, files) = reload_now(&holder, &source).expect("reloaded");
        assert!(changed);
        assert_eq!(files.len(), 2);
        assert_eq!(holder.fingerprint(), b.fingerprint);

        // A broken renewal (certificate of another key): error, b stays.
        let c = generate_cert(&["c.test".into()], &[], &dir.path().join("c")).expect("pair c");
        std::fs::copy(&c.cert_path, &a.cert_path).expect("cert");
        let err = reload_now(&holder, &source).expect_err("mismatch");
        assert!(!format!("{err:#}").contains("PRIVATE KEY"), "{err:#}");
        assert_eq!(holder.fingerprint(), b.fingerprint);
        assert_eq!(
            fingerprint_sha256(&std::fs::read_to_string(&a.cert_path).expect("read")).expect("fp"),
            c.fingerprint
        );

        // settings.js no longer sets https: reported, b stays.
        std::fs::write(&settings, "module.exports = {};").expect("settings");
        let err = reload_now(&holder, &source).expect_err("no https");
        assert!(format!("{err:#}").contains("no longer set"), "{err:#}");
        assert_eq!(holder.fingerprint(), b.fingerprint);
    }
}
