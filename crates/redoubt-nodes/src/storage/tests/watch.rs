//! `describe('watch Node')`, touching real files (events arrive from the
//! OS, after node-watch's 200 ms merge window).

use super::flow;
use crate::testing::Harness;
use serde_json::{Value as Json, json};
use std::path::Path;

fn s(p: &Path) -> String {
    p.to_str().expect("test step").to_string()
}

async fn watching(files: &str, recursive: bool) -> Harness {
    let h = Harness::start(flow(
        json!({"type":"watch","files":files,"recursive":recursive}),
    ))
    .await;
    // The watch is registered when start() returns; nothing to wait for.
    h
}

fn check(m: &Json, path: &Path, event: &str, kind: &str) {
    assert_eq!(m["payload"], s(path));
    assert_eq!(m["filename"], s(path));
    assert_eq!(
        m["file"],
        path.file_name()
            .expect("test step")
            .to_str()
            .expect("test step")
    );
    assert_eq!(m["event"], event);
    assert_eq!(m["type"], kind);
}

/// it('should watch a file to be changed')
#[tokio::test]
async fn watches_a_file() {
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("file.txt");
    std::fs::write(&f, "x").expect("test step");
    let mut h = watching(&s(&f), false).await;
    std::fs::write(&f, "hello").expect("test step");
    let m = h.recv_json("out").await;
    check(&m, &f, "update", "file");
    assert_eq!(m["size"], 5);
    assert_eq!(m["topic"], s(&f));
    std::fs::remove_file(&f).expect("test step");
    let m = h.recv_json("out").await;
    check(&m, &f, "remove", "none");
}

/// it('should watch multiple files to be changed')
#[tokio::test]
async fn watches_multiple_files() {
    let d = tempfile::tempdir().expect("test step");
    let (a, b) = (d.path().join("a.txt"), d.path().join("b.txt"));
    std::fs::write(&a, "").expect("test step");
    std::fs::write(&b, "").expect("test step");
    let mut h = watching(&format!("{}, {}", s(&a), s(&b)), false).await;
    std::fs::write(&a, "1").expect("test step");
    let m = h.recv_json("out").await;
    check(&m, &a, "update", "file");
    assert_eq!(
        m["topic"],
        serde_json::to_string(&[s(&a), s(&b)]).expect("test step")
    );
    std::fs::write(&b, "22").expect("test step");
    let m = h.recv_json("out").await;
    check(&m, &b, "update", "file");
    assert_eq!(m["size"], 2);
}

/// it('should watch attribute of a file to be changed')
#[tokio::test]
async fn watches_attribute_changes() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("attr.txt");
    std::fs::write(&f, "x").expect("test step");
    let mut h = watching(&s(&f), false).await;
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).expect("test step");
    check(&h.recv_json("out").await, &f, "update", "file");
}

/// it('should watch a file in a directory to be changed')
#[tokio::test]
async fn watches_files_in_a_directory() {
    let d = tempfile::tempdir().expect("test step");
    let mut h = watching(&s(d.path()), false).await;
    let f = d.path().join("new.txt");
    std::fs::write(&f, "abc").expect("test step");
    let m = h.recv_json("out").await;
    check(&m, &f, "update", "file");
    assert_eq!(m["size"], 3);
}

/// it('should watch a sub directory in a directory to be changed')
/// (recursive: a file inside a sub directory)
#[tokio::test]
async fn watches_sub_directories_recursively() {
    let d = tempfile::tempdir().expect("test step");
    let sub = d.path().join("sub");
    std::fs::create_dir(&sub).expect("test step");
    let mut h = watching(&s(d.path()), true).await;
    let f = sub.join("deep.txt");
    std::fs::write(&f, "x").expect("test step");
    check(&h.recv_json("out").await, &f, "update", "file");

    // Not recursive: changes inside the sub directory are not seen, those
    // directly in the watched directory are.
    let d2 = tempfile::tempdir().expect("test step");
    let sub2 = d2.path().join("sub");
    std::fs::create_dir(&sub2).expect("test step");
    let mut h = watching(&s(d2.path()), false).await;
    std::fs::write(sub2.join("deep.txt"), "x").expect("test step");
    let top = d2.path().join("top.txt");
    std::fs::write(&top, "x").expect("test step");
    check(&h.recv_json("out").await, &top, "update", "file");
    assert!(
        h.nothing("out", std::time::Duration::from_millis(400))
            .await
    );
}

/// A path that does not exist is reported as an error.
#[tokio::test]
async fn reports_missing_paths() {
    let mut h = Harness::start(json!([
        {"id":"n1","type":"watch","files":"/nonexistent/redoubt-watch","recursive":false,"wires":[[]]},
        {"id":"c","type":"catch","scope":null,"wires":[["caught"]]},
        {"id":"caught","type":"helper"}
    ]))
    .await;
    let c = h.recv_json("caught").await;
    assert!(
        c["error"]["message"]
            .as_str()
            .expect("test step")
            .contains("/nonexistent/redoubt-watch"),
        "{c}"
    );
}
