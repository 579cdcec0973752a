//! Startup and shutdown: user directory, settings, storage, context stores,
//! the engine, the HTTP listener, and the signal that ends them.

use crate::cli::{self, Args};
use crate::settings::{self, ContextStore as StoreSetting, CredentialSecret, Settings};
use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use redoubt_core::context::{ContextManager, ContextStore, MemoryStore};
use redoubt_core::engine::{DeployKind, Engine, EngineConfig, RuntimeSettings, Services};
use redoubt_core::http_host::HttpHostService;
use redoubt_http::NodeRoutes;
use redoubt_storage::context_fs::{LocalFileSystemConfig, LocalFileSystemStore};
use redoubt_storage::credentials::{self, SecretSource};
use redoubt_storage::flows_file;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything resolved before the runtime starts.
pub(crate) struct Startup {
    pub(crate) user_dir: PathBuf,
    pub(crate) settings: Settings,
    pub(crate) flows_path: PathBuf,
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

/// Creates the user directory with mode 0700 when missing.
fn ensure_user_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create user directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot set mode 0700 on {}", dir.display()))?;
    }
    Ok(())
}

/// Resolves user directory, settings and flow file from the command line.
pub(crate) fn resolve(args: &Args) -> Result<Startup> {
    let user_dir = match &args.user_dir {
        Some(d) => d.clone(),
        None => home_dir().map(|h| h.join(".redoubt")).context("no user directory: set -u DIR or HOME")?,
    };
    ensure_user_dir(&user_dir)?;
    let settings_path = match &args.settings {
        Some(p) => p.clone(),
        None => {
            let p = user_dir.join("settings.js");
            if !p.exists() {
                settings::write_default(&p).with_context(|| format!("cannot write default settings {}", p.display()))?;
                tracing::info!("Created default settings file {}.", p.display());
            }
            p
        }
    };
    if !settings_path.exists() {
        bail!("settings file {} does not exist", settings_path.display());
    }
    let defines = args.define.iter().map(|d| cli::parse_define(d)).collect::<Result<Vec<_>, _>>().map_err(anyhow::Error::msg)?;
    let mut settings =
        settings::load(&settings_path, &defines).with_context(|| format!("in settings file {}", settings_path.display()))?;
    if let Some(p) = args.port {
        settings.ui_port = p;
    }
    let flow_file = match &args.flows_file {
        Some(f) => f.to_string_lossy().into_owned(),
        None => settings.flow_file.clone().unwrap_or_else(|| "flows.json".into()),
    };
    let flows_path = flows_file::resolve_flows_path(&flow_file, &user_dir);
    Ok(Startup { user_dir, settings, flows_path })
}

fn context_manager(s: &Settings, user_dir: &Path) -> Result<(ContextManager, Vec<Arc<LocalFileSystemStore>>)> {
    let mut stores: IndexMap<String, Arc<dyn ContextStore>> = IndexMap::new();
    let mut fs_stores = Vec::new();
    for (name, st) in &s.context_storage.stores {
        match st {
            StoreSetting::Memory => {
                stores.insert(name.clone(), Arc::new(MemoryStore::default()));
            }
            StoreSetting::LocalFileSystem(c) => {
                let mut cfg = LocalFileSystemConfig::new(user_dir);
                cfg.dir = c.dir.as_ref().map(PathBuf::from);
                cfg.base = c.base.clone();
                cfg.cache = c.cache;
                cfg.flush_interval = std::time::Duration::from_secs_f64(c.flush_interval_secs.max(0.0));
                cfg.store_name = name.clone();
                let store = Arc::new(
                    LocalFileSystemStore::open(&cfg).with_context(|| format!("cannot open context store {name:?}"))?,
                );
                fs_stores.push(store.clone());
                stores.insert(name.clone(), store);
            }
        }
    }
    if stores.is_empty() {
        stores.insert("memory".into(), Arc::new(MemoryStore::default()));
    }
    let default = match &s.context_storage.default_store {
        Some(d) if stores.contains_key(d) => d.clone(),
        Some(d) => bail!("contextStorage: default store {d:?} is not configured"),
        None => stores.keys().next().cloned().unwrap_or_else(|| "memory".into()),
    };
    Ok((ContextManager::new(stores, default), fs_stores))
}

fn secret_source(s: &Settings) -> SecretSource {
    if std::env::var_os(credentials::SECRET_ENV_VAR).is_some() {
        return SecretSource::env();
    }
    match &s.credential_secret {
        CredentialSecret::Unset => SecretSource::System,
        CredentialSecret::Disabled => SecretSource::Disabled,
        CredentialSecret::Secret(x) => SecretSource::Setting(x.clone()),
    }
}

fn runtime_settings(s: &Settings, user_dir: &Path) -> RuntimeSettings {
    let fgc = s
        .function_global_context
        .iter()
        .map(|(k, v)| (k.clone(), redoubt_core::value::from_serde(v)))
        .collect();
    RuntimeSettings {
        function_timeout: s.function_timeout,
        debug_max_length: s.debug_max_length as usize,
        exec_enabled: s.exec_enabled,
        user_dir: user_dir.to_path_buf(),
        file_working_directory: s.raw.get("fileWorkingDirectory").and_then(|v| v.as_str()).map(PathBuf::from),
        function_global_context: fgc,
        raw: s.raw.clone(),
    }
}

/// Runs redoubt until SIGINT or SIGTERM.
pub(crate) async fn run(args: Args) -> Result<()> {
    let st = resolve(&args)?;
    let s = &st.settings;
    tracing::info!("redoubt version {}.", env!("CARGO_PKG_VERSION"));
    tracing::info!("User directory : {}", st.user_dir.display());
    tracing::info!("Flows file     : {}", st.flows_path.display());

    let doc = flows_file::load_flows(&st.flows_path)?;
    let cred_path = flows_file::credentials_path(&st.flows_path, &st.user_dir);
    let secret = credentials::resolve_secret(&secret_source(s), &st.user_dir)?;
    let creds = credentials::load_credentials(&cred_path, &secret)
        .with_context(|| format!("credentials file {} was left untouched", cred_path.display()))?;
    let mut cred_map = serde_json::Map::new();
    for (id, c) in creds {
        cred_map.insert(id, serde_json::Value::Object(c));
    }

    let (context, fs_stores) = context_manager(s, &st.user_dir)?;
    let flushers: Vec<_> = fs_stores.iter().map(|f| f.spawn_flusher(f.flush_interval())).collect();

    let routes = NodeRoutes::new();
    let mut services = Services::new();
    if s.http_node_root.is_some() {
        services.insert(Arc::new(HttpHostService(Arc::new(routes.clone()))));
    }
    let engine = Engine::start(EngineConfig {
        registry: redoubt_nodes::builtin_registry(),
        context,
        settings: runtime_settings(s, &st.user_dir),
        services,
        global_env: None,
    });

    let host = s.ui_host.clone().unwrap_or_else(|| "127.0.0.1".into());
    let addr = format!("{}:{}", if host.contains(':') { format!("[{host}]") } else { host.clone() }, s.ui_port);
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    let app = redoubt_http::build_app(routes, s.http_node_root.as_deref(), vec![]);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(redoubt_http::serve(listener, app, async move {
        let _ = stop_rx.await;
    }));
    tracing::info!("Server now running at http://{bound}/");

    if args.safe {
        tracing::warn!("Flows not started: safe mode (--safe).");
    } else {
        match engine.deploy(doc.flows, cred_map, DeployKind::Full).await {
            Ok(report) => {
                tracing::info!("Started flows ({} nodes).", report.started);
                for e in &report.errors {
                    tracing::error!("Node not started: {e}");
                }
            }
            Err(e) => tracing::error!("Flows not started: {e}"),
        }
    }

    wait_for_signal().await?;
    tracing::info!("Stopping flows.");
    let _ = stop_tx.send(());
    engine.stop().await;
    for f in &flushers {
        f.abort();
    }
    for f in &fs_stores {
        if let Err(e) = f.flush() {
            tracing::error!("Flushing context failed: {e}");
        }
    }
    match tokio::time::timeout(std::time::Duration::from_secs(5), server).await {
        Ok(Ok(Err(e))) => tracing::error!("{e}"),
        Ok(_) => {}
        Err(_) => tracing::warn!("HTTP connections still open after 5 s; exiting anyway."),
    }
    tracing::info!("Stopped.");
    Ok(())
}

async fn wait_for_signal() -> Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot install SIGTERM handler")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot install SIGINT handler")?;
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    Ok(())
}
