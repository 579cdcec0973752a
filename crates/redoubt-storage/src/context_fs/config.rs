//! Options of the `localfilesystem` context store, as Node-RED's
//! `contextStorage: { file: { module: "localfilesystem", config: {...} } }`.

use serde_json::Value as Json;
use std::path::PathBuf;
use std::time::Duration;

/// Options of a `localfilesystem` store (Node-RED's `contextStorage` config).
#[derive(Debug, Clone, PartialEq)]
pub struct LocalFileSystemConfig {
    /// The runtime's user directory (the default parent of `base`).
    pub user_dir: PathBuf,
    /// `dir`: the parent of `base`, instead of `user_dir`.
    pub dir: Option<PathBuf>,
    /// `base`: the directory name under `dir`, default `"context"`.
    pub base: String,
    /// `cache`: keep everything in memory and write behind (default true).
    pub cache: bool,
    /// `flushInterval`: how long after a change the cache is written (30 s).
    pub flush_interval: Duration,
    /// The store's name in errors (the `contextStorage` key).
    pub store_name: String,
}

impl LocalFileSystemConfig {
    /// Node-RED's defaults for `user_dir`.
    pub fn new(user_dir: impl Into<PathBuf>) -> LocalFileSystemConfig {
        LocalFileSystemConfig {
            user_dir: user_dir.into(),
            dir: None,
            base: "context".to_string(),
            cache: true,
            flush_interval: Duration::from_secs(30),
            store_name: "file".to_string(),
        }
    }

    /// Reads Node-RED's `config` object (`{dir, base, cache, flushInterval}`,
    /// the interval in seconds); missing or mistyped fields keep defaults.
    pub fn from_settings(user_dir: impl Into<PathBuf>, config: &Json) -> LocalFileSystemConfig {
        let mut c = LocalFileSystemConfig::new(user_dir);
        if let Some(d) = config
            .get("dir")
            .and_then(Json::as_str)
            .filter(|d| !d.is_empty())
        {
            c.dir = Some(PathBuf::from(d));
        }
        if let Some(b) = config
            .get("base")
            .and_then(Json::as_str)
            .filter(|b| !b.is_empty())
        {
            c.base = b.to_string();
        }
        if let Some(cache) = config.get("cache").and_then(Json::as_bool) {
            c.cache = cache;
        }
        if let Some(secs) = config.get("flushInterval").and_then(Json::as_f64) {
            c.flush_interval =
                Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(c.flush_interval);
        }
        c
    }

    /// The directory holding the scope directories.
    pub fn base_dir(&self) -> PathBuf {
        self.dir
            .as_deref()
            .unwrap_or(&self.user_dir)
            .join(&self.base)
    }
}
