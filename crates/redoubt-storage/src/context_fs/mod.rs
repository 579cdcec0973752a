//! Node-RED's `localfilesystem` context store, file-compatible with it.
//!
//! Layout (see `layout`): `<dir or userDir>/<base = "context">/global/global.json`,
//! `<flowId>/flow.json` and `<flowId>/<nodeId>.json`, each one JSON object
//! indented by 4 spaces. With `cache` (the default) every file is loaded
//! when the store opens, calls are answered from memory, and changed scopes
//! are written by [`LocalFileSystemStore::flush`], which the owner runs from
//! [`LocalFileSystemStore::spawn_flusher`] (Node-RED: `flushInterval`, 30 s,
//! counted from the first change after a flush) and which also runs when the
//! store is dropped. Without `cache` every call reads or rewrites the file.
//! Writes go to `<file>.json.<millis>.tmp` and are renamed into place.

mod config;
mod encode;
mod layout;

pub use config::LocalFileSystemConfig;

use crate::error::StorageError;
use crate::fsio::{self, WriteOpts};
use encode::ScopeData;
use parking_lot::Mutex;
use redoubt_core::context::{ContextError, ContextStore};
use redoubt_core::value::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// In-memory state of a caching store.
#[derive(Default)]
struct Cache {
    scopes: HashMap<String, ScopeData>,
    dirty: HashSet<String>,
}

/// The `localfilesystem` context store.
pub struct LocalFileSystemStore {
    base: PathBuf,
    name: String,
    flush_interval: Duration,
    /// `None` when `cache` is off.
    cache: Option<Mutex<Cache>>,
    /// Serialises file writes and removals.
    io: Mutex<()>,
    /// Scopes whose circular references were already reported.
    warned_circular: Mutex<HashSet<String>>,
    /// Wakes the flusher when a scope becomes dirty.
    changed: Arc<Notify>,
}

impl LocalFileSystemStore {
    /// Opens the store: creates the base directory and, with `cache`, loads
    /// every context file. A file that is not valid JSON is an error.
    pub fn open(config: &LocalFileSystemConfig) -> Result<LocalFileSystemStore, StorageError> {
        let base = config.base_dir();
        std::fs::create_dir_all(&base)
            .map_err(|e| StorageError::io("create directory", &base, e))?;
        let cache = if config.cache {
            Some(Mutex::new(load_all(&base)?))
        } else {
            None
        };
        Ok(LocalFileSystemStore {
            base,
            name: config.store_name.clone(),
            flush_interval: config.flush_interval,
            cache,
            io: Mutex::new(()),
            warned_circular: Mutex::new(HashSet::new()),
            changed: Arc::new(Notify::new()),
        })
    }

    /// The directory holding the scope directories.
    pub fn base_dir(&self) -> &Path {
        &self.base
    }

    /// The configured flush interval.
    pub fn flush_interval(&self) -> Duration {
        self.flush_interval
    }

    /// Writes every changed scope now (no-op without `cache`). A scope that
    /// fails to write stays pending; the first error is returned.
    pub fn flush(&self) -> Result<(), StorageError> {
        let Some(cache) = &self.cache else {
            return Ok(());
        };
        let _io = self.io.lock();
        let pending: Vec<(String, ScopeData)> = {
            let mut c = cache.lock();
            let dirty: Vec<String> = c.dirty.drain().collect();
            dirty
                .into_iter()
                .map(|s| {
                    let data = c.scopes.get(&s).cloned().unwrap_or_default();
                    (s, data)
                })
                .collect()
        };
        let mut first_err = None;
        for (scope, data) in pending {
            if let Err(e) = self.write_scope(&scope, &data) {
                tracing::error!("context store '{}': {e}", self.name);
                cache.lock().dirty.insert(scope);
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Runs [`flush`](Self::flush) `interval` after each first change (use
    /// [`flush_interval`](Self::flush_interval) for Node-RED's behaviour).
    /// Call from inside a Tokio runtime. The task ends soon after the store
    /// is dropped; dropping flushes too.
    pub fn spawn_flusher(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        let changed = Arc::clone(&self.changed);
        tokio::spawn(async move {
            loop {
                // Wake up now and then to notice the store being dropped.
                if tokio::time::timeout(Duration::from_secs(1), changed.notified())
                    .await
                    .is_err()
                {
                    if weak.strong_count() == 0 {
                        return;
                    }
                    continue;
                }
                tokio::time::sleep(interval).await;
                let Some(store) = weak.upgrade() else { return };
                // Errors are logged by flush; failed scopes stay pending.
                let _ = tokio::task::spawn_blocking(move || store.flush()).await;
            }
        })
    }

    /// Node-RED's `clean`: drops the context of flows and nodes whose ids
    /// are not in `active` (global is always kept).
    pub fn clean(&self, active: &HashSet<String>) -> Result<(), StorageError> {
        let is_active = |scope: &str| match scope.split_once(':') {
            None => scope == "global" || active.contains(scope),
            Some((node, flow)) => active.contains(node) && active.contains(flow),
        };
        let mut stale: HashSet<String> = match &self.cache {
            Some(c) => c
                .lock()
                .scopes
                .keys()
                .filter(|s| !is_active(s))
                .cloned()
                .collect(),
            None => HashSet::new(),
        };
        stale.extend(
            layout::list_files(&self.base)?
                .into_iter()
                .map(|(s, _)| s)
                .filter(|s| !is_active(s)),
        );
        for scope in stale {
            self.remove_scope(&scope)?;
        }
        Ok(())
    }

    fn path_of(&self, scope: &str) -> Result<PathBuf, StorageError> {
        layout::scope_file(&self.base, scope).ok_or_else(|| StorageError::Shape {
            path: self.base.join(scope),
            expected: "a scope id usable as a file name",
        })
    }

    fn write_scope(&self, scope: &str, data: &ScopeData) -> Result<(), StorageError> {
        let path = self.path_of(scope)?;
        let (text, circular) = encode::encode(data, &path)?;
        let mut warned = self.warned_circular.lock();
        if !circular {
            warned.remove(scope);
        } else if warned.insert(scope.to_string()) {
            tracing::warn!(
                "context store '{}': circular references in scope {scope} were not saved",
                self.name
            );
        }
        drop(warned);
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let tmp = fsio::suffixed(&path, &format!(".{millis}.tmp"));
        fsio::write_via(&path, &tmp, text.as_bytes(), WriteOpts::default())
    }

    fn read_scope(&self, scope: &str) -> Result<ScopeData, StorageError> {
        let path = self.path_of(scope)?;
        match fsio::read_text(&path)? {
            Some(text) => encode::decode(&text, &path),
            None => Ok(ScopeData::new()),
        }
    }

    fn remove_scope(&self, scope: &str) -> Result<(), StorageError> {
        if let Some(c) = &self.cache {
            let mut c = c.lock();
            c.scopes.remove(scope);
            c.dirty.remove(scope);
        }
        let path = self.path_of(scope)?;
        let _io = self.io.lock();
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(StorageError::io("remove", &path, e))
            }
            _ => Ok(()),
        }
    }

    fn err(&self, e: StorageError) -> ContextError {
        ContextError::Store {
            store: self.name.clone(),
            message: e.to_string(),
        }
    }
}

fn load_all(base: &Path) -> Result<Cache, StorageError> {
    let mut cache = Cache::default();
    for (scope, path) in layout::list_files(base)? {
        let text = fsio::read_text(&path)?.unwrap_or_default();
        let data = encode::decode(&text, &path)?;
        cache.scopes.entry(scope).or_default().extend(data);
    }
    Ok(cache)
}

impl ContextStore for LocalFileSystemStore {
    fn get(&self, scope: &str, key: &str) -> Result<Option<Value>, ContextError> {
        match &self.cache {
            Some(c) => Ok(c.lock().scopes.get(scope).and_then(|m| m.get(key).cloned())),
            None => Ok(self
                .read_scope(scope)
                .map_err(|e| self.err(e))?
                .shift_remove(key)),
        }
    }

    fn set(&self, scope: &str, key: &str, value: Option<Value>) -> Result<(), ContextError> {
        self.path_of(scope).map_err(|e| self.err(e))?;
        let apply = |m: &mut ScopeData| match value {
            Some(v) => {
                m.insert(key.to_string(), v);
            }
            None => {
                m.shift_remove(key);
            }
        };
        match &self.cache {
            Some(c) => {
                let mut c = c.lock();
                apply(c.scopes.entry(scope.to_string()).or_default());
                c.dirty.insert(scope.to_string());
                drop(c);
                self.changed.notify_one();
                Ok(())
            }
            None => {
                let _io = self.io.lock();
                let mut data = self.read_scope(scope).map_err(|e| self.err(e))?;
                apply(&mut data);
                self.write_scope(scope, &data).map_err(|e| self.err(e))
            }
        }
    }

    fn keys(&self, scope: &str) -> Result<Vec<String>, ContextError> {
        match &self.cache {
            Some(c) => Ok(c
                .lock()
                .scopes
                .get(scope)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()),
            None => Ok(self
                .read_scope(scope)
                .map_err(|e| self.err(e))?
                .into_keys()
                .collect()),
        }
    }

    fn delete_scope(&self, scope: &str) -> Result<(), ContextError> {
        self.remove_scope(scope).map_err(|e| self.err(e))
    }

    fn flush(&self) -> Result<(), ContextError> {
        LocalFileSystemStore::flush(self).map_err(|e| self.err(e))
    }

    fn scopes(&self) -> Result<Vec<String>, ContextError> {
        let mut v: Vec<String> = match &self.cache {
            Some(c) => c.lock().scopes.keys().cloned().collect(),
            None => layout::list_files(&self.base)
                .map_err(|e| self.err(e))?
                .into_iter()
                .map(|(s, _)| s)
                .collect(),
        };
        v.sort();
        v.dedup();
        Ok(v)
    }
}

impl Drop for LocalFileSystemStore {
    fn drop(&mut self) {
        if let Err(e) = LocalFileSystemStore::flush(self) {
            tracing::error!("context store '{}': final flush failed: {e}", self.name);
        }
    }
}
