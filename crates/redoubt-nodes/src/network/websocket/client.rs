//! websocket-client (`22-websocket.js`, client side): a config node that
//! connects out to a `ws://` or `wss://` URL (TLS through a tls-config
//! node), with optional subprotocols, upgrade headers and a heartbeat
//! (`hb` seconds: a ping each period; no answer by the next one drops the
//! connection). It reconnects 3 s after a close or error, as upstream.

use super::hub::{Hub, session_id};
use crate::network::tls_config::{self, Material, TlsHandle};
use futures::{SinkExt, StreamExt};
use redoubt_core::Msg;
use redoubt_core::http_host::WsFrame;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeHandle, NodeType,
};
use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};

pub(crate) struct WebsocketClientType;

/// Upstream waits 3 s before reconnecting.
const RECONNECT: Duration = Duration::from_secs(3);

struct Spec {
    url: String,
    host: String,
    port: u16,
    tls: Option<(
        Arc<rustls::ClientConfig>,
        rustls_pki_types::ServerName<'static>,
    )>,
    subprotocols: Vec<String>,
    headers: Vec<(String, String)>,
    heartbeat: Option<Duration>,
}

struct ClientNode {
    hub: Arc<Hub>,
    task: Arc<parking_lot::Mutex<Option<tokio::task::AbortHandle>>>,
}

fn headers(cfg: &NodeConfig, cx: &BuildCtx) -> Vec<(String, String)> {
    let Some(serde_json::Value::Array(list)) = cfg.get("headers") else {
        return Vec::new();
    };
    let s = |h: &serde_json::Value, k: &str| {
        h.get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    list.iter()
        .filter_map(|h| {
            let name = match s(h, "keyType").as_str() {
                "other" => s(h, "keyValue"),
                t => t.to_string(),
            };
            let value = match s(h, "valueType").as_str() {
                "other" => s(h, "valueValue"),
                "env" => cx
                    .env(&s(h, "valueValue"))
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                t => t.to_string(),
            };
            (!name.is_empty() && !value.is_empty()).then_some((name, value))
        })
        .collect()
}

fn tls_for(
    handle: Option<Arc<TlsHandle>>,
    host: &str,
) -> Result<
    (
        Arc<rustls::ClientConfig>,
        rustls_pki_types::ServerName<'static>,
    ),
    ConfigError,
> {
    let bad = |e: String| ConfigError::field("tls", e);
    match handle {
        Some(t) => Ok((t.client.clone(), t.server_name(host).map_err(bad)?)),
        None => {
            let c = tls_config::client_config(&Material::default(), true, None)
                .map_err(|e| bad(e.to_string()))?;
            let name = rustls_pki_types::ServerName::try_from(host.to_string())
                .map_err(|e| bad(format!("invalid host {host:?}: {e}")))?;
            Ok((Arc::new(c), name))
        }
    }
}

impl NodeType for WebsocketClientType {
    fn type_name(&self) -> &'static str {
        "websocket-client"
    }

    fn is_config(&self) -> bool {
        true
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let url = cfg.str("path").trim().to_string();
        let req = url.as_str().into_client_request().map_err(|e| {
            ConfigError::field("path", format!("invalid websocket url {url:?}: {e}"))
        })?;
        let secure = match req.uri().scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => {
                return Err(ConfigError::field(
                    "path",
                    format!("websocket url {url:?} must start with ws:// or wss://"),
                ));
            }
        };
        let host = req
            .uri()
            .host()
            .unwrap_or("")
            .trim_matches(['[', ']'])
            .to_string();
        let port = req
            .uri()
            .port_u16()
            .unwrap_or(if secure { 443 } else { 80 });
        let tls = if secure {
            Some(tls_for(tls_config::lookup(cx, "tls")?, &host)?)
        } else {
            None
        };
        let hb = cfg.num("hb")?.map(|v| v.trunc() as i64).filter(|v| *v > 0);
        let spec = Arc::new(Spec {
            url,
            host,
            port,
            tls,
            subprotocols: super::listener::subprotocols(cfg),
            headers: headers(cfg, cx),
            heartbeat: hb.map(|s| Duration::from_secs(s.unsigned_abs())),
        });
        let hub = Arc::new(Hub::new(false, cfg.str("wholemsg") == "true"));
        let task = Arc::new(parking_lot::Mutex::new(None));
        let (h2, t2, me) = (hub.clone(), task.clone(), cx.handle());
        hub.set_starter(Box::new(move || {
            let abort = tokio::spawn(run(h2, spec, me)).abort_handle();
            *t2.lock() = Some(abort);
        }));
        Ok(Box::new(ClientNode { hub, task }))
    }
}

impl Node for ClientNode {
    fn on_input(&mut self, _msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        Ok(())
    }

    fn close(&mut self, _removed: bool, _cx: &mut NodeCtx<'_>) {
        if let Some(t) = self.task.lock().take() {
            t.abort();
        }
        self.hub.close_all();
    }

    fn shared(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        Some(self.hub.clone())
    }
}

async fn run(hub: Arc<Hub>, spec: Arc<Spec>, me: NodeHandle) {
    loop {
        let id = session_id();
        let result = match TcpStream::connect((spec.host.as_str(), spec.port)).await {
            Err(e) => Err(format!("cannot connect to {}: {e}", spec.url)),
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                match &spec.tls {
                    None => session(tcp, &spec, &hub, &id).await,
                    Some((config, name)) => {
                        match tokio_rustls::TlsConnector::from(config.clone())
                            .connect(name.clone(), tcp)
                            .await
                        {
                            Ok(tls) => session(tls, &spec, &hub, &id).await,
                            Err(e) => Err(format!("TLS handshake with {} failed: {e}", spec.url)),
                        }
                    }
                }
            }
        };
        if let Err(e) = result {
            me.log(&format!("An error occurred on the ws connection: {e}"));
            hub.errored(&id);
        }
        hub.closed(&id);
        tokio::time::sleep(RECONNECT).await;
    }
}

/// One connection: handshake, then messages both ways until it ends.
async fn session<S>(io: S, spec: &Spec, hub: &Hub, id: &str) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut req = spec
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| e.to_string())?;
    for (k, v) in &spec.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            req.headers_mut().append(k, v);
        }
    }
    if !spec.subprotocols.is_empty()
        && let Ok(v) = HeaderValue::from_str(&spec.subprotocols.join(", "))
    {
        req.headers_mut().insert("sec-websocket-protocol", v);
    }
    let (ws, _resp) = tokio_tungstenite::client_async(req, io)
        .await
        .map_err(|e| e.to_string())?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    hub.opened(id, tx);
    let (mut sink, mut stream) = ws.split();
    let period = spec
        .heartbeat
        .unwrap_or(Duration::from_secs(3600 * 24 * 365));
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    let mut pending = false;
    // Set while reading waits for room in the flows (flow control). The
    // client starts once an input node registers, so the backlog is known.
    let backlog = hub.backlog();
    let held = AtomicBool::new(false);
    loop {
        tokio::select! {
            // Flow control: no reading while the flows are behind
            // (`Backlog::room`); the server's frames wait in TCP meanwhile.
            m = async {
                if let Some(b) = backlog.as_ref().filter(|b| b.is_full()) {
                    held.store(true, Ordering::Relaxed);
                    b.room().await;
                }
                stream.next().await
            } => match m {
                Some(Ok(Message::Text(t))) => hub.deliver(id, WsFrame::Text(t.as_str().to_string())),
                Some(Ok(Message::Binary(b))) => hub.deliver(id, WsFrame::Binary(b)),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => pending = false,
                Some(Ok(Message::Close(_))) | None => return Ok(()),
                Some(Ok(Message::Frame(_))) => {}
                Some(Err(e)) => return Err(e.to_string()),
            },
            o = rx.recv() => match o {
                Some(f) => {
                    let m = match f {
                        WsFrame::Text(t) => Message::Text(t.into()),
                        WsFrame::Binary(b) => Message::Binary(b),
                    };
                    sink.send(m).await.map_err(|e| e.to_string())?;
                }
                None => {
                    let _ = sink.send(Message::Close(None)).await;
                    return Ok(());
                }
            },
            _ = beat.tick(), if spec.heartbeat.is_some() => {
                // A pong unread because reading waited for room is no
                // sign of a dead peer: ping again instead.
                if pending && !held.swap(false, Ordering::Relaxed) {
                    return Err("timeout".to_string());
                }
                pending = true;
                sink.send(Message::Ping(Default::default())).await.map_err(|e| e.to_string())?;
            }
        }
    }
}
