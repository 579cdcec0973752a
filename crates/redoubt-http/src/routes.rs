//! [`NodeRoutes`]: the table of routes registered by `http in` nodes (and
//! of websocket endpoints registered by `websocket-listener` nodes).

use crate::pattern::Pattern;
use crate::ws::WsEndpoints;
use parking_lot::RwLock;
use redoubt_core::http_host::{
    HttpHost, RequestHandler, RouteGuard, RouteSpec, WsEndpointSpec, WsHandler,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Decoded route parameters, in pattern order.
pub(crate) type Params = Vec<(String, String)>;

pub(crate) struct Route {
    pub(crate) id: u64,
    pub(crate) method: String,
    pub(crate) pattern: Pattern,
    pub(crate) upload: bool,
    pub(crate) handler: RequestHandler,
}

/// The http-in routing table, shared by the server and the nodes.
#[derive(Default, Clone)]
pub struct NodeRoutes {
    pub(crate) routes: Arc<RwLock<Vec<Arc<Route>>>>,
    next: Arc<AtomicU64>,
    pub(crate) websockets: WsEndpoints,
}

struct Guard {
    id: u64,
    routes: Arc<RwLock<Vec<Arc<Route>>>>,
}

impl RouteGuard for Guard {}

impl Drop for Guard {
    fn drop(&mut self) {
        self.routes.write().retain(|r| r.id != self.id);
    }
}

impl NodeRoutes {
    /// An empty table.
    pub fn new() -> NodeRoutes {
        NodeRoutes::default()
    }

    /// The first route matching method and path, with its params. A route
    /// for `GET` also answers `HEAD`, as in Express.
    pub(crate) fn find(&self, method: &str, path: &str) -> Option<(Arc<Route>, Params)> {
        let routes = self.routes.read();
        for r in routes.iter() {
            let m =
                r.method.eq_ignore_ascii_case(method) || (method == "HEAD" && r.method == "get");
            if !m {
                continue;
            }
            if let Some(p) = r.pattern.matches(path) {
                return Some((r.clone(), p));
            }
        }
        None
    }
}

impl HttpHost for NodeRoutes {
    fn add_route(
        &self,
        spec: RouteSpec,
        handler: RequestHandler,
    ) -> Result<Box<dyn RouteGuard>, String> {
        let pattern = Pattern::compile(&spec.path)?;
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let route = Route {
            id,
            method: spec.method.to_ascii_lowercase(),
            pattern,
            upload: spec.upload,
            handler,
        };
        self.routes.write().push(Arc::new(route));
        Ok(Box::new(Guard {
            id,
            routes: self.routes.clone(),
        }))
    }

    fn add_websocket(
        &self,
        spec: WsEndpointSpec,
        handler: WsHandler,
    ) -> Result<Box<dyn RouteGuard>, String> {
        self.websockets.add(spec, handler)
    }
}
