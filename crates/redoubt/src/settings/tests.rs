//! Tests of settings parsing and the default settings file.

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
    assert!(!s.exec_enabled && !s.function_external_modules && !s.allow_remote_editor_without_auth);
    assert!(s.admin_auth.is_none() && s.https.is_none());
    assert_eq!(s.http_admin_root.as_deref(), Some("/"));
    assert_eq!(s.debug_max_length, 1000);
    assert!(s.diagnostics.enabled && !s.runtime_state.enabled);
}

#[test]
fn stock_node_red_settings_load_unchanged() {
    let stock = include_str!("../../../redoubt-js/tests/data/stock-settings.js");
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
    let s =
        parse(json!({"contextStorage": {"a": {"module": "memory"}, "b": {"module": "memory"}}}));
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
    let err =
        eval_js("module.exports = { httpNodeMiddleware: function (req, res, next) { next(); } };")
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
    let s =
        parse(json!({"credentialSecret": "k", "httpAuth": {"user": "a", "pass": "b"}})).unwrap();
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
