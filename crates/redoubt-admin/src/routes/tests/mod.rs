//! In-process tests of every admin route (axum `oneshot`), on a real engine
//! with redoubt's node types and a temporary user directory.

mod context;
mod flows;
mod library;
mod node_api;
mod nodes;

use crate::state::{AdminConfig, AdminState, EditorSettings, StaticCatalog};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use redoubt_core::context::ContextManager;
use redoubt_core::engine::{
    DeployKind, Engine, EngineConfig, RuntimeEvent, RuntimeSettings, Services,
};
use redoubt_storage::credentials::{CredMap, Secret};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

/// A running engine, its admin state and router, in a temporary user dir.
pub(crate) struct Fixture {
    pub(crate) state: AdminState,
    pub(crate) router: Router,
    pub(crate) dir: tempfile::TempDir,
}

/// A tab `t1` with inject `i1` wired to debug `d1` (status on), and a
/// second tab `t2` with inject `i2` wired to debug `d2` (status on).
pub(crate) fn two_tabs() -> Value {
    json!([
        {"id":"t1","type":"tab","label":"One"},
        {"id":"i1","type":"inject","z":"t1","props":[{"p":"payload","v":"hello","vt":"str"}],"repeat":"","once":false,"x":100,"y":40,"wires":[["d1"]]},
        {"id":"d1","type":"debug","z":"t1","name":"","active":true,"tosidebar":true,"complete":"payload","targetType":"msg","tostatus":true,"statusType":"auto","x":300,"y":40,"wires":[]},
        {"id":"t2","type":"tab","label":"Two"},
        {"id":"i2","type":"inject","z":"t2","props":[{"p":"payload","v":"2","vt":"num"}],"repeat":"","once":false,"x":100,"y":40,"wires":[["d2"]]},
        {"id":"d2","type":"debug","z":"t2","name":"","active":true,"tosidebar":true,"complete":"payload","targetType":"msg","tostatus":true,"statusType":"auto","x":300,"y":40,"wires":[]}
    ])
}

impl Fixture {
    /// Starts an engine, deploys `flows` (also written to flows.json) and
    /// builds the admin state.
    pub(crate) async fn start(flows: Value) -> Fixture {
        Fixture::start_with(flows, EditorSettings::default()).await
    }

    pub(crate) async fn start_with(flows: Value, settings: EditorSettings) -> Fixture {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let registry = redoubt_nodes::builtin_registry();
        let node_types: Vec<String> = registry.names().map(str::to_string).collect();
        let rs = RuntimeSettings {
            user_dir: dir.path().to_path_buf(),
            ..RuntimeSettings::default()
        };
        let engine = Engine::start(EngineConfig {
            registry,
            context: ContextManager::default(),
            settings: rs,
            services: Services::new(),
            global_env: None,
        });
        let flows: Vec<Value> = flows.as_array().cloned().unwrap_or_default();
        let flows_path = dir.path().join("flows.json");
        redoubt_storage::flows_file::save_flows(&flows_path, &flows, false)
            .unwrap_or_else(|e| panic!("save: {e}"));
        let state = AdminState::new(AdminConfig {
            engine: engine.clone(),
            flows_path,
            flows: std::sync::Arc::new(flows.clone()),
            credentials_path: dir.path().join("flows_cred.json"),
            secret: Secret::disabled(),
            credentials: CredMap::new(),
            node_types,
            settings,
            user_dir: dir.path().to_path_buf(),
            catalog: Arc::new(StaticCatalog::new("5.0.7")),
            authority: Arc::new(redoubt_auth::Authority::new(
                None,
                None,
                redoubt_auth::Sessions::in_memory(),
                Arc::new(redoubt_auth::AuditLog::console_only(false)),
            )),
            exposure: crate::access::Exposure {
                loopback_only: false,
                editor: true,
            },
        });
        let r = engine
            .deploy(flows, serde_json::Map::new(), DeployKind::Full)
            .await;
        assert!(r.is_ok(), "initial deploy failed: {:?}", r.err());
        let router = crate::routes::admin_router(state.clone());
        Fixture { state, router, dir }
    }

    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Sends a request; answers status, content type and body.
    pub(crate) async fn send(&self, req: Request<Body>) -> (StatusCode, String, Vec<u8>) {
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .unwrap_or_else(|e| match e {});
        let status = resp.status();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        (status, ct, body)
    }

    /// `GET uri` with extra headers.
    pub(crate) async fn get(
        &self,
        uri: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, String, Vec<u8>) {
        let mut b = Request::get(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(Body::empty()).unwrap_or_else(|e| panic!("{e}")))
            .await
    }

    /// `GET uri`, expecting 200 JSON.
    pub(crate) async fn get_json(&self, uri: &str) -> Value {
        let (s, _, b) = self.get(uri, &[]).await;
        assert_eq!(
            s,
            StatusCode::OK,
            "GET {uri}: {}",
            String::from_utf8_lossy(&b)
        );
        serde_json::from_slice(&b).unwrap_or_else(|e| panic!("GET {uri}: {e}"))
    }

    /// A request with a JSON body.
    pub(crate) async fn json(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b
            .body(Body::from(body.to_string()))
            .unwrap_or_else(|e| panic!("{e}"));
        let (s, _, bytes) = self.send(req).await;
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        (s, v)
    }

    /// A request with a raw body and content type.
    pub(crate) async fn raw(
        &self,
        method: &str,
        uri: &str,
        ct: Option<&str>,
        body: &str,
    ) -> (StatusCode, String) {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(ct) = ct {
            b = b.header("content-type", ct);
        }
        let (s, _, bytes) = self
            .send(
                b.body(Body::from(body.to_string()))
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .await;
        (s, String::from_utf8_lossy(&bytes).into_owned())
    }

    pub(crate) fn read_file(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_default()
    }
}

/// Waits for the next debug event from node `id`.
pub(crate) async fn next_debug(
    rx: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<RuntimeEvent>>,
    id: &str,
) -> Option<Value> {
    let wait = async {
        loop {
            match rx.recv().await.as_deref() {
                Ok(RuntimeEvent::Debug(v)) => {
                    let j = redoubt_core::value::to_serde(v);
                    if j["id"] == json!(id) {
                        return Some(j);
                    }
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return None,
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), wait)
        .await
        .ok()
        .flatten()
}

/// The assets module's routes (same patterns) merge with the admin API
/// without conflicts, and each side still answers its own paths.
#[tokio::test]
async fn admin_routes_merge_with_the_asset_routes() {
    use axum::routing::get;
    let f = Fixture::start(two_tabs()).await;
    let assets = Router::new()
        .route("/", get(|| async { "page" }))
        .route("/red/{*path}", get(|| async { "red" }))
        .route("/locales/{*namespace}", get(|| async { "{}" }))
        .route("/icons", get(|| async { "{}" }))
        .route("/icons/{module}/{icon}", get(|| async { "icon" }))
        .route("/icons/{scope}/{module}/{icon}", get(|| async { "icon" }))
        .route("/debug/view/view.html", get(|| async { "view" }))
        .route("/debug/view/{*path}", get(|| async { "debug-utils" }));
    let merged = crate::routes::admin_router(f.state.clone()).merge(assets);
    let call = |req: Request<Body>| {
        let m = merged.clone();
        async move {
            let r = m.oneshot(req).await.unwrap_or_else(|e| match e {});
            let s = r.status();
            let b = r
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes().to_vec())
                .unwrap_or_default();
            (s, String::from_utf8_lossy(&b).into_owned())
        }
    };
    let get_req = |u: &str| {
        Request::get(u)
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let post_req = |u: &str| {
        Request::post(u)
            .body(Body::empty())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(
        call(get_req("/debug/view/debug-utils.js")).await,
        (StatusCode::OK, "debug-utils".into())
    );
    assert_eq!(
        call(post_req("/debug/d1/disable")).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        call(post_req("/debug/enable")).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(call(get_req("/")).await.1, "page");
    assert_eq!(call(get_req("/settings")).await.0, StatusCode::OK);
}
