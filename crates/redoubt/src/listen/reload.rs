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
