//! Unit tests for settings.js evaluation: Node-RED's stock settings.js, a
//! custom file using the shims, error reporting and the resource limits.

#![allow(clippy::unwrap_used)] // Tests may unwrap.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::settings_js::{
    SettingsJsError, SettingsJsLimits, eval_settings_file, eval_settings_source,
    eval_settings_source_with,
};

const STOCK: &str = include_str!("../../tests/data/stock-settings.js");

fn eval(src: &str) -> Result<Value, SettingsJsError> {
    eval_settings_source(src, Path::new("/virtual/settings.js"))
}

fn eval_ok(src: &str) -> Value {
    match eval(src) {
        Ok(v) => v,
        Err(e) => panic!("evaluation failed: {e}"),
    }
}

#[test]
fn stock_node_red_settings_evaluate() {
    let v = eval_ok(STOCK);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        &keys[..2],
        ["flowFile", "flowFilePretty"],
        "insertion order kept"
    );
    assert_eq!(v["flowFile"], "flows.json");
    assert_eq!(v["flowFilePretty"], true);
    match std::env::var("PORT") {
        Ok(port) => assert_eq!(v["uiPort"], port.as_str()),
        Err(_) => assert_eq!(v["uiPort"], 1880),
    }
    assert_eq!(v["diagnostics"], json!({"enabled": true, "ui": true}));
    assert_eq!(v["logging"]["console"]["level"], "info");
    assert_eq!(v["functionExternalModules"], true);
    assert_eq!(v["functionTimeout"], 0);
    assert_eq!(v["debugMaxLength"], 1000);
    assert_eq!(v["editorTheme"]["codeEditor"]["lib"], "monaco");
    assert_eq!(v["exportGlobalContextKeys"], false);
}

#[test]
fn stock_settings_file_evaluates_from_disk() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/stock-settings.js");
    let v = eval_settings_file(&path).unwrap();
    assert_eq!(v["mqttReconnectTime"], 15000);
}

#[test]
fn custom_settings_use_fs_path_os_process_and_https() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cert.pem"),
        "-----BEGIN CERTIFICATE-----\nabc\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("key.pem"), "KEY").unwrap();
    let src = r#"
const fs = require('fs');
const path = require("node:path");
const os = require('os');
module.exports = {
    zeta: 1,
    alpha: 2,
    uiPort: process.env.REDOUBT_TEST_SURELY_UNSET_VAR || 1880,
    envPath: process.env.PATH,
    userDir: path.join(__dirname, 'data'),
    host: os.hostname(),
    tmp: os.tmpdir(),
    platform: process.platform,
    https: function() {
        return {
            key: fs.readFileSync(path.join(__dirname, 'key.pem')),
            cert: fs.readFileSync(path.join(__dirname, 'cert.pem'), 'utf8'),
            self: this.zeta,
        };
    },
    adminAuth: {
        type: "credentials",
        users: [{ username: "admin", password: "$2b$08$abc", permissions: "*" }],
        authenticate: function(username, password) { return Promise.resolve(null); },
    },
    functionGlobalContext: {
        os: require('os'),
        answer: 42,
        half: 0.5,
        re: /ab+c/gi,
        epoch: new Date(0),
        gone: undefined,
        list: [1, undefined, () => 1],
    },
};
"#;
    let file = dir.path().join("settings.js");
    std::fs::write(&file, src).unwrap();
    let v = eval_settings_file(&file).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(&keys[..3], ["zeta", "alpha", "uiPort"]);
    assert_eq!(v["uiPort"], 1880);
    assert_eq!(
        v["envPath"],
        std::env::var("PATH").unwrap_or_default().as_str()
    );
    let abs_dir = std::path::absolute(dir.path()).unwrap();
    assert_eq!(v["userDir"], abs_dir.join("data").to_str().unwrap());
    assert!(!v["host"].as_str().unwrap().is_empty());
    assert!(!v["tmp"].as_str().unwrap().ends_with('/'));
    assert_eq!(v["platform"], "linux");
    assert_eq!(
        v["https"],
        json!({"key": "KEY", "cert": "-----BEGIN CERTIFICATE-----\nabc\n", "self": 1})
    );
    assert_eq!(v["adminAuth"]["users"][0]["username"], "admin");
    let auth = v["adminAuth"]["authenticate"]["__function__"]
        .as_str()
        .unwrap();
    assert!(auth.starts_with("function(username, password)"), "{auth}");
    let fgc = &v["functionGlobalContext"];
    assert_eq!(fgc["os"], json!({"__module__": "os"}));
    assert_eq!(fgc["answer"], 42);
    assert_eq!(fgc["half"], 0.5);
    assert_eq!(fgc["re"], json!({"__regexp__": "/ab+c/gi"}));
    assert_eq!(fgc["epoch"], "1970-01-01T00:00:00.000Z");
    assert!(
        fgc.get("gone").is_none(),
        "undefined properties are skipped"
    );
    assert_eq!(fgc["list"][1], Value::Null);
    assert_eq!(fgc["list"][2], json!({"__function__": "() => 1"}));
}

#[test]
fn async_https_function_is_awaited() {
    let v =
        eval_ok("module.exports = { https: async () => { await null; return { key: 'k' }; } };");
    assert_eq!(v["https"], json!({"key": "k"}));
    let v = eval_ok("module.exports = { https() { return null; } };");
    assert_eq!(v["https"], Value::Null);
}

#[test]
fn https_failure_is_reported() {
    let err =
        eval("module.exports = {\n https() {\n  throw new Error('no cert');\n }\n};").unwrap_err();
    let SettingsJsError::Https(ex) = &err else {
        panic!("{err}")
    };
    assert_eq!(ex.message, "no cert");
    assert_eq!(ex.location.line, Some(3));
    let err = eval("module.exports = { https: () => new Promise(() => {}) };").unwrap_err();
    assert!(err.to_string().contains("never settled"), "{err}");
    let err =
        eval("module.exports = { https: () => Promise.reject(new Error('nope')) };").unwrap_err();
    assert!(
        matches!(&err, SettingsJsError::Https(ex) if ex.message == "nope"),
        "{err}"
    );
}

#[test]
fn syntax_error_names_file_line_and_column() {
    let err = eval_settings_source(
        "module.exports = {\n    uiPort: 1880,\n    flowFile: 'flows.json' 'oops',\n};\n",
        Path::new("/etc/redoubt/settings.js"),
    )
    .unwrap_err();
    let SettingsJsError::Syntax(ex) = &err else {
        panic!("{err}")
    };
    assert_eq!(ex.location.file, PathBuf::from("/etc/redoubt/settings.js"));
    assert_eq!(ex.location.line, Some(3));
    assert!(ex.location.column.is_some());
    assert_eq!(ex.name, "SyntaxError");
    let text = err.to_string();
    assert!(
        text.starts_with("syntax error in settings file /etc/redoubt/settings.js:3:"),
        "{text}"
    );
}

#[test]
fn syntax_error_on_line_one_has_file_relative_column() {
    let err = eval("module.exports = {;").unwrap_err();
    let SettingsJsError::Syntax(ex) = &err else {
        panic!("{err}")
    };
    assert_eq!(ex.location.line, Some(1));
    let column = ex.location.column.unwrap();
    assert!((15..=20).contains(&column), "column {column}");
}

#[test]
fn unknown_require_names_the_module() {
    let err =
        eval("// line 1\nconst cp = require('child_process');\nmodule.exports = {};").unwrap_err();
    let SettingsJsError::Exception(ex) = &err else {
        panic!("{err}")
    };
    assert!(
        ex.message.contains("require('child_process')"),
        "{}",
        ex.message
    );
    assert!(ex.message.contains("not available in redoubt settings.js"));
    assert_eq!(ex.location.line, Some(2));
    assert!(err.to_string().contains("/virtual/settings.js:2:"), "{err}");
}

#[test]
fn thrown_errors_and_values_are_reported() {
    let err = eval("\n\nthrow new TypeError('bad');").unwrap_err();
    let SettingsJsError::Exception(ex) = &err else {
        panic!("{err}")
    };
    assert_eq!((ex.name.as_str(), ex.location.line), ("TypeError", Some(3)));
    let err = eval("throw 'just a string';").unwrap_err();
    let SettingsJsError::Exception(ex) = &err else {
        panic!("{err}")
    };
    assert_eq!(ex.message, "just a string");
    assert_eq!(ex.location.line, None);
}

#[test]
fn commonjs_wrapper_semantics() {
    let v = eval_ok(
        "exports.a = 1; this.b = 2; module.exports.c = typeof require; sloppy = 3; exports.d = sloppy;",
    );
    assert_eq!(v, json!({"a": 1, "b": 2, "c": "function", "d": 3}));
    let v = eval_ok(
        "#!/usr/bin/env node\nmodule.exports = { f: __filename, d: __dirname, g: typeof global };",
    );
    assert_eq!(
        v,
        json!({"f": "/virtual/settings.js", "d": "/virtual", "g": "object"})
    );
}

#[test]
fn path_module_matches_node_posix() {
    let v = eval_ok(
        r#"const p = require('path'); module.exports = [
        p.join('/a/b', '../c', 'd/'), p.join(''), p.normalize('a//b/./c/..'), p.normalize('/../x'),
        p.resolve('/a', 'b', '../c'), p.dirname('/a/b/'), p.dirname('a'), p.dirname('/'),
        p.basename('/a/b.js', '.js'), p.basename('/a/b/'), p.extname('x.tar.gz'), p.extname('.profile'),
        p.isAbsolute('/x'), p.isAbsolute('x'), p.sep, p.resolve('x') === process.cwd() + '/x'];"#,
    );
    assert_eq!(
        v,
        json!([
            "/a/c/d/", ".", "a/b", "/x", "/a/c", "/a", ".", "/", "b", "b", ".gz", "", true, false,
            "/", true
        ])
    );
}

#[test]
fn each_module_is_built_once_whatever_name_requires_it() {
    // The modules are compiled on first use (host.rs `shim`): a second
    // require, by either name, must give the same object, as Node's cache does.
    let v = eval_ok(
        r#"const p = require('path');
        module.exports = [p === require('node:path'), p.posix === p,
            require('fs') === require('node:fs'), require('os') === require('os'),
            require('os').EOL];"#,
    );
    assert_eq!(v, json!([true, true, true, true, "\n"]));
}

#[test]
fn fs_module_behaves_like_node() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap().to_owned();
    let src = format!(
        r#"const fs = require('fs');
        let code; try {{ fs.readFileSync('{root}/missing.txt'); }} catch (e) {{ code = e.code + '|' + e.message; }}
        fs.mkdirSync('{root}/x/y', {{ recursive: true }});
        module.exports = {{ code, exists: fs.existsSync('{root}/x/y'), dir: fs.statSync('{root}/x').isDirectory(),
            none: fs.statSync('{root}/nope', {{ throwIfNoEntry: false }}) === undefined }};"#
    );
    let v = eval_ok(&src);
    assert_eq!(
        v["code"],
        format!("ENOENT|ENOENT: no such file or directory, open '{root}/missing.txt'").as_str()
    );
    assert_eq!(
        (v["exists"].clone(), v["dir"].clone(), v["none"].clone()),
        (json!(true), json!(true), json!(true))
    );
}

#[test]
fn circular_reference_names_the_key() {
    let err = eval("const a = { b: [1] }; a.b.push(a); module.exports = { fgc: a };").unwrap_err();
    let SettingsJsError::Unconvertible { key_path, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(key_path, "fgc.b[1]");
}

#[test]
fn endless_loop_hits_the_deadline() {
    let limits = SettingsJsLimits {
        timeout: Duration::from_millis(200),
        ..Default::default()
    };
    let err =
        eval_settings_source_with("while (true) {}", Path::new("/s.js"), &limits).unwrap_err();
    assert!(matches!(err, SettingsJsError::Timeout { .. }), "{err}");
    let err = eval_settings_source_with(
        "try { while (true) {} } catch (e) {}",
        Path::new("/s.js"),
        &limits,
    )
    .unwrap_err();
    assert!(matches!(err, SettingsJsError::Timeout { .. }), "{err}");
}

#[test]
fn runaway_allocation_hits_the_memory_limit() {
    let limits = SettingsJsLimits {
        memory_bytes: 16 * 1024 * 1024,
        ..Default::default()
    };
    let src = "const a = []; while (true) { a.push('x'.repeat(1000) + a.length); }";
    let err = eval_settings_source_with(src, Path::new("/s.js"), &limits).unwrap_err();
    assert!(
        matches!(err, SettingsJsError::OutOfMemory { limit_mib: 16, .. }),
        "{err}"
    );
}

#[test]
fn missing_file_is_a_read_error() {
    let err = eval_settings_file(Path::new("/definitely/not/here/settings.js")).unwrap_err();
    assert!(matches!(err, SettingsJsError::Read { .. }), "{err}");
    assert!(err.to_string().contains("/definitely/not/here/settings.js"));
}

#[test]
fn encoded_values_are_found_with_their_paths() {
    use crate::settings_js::{EncodedKind, encoded_values};
    let v = eval_ok(
        "module.exports = { a: { f() {} }, m: [require('os')], r: /x/, n: { __function__: 1 } };",
    );
    let found: Vec<(String, EncodedKind)> = encoded_values(v.as_object().unwrap())
        .into_iter()
        .map(|e| (e.path, e.kind))
        .collect();
    assert_eq!(
        found,
        [
            ("a.f".to_owned(), EncodedKind::Function),
            ("m[0]".to_owned(), EncodedKind::Module),
            ("r".to_owned(), EncodedKind::RegExp),
        ]
    );
}
