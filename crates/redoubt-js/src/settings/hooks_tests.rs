//! Tests of [`SettingsHooks`]: every hook shape Node-RED's adminAuth uses,
//! failures (throw, reject, endless loop, missing key), closures over the
//! file, concurrent callers and the thread's lifetime.

#![allow(clippy::unwrap_used)] // Tests may unwrap.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{HookError, SettingsHooks};
use crate::settings_js::{SettingsJsError, SettingsJsLimits, eval_settings_file};

/// A password that must never show up in an error.
const SECRET: &str = "hunter2-s3cret";

const ADMIN_AUTH: &str = r#"
const path = require('path');
const fs = require('fs');
const realm = "home";
let logins = 0;
const tokenFile = path.join(__dirname, 'tokens.txt');
module.exports = {
  uiPort: 1880,
  adminAuth: {
    type: "credentials",
    users: function(username) { return Promise.resolve(username === "admin" ? {username: "admin", permissions: "*"} : null); },
    authenticate: function(username, password) {
      return new Promise(function(resolve) {
        logins += 1;
        resolve(password === "pw" ? {username, permissions: "read", realm, logins} : null);
      });
    },
    tokens: function(token) { return Promise.resolve(token === "abc" ? {username: "api", permissions: "flows.read"} : null); },
    default: function() { return Promise.resolve({anonymous: true, permissions: "read"}); }
  },
  plain: { who: function(name) { return this.prefix + name; }, prefix: "hello " },
  asyncFn: async function(a, b) { await null; return {sum: a + b, args: arguments.length}; },
  nothing: function() {},
  fromFile: function(token) {
    const known = fs.readFileSync(tokenFile, 'utf8').trim().split('\n');
    return {ok: known.includes(token), base: path.basename(tokenFile), realm};
  },
  env: function() { return process.env.REDOUBT_HOOKS_TEST_VAR || null; },
  throws: function(username, password) { throw new TypeError("no user " + username); },
  throwsValue: function() { throw "plain string"; },
  rejects: function(username, password) { return Promise.reject(new Error("denied")); },
  asyncThrows: async function(password) { await null; throw new RangeError("bad range"); },
  spin: function() { while (true) {} },
  spinAsync: async function() { while (true) { await null; } },
  never: function() { return new Promise(function() {}); },
  circular: function() { const a = {}; a.self = a; return a; },
  list: [function(x) { return x * 2; }],
  counter: function() { logins += 1; return logins; }
};
"#;

/// Writes `src` as `settings.js` (and a tokens file) in a fresh directory.
fn write_settings(src: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokens.txt"), "t1\nt2\n").unwrap();
    let path = dir.path().join("settings.js");
    std::fs::write(&path, src).unwrap();
    (dir, path)
}

fn load_with_timeout(path: &Path, call_timeout: Duration) -> (Value, SettingsHooks) {
    SettingsHooks::load_with(path, &SettingsJsLimits::default(), call_timeout).unwrap()
}

fn load(src: &str) -> (tempfile::TempDir, Value, SettingsHooks) {
    let (dir, path) = write_settings(src);
    let (json, hooks) = SettingsHooks::load(&path).unwrap();
    (dir, json, hooks)
}

/// The error's Display and Debug, checked to be free of [`SECRET`].
fn no_secret(err: &HookError) -> String {
    let shown = format!("{err} / {err:?}");
    assert!(!shown.contains(SECRET), "secret leaked: {shown}");
    shown
}

#[tokio::test]
async fn admin_auth_hooks_answer() {
    let (_dir, _, hooks) = load(ADMIN_AUTH);
    assert_eq!(
        hooks
            .call("adminAuth.users", vec![json!("admin")])
            .await
            .unwrap(),
        json!({"username": "admin", "permissions": "*"})
    );
    assert_eq!(
        hooks
            .call("adminAuth.users", vec![json!("eve")])
            .await
            .unwrap(),
        Value::Null
    );
    assert_eq!(
        hooks
            .call("adminAuth.authenticate", vec![json!("admin"), json!("pw")])
            .await
            .unwrap(),
        json!({"username": "admin", "permissions": "read", "realm": "home", "logins": 1})
    );
    assert_eq!(
        hooks
            .call(
                "adminAuth.authenticate",
                vec![json!("admin"), json!(SECRET)]
            )
            .await
            .unwrap(),
        Value::Null
    );
    assert_eq!(
        hooks
            .call("adminAuth.tokens", vec![json!("abc")])
            .await
            .unwrap(),
        json!({"username": "api", "permissions": "flows.read"})
    );
    assert_eq!(
        hooks.call("adminAuth.default", vec![]).await.unwrap(),
        json!({"anonymous": true, "permissions": "read"})
    );
}

#[tokio::test]
async fn plain_async_and_undefined_returns() {
    let (_dir, _, hooks) = load(ADMIN_AUTH);
    // `this` is the parent object.
    assert_eq!(
        hooks.call("plain.who", vec![json!("bob")]).await.unwrap(),
        json!("hello bob")
    );
    assert_eq!(
        hooks
            .call("asyncFn", vec![json!(2), json!(40)])
            .await
            .unwrap(),
        json!({"sum": 42, "args": 2})
    );
    assert_eq!(hooks.call("nothing", vec![]).await.unwrap(), Value::Null);
    assert_eq!(
        hooks.call("list[0]", vec![json!(21)]).await.unwrap(),
        json!(42)
    );
}

#[tokio::test]
async fn functions_keep_their_closure_over_the_file() {
    let (_dir, _, hooks) = load(ADMIN_AUTH);
    assert_eq!(
        hooks.call("fromFile", vec![json!("t2")]).await.unwrap(),
        json!({"ok": true, "base": "tokens.txt", "realm": "home"})
    );
    assert_eq!(
        hooks.call("fromFile", vec![json!("t3")]).await.unwrap()["ok"],
        false
    );
    // Top-level `let` state persists between calls.
    assert_eq!(hooks.call("counter", vec![]).await.unwrap(), json!(1));
    assert_eq!(hooks.call("counter", vec![]).await.unwrap(), json!(2));
    let expected = std::env::var("REDOUBT_HOOKS_TEST_VAR").map_or(Value::Null, Value::from);
    assert_eq!(hooks.call("env", vec![]).await.unwrap(), expected);
}

#[tokio::test]
async fn throw_names_key_error_and_line_but_not_arguments() {
    let (_dir, path, hooks) = {
        let (dir, path) = write_settings(ADMIN_AUTH);
        let (_, hooks) = SettingsHooks::load(&path).unwrap();
        (dir, path, hooks)
    };
    let err = hooks
        .call("throws", vec![json!("admin"), json!(SECRET)])
        .await
        .unwrap_err();
    let shown = no_secret(&err);
    let HookError::Threw { key, message } = &err else {
        panic!("expected Threw, got {shown}");
    };
    assert_eq!(key, "throws");
    let line = ADMIN_AUTH
        .lines()
        .position(|l| l.contains("throws: function"))
        .unwrap()
        + 1;
    assert!(
        message.starts_with("TypeError: no user admin (at "),
        "{message}"
    );
    assert!(
        message.contains(&format!("{}:{line}:", path.display())),
        "{message} should name line {line}"
    );

    let err = hooks.call("throwsValue", vec![]).await.unwrap_err();
    assert!(
        matches!(&err, HookError::Threw { message, .. } if message == "plain string"),
        "{err}"
    );
}

#[tokio::test]
async fn rejections_are_rejected_errors() {
    let (_dir, _, hooks) = load(ADMIN_AUTH);
    let err = hooks
        .call("rejects", vec![json!("admin"), json!(SECRET)])
        .await
        .unwrap_err();
    let shown = no_secret(&err);
    assert!(
        matches!(&err, HookError::Rejected { key, message } if key == "rejects" && message.starts_with("Error: denied")),
        "{shown}"
    );
    let err = hooks
        .call("asyncThrows", vec![json!(SECRET)])
        .await
        .unwrap_err();
    let shown = no_secret(&err);
    assert!(
        matches!(&err, HookError::Rejected { message, .. } if message.starts_with("RangeError: bad range")),
        "{shown}"
    );
}

#[tokio::test]
async fn endless_loops_time_out_and_the_thread_answers_again() {
    let (_dir, path) = write_settings(ADMIN_AUTH);
    let (_, hooks) = load_with_timeout(&path, Duration::from_millis(200));
    for key in ["spin", "spinAsync"] {
        let err = hooks.call(key, vec![json!(SECRET)]).await.unwrap_err();
        let shown = no_secret(&err);
        assert!(
            matches!(&err, HookError::Timeout { key: k, after } if k == key && *after == Duration::from_millis(200)),
            "{key}: {shown}"
        );
        assert_eq!(
            hooks
                .call("adminAuth.tokens", vec![json!("abc")])
                .await
                .unwrap()["username"],
            "api"
        );
    }
}

#[tokio::test]
async fn other_failures_are_typed() {
    let (_dir, _, hooks) = load(ADMIN_AUTH);
    for key in [
        "missing",
        "adminAuth.type",
        "adminAuth.missing.deeper",
        "list[3]",
        "a..b",
        "",
    ] {
        let err = hooks.call(key, vec![]).await.unwrap_err();
        assert!(
            matches!(&err, HookError::NotAFunction { key: k } if k == key),
            "{key}: {err}"
        );
    }
    let err = hooks.call("never", vec![]).await.unwrap_err();
    assert!(
        matches!(&err, HookError::Unsettled { key } if key == "never"),
        "{err}"
    );
    let err = hooks.call("circular", vec![]).await.unwrap_err();
    assert!(
        matches!(&err, HookError::Unconvertible { path, .. } if path == "self"),
        "{err}"
    );
}

#[tokio::test]
async fn is_function_reflects_the_file() {
    let (_dir, json, hooks) = load(ADMIN_AUTH);
    for key in [
        "adminAuth.users",
        "adminAuth.authenticate",
        "adminAuth.tokens",
        "adminAuth.default",
        "plain.who",
        "list[0]",
    ] {
        assert!(hooks.is_function(key), "{key}");
    }
    for key in ["adminAuth", "adminAuth.type", "uiPort", "missing", "https"] {
        assert!(!hooks.is_function(key), "{key}");
    }
    assert_eq!(json["adminAuth"]["type"], "credentials");
    assert!(json["adminAuth"]["users"]["__function__"].is_string());
}

#[tokio::test]
async fn load_returns_what_eval_settings_file_returns() {
    let src = r#"
let calls = 0;
module.exports = {
  a: 1,
  https: function() { calls += 1; return Promise.resolve({key: "k" + calls, cert: "c"}); },
  httpsRefreshInterval: 12,
  adminAuth: { type: "credentials", users: function() { return null; } }
};
"#;
    let (_dir, path) = write_settings(src);
    let (json, hooks) = SettingsHooks::load(&path).unwrap();
    assert_eq!(json, eval_settings_file(&path).unwrap());
    assert_eq!(json["https"], json!({"key": "k1", "cert": "c"}));
    // The function stays in the module and can be called again.
    assert!(hooks.is_function("https"));
    assert_eq!(
        hooks.call("https", vec![]).await.unwrap(),
        json!({"key": "k2", "cert": "c"})
    );
}

#[test]
fn load_reports_the_same_errors() {
    let (_dir, path) = write_settings("module.exports = {\n  a: ,\n};\n");
    let err = SettingsHooks::load(&path).unwrap_err();
    match err {
        SettingsJsError::Syntax(ex) => assert_eq!(ex.location.line, Some(2)),
        other => panic!("expected Syntax, got {other}"),
    }
    let err = SettingsHooks::load(Path::new("/nonexistent/redoubt/settings.js")).unwrap_err();
    assert!(matches!(err, SettingsJsError::Read { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_from_many_tasks() {
    let (_dir, _, hooks) = load(ADMIN_AUTH);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let hooks = hooks.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for j in 0..10 {
                let user = if (i + j) % 2 == 0 { "admin" } else { "eve" };
                let got = hooks
                    .call("adminAuth.users", vec![json!(user)])
                    .await
                    .unwrap();
                assert_eq!(got.is_null(), user == "eve");
                seen.push(
                    hooks
                        .call("counter", vec![])
                        .await
                        .unwrap()
                        .as_i64()
                        .unwrap(),
                );
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all.sort_unstable();
    // Calls are serialized: every increment is seen exactly once.
    assert_eq!(all, (1..=160).collect::<Vec<i64>>());
}

#[tokio::test]
async fn thread_stops_when_the_last_handle_drops() {
    let (_dir, _, hooks) = load(ADMIN_AUTH);
    let thread = hooks.take_thread().unwrap();
    let other = hooks.clone();
    drop(hooks);
    assert_eq!(other.call("counter", vec![]).await.unwrap(), json!(1));
    assert!(!thread.is_finished());
    drop(other);
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let joined = thread.join();
        let _ = done_tx.send(joined.is_ok());
    });
    assert_eq!(done_rx.recv_timeout(Duration::from_secs(10)), Ok(true));
}

#[tokio::test]
async fn runaway_allocation_hits_the_heap_limit_and_the_thread_survives() {
    let src = "module.exports = {\n  hog: function() { const a = []; while (true) { a.push('x'.repeat(1024) + a.length); } },\n  ok: function() { return 'still here'; }\n};\n";
    let (_dir, path) = write_settings(src);
    let limits = SettingsJsLimits {
        memory_bytes: 16 * 1024 * 1024,
        ..SettingsJsLimits::default()
    };
    let (_, hooks) = SettingsHooks::load_with(&path, &limits, Duration::from_secs(30)).unwrap();
    let err = hooks.call("hog", vec![]).await.unwrap_err();
    assert!(
        matches!(&err, HookError::OutOfMemory { key, limit_mib: 16 } if key == "hog"),
        "{err}"
    );
    assert_eq!(hooks.call("ok", vec![]).await.unwrap(), json!("still here"));
}
