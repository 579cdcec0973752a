//! `describe('file in Node')`.

use super::{flow, in_dir, path_str, start, warnings};
use crate::testing::Harness;
use redoubt_core::value::Value;
use serde_json::json;
use std::time::Duration;

const TEXT: &str = "File message line 1\nFile message line 2\n";

fn fixture() -> (tempfile::TempDir, String) {
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("in.txt");
    std::fs::write(&f, TEXT).expect("test step");
    let s = path_str(&f);
    (d, s)
}

/// it('should read in a file and output a buffer')
#[tokio::test]
async fn reads_a_buffer() {
    let (_d, f) = fixture();
    let mut h =
        start(json!({"type":"file in","filename":f,"filenameType":"str","format":""})).await;
    h.send_json("n1", json!({"payload":""})).await;
    let m = h.recv("out").await;
    let Value::Buffer(b) = m.payload() else {
        panic!("not a buffer")
    };
    assert_eq!(b.len(), 40);
    assert_eq!(
        m.get("filename").expect("test step").as_str(),
        Some(f.as_str())
    );
}

/// it('should read in a file and output a utf8 string')
/// it('should read in a file ending in cr and output a utf8 string')
#[tokio::test]
async fn reads_a_utf8_string() {
    let (d, f) = fixture();
    let mut h =
        start(json!({"type":"file in","filename":f,"filenameType":"str","format":"utf8"})).await;
    h.send_json("n1", json!({"payload":""})).await;
    assert_eq!(h.recv_json("out").await["payload"], TEXT);
    let cr = d.path().join("cr.txt");
    std::fs::write(&cr, "Text\r").expect("test step");
    let mut h = start(
        json!({"type":"file in","filename":path_str(&cr),"filenameType":"str","format":"utf8"}),
    )
    .await;
    h.send_json("n1", json!({"payload":""})).await;
    assert_eq!(h.recv_json("out").await["payload"], "Text\r");
}

/// it('should read in a file using JSONata and output a utf8 string')
/// it('should read in a file using fileWorkingDirectory to set cwd')
#[tokio::test]
async fn names_the_file_with_jsonata_relative_to_the_working_directory() {
    let (d, _f) = fixture();
    let mut h = Harness::start_with(
        flow(json!({"type":"file in","filename":"\"in\" & \".txt\"","filenameType":"jsonata","format":"utf8"})),
        in_dir(d.path(), false),
    )
    .await;
    h.send_json("n1", json!({"payload":""})).await;
    let m = h.recv_json("out").await;
    assert_eq!(m["payload"], TEXT);
    assert_eq!(m["filename"], "in.txt");
}

/// it('should read in a file and output split lines with parts')
/// it('should read in a file and output split lines with parts and extra props')
#[tokio::test]
async fn splits_lines_with_parts() {
    let (_d, f) = fixture();
    for all in [false, true] {
        let mut h = start(json!({"type":"file in","filename":f,"filenameType":"str",
            "format":"lines","allProps":all}))
        .await;
        h.send_json("n1", json!({"payload":"","topic":"A","foo":"bar"}))
            .await;
        let lines = ["File message line 1", "File message line 2", ""];
        for (i, line) in lines.iter().enumerate() {
            let m = h.recv_json("out").await;
            assert_eq!(m["payload"], *line);
            assert_eq!(m["topic"], "A");
            assert_eq!(m.get("foo").is_some(), all);
            assert_eq!(m["parts"]["index"], i);
            assert_eq!(m["parts"]["type"], "string");
            assert_eq!(m["parts"]["ch"], "\n");
            assert_eq!(m["parts"].get("count").is_some(), i == 2);
        }
    }
}

/// it('should read in a file with empty line and output split lines with parts')
#[tokio::test]
async fn keeps_empty_lines() {
    let d = tempfile::tempdir().expect("test step");
    let f = d.path().join("e.txt");
    std::fs::write(&f, "-\n\n-\n").expect("test step");
    let mut h = start(
        json!({"type":"file in","filename":path_str(&f),"filenameType":"str","format":"lines"}),
    )
    .await;
    h.send_json("n1", json!({"payload":""})).await;
    for (i, want) in ["-", "", "-", ""].iter().enumerate() {
        let m = h.recv_json("out").await;
        assert_eq!(m["payload"], *want);
        assert_eq!(m["parts"]["index"], i);
    }
}

/// it('should read in a file and output a buffer with parts')
/// and a file of exactly one chunk, which Node-RED closes with an empty message.
#[tokio::test]
async fn streams_buffers_with_parts() {
    let (d, f) = fixture();
    let mut h =
        start(json!({"type":"file in","filename":f,"filenameType":"str","format":"stream"})).await;
    h.send_json("n1", json!({"payload":""})).await;
    let m = h.recv_json("out").await;
    assert_eq!(
        m["payload"]["data"].as_array().expect("test step").len(),
        40
    );
    assert_eq!(
        m["parts"],
        json!({"index":0,"count":1,"ch":"","type":"buffer","id":m["parts"]["id"]})
    );

    let big = d.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 2 * 65536]).expect("test step");
    let mut h = start(
        json!({"type":"file in","filename":path_str(&big),"filenameType":"str","format":"stream"}),
    )
    .await;
    h.send_json("n1", json!({"payload":""})).await;
    for i in 0..2 {
        let m = h.recv_json("out").await;
        assert_eq!(
            m["payload"]["data"].as_array().expect("test step").len(),
            65536
        );
        assert_eq!(m["parts"]["index"], i);
        assert!(m["parts"].get("count").is_none());
    }
    let end = h.recv_json("out").await;
    assert!(end.get("payload").is_none());
    assert_eq!(end["parts"]["index"], 2);
    assert_eq!(end["parts"]["count"], 2);
}

/// Not in Node-RED: while the engine's backlog is full, no chunk or line is
/// sent (a large file is not queued whole); once there is room, all are, in
/// order.
#[tokio::test]
async fn waits_for_room_before_each_chunk_and_line() {
    let d = tempfile::tempdir().expect("test step");
    let big = d.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 3 * 65536 + 10]).expect("test step");
    let lines = d.path().join("lines.txt");
    std::fs::write(&lines, "a\nb\nc").expect("test step");
    for (format, file, want) in [("stream", &big, 4), ("lines", &lines, 3)] {
        let mut h = start(json!({"type":"file in","filename":path_str(file),
            "filenameType":"str","format":format}))
        .await;
        let full = h.fill_backlog();
        h.send_json("n1", json!({"payload":""})).await;
        assert!(
            h.nothing("out", Duration::from_millis(300)).await,
            "{format}: sent while the backlog was full"
        );
        drop(full);
        for i in 0..want {
            let m = h.recv_json("out").await;
            assert_eq!(m["parts"]["index"], i, "{format}");
        }
        assert!(h.nothing("out", Duration::from_millis(100)).await);
        h.stop().await;
    }
}

/// it('should warn if no filename set')
#[tokio::test]
async fn warns_without_filename() {
    let mut h = start(json!({"type":"file in","format":""})).await;
    h.send_json("n1", json!({})).await;
    assert!(h.nothing("out", Duration::from_millis(100)).await);
    assert_eq!(warnings(&mut h), vec!["No filename specified".to_string()]);
}

/// it('should handle a file read error')
#[tokio::test]
async fn sends_read_errors() {
    let mut h = start(json!({"type":"file in","filename":"/nonexistent/badfile","filenameType":"str","format":""})).await;
    h.send_json("n1", json!({"payload":""})).await;
    let m = h.recv_json("out").await;
    assert!(m.get("payload").is_none());
    assert_eq!(m["error"]["code"], "ENOENT");
    let c = h.recv_json("caught").await;
    assert!(
        c["error"]["message"]
            .as_str()
            .expect("test step")
            .starts_with("Error")
    );

    let mut h = start(
        json!({"type":"file in","filename":"/nonexistent/badfile","filenameType":"str",
        "format":"","sendError":false}),
    )
    .await;
    h.send_json("n1", json!({"payload":""})).await;
    h.recv("caught").await;
    assert!(h.nothing("out", Duration::from_millis(50)).await);
}

/// it('should read in a file with "…" encoding'), a sample.
#[tokio::test]
async fn reads_with_encodings() {
    let d = tempfile::tempdir().expect("test step");
    let cases: [(&str, &[u8], &str); 4] = [
        ("utf16le", b"t\0e\0s\0t\0", "test"),
        ("base64", b"test", "dGVzdA=="),
        ("Shift_JIS", &[0x83, 0x65, 0x83, 0x58, 0x83, 0x67], "テスト"),
        ("cp1251", &[0xcf, 0xf0, 0xe8], "При"),
    ];
    for (enc, bytes, want) in cases {
        let f = d.path().join(format!("{enc}.txt"));
        std::fs::write(&f, bytes).expect("test step");
        let mut h = start(
            json!({"type":"file in","filename":path_str(&f),"filenameType":"str",
            "format":"utf8","encoding":enc}),
        )
        .await;
        h.send_json("n1", json!({"payload":""})).await;
        assert_eq!(h.recv_json("out").await["payload"], want, "{enc}");
    }
}

/// redoubt: the restriction also guards reads.
#[tokio::test]
async fn restriction_rejects_reading_outside() {
    let (d, _f) = fixture();
    let mut h = Harness::start_with(
        flow(json!({"type":"file in","filename":"filename","filenameType":"msg","format":"utf8"})),
        in_dir(d.path(), true),
    )
    .await;
    h.send_json("n1", json!({"filename":"in.txt"})).await;
    assert_eq!(h.recv_json("out").await["payload"], TEXT);
    h.send_json("n1", json!({"filename":"/etc/hostname"})).await;
    let c = h.recv_json("caught").await;
    assert!(
        c["error"]["message"]
            .as_str()
            .expect("test step")
            .contains("outside")
    );
}
