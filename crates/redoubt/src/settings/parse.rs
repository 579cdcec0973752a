//! Readers for individual settings keys, each naming the key in its error.

use super::*;

pub(super) fn show(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

pub(super) fn invalid(key: &str, value: &Value, expected: &str) -> SettingsError {
    SettingsError::Invalid {
        key: key.to_owned(),
        value: show(value),
        expected: expected.to_owned(),
    }
}

pub(super) fn unsupported(key: &str, reason: &str) -> SettingsError {
    SettingsError::Unsupported {
        key: key.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Absent, `null` and `undefined` (already dropped) all mean "not set".
pub(super) fn present<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

pub(super) fn get_bool(map: &Map<String, Value>, key: &str, default: bool) -> Result<bool> {
    match present(map, key) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(invalid(key, v, "true or false")),
    }
}

pub(super) fn get_string(map: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match present(map, key) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(v) => Err(invalid(key, v, "a non-empty string")),
    }
}

pub(super) fn get_object(
    map: &Map<String, Value>,
    key: &str,
) -> Result<Option<Map<String, Value>>> {
    match present(map, key) {
        None | Some(Value::Bool(false)) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(v) => Err(invalid(key, v, "an object")),
    }
}

/// A number (or numeric string, as from `process.env`), as f64.
pub(super) fn number_like(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

pub(super) fn get_seconds(map: &Map<String, Value>, key: &str) -> Result<Option<f64>> {
    let Some(v) = present(map, key) else {
        return Ok(None);
    };
    match number_like(v) {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
        _ => Err(invalid(key, v, "a number of seconds, 0 or more")),
    }
}

pub(super) fn get_count(map: &Map<String, Value>, key: &str) -> Result<Option<u64>> {
    let Some(v) = present(map, key) else {
        return Ok(None);
    };
    match number_like(v) {
        // Exact: integral and below 2^53.
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n < 9e15 => Ok(Some(n as u64)),
        _ => Err(invalid(key, v, "a whole number, 0 or more")),
    }
}

pub(super) fn ui_port(value: Option<&Value>) -> Result<u16> {
    let Some(v) = value.filter(|v| !v.is_null()) else {
        return Ok(1880);
    };
    match number_like(v) {
        Some(n) if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) => Ok(n as u16),
        _ => Err(invalid("uiPort", v, "a TCP port number from 0 to 65535")),
    }
}

/// Node-RED's `formatRoot`: leading and trailing `/`.
pub(super) fn format_root(root: &str) -> String {
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
pub(super) enum Root {
    Unset,
    Disabled,
    At(String),
}

pub(super) fn root(map: &Map<String, Value>, key: &str) -> Result<Root> {
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
pub(super) fn effective_root(http_root: &Root, own: Root) -> Option<String> {
    match (http_root, own) {
        (Root::Disabled, _) | (_, Root::Disabled) => None,
        (_, Root::At(s)) => Some(s),
        (Root::At(s), Root::Unset) => Some(s.clone()),
        (Root::Unset, Root::Unset) => Some(String::from("/")),
    }
}

pub(super) fn credential_secret(value: Option<&Value>) -> Result<CredentialSecret> {
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
pub(super) fn http_static(map: &Map<String, Value>) -> Result<Vec<StaticDir>> {
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

pub(super) fn json_dir(dir: &str) -> Value {
    let mut entry = Map::new();
    entry.insert(String::from("path"), Value::String(dir.to_owned()));
    Value::Object(entry)
}

/// `{user, pass}` Basic-auth settings.
pub(super) fn basic_auth(map: &Map<String, Value>, key: &str) -> Result<Option<BasicAuth>> {
    let Some(value) = present(map, key) else {
        return Ok(None);
    };
    let field = |name: &str| match value.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    match (field("user"), field("pass")) {
        (Some(user), Some(pass)) => Ok(Some(BasicAuth { user, pass })),
        // The value is not shown: it holds a password hash.
        _ => Err(invalid(
            key,
            &Value::String("(hidden)".into()),
            "{user, pass} with a bcrypt `pass`",
        )),
    }
}

/// A size like Node's `bytes` package reads it: `5mb`, `100kb`, `1.5 GB`,
/// a plain number of bytes, 1024-based.
pub(super) fn byte_size(map: &Map<String, Value>, key: &str) -> Result<Option<u64>> {
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
pub(super) fn context_storage(value: Option<&Value>) -> Result<ContextStorage> {
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

pub(super) fn context_store(key: &str, store: &Map<String, Value>) -> Result<ContextStore> {
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
pub(super) fn within<T>(prefix: &str, result: Result<T>) -> Result<T> {
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
pub(super) fn logging(map: &Map<String, Value>) -> Result<ConsoleLogging> {
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

pub(super) const LEVELS: &str = "one of off, fatal, error, warn, info, debug, trace";

pub(super) fn toggle(map: &Map<String, Value>, key: &str, default: bool) -> Result<Toggle> {
    let obj = get_object(map, key)?.unwrap_or_default();
    Ok(Toggle {
        enabled: within(key, get_bool(&obj, "enabled", default))?,
        ui: within(key, get_bool(&obj, "ui", default))?,
    })
}

pub(super) fn telemetry(map: &Map<String, Value>) -> Result<Telemetry> {
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
pub(super) fn reject_unhonoured_code(map: &Map<String, Value>) -> Result<()> {
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
