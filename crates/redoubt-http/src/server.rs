//! Building the axum app and serving it until shutdown.

use crate::node_app::{NodeAppState, node_handler};
use crate::routes::NodeRoutes;
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

/// The whole app: `extra` routers (admin API, editor, ...) first, node
/// routes under `node_root` as the fallback. `node_root: None` disables
/// node routes (`httpNodeRoot: false`).
pub fn build_app(routes: NodeRoutes, node_root: Option<&str>, extra: Vec<Router>) -> Router {
    let mut app = Router::new();
    for r in extra {
        app = app.merge(r);
    }
    match node_root {
        Some(root) => {
            let root = root.trim_end_matches('/').to_string();
            let st = NodeAppState { routes, root };
            app.fallback(move |req: axum::extract::Request| {
                let st = st.clone();
                async move { node_handler(st, req).await }
            })
        }
        None => app,
    }
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
