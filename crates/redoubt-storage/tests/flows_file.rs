//! Flows file: load/save compatibility with Node-RED's localfilesystem.

use redoubt_storage::StorageError;
use redoubt_storage::flows_file::{
    credentials_path, flows_rev, load_flows, save_flows, stage_flows,
};
use std::fs;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).expect("read")
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn missing_file_is_an_empty_flow_list_with_node_reds_rev() {
    let dir = tempfile::tempdir().expect("tmp");
    let doc = load_flows(&dir.path().join("flows.json")).expect("load");
    assert!(doc.flows.is_empty());
    assert!(!doc.existed);
    // node -e 'console.log(require("crypto").createHash("sha256").update("[]").digest("hex"))'
    assert_eq!(
        doc.rev,
        "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
    );
    assert!(names(dir.path()).is_empty(), "loading creates nothing");
}

#[test]
fn rev_and_files_match_node_red_byte_for_byte() {
    let doc = load_flows(&data("flows_sample.json")).expect("load");
    assert!(doc.existed);
    assert_eq!(doc.rev, read(&data("flows_sample.rev")));
    assert_eq!(flows_rev(&doc.flows), doc.rev);
    assert_eq!(doc.flows[1]["z2"], "last", "duplicate key: last value wins");

    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("flows.json");
    let rev = save_flows(&path, &doc.flows, false).expect("save");
    assert_eq!(rev, doc.rev);
    assert_eq!(read(&path), read(&data("flows_sample.compact.json")));
    save_flows(&path, &doc.flows, true).expect("save pretty");
    assert_eq!(read(&path), read(&data("flows_sample.pretty.json")));
    assert_eq!(load_flows(&path).expect("reload").rev, doc.rev);
}

#[test]
fn save_keeps_a_backup_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("flows.json");
    let v1 = vec![serde_json::json!({"id": "a", "type": "tab"})];
    let v2 = vec![serde_json::json!({"id": "b", "type": "tab"})];
    save_flows(&path, &v1, false).expect("save 1");
    assert_eq!(names(dir.path()), ["flows.json"]);
    // The backup is the file as it was before each save, never the new one.
    let v3 = vec![serde_json::json!({"id": "c", "type": "tab"})];
    for (before, next) in [(&v1, &v2), (&v2, &v3)] {
        save_flows(&path, next, false).expect("save");
        assert_eq!(names(dir.path()), [".flows.json.backup", "flows.json"]);
        assert_eq!(
            read(&dir.path().join(".flows.json.backup")),
            serde_json::to_string(before).expect("json")
        );
        assert_eq!(load_flows(&path).expect("load").flows, *next);
    }
}

#[test]
fn malformed_json_names_file_line_and_column_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("flows.json");
    let bad = "[\n  {\"id\": \"a\",\n   \"type\" \"tab\"}\n]";
    fs::write(&path, bad).expect("write");
    let err = load_flows(&path).expect_err("must fail");
    match &err {
        StorageError::Json {
            path: p,
            line,
            column,
            ..
        } => {
            assert_eq!(p, &path);
            assert_eq!((*line, *column), (3, 11));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("flows.json"), "{err}");
    assert!(err.to_string().contains("line 3, column 11"), "{err}");
    assert_eq!(read(&path), bad);
    assert_eq!(names(dir.path()), ["flows.json"]);
}

#[test]
fn non_array_is_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("flows.json");
    fs::write(&path, r#"{"flows":[]}"#).expect("write");
    assert!(matches!(load_flows(&path), Err(StorageError::Shape { .. })));
}

#[test]
fn empty_file_falls_back_to_the_backup_like_node_red() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("flows.json");
    fs::write(&path, "").expect("write");
    let doc = load_flows(&path).expect("load");
    assert!(doc.flows.is_empty() && doc.existed);
    fs::write(dir.path().join(".flows.json.backup"), r#"[{"id":"x"}]"#).expect("write");
    assert_eq!(
        load_flows(&path).expect("load").flows,
        vec![serde_json::json!({"id": "x"})]
    );
    assert_eq!(read(&path), "", "the empty file is not touched on load");
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("flows.json");
    fs::write(&path, "\u{feff}[{\"id\":\"x\"}]").expect("write");
    assert_eq!(load_flows(&path).expect("load").flows.len(), 1);
}

#[test]
fn credentials_file_name_follows_the_flows_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let user = dir.path().join("user");
    let flows = dir.path().join("elsewhere/my.flows.json");
    assert_eq!(
        credentials_path(&flows, &user),
        dir.path().join("elsewhere/my.flows_cred.json")
    );
    fs::create_dir_all(&user).expect("mkdir");
    fs::write(user.join("my.flows_cred.json"), "{}").expect("write");
    assert_eq!(
        credentials_path(&flows, &user),
        user.join("my.flows_cred.json")
    );
    assert_eq!(
        credentials_path(Path::new("/x/flows"), &user),
        Path::new("/x/flows_cred")
    );
}

#[test]
fn a_staged_save_changes_nothing_until_committed_and_nothing_when_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("flows.json");
    let v1 = vec![serde_json::json!({"id": "t1", "type": "tab"})];
    let v2 = vec![serde_json::json!({"id": "t2", "type": "tab"})];
    save_flows(&path, &v1, false).expect("save 1");
    let before = std::fs::read_to_string(&path).expect("read");

    let (staged, _) = stage_flows(&path, &v2, false).expect("stage");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
    drop(staged);
    assert_eq!(std::fs::read_to_string(&path).expect("read"), before);
    assert!(
        !dir.path().join("flows.json.tmp").exists(),
        "temp file removed"
    );

    let (staged, rev) = stage_flows(&path, &v2, false).expect("stage");
    staged.commit().expect("commit");
    assert_eq!(rev, flows_rev(&v2));
    assert_eq!(load_flows(&path).expect("load").flows, v2);
    let backup = dir.path().join(".flows.json.backup");
    assert_eq!(std::fs::read_to_string(backup).expect("backup"), before);
}
