//! Building the axum app and serving it until shutdown.

use crate::front_door::{FrontDoor, basic_gate, request_ip};
use crate::node_app::{NodeAppState, node_handler};
use crate::routes::NodeRoutes;
use crate::static_files::serve_static;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The listener failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Accepting or serving failed.
    #[error("HTTP server on {addr}: {source}")]
    Io {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The whole app: `extra` routers (admin API, editor, ...) first; then, as
/// the fallback, the static directories and the node routes under
/// `node_root`, behind the `front` door's Basic auth. `node_root: None`
/// disables node routes (`httpNodeRoot: false`).
pub fn build_app(
    routes: NodeRoutes,
    node_root: Option<&str>,
    extra: Vec<Router>,
    front: FrontDoor,
) -> Router {
    let mut app = Router::new();
    for r in extra {
        app = app.merge(r);
    }
    let node = node_root.map(|root| NodeAppState {
        routes,
        root: root.trim_end_matches('/').to_string(),
    });
    app.fallback(move |req: axum::extract::Request| {
        let node = node.clone();
        let front = front.clone();
        async move {
            let req = match serve_static(&front.statics, req).await {
                Ok(resp) => return resp,
                Err(req) => req,
            };
            let Some(st) = node else {
                return not_found();
            };
            if let Some(auth) = &front.node_auth
                && under_root(req.uri().path(), &st.root)
                && let Some(denied) = basic_gate(auth, req.headers(), request_ip(&req)).await
            {
                return denied;
            }
            node_handler(st, req).await
        }
    })
}

fn under_root(path: &str, root: &str) -> bool {
    root.is_empty() || path == root || path.strip_prefix(root).is_some_and(|r| r.starts_with('/'))
}

fn not_found() -> axum::response::Response {
    let mut r = axum::response::Response::new(axum::body::Body::from("Not Found"));
    *r.status_mut() = http::StatusCode::NOT_FOUND;
    r
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|source| ServeError::Io { addr, source })
}
