//! The command line: version, help, bad input, first run, graceful shutdown.

use crate::support::Redoubt;
use serde_json::json;
use std::process::Command;

fn redoubt() -> Command {
    Command::new(env!("CARGO_BIN_EXE_redoubt"))
}

#[test]
fn version_and_help() {
    let v = redoubt().arg("--version").output().expect("run");
    assert!(v.status.success());
    assert!(String::from_utf8_lossy(&v.stdout).contains(env!("CARGO_PKG_VERSION")));
    let h = redoubt().arg("--help").output().expect("run");
    let text = String::from_utf8_lossy(&h.stdout);
    for flag in [
        "--port",
        "--userDir",
        "--settings",
        "--define",
        "--safe",
        "FLOWS_FILE",
    ] {
        assert!(text.contains(flag), "help lacks {flag}");
    }
}

#[test]
fn malformed_flows_file_names_file_line_and_column_and_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("settings.js"), crate::support::SETTINGS).expect("write");
    let bad = "[\n  {\"id\": \"a\", \"type\": \"inject\",}\n]";
    std::fs::write(dir.path().join("flows.json"), bad).expect("write");
    let out = redoubt()
        .arg("-u")
        .arg(dir.path())
        .args(["-p", "0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("flows.json"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("flows.json")).expect("read"),
        bad
    );
}

#[test]
fn malformed_settings_names_the_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("settings.js"),
        "module.exports = {\n  uiPort: ,\n};\n",
    )
    .expect("write");
    let out = redoubt()
        .arg("-u")
        .arg(dir.path())
        .args(["-p", "0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("settings.js"), "{err}");
    assert!(err.contains('2'), "{err}");
}

#[test]
fn unsupported_setting_is_a_startup_error_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("settings.js"),
        "module.exports = { httpNodeMiddleware: function(req,res,next){ next(); } };\n",
    )
    .expect("write");
    let out = redoubt()
        .arg("-u")
        .arg(dir.path())
        .args(["-p", "0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("httpNodeMiddleware"));
}

#[test]
fn first_run_writes_settings_and_user_dir_is_private() {
    let base = tempfile::tempdir().expect("tempdir");
    let user = base.path().join("fresh");
    let dir = tempfile::TempDir::new_in(base.path()).expect("tempdir");
    drop(dir);
    let mut child = redoubt()
        .arg("-u")
        .arg(&user)
        .args(["-p", "0"])
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !user.join("settings.js").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&user).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let text = std::fs::read_to_string(user.join("settings.js")).expect("settings written");
    assert!(text.contains("module.exports"));
}

#[test]
fn sigterm_shuts_down_with_exit_zero() {
    let r = Redoubt::start(&json!([]));
    let (code, _) = r.stop();
    assert_eq!(code, Some(0));
}

#[test]
fn unknown_node_types_are_listed_and_flows_do_not_start() {
    let r = Redoubt::start(&json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"in","type":"http in","z":"t","url":"/x","method":"get","x":1,"y":1,"wires":[["a"]]},
        {"id":"a","type":"no-such-node","z":"t","x":1,"y":1,"wires":[]},
        {"id":"b","type":"other-missing","z":"t","x":1,"y":1,"wires":[]}
    ]));
    let lines = r.lines().join("\n");
    assert!(
        lines.contains("no-such-node") && lines.contains("other-missing"),
        "{lines}"
    );
    assert_eq!(
        crate::support::client()
            .get(r.url("/x"))
            .send()
            .expect("req")
            .status(),
        404
    );
}
