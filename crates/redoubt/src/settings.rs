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
const TEMPLATE: &str = include_str!("settings_template.js");

/// Function-valued settings redoubt keeps (as source) and can honour.
const FUNCTIONS_ALLOWED: &[&str] = &[
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
    allowRemoteEditorWithoutAuth";

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

/// Evaluates the settings.js at `path` and validates it.
pub(crate) fn load(path: &Path, overrides: &[(String, Value)]) -> Result<Settings> {
    let value = redoubt_js::eval_settings_file(path).map_err(|source| SettingsError::Eval {
        path: path.to_owned(),
        source: Box::new(source),
    })?;
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
        function_external_modules: false,
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

fn show(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn invalid(key: &str, value: &Value, expected: &str) -> SettingsError {
    SettingsError::Invalid {
        key: key.to_owned(),
        value: show(value),
        expected: expected.to_owned(),
    }
}

fn unsupported(key: &str, reason: &str) -> SettingsError {
    SettingsError::Unsupported {
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Absent, `null` and `undefined` (already dropped) all mean "not set".
fn present<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

fn get_bool(map: &Map<String, Value>, key: &str, default: bool) -> Result<bool> {
    match present(map, key) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(invalid(key, v, "true or false")),
    }
}

fn get_string(map: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match present(map, key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(v) => Err(invalid(key, v, "a non-empty string")),
    }
}

fn get_object(map: &Map<String, Value>, key: &str) -> Result<Option<Map<String, Value>>> {
    match present(map, key) {
        None | Some(Value::Bool(false)) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(v) => Err(invalid(key, v, "an object")),
    }
}

/// A number (or numeric string, as from `process.env`), as f64.
fn number_like(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

fn get_seconds(map: &Map<String, Value>, key: &str) -> Result<Option<f64>> {
    let Some(v) = present(map, key) else {
        return Ok(None);
    };
    match number_like(v) {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
        _ => Err(invalid(key, v, "a number of seconds, 0 or more")),
    }
}

fn get_count(map: &Map<String, Value>, key: &str) -> Result<Option<u64>> {
    let Some(v) = present(map, key) else {
        return Ok(None);
    };
    match number_like(v) {
        // Exact: integral and below 2^53.
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n < 9e15 => Ok(Some(n as u64)),
        _ => Err(invalid(key, v, "a whole number, 0 or more")),
    }
}

fn ui_port(value: Option<&Value>) -> Result<u16> {
    let Some(v) = value.filter(|v| !v.is_null()) else {
        return Ok(1880);
    };
    match number_like(v) {
        Some(n) if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) => Ok(n as u16),
        _ => Err(invalid("uiPort", v, "a TCP port number from 0 to 65535")),
    }
}

/// Node-RED's `formatRoot`: leading and trailing `/`.
fn format_root(root: &str) -> String {
    let mut out = String::with_capacity(root.len() + 2);
    if !root.starts_with('/') {
        out.push('/');
    }
    out.push_str(root);
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// One of `httpRoot`, `httpAdminRoot`, `httpNodeRoot` as written.
enum Root {
    Unset,
    Disabled,
    At(String),
}

fn root(map: &Map<String, Value>, key: &str) -> Result<Root> {
    match present(map, key) {
        Some(Value::Bool(false)) => Ok(Root::Disabled),
        Some(Value::String(s)) if !s.is_empty() => Ok(Root::At(format_root(s))),
        // `""` is falsy in red.js, so it falls back like an absent key.
        None | Some(Value::String(_)) => Ok(Root::Unset),
        Some(v) => Err(invalid(key, v, "a path string, or false to disable")),
    }
}

/// red.js: `httpRoot: false` disables both; otherwise `false` disables, and
/// an unset root falls back to `httpRoot`, then `/`.
fn effective_root(http_root: &Root, own: Root) -> Option<String> {
    match (http_root, own) {
        (Root::Disabled, _) | (_, Root::Disabled) => None,
        (_, Root::At(s)) => Some(s),
        (Root::At(s), Root::Unset) => Some(s.clone()),
        (Root::Unset, Root::Unset) => Some(String::from("/")),
    }
}

fn credential_secret(value: Option<&Value>) -> Result<CredentialSecret> {
    match value {
        None | Some(Value::Null) => Ok(CredentialSecret::Unset),
        Some(Value::Bool(false)) => Ok(CredentialSecret::Disabled),
        Some(Value::String(s)) if !s.is_empty() => Ok(CredentialSecret::Secret(s.clone())),
        Some(v) => Err(invalid(
            "credentialSecret",
            v,
            "a non-empty string, or false to store credentials unencrypted",
        )),
    }
}

/// `httpStatic`: a directory string, or an array of `{path, root, options, cors}`.
fn http_static(map: &Map<String, Value>) -> Result<Vec<StaticDir>> {
    let static_root = match present(map, "httpStaticRoot") {
        None => String::from("/"),
        Some(Value::String(s)) => format_root(s),
        Some(v) => return Err(invalid("httpStaticRoot", v, "a path string")),
    };
    let entries = match present(map, "httpStatic") {
        None | Some(Value::Bool(false)) => return Ok(Vec::new()),
        Some(Value::String(dir)) => vec![(String::from("httpStatic"), json_dir(dir))],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (format!("httpStatic[{i}]"), item.clone()))
            .collect(),
        Some(v) => {
            return Err(invalid(
                "httpStatic",
                v,
                "a directory or an array of {path, root}",
            ));
        }
    };
    entries
        .into_iter()
        .map(|(key, entry)| {
            let Value::Object(obj) = &entry else {
                return Err(invalid(&key, &entry, "an object {path, root}"));
            };
            let path = match present(obj, "path") {
                Some(Value::String(p)) if !p.is_empty() => p.clone(),
                _ => return Err(invalid(&key, &entry, "an object with a non-empty `path`")),
            };
            let sub_root = match present(obj, "root") {
                None => String::from("/"),
                Some(Value::String(r)) => format_root(r),
                Some(v) => return Err(invalid(&format!("{key}.root"), v, "a path string")),
            };
            let root = format_root(&format!(
                "{}{}",
                static_root.trim_end_matches('/'),
                sub_root
            ));
            let (options, cors) = (
                present(obj, "options").cloned(),
                present(obj, "cors").cloned(),
            );
            Ok(StaticDir {
                path,
                root,
                options,
                cors,
            })
        })
        .collect()
}

fn json_dir(dir: &str) -> Value {
    let mut entry = Map::new();
    entry.insert(String::from("path"), Value::String(dir.to_owned()));
    Value::Object(entry)
}

/// `{user, pass}` Basic-auth settings.
fn basic_auth(map: &Map<String, Value>, key: &str) -> Result<Option<BasicAuth>> {
    let Some(value) = present(map, key) else {
        return Ok(None);
    };
    let field = |name: &str| match value.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    match (field("user"), field("pass")) {
        (Some(user), Some(pass)) => Ok(Some(BasicAuth { user, pass })),
        _ => Err(invalid(key, value, "{user, pass} with a bcrypt `pass`")),
    }
}

/// A size like Node's `bytes` package reads it: `5mb`, `100kb`, `1.5 GB`,
/// a plain number of bytes, 1024-based.
fn byte_size(map: &Map<String, Value>, key: &str) -> Result<Option<u64>> {
    let Some(value) = present(map, key) else {
        return Ok(None);
    };
    let parsed = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let text = s.trim().to_ascii_lowercase();
            let split = text
                .find(|c: char| c.is_ascii_alphabetic())
                .unwrap_or(text.len());
            let (number, unit) = text.split_at(split);
            let scale = match unit {
                "" | "b" => Some(1.0),
                "kb" => Some(1024.0),
                "mb" => Some(1024.0 * 1024.0),
                "gb" => Some(1024.0 * 1024.0 * 1024.0),
                "tb" => Some(1024.0_f64.powi(4)),
                _ => None,
            };
            scale
                .zip(number.trim().parse::<f64>().ok())
                .map(|(s, n)| (s * n).floor())
        }
        _ => None,
    };
    match parsed {
        // Exact enough: any sane size is far below 2^53.
        Some(n) if n.is_finite() && (0.0..9e15).contains(&n) => Ok(Some(n as u64)),
        _ => Err(invalid(
            key,
            value,
            "a size such as \"5mb\" or a number of bytes",
        )),
    }
}

/// `contextStorage`, with the `default: "name"` alias resolved.
fn context_storage(value: Option<&Value>) -> Result<ContextStorage> {
    let stores_map = match value {
        None | Some(Value::Null) => return Ok(ContextStorage::default()),
        Some(Value::Object(m)) => m,
        Some(v) => return Err(invalid("contextStorage", v, "an object of named stores")),
    };
    let mut storage = ContextStorage::default();
    let mut alias = None;
    for (name, entry) in stores_map {
        let key = format!("contextStorage.{name}");
        if name == "_"
            || name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(
                &key,
                entry,
                "a store name of letters, digits and `_` (not `_` alone)",
            ));
        }
        match entry {
            Value::String(target) if name == "default" => alias = Some(target.clone()),
            Value::Object(store) => {
                storage
                    .stores
                    .insert(name.clone(), context_store(&key, store)?);
            }
            v => return Err(invalid(&key, v, "an object {module, config}")),
        }
    }
    storage.default_store = match alias {
        Some(target) if storage.stores.contains_key(&target) => Some(target),
        Some(target) => {
            let expected = "the name of another store in contextStorage";
            return Err(invalid(
                "contextStorage.default",
                &Value::String(target),
                expected,
            ));
        }
        None if storage.stores.contains_key("default") => Some(String::from("default")),
        None => storage.stores.keys().next().cloned(),
    };
    Ok(storage)
}

fn context_store(key: &str, store: &Map<String, Value>) -> Result<ContextStore> {
    let config = within(key, get_object(store, "config"))?.unwrap_or_default();
    match present(store, "module") {
        Some(Value::String(m)) if m == "memory" => Ok(ContextStore::Memory),
        Some(Value::String(m)) if m == "localfilesystem" => {
            let cfg = format!("{key}.config");
            Ok(ContextStore::LocalFileSystem(LocalFsConfig {
                dir: within(&cfg, get_string(&config, "dir"))?,
                base: within(&cfg, get_string(&config, "base"))?
                    .unwrap_or_else(|| "context".into()),
                cache: within(&cfg, get_bool(&config, "cache", true))?,
                flush_interval_secs: within(&cfg, get_seconds(&config, "flushInterval"))?
                    .unwrap_or(30.0),
            }))
        }
        Some(Value::String(m)) => Err(unsupported(
            &format!("{key}.module"),
            &format!(
                "context store module '{m}' is not built in; use \"memory\" or \"localfilesystem\""
            ),
        )),
        Some(v) => Err(invalid(
            &format!("{key}.module"),
            v,
            "\"memory\" or \"localfilesystem\"",
        )),
        None => Err(invalid(
            key,
            &Value::Object(store.clone()),
            "an object with a `module`",
        )),
    }
}

/// Prefixes the key of an `Invalid`/`Unsupported` error with `prefix.`.
fn within<T>(prefix: &str, result: Result<T>) -> Result<T> {
    result.map_err(|e| match e {
        SettingsError::Invalid {
            key,
            value,
            expected,
        } => SettingsError::Invalid {
            key: format!("{prefix}.{key}"),
            value,
            expected,
        },
        SettingsError::Unsupported { key, reason } => SettingsError::Unsupported {
            key: format!("{prefix}.{key}"),
            reason,
        },
        other => other,
    })
}

/// `logging.console`; handler functions were already rejected.
fn logging(map: &Map<String, Value>) -> Result<ConsoleLogging> {
    let Some(logging) = get_object(map, "logging")? else {
        return Ok(ConsoleLogging::default());
    };
    let Some(console) = within("logging", get_object(&logging, "console"))? else {
        return Ok(ConsoleLogging::default());
    };
    let level = match present(&console, "level") {
        None => LogLevel::Info,
        Some(v) => match v.as_str().unwrap_or_default() {
            "off" => LogLevel::Off,
            "fatal" => LogLevel::Fatal,
            "error" => LogLevel::Error,
            "warn" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ => return Err(invalid("logging.console.level", v, LEVELS)),
        },
    };
    Ok(ConsoleLogging {
        level,
        metrics: within("logging.console", get_bool(&console, "metrics", false))?,
        audit: within("logging.console", get_bool(&console, "audit", false))?,
    })
}

const LEVELS: &str = "one of off, fatal, error, warn, info, debug, trace";

fn toggle(map: &Map<String, Value>, key: &str, default: bool) -> Result<Toggle> {
    let obj = get_object(map, key)?.unwrap_or_default();
    Ok(Toggle {
        enabled: within(key, get_bool(&obj, "enabled", default))?,
        ui: within(key, get_bool(&obj, "ui", default))?,
    })
}

fn telemetry(map: &Map<String, Value>) -> Result<Telemetry> {
    let obj = get_object(map, "telemetry")?.unwrap_or_default();
    let enabled = match present(&obj, "enabled") {
        None => None,
        Some(_) => Some(within("telemetry", get_bool(&obj, "enabled", false))?),
    };
    let update_notification = within("telemetry", get_bool(&obj, "updateNotification", true))?;
    Ok(Telemetry {
        enabled,
        update_notification,
    })
}

/// Rejects functions and `require()`d modules redoubt cannot honour, and
/// regexps where only JSON values make sense, naming the key.
fn reject_unhonoured_code(map: &Map<String, Value>) -> Result<()> {
    for found in encoded_values(map) {
        let path = found.path.as_str();
        let top = path.split(['.', '[']).next().unwrap_or(path);
        let what = match found.kind {
            EncodedKind::Function if FUNCTIONS_ALLOWED.contains(&path) => continue,
            EncodedKind::RegExp if top != "functionGlobalContext" => continue,
            EncodedKind::Function => "a JavaScript function",
            EncodedKind::Module => "a require()d module",
            EncodedKind::RegExp => "a regular expression",
        };
        let why = match top {
            "httpNodeMiddleware" | "httpAdminMiddleware" => {
                "Express middleware cannot run in redoubt; use a reverse proxy, httpNodeAuth or adminAuth"
            }
            "httpServerOptions" => "Express server options must be plain values",
            "functionGlobalContext" => "global context can only be seeded with JSON values",
            "logging" => "custom log handlers cannot run in redoubt; only console logging exists",
            "editorTheme" => "editor theme settings must be plain values",
            "httpNodeAuth" | "httpStaticAuth" | "httpAdminAuth" | "httpAuth" => {
                "only the {user, pass} form is supported"
            }
            "webSocketNodeVerifyClient" => {
                "redoubt cannot call it, so websocket-in endpoints would be unprotected"
            }
            "adminAuth" => {
                "only adminAuth.users, .authenticate, .tokens and .default may be functions"
            }
            _ => "redoubt cannot run JavaScript from settings.js here",
        };
        return Err(unsupported(path, &format!("it is {what}; {why}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may unwrap.

    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<Settings> {
        match value {
            Value::Object(map) => from_json(map),
            _ => unreachable!("tests pass objects"),
        }
    }

    fn eval_js(src: &str) -> Result<Settings> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.js");
        std::fs::write(&path, src).unwrap();
        load(&path, &[])
    }

    fn key_of(err: &SettingsError) -> &str {
        match err {
            SettingsError::Unsupported { key, .. } | SettingsError::Invalid { key, .. } => key,
            SettingsError::Eval { .. } => "<eval>",
        }
    }

    #[test]
    fn template_is_valid_and_secure_by_default() {
        let s = eval_js(TEMPLATE).unwrap();
        assert_eq!((s.ui_port, s.ui_host.as_deref()), (1880, Some("127.0.0.1")));
        assert_eq!(
            (s.flow_file.as_deref(), s.flow_file_pretty),
            (Some("flows.json"), true)
        );
        assert_eq!(s.function_timeout, 0.0);
        assert_eq!(
            s.context_storage.stores.get("default"),
            Some(&ContextStore::Memory)
        );
        assert_eq!(s.context_storage.default_store.as_deref(), Some("default"));
        assert_eq!(s.logging.level, LogLevel::Info);
        assert!(
            !s.exec_enabled && !s.function_external_modules && !s.allow_remote_editor_without_auth
        );
        assert!(s.admin_auth.is_none() && s.https.is_none());
        assert_eq!(s.http_admin_root.as_deref(), Some("/"));
        assert_eq!(s.debug_max_length, 1000);
        assert!(s.diagnostics.enabled && !s.runtime_state.enabled);
    }

    #[test]
    fn stock_node_red_settings_load_unchanged() {
        let stock = include_str!("../../redoubt-js/tests/data/stock-settings.js");
        let s = eval_js(stock).unwrap();
        assert_eq!(s.ui_port, 1880);
        assert!(s.function_external_modules);
    }

    #[test]
    fn ui_port_accepts_numeric_strings() {
        assert_eq!(parse(json!({"uiPort": "1990"})).unwrap().ui_port, 1990);
        assert_eq!(parse(json!({"uiPort": 0})).unwrap().ui_port, 0);
        assert_eq!(parse(json!({})).unwrap().ui_port, 1880);
        for bad in [json!("http"), json!(70000), json!(1.5), json!(true)] {
            let err = parse(json!({ "uiPort": bad })).unwrap_err();
            assert_eq!(key_of(&err), "uiPort", "{err}");
        }
        let s = eval_js("module.exports = { uiPort: process.env.REDOUBT_SURELY_UNSET || '2000' };");
        assert_eq!(s.unwrap().ui_port, 2000);
    }

    #[test]
    fn http_roots_follow_red_js() {
        let s = parse(json!({"httpAdminRoot": false, "httpNodeRoot": "api"})).unwrap();
        assert_eq!(
            (s.http_admin_root, s.http_node_root.as_deref()),
            (None, Some("/api/"))
        );
        assert!(s.disable_editor);
        let s = parse(json!({"httpRoot": "/red", "httpNodeRoot": ""})).unwrap();
        assert_eq!(s.http_admin_root.as_deref(), Some("/red/"));
        assert_eq!(s.http_node_root.as_deref(), Some("/red/"));
        let s = parse(json!({"httpRoot": false, "httpAdminRoot": "/admin"})).unwrap();
        assert_eq!((s.http_admin_root, s.http_node_root), (None, None));
        let err = parse(json!({"httpAdminRoot": true})).unwrap_err();
        assert_eq!(key_of(&err), "httpAdminRoot");
    }

    #[test]
    fn http_static_string_and_array() {
        let s = parse(json!({"httpStatic": "/srv/www"})).unwrap();
        assert_eq!(
            (
                s.http_static[0].path.as_str(),
                s.http_static[0].root.as_str()
            ),
            ("/srv/www", "/")
        );
        let s = parse(
            json!({"httpStaticRoot": "static", "httpStatic": [{"path": "/a", "root": "img"}, {"path": "/b"}]}),
        );
        let roots: Vec<String> = s.unwrap().http_static.into_iter().map(|d| d.root).collect();
        assert_eq!(roots, ["/static/img/", "/static/"]);
        let err = parse(json!({"httpStatic": [{"root": "/x"}]})).unwrap_err();
        assert_eq!(key_of(&err), "httpStatic[0]");
    }

    #[test]
    fn context_storage_shapes() {
        let s = parse(json!({"contextStorage": {
            "memoryOnly": {"module": "memory"},
            "file": {"module": "localfilesystem", "config": {"dir": "/data", "flushInterval": "10"}},
            "default": "file"}}))
        .unwrap();
        let cs = s.context_storage;
        assert_eq!(cs.default_store.as_deref(), Some("file"));
        assert_eq!(cs.stores.keys().collect::<Vec<_>>(), ["memoryOnly", "file"]);
        let expected = LocalFsConfig {
            dir: Some("/data".into()),
            base: "context".into(),
            cache: true,
            flush_interval_secs: 10.0,
        };
        assert_eq!(cs.stores["file"], ContextStore::LocalFileSystem(expected));
        let s = parse(
            json!({"contextStorage": {"a": {"module": "memory"}, "b": {"module": "memory"}}}),
        );
        assert_eq!(
            s.unwrap().context_storage.default_store.as_deref(),
            Some("a")
        );
        assert_eq!(
            parse(json!({})).unwrap().context_storage,
            ContextStorage::default()
        );
        let cases = [
            (
                json!({"default": "nope", "a": {"module": "memory"}}),
                "contextStorage.default",
            ),
            (json!({"a": {"module": "redis"}}), "contextStorage.a.module"),
            (json!({"a": {"config": {}}}), "contextStorage.a"),
            (
                json!({"a": {"module": "localfilesystem", "config": {"flushInterval": "soon"}}}),
                "contextStorage.a.config.flushInterval",
            ),
            (
                json!({"bad-name": {"module": "memory"}}),
                "contextStorage.bad-name",
            ),
            (
                json!({"a": {"module": {"__module__": "os"}}}),
                "contextStorage.a.module",
            ),
        ];
        for (storage, key) in cases {
            let err = parse(json!({ "contextStorage": storage })).unwrap_err();
            assert_eq!(key_of(&err), key, "{err}");
        }
    }

    #[test]
    fn functions_are_rejected_by_key_unless_honoured() {
        let err = eval_js(
            "module.exports = { httpNodeMiddleware: function (req, res, next) { next(); } };",
        )
        .unwrap_err();
        assert_eq!(key_of(&err), "httpNodeMiddleware");
        assert!(err.to_string().contains("Express middleware"), "{err}");
        let cases = [
            (
                json!({"httpAdminMiddleware": [{"__function__": "f"}]}),
                "httpAdminMiddleware[0]",
            ),
            (
                json!({"httpServerOptions": {"x": {"__function__": "f"}}}),
                "httpServerOptions.x",
            ),
            (
                json!({"functionGlobalContext": {"os": {"__module__": "os"}}}),
                "functionGlobalContext.os",
            ),
            (
                json!({"functionGlobalContext": {"f": {"__function__": "f"}}}),
                "functionGlobalContext.f",
            ),
            (
                json!({"editorTheme": {"page": {"title": {"__function__": "f"}}}}),
                "editorTheme.page.title",
            ),
            (
                json!({"logging": {"custom": {"handler": {"__function__": "f"}}}}),
                "logging.custom.handler",
            ),
            (
                json!({"adminAuth": {"strategy": {"strategy": {"__function__": "f"}}}}),
                "adminAuth.strategy.strategy",
            ),
            (
                json!({"webSocketNodeVerifyClient": {"__function__": "f"}}),
                "webSocketNodeVerifyClient",
            ),
        ];
        for (settings, key) in cases {
            let err = parse(settings).unwrap_err();
            assert!(matches!(err, SettingsError::Unsupported { .. }), "{err}");
            assert_eq!(key_of(&err), key, "{err}");
        }
        let s = eval_js(
            "module.exports = { adminAuth: { type: 'credentials', users: function (u) { return null; },
             authenticate(u, p) { return null; }, tokens: async (t) => null },
             httpNodeCors: { origin: /example\\.com$/ } };",
        )
        .unwrap();
        let auth = s.admin_auth.unwrap();
        assert!(
            auth["users"]["__function__"]
                .as_str()
                .unwrap()
                .starts_with("function (u)")
        );
        assert_eq!(
            s.raw["httpNodeCors"]["origin"],
            json!({"__regexp__": "/example\\.com$/"})
        );
    }

    #[test]
    fn scalar_settings() {
        let s = parse(json!({"credentialSecret": false, "apiMaxLength": "5mb", "functionTimeout": 2.5,
            "httpNodeAuth": {"user": "u", "pass": "$2b$08$x"}, "logging": {"console": {"level": "debug", "audit": true}},
            "execNodeEnabled": true, "telemetry": {"enabled": false}, "custom": 1}))
        .unwrap();
        assert_eq!(s.credential_secret, CredentialSecret::Disabled);
        assert_eq!(
            (s.api_max_length, s.function_timeout),
            (Some(5 * 1024 * 1024), 2.5)
        );
        assert_eq!(s.http_node_auth.unwrap().user, "u");
        assert_eq!((s.logging.level, s.logging.audit), (LogLevel::Debug, true));
        assert!(s.exec_enabled && s.telemetry.enabled == Some(false) && s.raw["custom"] == 1);
        let s = parse(json!({"credentialSecret": "k", "httpAuth": {"user": "a", "pass": "b"}}))
            .unwrap();
        assert_eq!(s.credential_secret, CredentialSecret::Secret("k".into()));
        assert_eq!(s.http_admin_auth.unwrap().user, "a");
        for (settings, key) in [
            (json!({"credentialSecret": ""}), "credentialSecret"),
            (
                json!({"logging": {"console": {"level": "loud"}}}),
                "logging.console.level",
            ),
            (json!({"apiMaxLength": "5 parsecs"}), "apiMaxLength"),
            (json!({"httpNodeAuth": {"user": "u"}}), "httpNodeAuth"),
            (
                json!({"diagnostics": {"enabled": "yes"}}),
                "diagnostics.enabled",
            ),
        ] {
            assert_eq!(key_of(&parse(settings).unwrap_err()), key);
        }
    }

    #[test]
    fn eval_errors_name_the_file() {
        let err = eval_js("module.exports = {\n  uiPort: 1880\n  flowFile: 'x'\n};").unwrap_err();
        let text = format!("{err}: {}", std::error::Error::source(&err).unwrap());
        assert!(text.contains("settings.js:3:"), "{text}");
    }

    #[test]
    fn write_default_is_private_atomic_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user").join("settings.js");
        write_default(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), TEMPLATE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "module.exports = { uiPort: 1 };").unwrap();
        let err = write_default(&path).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(load(&path, &[]).unwrap().ui_port, 1);
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }
}
