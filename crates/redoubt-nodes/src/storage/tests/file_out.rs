//! `describe('file out Node')`.

use super::{flow, in_dir, path_str, start, warnings};
use crate::testing::Harness;
use redoubt_core::Msg;
use redoubt_core::value::Value;
use serde_json::json;
use std::time::Duration;

/// it('should write to a file')
#[tokio::test]
async fn writes_to_a_file() {
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("test.txt");
    let mut h = start(
        json!({"type":"file","filename":path_str(&f),"filenameType":"str",
        "appendNewline":true,"overwriteFile":true}),
    )
    .await;
    h.send_json("n1", json!({"payload":"test"})).await;
    let m = h.recv_json("out").await;
    assert_eq!(m["payload"], "test");
    assert_eq!(std::fs::read_to_string(&f).expect("test step"), "test\n");
}

/// it('should write to a file using JSONata')
#[tokio::test]
async fn writes_to_a_file_named_by_jsonata() {
    let d = tempfile::tempdir().expect("test step");
    let mut h = start(
        json!({"type":"file","filename":format!("\"{}/\" & payload.name", path_str(d.path())),
        "filenameType":"jsonata","appendNewline":false,"overwriteFile":true}),
    )
    .await;
    h.send_json("n1", json!({"payload":{"name":"j.txt"}})).await;
    h.recv("out").await;
    assert_eq!(
        std::fs::read_to_string(d.path().join("j.txt")).expect("test step"),
        r#"{"name":"j.txt"}"#
    );
}

/// it('should write to a file using RED.settings.fileWorkingDirectory')
#[tokio::test]
async fn writes_relative_to_file_working_directory() {
    let d = tempfile::tempdir().expect("test step");
    let mut h = Harness::start_with(
        flow(
            json!({"type":"file","filename":"rel.txt","filenameType":"str",
            "appendNewline":true,"overwriteFile":true}),
        ),
        in_dir(d.path(), false),
    )
    .await;
    h.send_json("n1", json!({"payload":"test"})).await;
    let m = h.recv_json("out").await;
    assert_eq!(m["filename"], "rel.txt");
    assert_eq!(
        std::fs::read_to_string(d.path().join("rel.txt")).expect("test step"),
        "test\n"
    );
}

/// it('should write multi-byte string to a file')
#[tokio::test]
async fn writes_multibyte_strings() {
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("mb.txt");
    let mut h = start(
        json!({"type":"file","filename":path_str(&f),"filenameType":"str",
        "appendNewline":false,"overwriteFile":true}),
    )
    .await;
    h.send_json("n1", json!({"payload":"試験"})).await;
    h.recv("out").await;
    assert_eq!(std::fs::read_to_string(&f).expect("test step"), "試験");
}

/// it('should append to a file and add newline')
/// it('should append to a file and add newline, except last line of multipart input')
#[tokio::test]
async fn appends_with_newlines_except_after_the_last_part() {
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("a.txt");
    let mut h = start(
        json!({"type":"file","filename":path_str(&f),"filenameType":"str",
        "appendNewline":true,"overwriteFile":false}),
    )
    .await;
    h.send_json("n1", json!({"payload":2012})).await;
    h.send_json("n1", json!({"payload":true})).await;
    h.send_json(
        "n1",
        json!({"payload":"a","parts":{"type":"string","index":0,"count":2}}),
    )
    .await;
    h.send_json(
        "n1",
        json!({"payload":"b","parts":{"type":"string","index":1,"count":2}}),
    )
    .await;
    for _ in 0..4 {
        h.recv("out").await;
    }
    assert_eq!(
        std::fs::read_to_string(&f).expect("test step"),
        "2012\ntrue\na\nb"
    );
}

/// it('should append to a file after it has been deleted ')
/// it('should append to a file after it has been recreated ')
#[tokio::test]
async fn appends_after_the_file_was_deleted_or_recreated() {
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("r.txt");
    let mut h = start(
        json!({"type":"file","filename":path_str(&f),"filenameType":"str",
        "appendNewline":true,"overwriteFile":false}),
    )
    .await;
    h.send_json("n1", json!({"payload":"one"})).await;
    h.recv("out").await;
    std::fs::remove_file(&f).expect("test step");
    h.send_json("n1", json!({"payload":"two"})).await;
    h.recv("out").await;
    assert_eq!(std::fs::read_to_string(&f).expect("test step"), "two\n");
    std::fs::remove_file(&f).expect("test step");
    std::fs::write(&f, "new\n").expect("test step");
    h.send_json("n1", json!({"payload":"three"})).await;
    h.recv("out").await;
    assert_eq!(
        std::fs::read_to_string(&f).expect("test step"),
        "new\nthree\n"
    );
}

/// it('should use msg.filename if filename not set in node')
/// it('should use msg._user_specified_filename set in nodes typedInput')
/// it('should support number in msg._user_specified_filename')
#[tokio::test]
async fn takes_the_filename_from_the_message() {
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("m.txt");
    let mut h = start(json!({"type":"file","appendNewline":true,"overwriteFile":true})).await;
    h.send_json("n1", json!({"payload":"fine","filename":path_str(&f)}))
        .await;
    h.recv("out").await;
    assert_eq!(std::fs::read_to_string(&f).expect("test step"), "fine\n");

    let mut h = Harness::start_with(
        flow(
            json!({"type":"file","filename":"_user_specified_filename","filenameType":"msg",
            "appendNewline":false,"overwriteFile":true}),
        ),
        in_dir(d.path(), false),
    )
    .await;
    h.send_json("n1", json!({"payload":"n","_user_specified_filename":123}))
        .await;
    assert_eq!(h.recv_json("out").await["filename"], "123");
    assert_eq!(
        std::fs::read_to_string(d.path().join("123")).expect("test step"),
        "n"
    );
}

/// it('should use env.TEST_FILE set in nodes typedInput')
#[tokio::test]
async fn takes_the_filename_from_env() {
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("env.txt");
    let mut opts = crate::testing::HarnessOptions::default();
    opts.env.push(("TEST_FILE".into(), path_str(&f)));
    let mut h = Harness::start_with(
        flow(
            json!({"type":"file","filename":"TEST_FILE","filenameType":"env",
            "appendNewline":false,"overwriteFile":true}),
        ),
        opts,
    )
    .await;
    h.send_json("n1", json!({"payload":"e"})).await;
    h.recv("out").await;
    assert_eq!(std::fs::read_to_string(&f).expect("test step"), "e");
}

/// it('should be able to delete the file')
/// it('should cope with failing to delete a file')
#[tokio::test]
async fn deletes_the_file_and_reports_failures() {
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("del.txt");
    std::fs::write(&f, "x").expect("test step");
    let mut h = start(
        json!({"type":"file","filename":path_str(&f),"filenameType":"str",
        "overwriteFile":"delete"}),
    )
    .await;
    h.send_json("n1", json!({"payload":"x"})).await;
    h.recv("out").await;
    assert!(!f.exists());
    h.send_json("n1", json!({"payload":"x"})).await;
    let c = h.recv_json("caught").await;
    let text = c["error"]["message"].as_str().expect("test step");
    assert!(
        text.starts_with("failed to delete file: Error: ENOENT"),
        "{text}"
    );
}

/// it('should warn if filename not set')
/// it('ignore a missing payload')
#[tokio::test]
async fn warns_without_filename_and_ignores_missing_payload() {
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("none.txt");
    let mut h = start(json!({"type":"file","appendNewline":true,"overwriteFile":false})).await;
    h.send_json("n1", json!({"payload":"nofile"})).await;
    assert!(h.nothing("out", Duration::from_millis(100)).await);
    assert_eq!(warnings(&mut h), vec!["No filename specified".to_string()]);

    let mut h = start(
        json!({"type":"file","filename":path_str(&f),"filenameType":"str",
        "overwriteFile":false}),
    )
    .await;
    h.send_json("n1", json!({"topic":"test"})).await;
    assert!(h.nothing("out", Duration::from_millis(100)).await);
    assert!(!f.exists());
}

/// it('should fail to write to a ro file')
/// it('should fail to append to a ro file')
#[tokio::test]
async fn fails_on_a_directory_in_place_of_the_file() {
    // Tests may run as root, which ignores file modes: a directory cannot be
    // opened for writing by anyone.
    let d = tempfile::tempdir().expect("test step");
    for (action, text) in [
        (true, "failed to write to file: Error: EISDIR"),
        (false, "failed to append to file: Error: EISDIR"),
    ] {
        let mut h = start(
            json!({"type":"file","filename":path_str(d.path()),"filenameType":"str",
            "overwriteFile":action}),
        )
        .await;
        h.send_json("n1", json!({"payload":"x"})).await;
        let c = h.recv_json("caught").await;
        assert!(
            c["error"]["message"]
                .as_str()
                .expect("test step")
                .starts_with(text),
            "{c}"
        );
        assert!(h.nothing("out", Duration::from_millis(50)).await);
    }
}

/// it('should fail to create a new directory if not asked to do so (append)')
/// it('should try to create a new directory if asked to do so (append)')
/// it('should fail to create a new directory if not asked to do so (overwrite)')
/// it('should try to create a new directory if asked to do so (overwrite)')
#[tokio::test]
async fn creates_directories_only_when_asked() {
    let d = tempfile::tempdir().expect("test step");
    for overwrite in [true, false] {
        let f = d
            .path()
            .join(format!("new{overwrite}"))
            .join("sub")
            .join("f.txt");
        let mut h = start(
            json!({"type":"file","filename":path_str(&f),"filenameType":"str",
            "overwriteFile":overwrite,"createDir":false}),
        )
        .await;
        h.send_json("n1", json!({"payload":"x"})).await;
        let c = h.recv_json("caught").await;
        assert!(
            c["error"]["message"]
                .as_str()
                .expect("test step")
                .contains("ENOENT"),
            "{c}"
        );
        let mut h = start(
            json!({"type":"file","filename":path_str(&f),"filenameType":"str",
            "overwriteFile":overwrite,"createDir":true}),
        )
        .await;
        h.send_json("n1", json!({"payload":"x"})).await;
        h.recv("out").await;
        assert_eq!(std::fs::read_to_string(&f).expect("test step"), "x");
    }
}

/// it('should write to multiple files')
#[tokio::test]
async fn writes_to_multiple_files_in_order() {
    let d = tempfile::tempdir().expect("test step");
    let mut h = start(
        json!({"type":"file","filename":"filename","filenameType":"msg",
        "appendNewline":false,"overwriteFile":false}),
    )
    .await;
    for i in 0..20 {
        let f = d.path().join(format!("f{}.txt", i % 3));
        h.send_json(
            "n1",
            json!({"payload":format!("{i},"),"filename":path_str(&f)}),
        )
        .await;
    }
    for _ in 0..20 {
        h.recv("out").await;
    }
    assert_eq!(
        std::fs::read_to_string(d.path().join("f0.txt")).expect("test step"),
        "0,3,6,9,12,15,18,"
    );
    assert_eq!(
        std::fs::read_to_string(d.path().join("f2.txt")).expect("test step"),
        "2,5,8,11,14,17,"
    );
}

/// it('should write to a file with "…" encoding') for Node's own encodings,
/// a Japanese and a Chinese code page, and `setbymsg`.
#[tokio::test]
async fn writes_with_encodings() {
    let d = tempfile::tempdir().expect("test step");
    let cases: [(&str, &str, &[u8]); 6] = [
        ("none", "test", b"test"),
        ("ucs2", "test", b"t\0e\0s\0t\0"),
        ("base64", "dGVzdA==", b"test"),
        ("hex", "74657374", b"test"),
        ("Shift_JIS", "テスト", &[0x83, 0x65, 0x83, 0x58, 0x83, 0x67]),
        ("GBK", "测试", &[0xb2, 0xe2, 0xca, 0xd4]),
    ];
    for (enc, data, bytes) in cases {
        let f = d.path().join(format!("{enc}.txt"));
        let mut h = start(
            json!({"type":"file","filename":path_str(&f),"filenameType":"str",
            "appendNewline":false,"overwriteFile":true,"encoding":enc}),
        )
        .await;
        h.send_json("n1", json!({"payload":data})).await;
        assert_eq!(h.recv_json("out").await["payload"], data);
        assert_eq!(std::fs::read(&f).expect("test step"), bytes, "{enc}");
    }
    let f = d.path().join("bymsg.txt");
    let mut h = start(
        json!({"type":"file","filename":path_str(&f),"filenameType":"str",
        "appendNewline":false,"overwriteFile":true,"encoding":"setbymsg"}),
    )
    .await;
    h.send_json("n1", json!({"payload":"test","encoding":"utf16le"}))
        .await;
    h.recv("out").await;
    assert_eq!(std::fs::read(&f).expect("test step"), b"t\0e\0s\0t\0");
}

/// Buffers are written as they are, without a newline.
#[tokio::test]
async fn writes_buffers_verbatim() {
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("b.bin");
    let mut h = start(
        json!({"type":"file","filename":path_str(&f),"filenameType":"str",
        "appendNewline":true,"overwriteFile":true}),
    )
    .await;
    h.send(
        "n1",
        Msg::with_payload(Value::Buffer(vec![0u8, 255, 10].into())),
    )
    .await;
    h.recv("out").await;
    assert_eq!(std::fs::read(&f).expect("test step"), [0u8, 255, 10]);
}

/// redoubt: with `fileRestrictToWorkingDirectory`, a message cannot make
/// the node write outside `fileWorkingDirectory`.
#[tokio::test]
async fn restriction_rejects_paths_outside_the_working_directory() {
    let root = tempfile::tempdir().expect("test step");
    let outside = tempfile::tempdir().expect("test step");
    let mut h = Harness::start_with(
        flow(
            json!({"type":"file","filename":"filename","filenameType":"msg",
            "appendNewline":false,"overwriteFile":true,"createDir":true}),
        ),
        in_dir(root.path(), true),
    )
    .await;
    h.send_json("n1", json!({"payload":"ok","filename":"sub/in.txt"}))
        .await;
    h.recv("out").await;
    assert_eq!(
        std::fs::read_to_string(root.path().join("sub/in.txt")).expect("test step"),
        "ok"
    );
    let escape = outside.path().join("x.txt");
    for name in [
        path_str(&escape),
        "../escape.txt".to_string(),
        "sub/../../up.txt".to_string(),
    ] {
        h.send_json("n1", json!({"payload":"bad","filename":name}))
            .await;
        let c = h.recv_json("caught").await;
        let text = c["error"]["message"].as_str().expect("test step");
        assert!(
            text.contains("node n1") && text.contains(&name) && text.contains("outside"),
            "{text}"
        );
    }
    assert!(!escape.exists());
    assert!(
        !root
            .path()
            .parent()
            .expect("test step")
            .join("escape.txt")
            .exists()
    );
}
