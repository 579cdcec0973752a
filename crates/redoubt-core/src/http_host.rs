//! The contract between `http in`/`http response` (and `websocket-listener`)
//! nodes and whatever serves HTTP. Core knows only plain data types here;
//! `redoubt-http` implements [`HttpHost`] and the nodes turn an
//! [`IncomingRequest`] into a message, or talk to a [`WsConnection`].

use parking_lot::Mutex;
use std::sync::Arc;
use tokio::sync::oneshot;

/// A route an `http in` node serves.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// `get`, `post`, `put`, `delete`, `patch`.
    pub method: String,
    /// The path pattern, Express style (`/users/:id`), without `httpNodeRoot`.
    pub path: String,
    /// Parse `multipart/form-data` bodies into files and fields.
    pub upload: bool,
    /// The http-in node's id (for logs).
    pub node_id: String,
}

/// A file from a multipart upload.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    /// The form field name.
    pub fieldname: String,
    /// The client's file name.
    pub originalname: String,
    /// The declared content type.
    pub mimetype: String,
    /// The content.
    pub buffer: bytes::Bytes,
}

/// One HTTP request matched to a route.
///
/// The method, URL and headers are kept as the server parsed them: the
/// strings of `msg.req` (`url`, `path`, `query`, `hostname`) are slices of
/// them, made into strings only when a flow reads one.
#[derive(Debug, Clone, Default)]
pub struct IncomingRequest {
    /// The method.
    pub method: http::Method,
    /// The URI as requested, `httpNodeRoot` included.
    pub uri: http::Uri,
    /// How many bytes at the start of `uri`'s path are `httpNodeRoot`
    /// (without its trailing slash), which [`IncomingRequest::path`]
    /// leaves out.
    pub root_len: usize,
    /// The headers as received (names lower-case; the values of a name in
    /// arrival order). Kept as hyper parsed them, with no string made per
    /// header until a flow reads `msg.req.headers`.
    pub headers: http::HeaderMap,
    /// Route parameters, URL-decoded.
    pub params: Vec<(String, String)>,
    /// The raw body.
    pub body: bytes::Bytes,
    /// Multipart text fields (upload routes).
    pub fields: Vec<(String, String)>,
    /// Multipart files (upload routes).
    pub files: Vec<UploadedFile>,
    /// The client address (Express's `req.ip`), made a string only when a
    /// flow reads it.
    pub remote_ip: Option<std::net::IpAddr>,
    /// `http` or `https`.
    pub protocol: &'static str,
}

impl IncomingRequest {
    /// The first header named `name` (lower-case), if it is UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
    }

    /// The URL as requested, path and query, `httpNodeRoot` included
    /// (Express's `req.originalUrl`).
    pub fn original_url(&self) -> &str {
        self.uri
            .path_and_query()
            .map_or_else(|| self.uri.path(), |p| p.as_str())
    }

    /// The URL below `httpNodeRoot`, path and query (Express's `req.url`
    /// in the app mounted there, which always starts with `/`).
    pub fn url(&self) -> std::borrow::Cow<'_, str> {
        let full = self.original_url();
        match full.get(self.root_len..) {
            Some(rest) if rest.starts_with('/') => rest.into(),
            Some(rest) => format!("/{rest}").into(),
            None => full.into(),
        }
    }

    /// `httpNodeRoot` as this request matched it, without a trailing slash
    /// (Express's `req.baseUrl`): empty for the default root `/`.
    pub fn base_url(&self) -> &str {
        self.uri.path().get(..self.root_len).unwrap_or("")
    }

    /// The path below `httpNodeRoot`, without the query (Express's
    /// `req.path` in the app mounted there): `/` for the root itself.
    pub fn path(&self) -> &str {
        match self.uri.path().get(self.root_len..) {
            Some("") | None => "/",
            Some(p) => p,
        }
    }

    /// The raw query string, without `?` (empty when there is none).
    pub fn query(&self) -> &str {
        self.uri.query().unwrap_or("")
    }

    /// Express's `req.hostname`: the Host header (for HTTP/2, the URI's
    /// authority) without its port; an IPv6 literal keeps its brackets.
    /// Empty when the request names no host.
    pub fn hostname(&self) -> &str {
        let host = self
            .header("host")
            .or_else(|| self.uri.host())
            .unwrap_or("");
        let offset = if host.starts_with('[') {
            host.find(']').map_or(0, |i| i + 1)
        } else {
            0
        };
        match host[offset..].find(':') {
            Some(i) => &host[..offset + i],
            None => host,
        }
    }
}

/// A header name or value of an [`HttpReply`]: a literal (the default
/// `content-type` values), sent without being copied, or text made for
/// this reply.
pub type HeaderText = std::borrow::Cow<'static, str>;

/// What an `http response` node answers.
#[derive(Debug, Clone, Default)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// Headers in order; a name may repeat (`set-cookie`).
    pub headers: Vec<(HeaderText, HeaderText)>,
    /// Body bytes.
    pub body: bytes::Bytes,
}

/// The pending response of one request, carried in `msg.res` as a
/// [`crate::value::Handle`]. The first answer wins.
#[derive(Debug)]
pub struct ResponseHandle {
    tx: Mutex<Option<oneshot::Sender<HttpReply>>>,
}

impl ResponseHandle {
    /// A handle and the receiver the server awaits.
    pub fn new() -> (Arc<ResponseHandle>, oneshot::Receiver<HttpReply>) {
        let (tx, rx) = oneshot::channel();
        (
            Arc::new(ResponseHandle {
                tx: Mutex::new(Some(tx)),
            }),
            rx,
        )
    }

    /// Sends the response; false when it was already sent or the client left.
    pub fn respond(&self, reply: HttpReply) -> bool {
        match self.tx.lock().take() {
            Some(tx) => tx.send(reply).is_ok(),
            None => false,
        }
    }

    /// True once a response was sent.
    pub fn is_sent(&self) -> bool {
        self.tx.lock().is_none()
    }
}

/// Called for every request on a route.
pub type RequestHandler = Arc<dyn Fn(IncomingRequest, Arc<ResponseHandle>) + Send + Sync>;

/// A websocket endpoint a `websocket-listener` node serves.
#[derive(Debug, Clone)]
pub struct WsEndpointSpec {
    /// The exact path, starting with `/`, without `httpNodeRoot`.
    pub path: String,
    /// Subprotocols the server may select (the first the client offers wins).
    pub subprotocols: Vec<String>,
    /// The listener node's id (for logs).
    pub node_id: String,
}

/// One websocket message.
#[derive(Debug, Clone, PartialEq)]
pub enum WsFrame {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(bytes::Bytes),
}

/// An accepted websocket connection. `incoming` ends when the client
/// leaves; dropping `outgoing` closes the socket.
#[derive(Debug)]
pub struct WsConnection {
    /// The upgrade request (method, URL, headers, client address; no body).
    pub request: IncomingRequest,
    /// Messages from the client. Bounded: while the node does not take
    /// them (its flows are behind), the server stops reading the socket and
    /// TCP slows the client down instead of the frames queueing in memory.
    pub incoming: tokio::sync::mpsc::Receiver<WsFrame>,
    /// Messages to the client.
    pub outgoing: tokio::sync::mpsc::UnboundedSender<WsFrame>,
}

/// Called for every websocket accepted on an endpoint.
pub type WsHandler = Arc<dyn Fn(WsConnection) + Send + Sync>;

/// Registers http-in routes and websocket endpoints. Dropping the returned
/// guard removes the route or endpoint. Both are served by the same node
/// request handler, so whatever guards node routes (`httpNodeAuth`,
/// `httpNodeMiddleware`) guards websocket upgrades too.
pub trait HttpHost: Send + Sync + 'static {
    /// Adds a route. Errors (a bad pattern) are returned as text for the node's error.
    fn add_route(
        &self,
        spec: RouteSpec,
        handler: RequestHandler,
    ) -> Result<Box<dyn RouteGuard>, String>;

    /// Adds a websocket endpoint. Errors (the path is taken) are returned
    /// as text for the node's error.
    fn add_websocket(
        &self,
        spec: WsEndpointSpec,
        handler: WsHandler,
    ) -> Result<Box<dyn RouteGuard>, String>;
}

/// Keeps a route registered while alive.
pub trait RouteGuard: Send + Sync {}

/// The [`crate::engine::Services`] entry for the HTTP host.
pub struct HttpHostService(pub Arc<dyn HttpHost>);

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, root_len: usize, host: Option<&'static str>) -> IncomingRequest {
        let mut headers = http::HeaderMap::new();
        if let Some(h) = host {
            headers.insert("host", http::HeaderValue::from_static(h));
        }
        IncomingRequest {
            uri: uri.parse().expect("uri"),
            root_len,
            headers,
            ..IncomingRequest::default()
        }
    }

    /// The URL's parts as Express gives them to an app mounted at the root.
    #[test]
    fn the_url_parts_are_expresss_below_the_root() {
        let r = request("/api/users/7?x=1&y", 4, None);
        assert_eq!(r.original_url(), "/api/users/7?x=1&y");
        assert_eq!(r.url(), "/users/7?x=1&y");
        assert_eq!(r.base_url(), "/api");
        assert_eq!(r.path(), "/users/7");
        assert_eq!(r.query(), "x=1&y");
        let at_root = request("/api?q", 4, None);
        assert_eq!(at_root.original_url(), "/api?q");
        assert_eq!(at_root.url(), "/?q");
        assert_eq!((at_root.path(), at_root.query()), ("/", "q"));
        let no_root = request("/hello", 0, None);
        assert_eq!(no_root.original_url(), "/hello");
        assert_eq!(no_root.url(), "/hello");
        assert_eq!((no_root.base_url(), no_root.path()), ("", "/hello"));
        // A root length past the path (a request built by hand) is the root itself.
        assert_eq!(request("/a", 9, None).path(), "/");
    }

    #[test]
    fn the_hostname_is_the_host_header_without_its_port_as_in_express() {
        let host = |h| request("/", 0, Some(h)).hostname().to_string();
        assert_eq!(host("example.com:1880"), "example.com");
        assert_eq!(host("example.com"), "example.com");
        assert_eq!(host("[::1]:1880"), "[::1]");
        assert_eq!(host("[::1]"), "[::1]");
        assert_eq!(request("/", 0, None).hostname(), "");
        // HTTP/2 names the host in the URI, not in a Host header.
        let h2 = request("https://example.org:8443/x", 0, None);
        assert_eq!(h2.hostname(), "example.org");
        assert_eq!(h2.original_url(), "/x");
    }
}
