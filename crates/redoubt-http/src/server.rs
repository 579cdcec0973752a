//! Building the axum app and serving it until shutdown: one accept loop for
//! plain HTTP and HTTPS. With TLS, the first byte of each connection decides:
//! a TLS handshake is served with the current certificate (HTTP/2 when the
//! client offers `h2` in ALPN, else HTTP/1.1), plain HTTP gets a redirect to
//! the `https://` URL. Plain HTTP is HTTP/1.1 only, as in Node-RED: no
//! HTTP/2 without TLS, and no per-connection protocol detection to pay for.
//! Every request carries a `ConnectInfo<SocketAddr>` extension, and one
//! that arrived over TLS a [`Transport`].

use crate::drain::{Drain, DrainWatcher};
use crate::front_door::{FrontDoor, basic_gate, request_ip};
use crate::https_policy::Transport;
use crate::node_app::{NodeAppState, node_handler};
use crate::node_future::NodeFuture;
use crate::routes::NodeRoutes;
use crate::static_files::serve_static;
use crate::tls::TlsConfigHolder;
use crate::tls::sniff::{Opening, https_url, peek_opening, redirect_response};
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

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
    let fallback = Arc::new(Fallback {
        node: node_root.map(|root| NodeAppState {
            routes,
            root: root.trim_end_matches('/').to_string(),
        }),
        front,
    });
    app.fallback_service(FallbackService(fallback))
}

/// What answers requests no mounted app took: the static directories, then
/// the node routes.
struct Fallback {
    node: Option<NodeAppState>,
    front: FrontDoor,
}

/// [`Fallback`] as a tower service. Each request takes one reference to
/// what serves it, not a copy, and gets a [`NodeFuture`] (small: it is
/// allocated per request) instead of a handler's `async` body.
#[derive(Clone)]
struct FallbackService(Arc<Fallback>);

impl tower_service::Service<axum::extract::Request> for FallbackService {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = FallbackFuture;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::extract::Request) -> FallbackFuture {
        FallbackFuture(self.0.serve(req))
    }
}

/// [`FallbackService`]'s future: a [`NodeFuture`] whose response is the
/// service's `Ok`.
struct FallbackFuture(NodeFuture);

impl Future for FallbackFuture {
    type Output = Result<axum::response::Response, Infallible>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(Ok)
    }
}

impl Fallback {
    fn serve(self: &Arc<Self>, req: axum::extract::Request) -> NodeFuture {
        if !self.front.statics.is_empty() || self.front.node_auth.is_some() {
            let this = self.clone();
            return NodeFuture::boxed(async move { this.serve_guarded(req).await });
        }
        match &self.node {
            Some(st) => node_handler(st, req),
            None => NodeFuture::ready(not_found()),
        }
    }

    /// With static directories or `httpNodeAuth`: those first.
    async fn serve_guarded(&self, req: axum::extract::Request) -> axum::response::Response {
        let req = match serve_static(&self.front.statics, req).await {
            Ok(resp) => return resp,
            Err(req) => req,
        };
        let Some(st) = &self.node else {
            return not_found();
        };
        if let Some(auth) = &self.front.node_auth
            && under_root(req.uri().path(), &st.root)
            && let Some(denied) = basic_gate(auth, req.headers(), request_ip(&req)).await
        {
            return denied;
        }
        node_handler(st, req).await
    }
}

fn under_root(path: &str, root: &str) -> bool {
    root.is_empty() || path == root || path.strip_prefix(root).is_some_and(|r| r.starts_with('/'))
}

fn not_found() -> axum::response::Response {
    let mut r = axum::response::Response::new(axum::body::Body::from("Not Found"));
    *r.status_mut() = http::StatusCode::NOT_FOUND;
    r
}

/// Serves `app` on `listener` as plain HTTP until `shutdown` resolves, then
/// drains open connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve_with(listener, app, None, shutdown).await
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains open
/// connections. With `tls`, every new connection takes the holder's
/// current configuration, so a reload affects the next handshake.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    tls: Option<Arc<TlsConfigHolder>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let drain = Drain::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        let (stream, remote) = match accepted {
            Ok(a) => a,
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                // Out of file descriptors and the like: back off, don't spin.
                tracing::error!("HTTP server on {addr}: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let conn = Connection {
            app: app.clone(),
            remote,
            watcher: drain.watcher(),
        };
        // Plain HTTP gets a task of its own: the TLS path's future (handshake
        // state, HTTP/2) is several times larger, and a task's future is
        // copied whole as it is spawned, so sharing one enum would cost every
        // plain connection those copies.
        match &tls {
            None => {
                tokio::spawn(conn.serve_plain(stream));
            }
            Some(tls) => {
                tokio::spawn(conn.run_tls(stream, tls.clone()));
            }
        }
    }
    drop(listener);
    drain.shutdown().await;
    Ok(())
}

/// Errors that concern one connection only.
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    )
}

/// One accepted connection.
struct Connection {
    app: Router,
    remote: SocketAddr,
    watcher: DrainWatcher,
}

impl Connection {
    /// Serves a connection to the HTTPS port: TLS, or a redirect for plain HTTP.
    async fn run_tls(self, stream: TcpStream, tls: Arc<TlsConfigHolder>) {
        match peek_opening(&stream).await {
            Opening::Nothing => {}
            Opening::Plain => self.serve_redirect(stream).await,
            Opening::Tls => {
                let acceptor = tokio_rustls::TlsAcceptor::from(tls.config());
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(s)) => self.serve_tls(TokioIo::new(s)).await,
                    Ok(Err(e)) => {
                        tracing::debug!(remote = %self.remote, "TLS handshake failed: {e}");
                    }
                    Err(_) => tracing::debug!(remote = %self.remote, "TLS handshake timed out"),
                }
            }
        }
    }

    /// Serves the app over plain HTTP/1.1 (with upgrades, for websockets).
    async fn serve_plain(self, stream: TcpStream) {
        let Connection {
            app,
            remote,
            watcher,
        } = self;
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), app_service(app, remote, false))
            .with_upgrades();
        if let Err(e) = watcher.watch(conn, |c| c.graceful_shutdown()).await {
            tracing::debug!(remote = %remote, "connection ended: {e}");
        }
    }

    /// Serves the app over TLS: HTTP/2 or HTTP/1.1, as ALPN chose (with
    /// upgrades, for websockets).
    async fn serve_tls<I>(self, io: TokioIo<I>)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            app,
            remote,
            watcher,
        } = self;
        let builder = Builder::new(TokioExecutor::new());
        let conn = builder.serve_connection_with_upgrades(io, app_service(app, remote, true));
        if let Err(e) = watcher.watch(conn, |c| c.graceful_shutdown()).await {
            tracing::debug!(remote = %remote, "connection ended: {e}");
        }
    }

    /// Plain HTTP on the HTTPS port: answer each request with a redirect.
    async fn serve_redirect(self, stream: TcpStream) {
        let service = hyper::service::service_fn(|req: http::Request<Incoming>| async move {
            Ok::<_, Infallible>(redirect_response(https_url(&req)))
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service);
        if let Err(e) = self.watcher.watch(conn, |c| c.graceful_shutdown()).await {
            tracing::debug!(remote = %self.remote, "plain-HTTP redirect connection ended: {e}");
        }
    }
}

/// The app as a hyper service for one connection: each request gets the
/// peer's address, and over TLS a [`Transport`] that says so (a request
/// without one arrived in plain HTTP: one allocation less per request).
fn app_service(
    app: Router,
    remote: SocketAddr,
    tls: bool,
) -> impl hyper::service::Service<
    http::Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<axum::response::Response, Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
        let mut app = app.clone();
        req.extensions_mut().insert(ConnectInfo(remote));
        if tls {
            req.extensions_mut().insert(Transport { tls });
        }
        // Before hyper reads again: its read buffer is then free to reuse.
        crate::head::detach(&mut req);
        async move { tower_service::Service::call(&mut app, req).await }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves a one-route app on a free port; returns its address, the
    /// shutdown trigger and the server task.
    async fn start() -> (
        SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<Result<(), ServeError>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = Router::new().route("/hi", axum::routing::get(|| async { "hello" }));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, app, async move {
            let _ = rx.await;
        }));
        (addr, tx, task)
    }

    async fn read_some(stream: &mut TcpStream) -> String {
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("answer in time")
            .expect("read");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    /// Plain HTTP is HTTP/1.1, as Node-RED's: an HTTP/2 connection preface
    /// (h2c with prior knowledge) gets no HTTP/2 session.
    #[tokio::test]
    async fn plain_http_speaks_http1_only() {
        let (addr, stop, task) = start().await;
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /hi HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let answer = read_some(&mut s).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("hello"), "{answer}");

        let mut h2 = TcpStream::connect(addr).await.expect("connect");
        h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .expect("write");
        let answer = read_some(&mut h2).await;
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 "),
            "no HTTP/2 frames: {answer:?}"
        );

        // An idle keep-alive connection does not hold up shutdown.
        let _ = stop.send(());
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("serve returns once its connections closed")
            .expect("task")
            .expect("serve");
        let mut rest = Vec::new();
        let n = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut rest))
            .await
            .expect("closed in time")
            .expect("read");
        assert_eq!(n, 0, "the idle connection was closed");
    }
}
