//! redoubt's typed view of a Node-RED `settings.js`: loading (through
//! `redoubt_js`), validation with errors that name the key, and writing the
//! commented default `settings.js` on first run.
//!
//! Every key is kept in [`Settings::raw`]; the keys redoubt acts on are typed.
//! Unknown keys are allowed and logged at debug level. A JavaScript function
//! is only accepted where redoubt can honour it (`adminAuth.users`,
//! `.authenticate`, `.tokens`, `.default`); anywhere else (middleware,
//! `functionGlobalContext`, log handlers, …) it is an error naming the key,
//! because silently ignoring it could drop a security hook.

use std::io::Write;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use redoubt_js::settings_js::{EncodedKind, encoded_values};
use serde_json::{Map, Value};

/// The commented settings.js written on first run.
const TEMPLATE: &str = include_str!("../settings_template.js");

/// Function-valued settings redoubt keeps (as source) and can honour.
pub(crate) const FUNCTIONS_ALLOWED: &[&str] = &[
    "adminAuth.users",
    "adminAuth.authenticate",
    "adminAuth.tokens",
    "adminAuth.default",
];

/// Keys redoubt or Node-RED know, space-separated; others are logged at debug.
const KNOWN_KEYS: &str = "flowFile credentialSecret flowFilePretty userDir nodesDir adminAuth \
    https httpsRefreshInterval requireHttps httpNodeAuth httpStaticAuth httpAdminAuth httpAuth \
    uiPort uiHost apiMaxLength httpServerOptions httpRoot httpAdminRoot httpAdminMiddleware \
    httpAdminCookieOptions httpAdminCors httpNodeRoot httpNodeCors httpNodeMiddleware httpStatic \
    httpStaticRoot httpStaticCors proxyOptions lang runtimeState telemetry diagnostics logging \
    contextStorage exportGlobalContextKeys externalModules disableEditor editorTheme \
    fileWorkingDirectory functionGlobalContext functionExternalModules globalFunctionTimeout \
    functionTimeout nodeMessageBufferMaxLength ui debugUseColors debugMaxLength \
    debugStatusLength execMaxBufferSize httpRequestTimeout mqttReconnectTime \
    serialReconnectTime socketReconnectTime socketTimeout tcpMsgQueueSize \
    inboundWebSocketTimeout tlsConfigDisableLocalFiles webSocketNodeVerifyClient \
    webSocketKeepAliveTime readOnly safeMode verbose execNodeEnabled \
    allowRemoteEditorWithoutAuth trustProxy httpsWatchInterval hstsMaxAge \
    fileRestrictToWorkingDirectory";

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SettingsError {
    /// Evaluating the settings.js failed (syntax error, exception, limits).
    #[error("cannot evaluate settings file {}", path.display())]
    Eval {
        path: PathBuf,
        #[source]
        source: Box<redoubt_js::SettingsJsError>,
    },
    /// The setting is valid for Node-RED but redoubt cannot honour it.
    #[error("setting `{key}` is not supported by redoubt: {reason}")]
    Unsupported { key: String, reason: String },
    /// The setting has a value of the wrong shape.
    #[error("setting `{key}` is {value}, expected {expected}")]
    Invalid {
        key: String,
        value: String,
        expected: String,
    },
}

type Result<T> = std::result::Result<T, SettingsError>;

/// `credentialSecret`: absent, `false` (no encryption), or a secret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum CredentialSecret {
    /// Not set: use the generated key in `.config.runtime.json`.
    #[default]
    Unset,
    /// `false`: credentials are stored unencrypted.
    Disabled,
    /// A user-chosen secret.
    Secret(String),
}

/// One `httpStatic` entry: serve directory `path` at URL `root`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StaticDir {
    /// Directory on disk.
    pub(crate) path: String,
    /// Mount point: `httpStaticRoot` joined with the entry's `root`, as `/x/`.
    pub(crate) root: String,
    /// express.static options and per-entry CORS, kept raw.
    pub(crate) options: Option<Value>,
    pub(crate) cors: Option<Value>,
}

/// `{user, pass}` Basic-auth credentials (`pass` is bcrypt or legacy MD5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BasicAuth {
    pub(crate) user: String,
    pub(crate) pass: String,
}

/// A context store from `contextStorage`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ContextStore {
    Memory,
    LocalFileSystem(LocalFsConfig),
}

/// `config` of a `localfilesystem` store, with Node-RED's defaults.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LocalFsConfig {
    /// Parent directory of `base`; `None` means the user directory.
    pub(crate) dir: Option<String>,
    /// Sub-directory name, default `context`.
    pub(crate) base: String,
    /// Keep everything in memory and flush periodically (default true).
    pub(crate) cache: bool,
    /// Seconds between flushes (default 30).
    pub(crate) flush_interval_secs: f64,
}

/// `contextStorage`, resolved as Node-RED's context/index.js does.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ContextStorage {
    /// Configured stores in file order (without a `default` alias).
    pub(crate) stores: IndexMap<String, ContextStore>,
    /// The store used when a node names none; `None` = built-in memory.
    pub(crate) default_store: Option<String>,
}

/// `logging.console.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum LogLevel {
    Off,
    Fatal,
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

/// `logging.console`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ConsoleLogging {
    pub(crate) level: LogLevel,
    pub(crate) metrics: bool,
    pub(crate) audit: bool,
}

/// An `{enabled, ui}` pair (`diagnostics`, `runtimeState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Toggle {
    pub(crate) enabled: bool,
    pub(crate) ui: bool,
}

/// `telemetry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Telemetry {
    /// `None`: ask the user in the editor.
    pub(crate) enabled: Option<bool>,
    pub(crate) update_notification: bool,
}

/// Typed settings. Defaults follow Node-RED unless noted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    /// `uiPort`, default 1880; `"1990"` (from the environment) is accepted.
    pub(crate) ui_port: u16,
    /// `uiHost`; `None` lets the caller pick (redoubt binds loopback).
    pub(crate) ui_host: Option<String>,
    /// `httpAdminRoot` as `/x/`; `None` when `false` (no editor, no admin API).
    pub(crate) http_admin_root: Option<String>,
    /// `httpNodeRoot` as `/x/`; `None` when `false`.
    pub(crate) http_node_root: Option<String>,
    pub(crate) http_static: Vec<StaticDir>,
    /// `disableEditor`; forced true when `httpAdminRoot` is `false`.
    pub(crate) disable_editor: bool,
    pub(crate) flow_file: Option<String>,
    pub(crate) flow_file_pretty: bool,
    pub(crate) credential_secret: CredentialSecret,
    pub(crate) user_dir: Option<String>,
    /// `functionTimeout` and `globalFunctionTimeout`, seconds (0 = none).
    pub(crate) function_timeout: f64,
    pub(crate) global_function_timeout: f64,
    pub(crate) function_global_context: Map<String, Value>,
    pub(crate) export_global_context_keys: bool,
    pub(crate) context_storage: ContextStorage,
    pub(crate) logging: ConsoleLogging,
    /// `apiMaxLength` in bytes (Node-RED default "5mb" applies when `None`).
    pub(crate) api_max_length: Option<u64>,
    pub(crate) node_message_buffer_max_length: Option<u64>,
    /// `adminAuth`, validated for functions only; its functions are kept as
    /// `{"__function__": source}`.
    pub(crate) admin_auth: Option<Map<String, Value>>,
    /// TLS options (the `https` function, if any, was already called).
    pub(crate) https: Option<Map<String, Value>>,
    pub(crate) https_refresh_interval: Option<f64>,
    pub(crate) require_https: bool,
    /// `httpNodeAuth || httpAuth`, `httpStaticAuth`, `httpAdminAuth || httpAuth`.
    pub(crate) http_node_auth: Option<BasicAuth>,
    pub(crate) http_static_auth: Option<BasicAuth>,
    pub(crate) http_admin_auth: Option<BasicAuth>,
    pub(crate) editor_theme: Map<String, Value>,
    pub(crate) debug_max_length: u64,
    pub(crate) debug_use_colors: bool,
    pub(crate) runtime_state: Toggle,
    pub(crate) diagnostics: Toggle,
    pub(crate) telemetry: Telemetry,
    pub(crate) external_modules: Map<String, Value>,
    /// Always false: redoubt cannot install npm modules (`true` is an error).
    pub(crate) function_external_modules: bool,
    /// redoubt-only `execNodeEnabled`, default false: exec nodes refuse to run.
    pub(crate) exec_enabled: bool,
    /// redoubt-only `allowRemoteEditorWithoutAuth`, default false.
    pub(crate) allow_remote_editor_without_auth: bool,
    /// Every key as evaluated, including the typed ones.
    pub(crate) raw: Map<String, Value>,
}

/// Evaluates the settings.js at `path` and validates it (the runtime uses
/// [`load_with_hooks`], the certificate reload [`load_traced`]).
pub(crate) fn load(path: &Path, overrides: &[(String, Value)]) -> Result<Settings> {
    load_traced(path, overrides).map(|(s, _)| s)
}

/// [`load`], also returning the files the settings.js read (certificate
/// and key files, typically), so they can be watched for changes.
pub(crate) fn load_traced(
    path: &Path,
    overrides: &[(String, Value)],
) -> Result<(Settings, Vec<PathBuf>)> {
    let (value, files) =
        redoubt_js::eval_settings_file_traced(path).map_err(|source| SettingsError::Eval {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
    Ok((from_value(value, overrides)?, files))
}

/// [`load_traced`], evaluating the file once and keeping it alive so its
/// functions (`adminAuth.users`, ...) can be called later.
pub(crate) fn load_with_hooks(
    path: &Path,
    overrides: &[(String, Value)],
) -> Result<(Settings, redoubt_js::SettingsHooks, Vec<PathBuf>)> {
    let (value, hooks) =
        redoubt_js::SettingsHooks::load(path).map_err(|source| SettingsError::Eval {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
    let files = hooks.files_read().to_vec();
    Ok((from_value(value, overrides)?, hooks, files))
}

fn from_value(value: Value, overrides: &[(String, Value)]) -> Result<Settings> {
    match value {
        Value::Object(mut map) => {
            for (k, v) in overrides {
                set_dotted(&mut map, k, v.clone());
            }
            from_json(map)
        }
        other => Err(invalid("module.exports", &other, "an object")),
    }
}

/// Sets a dotted key (`logging.console.level`) as `-D` does.
fn set_dotted(map: &mut Map<String, Value>, key: &str, value: Value) {
    let mut cur = map;
    let parts: Vec<&str> = key.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            cur.insert((*p).to_string(), value);
            return;
        }
        let entry = cur
            .entry((*p).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        match entry.as_object_mut() {
            Some(m) => cur = m,
            None => return,
        }
    }
}

/// Validates evaluated settings (as produced by `redoubt_js`).
pub(crate) fn from_json(map: Map<String, Value>) -> Result<Settings> {
    reject_unhonoured_code(&map)?;
    for key in map
        .keys()
        .filter(|k| !KNOWN_KEYS.split_whitespace().any(|known| known == *k))
    {
        tracing::debug!(key = %key, "Unknown setting kept but not used.");
    }
    if get_bool(&map, "functionExternalModules", false)? {
        // Node-RED's stock settings.js turns this on, so refusing it would
        // break drop-in use. Function nodes that list modules are rejected
        // one by one instead (the node names the module).
        tracing::warn!(
            "functionExternalModules is set, but redoubt does not install npm modules; Function nodes that use them will not start."
        );
    }
    let http_root = root(&map, "httpRoot")?;
    let http_admin_root = effective_root(&http_root, root(&map, "httpAdminRoot")?);
    let http_node_root = effective_root(&http_root, root(&map, "httpNodeRoot")?);
    let disable_editor = get_bool(&map, "disableEditor", false)?;
    Ok(Settings {
        ui_port: ui_port(map.get("uiPort"))?,
        ui_host: get_string(&map, "uiHost")?,
        disable_editor: disable_editor || http_admin_root.is_none(),
        http_admin_root,
        http_node_root,
        http_static: http_static(&map)?,
        flow_file: get_string(&map, "flowFile")?,
        flow_file_pretty: get_bool(&map, "flowFilePretty", true)?,
        credential_secret: credential_secret(map.get("credentialSecret"))?,
        user_dir: get_string(&map, "userDir")?,
        function_timeout: get_seconds(&map, "functionTimeout")?.unwrap_or(0.0),
        global_function_timeout: get_seconds(&map, "globalFunctionTimeout")?.unwrap_or(0.0),
        function_global_context: get_object(&map, "functionGlobalContext")?.unwrap_or_default(),
        export_global_context_keys: get_bool(&map, "exportGlobalContextKeys", false)?,
        context_storage: context_storage(map.get("contextStorage"))?,
        logging: logging(&map)?,
        api_max_length: byte_size(&map, "apiMaxLength")?,
        node_message_buffer_max_length: get_count(&map, "nodeMessageBufferMaxLength")?,
        admin_auth: get_object(&map, "adminAuth")?,
        https: get_object(&map, "https")?,
        https_refresh_interval: get_seconds(&map, "httpsRefreshInterval")?,
        require_https: get_bool(&map, "requireHttps", false)?,
        http_node_auth: basic_auth(&map, "httpNodeAuth")?.or(basic_auth(&map, "httpAuth")?),
        http_static_auth: basic_auth(&map, "httpStaticAuth")?,
        http_admin_auth: basic_auth(&map, "httpAdminAuth")?.or(basic_auth(&map, "httpAuth")?),
        editor_theme: get_object(&map, "editorTheme")?.unwrap_or_default(),
        debug_max_length: get_count(&map, "debugMaxLength")?.unwrap_or(1000),
        debug_use_colors: get_bool(&map, "debugUseColors", false)?,
        runtime_state: toggle(&map, "runtimeState", false)?,
        diagnostics: toggle(&map, "diagnostics", true)?,
        telemetry: telemetry(&map)?,
        external_modules: get_object(&map, "externalModules")?.unwrap_or_default(),
        function_external_modules: get_bool(&map, "functionExternalModules", false)?,
        exec_enabled: get_bool(&map, "execNodeEnabled", false)?,
        allow_remote_editor_without_auth: get_bool(&map, "allowRemoteEditorWithoutAuth", false)?,
        raw: map,
    })
}

/// Writes redoubt's commented default settings.js to `path` (mode 0600),
/// atomically, creating the parent directory if needed. Never overwrites:
/// an existing file gives an `AlreadyExists` error and is left untouched.
pub(crate) fn write_default(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir)?;
    let name = path
        .file_name()
        .map_or_else(|| "settings.js".into(), |n| n.to_string_lossy());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let temp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temp)?;
    let written = file
        .write_all(TEMPLATE.as_bytes())
        .and_then(|()| file.sync_all());
    drop(file);
    // A hard link publishes the file atomically and fails if `path` exists.
    // Where hard links are unsupported, fall back to a checked rename.
    let published = written.and_then(|()| match std::fs::hard_link(&temp, path) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists && !path.exists() => {
            std::fs::rename(&temp, path)
        }
        other => other,
    });
    let removed = match std::fs::remove_file(&temp) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    };
    published?;
    removed?;
    if let Ok(d) = std::fs::File::open(&dir) {
        d.sync_all()?;
    }
    Ok(())
}

// ---- validation helpers -------------------------------------------------

mod parse;
#[cfg(test)]
mod tests;

use parse::*;
