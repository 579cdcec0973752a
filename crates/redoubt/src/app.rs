//! Startup and shutdown: user directory, settings, storage, context stores,
//! the engine, the HTTP listener, and the signal that ends them.

use crate::cli::{self, Args};
use crate::settings::{self, ContextStore as StoreSetting, Settings};
use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use redoubt_admin::assets::{
    self as editor, CodeEditor, CoreNodeCatalog, EditorAssets, EditorPageConfig,
};
use redoubt_admin::{AdminConfig, AdminState, EditorSettings, NodeCatalog, StaticCatalog};
use redoubt_core::context::{ContextManager, ContextStore, MemoryStore};
use redoubt_core::engine::{DeployKind, Engine, EngineConfig, RuntimeSettings, Services};
use redoubt_core::http_host::HttpHostService;
use redoubt_http::NodeRoutes;
use redoubt_storage::context_fs::{LocalFileSystemConfig, LocalFileSystemStore};
use redoubt_storage::credentials;
use redoubt_storage::flows_file;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything resolved before the runtime starts.
pub(crate) struct Startup {
    pub(crate) user_dir: PathBuf,
    pub(crate) settings: Settings,
    pub(crate) flows_path: PathBuf,
    /// settings.js kept alive, for its adminAuth functions; `None` when it
    /// has none, so no JavaScript engine stays in memory.
    pub(crate) hooks: Option<redoubt_js::SettingsHooks>,
    /// The settings.js, its `-D` overrides and the files it read: the
    /// listener evaluates it again to reload the certificate.
    pub(crate) settings_path: PathBuf,
    pub(crate) defines: Vec<(String, serde_json::Value)>,
    pub(crate) settings_files: Vec<PathBuf>,
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Creates the user directory with mode 0700 when missing.
fn ensure_user_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create user directory {}", dir.display()))?;
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
        None => home_dir()
            .map(|h| h.join(".redoubt"))
            .context("no user directory: set -u DIR or HOME")?,
    };
    ensure_user_dir(&user_dir)?;
    let settings_path = match &args.settings {
        Some(p) => p.clone(),
        None => {
            let p = user_dir.join("settings.js");
            if !p.exists() {
                settings::write_default(&p)
                    .with_context(|| format!("cannot write default settings {}", p.display()))?;
                tracing::info!("Created default settings file {}.", p.display());
            }
            p
        }
    };
    if !settings_path.exists() {
        bail!("settings file {} does not exist", settings_path.display());
    }
    let defines = args
        .define
        .iter()
        .map(|d| cli::parse_define(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let (mut settings, hooks, settings_files) = settings::load_with_hooks(&settings_path, &defines)
        .with_context(|| format!("in settings file {}", settings_path.display()))?;
    if let Some(p) = args.port {
        settings.ui_port = p;
    }
    let flow_file = match &args.flows_file {
        Some(f) => f.to_string_lossy().into_owned(),
        None => settings
            .flow_file
            .clone()
            .unwrap_or_else(|| "flows.json".into()),
    };
    let flows_path = flows_file::resolve_flows_path(&flow_file, &user_dir);
    // Only the adminAuth functions are called later (a function-valued
    // `https` is re-evaluated with the whole file by the listener).
    let hooks = settings::FUNCTIONS_ALLOWED
        .iter()
        .any(|k| hooks.is_function(k))
        .then_some(hooks);
    Ok(Startup {
        user_dir,
        settings,
        flows_path,
        hooks,
        settings_path,
        defines,
        settings_files,
    })
}

fn context_manager(
    s: &Settings,
    user_dir: &Path,
) -> Result<(ContextManager, Vec<Arc<LocalFileSystemStore>>)> {
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
                cfg.flush_interval =
                    std::time::Duration::from_secs_f64(c.flush_interval_secs.max(0.0));
                cfg.store_name = name.clone();
                let store = Arc::new(
                    LocalFileSystemStore::open(&cfg)
                        .with_context(|| format!("cannot open context store {name:?}"))?,
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
        None => stores
            .keys()
            .next()
            .cloned()
            .unwrap_or_else(|| "memory".into()),
    };
    Ok((ContextManager::new(stores, default), fs_stores))
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
        file_working_directory: s
            .raw
            .get("fileWorkingDirectory")
            .and_then(|v| v.as_str())
            .map(PathBuf::from),
        function_global_context: fgc,
        raw: s.raw.clone(),
    }
}

/// What `GET /settings` tells the editor.
fn editor_settings(
    s: &Settings,
    secret: &credentials::Secret,
    assets: Option<&EditorAssets>,
) -> EditorSettings {
    let mut node_settings = serde_json::Map::new();
    node_settings.insert("functionExternalModules".into(), false.into());
    node_settings.insert(
        "functionTimeout".into(),
        serde_json::json!(s.function_timeout),
    );
    node_settings.insert(
        "tlsConfigDisableLocalFiles".into(),
        s.raw
            .get("tlsConfigDisableLocalFiles")
            .cloned()
            .unwrap_or(false.into()),
    );
    EditorSettings {
        http_node_root: s.http_node_root.clone().unwrap_or_else(|| "/".into()),
        http_admin_root: s.http_admin_root.clone().unwrap_or_else(|| "/".into()),
        version: env!("CARGO_PKG_VERSION").into(),
        flow_file_pretty: s.flow_file_pretty,
        flow_encryption_type: secret.encryption_type().as_str().into(),
        languages: assets
            .map(|a| a.languages().to_vec())
            .unwrap_or_else(|| EditorSettings::default().languages),
        editor_theme: s.editor_theme.clone(),
        palette_categories: s
            .raw
            .get("paletteCategories")
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
        diagnostics_enabled: s.diagnostics.enabled,
        diagnostics_ui: s.diagnostics.ui,
        node_settings,
        api_max_length: s
            .api_max_length
            .map(|n| n as usize)
            .unwrap_or(5 * 1024 * 1024),
        web_socket_keep_alive_ms: s
            .raw
            .get("webSocketKeepAliveTime")
            .and_then(|v| v.as_u64())
            .unwrap_or(15_000),
    }
}

/// The editor page, from `editorTheme`.
fn page_config(s: &Settings) -> EditorPageConfig {
    let theme = serde_json::Value::Object(s.editor_theme.clone());
    let text = |p: &str| {
        theme
            .pointer(p)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    EditorPageConfig {
        title: text("/page/title").unwrap_or_else(|| "Node-RED".into()),
        header_title: text("/header/title").unwrap_or_else(|| "Node-RED".into()),
        code_editor: CodeEditor::from_setting(text("/codeEditor/lib").as_deref()),
        runtime_version: env!("CARGO_PKG_VERSION").into(),
        ..EditorPageConfig::default()
    }
}

/// Runs redoubt until SIGINT or SIGTERM.
pub(crate) async fn run(args: Args) -> Result<()> {
    // Install the handlers first, so a signal during startup is not fatal.
    let signals = Signals::install()?;
    let st = resolve(&args)?;
    let s = &st.settings;
    tracing::info!("redoubt version {}.", env!("CARGO_PKG_VERSION"));
    tracing::info!("User directory : {}", st.user_dir.display());
    tracing::info!("Flows file     : {}", st.flows_path.display());

    let doc = flows_file::load_flows(&st.flows_path)?;
    // One array for the admin API's deployed state and the engine.
    let flows = std::sync::Arc::new(doc.flows);
    let cred_path = flows_file::credentials_path(&st.flows_path, &st.user_dir);
    let source = crate::credential_secret::secret_source(s);
    if let Some(w) = crate::credential_secret::colocation_warning(
        &source,
        &cred_path,
        &st.settings_path,
        &st.user_dir,
    ) {
        tracing::warn!("{w}");
    }
    let secret = credentials::resolve_secret(&source, &st.user_dir)?;
    let creds = credentials::load_credentials(&cred_path, &secret).with_context(|| {
        format!(
            "credentials file {} was left untouched",
            cred_path.display()
        )
    })?;
    let creds_for_admin = creds.clone();
    let mut cred_map = serde_json::Map::new();
    for (id, c) in creds {
        cred_map.insert(id, serde_json::Value::Object(c));
    }

    let (context, fs_stores) = context_manager(s, &st.user_dir)?;
    let flushers: Vec<_> = fs_stores
        .iter()
        .map(|f| f.spawn_flusher(f.flush_interval()))
        .collect();

    let routes = NodeRoutes::new();
    let mut services = Services::new();
    if s.http_node_root.is_some() {
        services.insert(Arc::new(HttpHostService(Arc::new(routes.clone()))));
    }
    let registry = redoubt_nodes::builtin_registry();
    let node_types: Vec<String> = registry.names().map(str::to_string).collect();
    let engine = Engine::start(EngineConfig {
        registry,
        context,
        settings: runtime_settings(s, &st.user_dir),
        services,
        global_env: None,
    });

    let assets = if s.disable_editor || s.http_admin_root.is_none() {
        None
    } else {
        let a = EditorAssets::discover(args.editor_assets.as_deref())
            .context("cannot serve the editor (run scripts/fetch-editor-assets.sh, or set disableEditor: true)")?;
        tracing::info!(
            "Editor assets  : {} (Node-RED editor {})",
            a.dir().display(),
            a.version()
        );
        Some(Arc::new(a))
    };
    let catalog: Arc<dyn NodeCatalog> = match &assets {
        Some(a) => Arc::new(CoreNodeCatalog::new(a.clone())),
        None => Arc::new(StaticCatalog::new(editor::PINNED_VERSION)),
    };
    let host = s.ui_host.clone().unwrap_or_else(|| "127.0.0.1".into());
    let authority = crate::security::authority(s, &st.user_dir, st.hooks.clone())?;
    let exposure = crate::security::exposure(s, &host);
    let admin = AdminState::new(AdminConfig {
        engine: engine.clone(),
        flows_path: st.flows_path.clone(),
        flows: flows.clone(),
        credentials_path: cred_path.clone(),
        secret: secret.clone(),
        credentials: creds_for_admin,
        node_types,
        settings: editor_settings(s, &secret, assets.as_deref()),
        user_dir: st.user_dir.clone(),
        catalog,
        authority,
        exposure,
    });
    let mut extra = Vec::new();
    if let Some(admin_root) = &s.http_admin_root {
        let mut router = redoubt_admin::admin_router(admin.clone());
        if let Some(a) = &assets {
            router = router.merge(editor::assets_router(a.clone(), page_config(s)));
        }
        let mut router = router.layer(axum::middleware::from_fn(redoubt_admin::security_headers));
        if let Some(b) = &s.http_admin_auth {
            tracing::warn!("httpAdminAuth is deprecated (as in Node-RED); use adminAuth.");
            let gate = Arc::new(redoubt_auth::BasicAuth::new(
                "httpAdminAuth",
                &b.user,
                &b.pass,
            ));
            router = router.layer(axum::middleware::from_fn(
                move |req: axum::extract::Request, next: axum::middleware::Next| {
                    let gate = gate.clone();
                    async move {
                        match redoubt_http::basic_gate(
                            &gate,
                            req.headers(),
                            redoubt_http::request_ip(&req),
                        )
                        .await
                        {
                            Some(denied) => denied,
                            None => next.run(req).await,
                        }
                    }
                },
            ));
        }
        extra.push(editor::mount_at(admin_root, router));
    }

    let front = crate::security::front_door(s, &st.user_dir)?;
    let app = redoubt_http::build_app(routes, s.http_node_root.as_deref(), extra, front);
    let listener = crate::listen::start(&st, app).await?;

    if args.safe {
        tracing::warn!("Flows not started: safe mode (--safe).");
        admin.report_safe_mode();
    } else {
        let result = engine.deploy(flows, cred_map, DeployKind::Full).await;
        match &result {
            Ok(report) => {
                tracing::info!("Started flows ({} nodes).", report.started);
                for e in &report.errors {
                    tracing::error!("Node not started: {e}");
                }
            }
            Err(e) => tracing::error!("Flows not started: {e}"),
        }
        admin.report_deploy_result(&result);
    }

    signals.wait().await;
    tracing::info!("Stopping flows.");
    let stopping = tokio::spawn(listener.shutdown());
    engine.stop().await;
    for f in &flushers {
        f.abort();
    }
    for f in &fs_stores {
        if let Err(e) = f.flush() {
            tracing::error!("Flushing context failed: {e}");
        }
    }
    let _ = stopping.await;
    tracing::info!("Stopped.");
    Ok(())
}

/// SIGINT and SIGTERM, installed once at startup.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate()).context("cannot install SIGTERM handler")?,
                int: signal(SignalKind::interrupt()).context("cannot install SIGINT handler")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
