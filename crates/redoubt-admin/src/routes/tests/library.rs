//! `/library/...`, including path-escape attempts.

use super::Fixture;
use axum::http::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn flows_are_saved_listed_and_read_back() {
    let f = Fixture::start(json!([])).await;
    assert_eq!(f.get_json("/library/local/flows").await, json!([]));
    assert_eq!(f.get_json("/library/local/flows/").await, json!([]));
    let flow = json!([{"id": "n1", "type": "comment"}]);
    let (s, _) = f
        .json("POST", "/library/local/flows/dir/my%20flow", &[], &flow)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(f.path("lib/flows/dir/my flow.json").is_file());
    assert_eq!(f.get_json("/library/local/flows").await, json!(["dir"]));
    assert_eq!(
        f.get_json("/library/local/flows/dir").await,
        json!([{"fn": "my flow.json"}])
    );
    let (s, ct, b) = f.get("/library/local/flows/dir/my%20flow", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ct, "application/json");
    assert_eq!(
        serde_json::from_slice::<Value>(&b).unwrap_or_default(),
        flow
    );
    let (s, _, _) = f.get("/library/local/flows/dir/nothing", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(f.get_json("/library/local/flows/nothing/").await, json!([]));
}

#[tokio::test]
async fn functions_keep_their_meta_lines() {
    let f = Fixture::start(json!([])).await;
    let body = json!({"name": "double", "outputs": 1, "info": "line one\nline two", "text": "msg.payload *= 2;\nreturn msg;"});
    let (s, _) = f
        .json(
            "POST",
            "/library/local/functions/math/double.js",
            &[],
            &body,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        f.read_file("lib/functions/math/double.js"),
        "// name: double\n// outputs: 1\n// info: line one\\nline two\nmsg.payload *= 2;\nreturn msg;"
    );
    assert_eq!(
        f.get_json("/library/local/functions/math").await,
        json!([{"name": "double", "outputs": "1", "info": "line one\nline two", "fn": "double.js"}])
    );
    let (s, ct, b) = f.get("/library/local/functions/math/double.js", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("text/plain"), "{ct}");
    assert_eq!(
        String::from_utf8_lossy(&b),
        "msg.payload *= 2;\nreturn msg;"
    );
}

#[tokio::test]
async fn unknown_libraries_and_types_are_refused() {
    let f = Fixture::start(json!([])).await;
    let (s, _, _) = f.get("/library/remote/flows", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, b) = f.get("/library/local/secrets", &[]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_slice::<Value>(&b).unwrap_or_default()["code"],
        json!("unknown_type")
    );
    let (s, _) = f
        .raw("POST", "/library/local/flows/x", Some("text/plain"), "[]")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn paths_cannot_escape_the_library() {
    let f = Fixture::start(json!([])).await;
    std::fs::write(f.path("secret.txt"), "top secret").unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(f.path("lib/functions")).unwrap_or_else(|e| panic!("{e}"));
    for uri in [
        "/library/local/functions/..%2F..%2Fsecret.txt",
        "/library/local/functions/../../secret.txt",
        "/library/local/functions/%2Fetc%2Fpasswd",
        "/library/local/functions/a%00b",
        "/library/local/functions/..%5C..%5Csecret.txt",
        "/library/local/functions/.",
    ] {
        let (s, _, b) = f.get(uri, &[]).await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "GET {uri}: {}",
            String::from_utf8_lossy(&b)
        );
        assert!(!String::from_utf8_lossy(&b).contains("top secret"));
        let (s, _) = f.json("POST", uri, &[], &json!({"text": "pwned"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "POST {uri}");
    }
    let (s, _) = f
        .json(
            "POST",
            "/library/local/flows/..%2F..%2Fevil",
            &[],
            &json!([]),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(!f.path("evil.json").exists());
    assert_eq!(f.read_file("secret.txt"), "top secret");
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_out_of_the_library_are_refused() {
    let f = Fixture::start(json!([])).await;
    let outside = f.path("outside");
    std::fs::create_dir_all(&outside).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(outside.join("x.js"), "outside").unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(f.path("lib/functions")).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(&outside, f.path("lib/functions/link"))
        .unwrap_or_else(|e| panic!("{e}"));
    let (s, _, _) = f.get("/library/local/functions/link/x.js", &[]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = f
        .json(
            "POST",
            "/library/local/functions/link/y.js",
            &[],
            &json!({"text": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(!outside.join("y.js").exists());
}
