//! `/context/...`.

use super::{Fixture, two_tabs};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use redoubt_core::value::{Value, from_json_str};
use serde_json::json;

fn set(f: &Fixture, scope: &str, key: &str, json: &str) {
    let v = from_json_str(json).unwrap_or(Value::Undefined);
    let r = f.state.engine().context().set(None, scope, key, Some(v));
    assert!(r.is_ok(), "{r:?}");
}

async fn delete(f: &Fixture, uri: &str) -> StatusCode {
    f.send(
        Request::delete(uri)
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .await
    .0
}

#[tokio::test]
async fn global_context_lists_and_reads_encoded_values() {
    let f = Fixture::start(two_tabs()).await;
    set(&f, "global", "n", "42");
    set(&f, "global", "o", r#"{"a":[1,2],"s":"x"}"#);
    assert_eq!(
        f.get_json("/context/global").await,
        json!({"memory": {
            "n": {"msg": "42", "format": "number"},
            "o": {"msg": "{\"a\":[1,2],\"s\":\"x\"}", "format": "Object"}
        }})
    );
    assert_eq!(
        f.get_json("/context/global/n").await,
        json!({"msg": "42", "format": "number"})
    );
    assert_eq!(
        f.get_json("/context/global/o.a").await,
        json!({"msg": "[1,2]", "format": "array[2]"})
    );
    assert_eq!(
        f.get_json("/context/global/missing").await,
        json!({"msg": "(undefined)", "format": "undefined"})
    );
    assert_eq!(
        f.get_json("/context/global?keysOnly").await,
        json!({"memory": {"keys": [{"key": "n"}, {"key": "o"}]}})
    );
    assert_eq!(
        f.get_json("/context/global/o?keysOnly").await,
        json!({"memory": {"keys": [{"key": "a", "format": "array[2]", "length": 2}, {"key": "s"}], "format": "object"}})
    );
    let (s, _, b) = f.get("/context/global?store=nope", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&b).unwrap_or_default()["code"],
        json!("not_found")
    );
}

#[tokio::test]
async fn flow_and_node_context_use_their_scopes() {
    let f = Fixture::start(two_tabs()).await;
    set(&f, "t1", "f", "\"flow value\"");
    set(&f, "d1:t1", "k", "true");
    assert_eq!(
        f.get_json("/context/flow/t1").await,
        json!({"memory": {"f": {"msg": "flow value", "format": "string[10]"}}})
    );
    assert_eq!(
        f.get_json("/context/flow/t1/f").await,
        json!({"msg": "flow value", "format": "string[10]"})
    );
    assert_eq!(
        f.get_json("/context/node/d1").await,
        json!({"memory": {"k": {"msg": "true", "format": "boolean"}}})
    );
    assert_eq!(
        f.get_json("/context/node/d1/k").await,
        json!({"msg": "true", "format": "boolean"})
    );
    assert_eq!(f.get_json("/context/node/not-deployed").await, json!({}));
    let (s, _, _) = f.get("/context/bogus/x", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deleting_a_key_removes_it() {
    let f = Fixture::start(two_tabs()).await;
    set(&f, "global", "g", "1");
    set(&f, "d1:t1", "k", "1");
    set(&f, "t2", "f", "1");
    assert_eq!(
        delete(&f, "/context/global/g").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&f, "/context/node/d1/k").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&f, "/context/flow/t2/f").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(f.get_json("/context/global").await, json!({"memory": {}}));
    assert_eq!(f.get_json("/context/node/d1").await, json!({"memory": {}}));
    assert_eq!(f.get_json("/context/flow/t2").await, json!({"memory": {}}));
    assert_eq!(delete(&f, "/context/global").await, StatusCode::NOT_FOUND);
    assert_eq!(
        delete(&f, "/context/global/g?store=nope").await,
        StatusCode::NOT_FOUND
    );
}
