//! `/inject/:id` and `/debug/...`.

use super::{Fixture, next_debug, two_tabs};
use axum::http::StatusCode;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn inject_button_fires_the_node() {
    let f = Fixture::start(two_tabs()).await;
    let mut rx = f.state.engine().events();
    let (s, body) = f.raw("POST", "/inject/i1", None, "").await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "OK"));
    let d = next_debug(&mut rx, "d1").await.unwrap_or_default();
    assert_eq!(d["msg"], json!("hello"));
    let (s, _) = f.json("POST", "/inject/i2", &[], &json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        next_debug(&mut rx, "d2").await.unwrap_or_default()["msg"],
        json!(2)
    );
    let (s, body) = f.raw("POST", "/inject/nope", None, "").await;
    assert_eq!((s, body.as_str()), (StatusCode::NOT_FOUND, "Not Found"));
}

#[tokio::test]
async fn debug_nodes_can_be_muted_one_by_one() {
    let f = Fixture::start(two_tabs()).await;
    let mut rx = f.state.engine().events();
    let (s, body) = f.raw("POST", "/debug/d1/disable", None, "").await;
    assert_eq!((s, body.as_str()), (StatusCode::CREATED, "Created"));
    assert!(f.state.engine().input("i1", redoubt_core::Msg::new()).await);
    let quiet = tokio::time::timeout(Duration::from_millis(200), next_debug(&mut rx, "d1")).await;
    assert!(
        quiet.is_err() || quiet.is_ok_and(|d| d.is_none()),
        "a muted debug node produced output"
    );
    let (s, body) = f.raw("POST", "/debug/d1/enable", None, "").await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "OK"));
    assert!(f.state.engine().input("i1", redoubt_core::Msg::new()).await);
    assert!(next_debug(&mut rx, "d1").await.is_some());
    let (s, _) = f.raw("POST", "/debug/nope/enable", None, "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = f.raw("POST", "/debug/d1/toggle", None, "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn debug_nodes_can_be_muted_in_bulk() {
    let f = Fixture::start(two_tabs()).await;
    let mut rx = f.state.engine().events();
    let form = "application/x-www-form-urlencoded";
    let (s, _) = f
        .raw(
            "POST",
            "/debug/disable",
            Some(form),
            "nodes%5B%5D=d1&nodes%5B%5D=d2&nodes%5B%5D=ghost",
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    for id in ["i1", "i2"] {
        assert!(f.state.engine().input(id, redoubt_core::Msg::new()).await);
    }
    let quiet = tokio::time::timeout(Duration::from_millis(200), rx.recv())
        .await
        .ok()
        .and_then(Result::ok);
    assert!(
        !matches!(
            quiet.as_deref(),
            Some(redoubt_core::engine::RuntimeEvent::Debug(_))
        ),
        "muted nodes produced output"
    );
    let (s, _) = f
        .json("POST", "/debug/enable", &[], &json!({"nodes": ["d2"]}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(f.state.engine().input("i2", redoubt_core::Msg::new()).await);
    assert!(next_debug(&mut rx, "d2").await.is_some());
    let (s, _) = f.raw("POST", "/debug/enable", Some(form), "other=1").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = f
        .raw("POST", "/debug/sideways", Some(form), "nodes[]=d1")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
