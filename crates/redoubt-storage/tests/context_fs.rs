//! `localfilesystem` context store: Node-RED's layout and format on disk.

use redoubt_core::context::ContextStore;
use redoubt_core::value::{Object, Value, from_json_str, to_json};
use redoubt_storage::StorageError;
use redoubt_storage::context_fs::{LocalFileSystemConfig, LocalFileSystemStore};
use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn json(v: &Option<Value>) -> String {
    v.as_ref()
        .map(|v| to_json(v).expect("json"))
        .unwrap_or_else(|| "undefined".into())
}

fn val(text: &str) -> Option<Value> {
    Some(from_json_str(text).expect("json"))
}

fn open(user_dir: &Path) -> LocalFileSystemStore {
    LocalFileSystemStore::open(&LocalFileSystemConfig::new(user_dir)).expect("open")
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).expect("read")
}

#[test]
fn values_persist_across_restart_in_node_red_layout() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let store = open(dir.path());
        store.set("global", "count", val("3")).expect("set");
        store
            .set("f1", "list", val(r#"[1,"a",{"b":null}]"#))
            .expect("set");
        store
            .set("n1:f1", "obj", val(r#"{"z":1,"a":2}"#))
            .expect("set");
        store.set("n1:f1", "first", val("true")).expect("set");
        assert!(
            !dir.path().join("context/global/global.json").exists(),
            "cached until flushed"
        );
        store.flush().expect("flush");
    }
    let ctx = dir.path().join("context");
    assert_eq!(
        read(&ctx.join("global/global.json")),
        "{\n    \"count\": 3\n}"
    );
    assert_eq!(
        read(&ctx.join("f1/flow.json")),
        "{\n    \"list\": [\n        1,\n        \"a\",\n        {\n            \"b\": null\n        }\n    ]\n}"
    );
    assert_eq!(
        read(&ctx.join("f1/n1.json")),
        "{\n    \"obj\": {\n        \"z\": 1,\n        \"a\": 2\n    },\n    \"first\": true\n}"
    );
    let names: Vec<_> = fs::read_dir(ctx.join("f1"))
        .expect("dir")
        .map(|e| e.expect("e").file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temp files left: {names:?}");

    let store = open(dir.path());
    assert_eq!(json(&store.get("global", "count").expect("get")), "3");
    assert_eq!(
        json(&store.get("n1:f1", "obj").expect("get")),
        r#"{"z":1,"a":2}"#
    );
    assert_eq!(store.keys("n1:f1").expect("keys"), ["obj", "first"]);
    assert_eq!(store.scopes().expect("scopes"), ["f1", "global", "n1:f1"]);
    assert_eq!(json(&store.get("f2", "nothing").expect("get")), "undefined");
}

#[test]
fn drop_flushes_pending_changes() {
    let dir = tempfile::tempdir().expect("tmp");
    open(dir.path())
        .set("global", "k", val(r#""v""#))
        .expect("set");
    assert_eq!(
        json(&open(dir.path()).get("global", "k").expect("get")),
        r#""v""#
    );
}

#[test]
fn loads_files_written_by_node_red() {
    let dir = tempfile::tempdir().expect("tmp");
    let ctx = dir.path().join("context");
    fs::create_dir_all(ctx.join("global")).expect("mkdir");
    fs::create_dir_all(ctx.join("d1a2b3c4e5f60718")).expect("mkdir");
    fs::create_dir_all(ctx.join(".hidden")).expect("mkdir");
    // Exactly as Node-RED 4 writes them: JSON.stringify(data, null, 4), no trailing newline.
    fs::write(ctx.join("global/global.json"), "{\n    \"greeting\": \"héllo\",\n    \"buf\": {\n        \"type\": \"Buffer\",\n        \"data\": [\n            1,\n            2\n        ]\n    },\n    \"n\": 1.5\n}").expect("w");
    fs::write(
        ctx.join("d1a2b3c4e5f60718/flow.json"),
        "{\n    \"count\": 42\n}",
    )
    .expect("w");
    fs::write(
        ctx.join("d1a2b3c4e5f60718/8f7e6d5c4b3a2910.json"),
        "{\n    \"state\": {\n        \"on\": true\n    }\n}",
    )
    .expect("w");
    fs::write(
        ctx.join("d1a2b3c4e5f60718/8f7e6d5c4b3a2910.json.1700000000000.tmp"),
        "{bad",
    )
    .expect("w");
    fs::write(ctx.join("d1a2b3c4e5f60718/notes.txt"), "ignored").expect("w");
    fs::write(ctx.join("d1a2b3c4e5f60718/.swap.json"), "{bad").expect("w");
    fs::write(ctx.join(".hidden/flow.json"), "{bad").expect("w");
    fs::write(ctx.join("README"), "ignored").expect("w");

    let store = open(dir.path());
    assert_eq!(
        json(&store.get("global", "greeting").expect("get")),
        r#""héllo""#
    );
    assert_eq!(json(&store.get("global", "n").expect("get")), "1.5");
    assert_eq!(
        json(&store.get("d1a2b3c4e5f60718", "count").expect("get")),
        "42"
    );
    assert_eq!(
        json(
            &store
                .get("8f7e6d5c4b3a2910:d1a2b3c4e5f60718", "state")
                .expect("get")
        ),
        r#"{"on":true}"#
    );
    assert_eq!(
        store.scopes().expect("scopes"),
        [
            "8f7e6d5c4b3a2910:d1a2b3c4e5f60718",
            "d1a2b3c4e5f60718",
            "global"
        ]
    );
}

#[test]
fn invalid_context_file_fails_open_and_is_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("context/f1/flow.json");
    fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    fs::write(&file, "{\"a\":").expect("w");
    match LocalFileSystemStore::open(&LocalFileSystemConfig::new(dir.path())) {
        Err(StorageError::Json { path, .. }) => assert_eq!(path, file),
        Err(e) => panic!("unexpected {e}"),
        Ok(_) => panic!("must fail"),
    }
    assert_eq!(read(&file), "{\"a\":");
}

#[test]
fn deleting_a_scope_removes_its_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = open(dir.path());
    store.set("n1:f1", "a", val("1")).expect("set");
    store.set("f1", "b", val("2")).expect("set");
    store.flush().expect("flush");
    let node_file = dir.path().join("context/f1/n1.json");
    assert!(node_file.exists());
    store.delete_scope("n1:f1").expect("delete");
    assert!(!node_file.exists());
    assert!(dir.path().join("context/f1/flow.json").exists());
    assert_eq!(store.keys("n1:f1").expect("keys"), Vec::<String>::new());
    drop(store);
    assert!(!node_file.exists(), "not resurrected by the final flush");
    assert_eq!(open(dir.path()).scopes().expect("scopes"), ["f1"]);
}

#[test]
fn deleting_keys_and_empty_scopes_write_empty_objects() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = open(dir.path());
    store.set("global", "a", val("1")).expect("set");
    store.flush().expect("flush");
    store.set("global", "a", None).expect("unset");
    store.flush().expect("flush");
    assert_eq!(read(&dir.path().join("context/global/global.json")), "{}");
}

#[test]
fn circular_values_are_saved_without_the_cycle() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = open(dir.path());
    let o = Object::new();
    o.insert("name", Value::str("x"));
    o.insert("self", Value::Object(o.clone()));
    store
        .set("global", "o", Some(Value::Object(o)))
        .expect("set");
    store.flush().expect("flush");
    assert_eq!(
        read(&dir.path().join("context/global/global.json")),
        "{\n    \"o\": {\n        \"name\": \"x\"\n    }\n}"
    );
}

#[test]
fn uncached_store_reads_and_writes_files_directly() {
    let dir = tempfile::tempdir().expect("tmp");
    let other = dir.path().join("elsewhere");
    let config = LocalFileSystemConfig::from_settings(
        dir.path(),
        &serde_json::json!({"cache": false, "dir": other, "base": "ctx", "flushInterval": 5}),
    );
    assert_eq!(config.flush_interval, Duration::from_secs(5));
    let store = LocalFileSystemStore::open(&config).expect("open");
    store.set("f1", "a", val("1")).expect("set");
    store.set("f1", "b", val(r#"{"c":[true]}"#)).expect("set");
    let file = other.join("ctx/f1/flow.json");
    assert_eq!(
        read(&file),
        "{\n    \"a\": 1,\n    \"b\": {\n        \"c\": [\n            true\n        ]\n    }\n}"
    );
    fs::write(&file, "{\"a\":\"changed outside\"}").expect("w");
    assert_eq!(
        json(&store.get("f1", "a").expect("get")),
        r#""changed outside""#
    );
    assert_eq!(store.keys("f1").expect("keys"), ["a"]);
    assert_eq!(store.scopes().expect("scopes"), ["f1"]);
    store.delete_scope("f1").expect("delete");
    assert!(!file.exists());
}

#[test]
fn scopes_that_would_escape_the_directory_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = open(dir.path());
    assert!(store.set("../evil", "a", val("1")).is_err());
    assert!(store.set("n1:../x", "a", val("1")).is_err());
}

#[test]
fn clean_drops_context_of_removed_flows_and_nodes() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = open(dir.path());
    for scope in ["global", "f1", "n1:f1", "n2:f1", "f2", "n3:f2"] {
        store.set(scope, "k", val("1")).expect("set");
    }
    store.flush().expect("flush");
    let active: HashSet<String> = ["f1", "n1"].into_iter().map(String::from).collect();
    store.clean(&active).expect("clean");
    assert_eq!(store.scopes().expect("scopes"), ["f1", "global", "n1:f1"]);
    drop(store);
    assert_eq!(
        open(dir.path()).scopes().expect("scopes"),
        ["f1", "global", "n1:f1"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flusher_writes_after_the_interval() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(open(dir.path()));
    let task = store.spawn_flusher(Duration::from_millis(50));
    store.set("global", "a", val("1")).expect("set");
    let file = dir.path().join("context/global/global.json");
    let mut waited = 0;
    while !file.exists() && waited < 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    assert_eq!(read(&file), "{\n    \"a\": 1\n}");
    drop(store);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("flusher ends")
        .expect("join");
}
