//! One `/comms` connection: a sender task (hub messages and subscription
//! replays, batched, plus the heartbeat) and a receiver task (client
//! messages), as in axum's chat example; when either ends the other is
//! aborted.
//!
//! With adminAuth the connection first authenticates, as Node-RED's:
//! the client's first frame is `{"auth": "<token>"}`, answered
//! `{"auth":"ok"}` or `{"auth":"fail"}` and a close; a first frame without
//! `auth` is served as the anonymous default user if there is one. The
//! token must allow `status.read`. A `tokenHeader` on the upgrade request
//! authenticates before the upgrade. Unlike Node-RED, the connection is
//! closed (after `{"auth":"fail"}`) when its session is revoked, expires,
//! or its user goes away; and the guard refuses cross-site upgrades.

use super::{Frame, status_json};
use crate::state::AdminState;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use redoubt_auth::Principal;
use serde_json::{Value as Json, json};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

/// Node-RED's batching: at most this many messages per frame...
const BATCH_MAX: usize = 50;
/// ...collected for at most this long.
const BATCH_WINDOW: Duration = Duration::from_millis(50);

/// `GET /comms`: upgrades to the editor's websocket.
pub(crate) async fn comms_handler(
    ws: WebSocketUpgrade,
    State(state): State<AdminState>,
    req: axum::extract::Request,
) -> Response {
    let ip = crate::access::client_ip(&req);
    let authority = state.authority().clone();
    let pre = if !authority.enabled() {
        Some(Principal::open())
    } else if let Some(h) = authority.token_header()
        && let Some(tok) = req.headers().get(h).and_then(|v| v.to_str().ok())
    {
        match authority.resolve(Some(tok), ip).await {
            Ok(p) if p.permits(COMMS_SCOPE) => {
                audit(&state, "comms.auth", &p, ip);
                Some(p)
            }
            _ => return StatusCode::UNAUTHORIZED.into_response(),
        }
    } else {
        None
    };
    ws.on_upgrade(move |socket| serve(socket, state, pre, ip))
}

/// The scope a comms connection needs.
const COMMS_SCOPE: &str = "status.read";
/// How long a new connection may take to authenticate.
const AUTH_WINDOW: Duration = Duration::from_secs(30);

fn audit(state: &AdminState, event: &str, p: &Principal, ip: Option<IpAddr>) {
    state.authority().record(
        event,
        p.username.as_deref(),
        ip,
        Some("/comms"),
        serde_json::Map::new(),
    );
}

/// Waits for the client's first frame and authenticates it. Returns the
/// principal and, for the anonymous default user, the frame to process.
async fn authenticate(
    state: &AdminState,
    sink: &mut SplitSink<WebSocket, Message>,
    stream: &mut SplitStream<WebSocket>,
    ip: Option<IpAddr>,
) -> Option<(Principal, Option<String>)> {
    let authority = state.authority();
    let first = tokio::time::timeout(AUTH_WINDOW, async {
        while let Some(Ok(msg)) = stream.next().await {
            match msg {
                Message::Text(t) => return Some(t.to_string()),
                Message::Close(_) => return None,
                _ => {}
            }
        }
        None
    })
    .await
    .ok()
    .flatten()?;
    let parsed: Option<Json> = serde_json::from_str(&first).ok();
    let token = parsed
        .as_ref()
        .and_then(|v| v.get("auth"))
        .and_then(Json::as_str)
        .map(str::to_string);
    let result = match &token {
        Some(t) => authority.resolve(Some(t), ip).await,
        None => authority.resolve(None, ip).await,
    };
    match result {
        Ok(p) if p.permits(COMMS_SCOPE) => {
            if token.is_some() {
                let ok = json!({"auth": "ok"}).to_string();
                sink.send(Message::Text(ok.into())).await.ok()?;
            }
            audit(state, "comms.auth", &p, ip);
            let pending = if token.is_some() { None } else { Some(first) };
            Some((p, pending))
        }
        other => {
            let who = other.ok();
            let anon = Principal::open();
            audit(state, "comms.auth.fail", who.as_ref().unwrap_or(&anon), ip);
            let fail = json!({"auth": "fail"}).to_string();
            let _ = sink.send(Message::Text(fail.into())).await;
            let _ = sink.send(Message::Close(None)).await;
            None
        }
    }
}

/// Resolves when the principal's session ends (revoked, expired, user
/// removed); never for principals without a session.
async fn session_end(state: AdminState, p: Principal) {
    let Some(h) = p.session else {
        return std::future::pending().await;
    };
    let sessions = state.authority().sessions();
    let mut ended = sessions.ended();
    if !sessions.is_live(&h) {
        return;
    }
    let left = p
        .expires_ms
        .map(|e| Duration::from_millis(e.saturating_sub(redoubt_auth::sessions::now_ms())))
        .unwrap_or(Duration::from_secs(u32::MAX as u64));
    let deadline = Instant::now() + left;
    loop {
        tokio::select! {
            r = ended.recv() => match r {
                Ok(e) if e.token == h => return,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !sessions.is_live(&h) {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return std::future::pending().await,
            },
            _ = tokio::time::sleep_until(deadline) => return,
        }
    }
}

async fn serve(socket: WebSocket, state: AdminState, pre: Option<Principal>, ip: Option<IpAddr>) {
    let (mut sink, mut stream) = socket.split();
    let (principal, pending) = match pre {
        Some(p) => (p, None),
        None => match authenticate(&state, &mut sink, &mut stream, ip).await {
            Some(x) => x,
            None => return,
        },
    };
    let (end_tx, mut end_rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn({
        let state = state.clone();
        let principal = principal.clone();
        async move {
            session_end(state, principal).await;
            let _ = end_tx.send(());
        }
    });
    let hub_rx = state.0.comms.subscribe();
    let keepalive = state.0.comms.keepalive;
    let (replay_tx, replay_rx) = mpsc::unbounded_channel::<Arc<Frame>>();
    let mut send_task = tokio::spawn(async move {
        let mut out = Outgoing {
            hub: hub_rx,
            replay: replay_rx,
        };
        let mut last_sent = Instant::now();
        loop {
            let next = tokio::select! {
                _ = &mut end_rx => {
                    let fail = json!({"auth": "fail"}).to_string();
                    let _ = sink.send(Message::Text(fail.into())).await;
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
                f = out.next() => f,
                _ = tokio::time::sleep_until(last_sent + keepalive) => {
                    Some(Arc::new(Frame { topic: "hb".into(), data: json!(chrono::Utc::now().timestamp_millis()) }))
                }
            };
            let Some(first) = next else { break };
            let mut batch = vec![first];
            let deadline = Instant::now() + BATCH_WINDOW;
            while batch.len() < BATCH_MAX {
                tokio::select! {
                    f = out.next() => match f {
                        Some(f) => batch.push(f),
                        None => break,
                    },
                    _ = tokio::time::sleep_until(deadline) => break,
                }
            }
            let text = match serde_json::to_string(&batch) {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!("Cannot encode a comms frame: {e}.");
                    continue;
                }
            };
            if sink.send(Message::Text(text.into())).await.is_err() {
                break;
            }
            last_sent = Instant::now();
        }
    });
    let recv_state = state.clone();
    let mut recv_task = tokio::spawn(async move {
        if let Some(first) = pending {
            client_message(&recv_state, &first, &replay_tx).await;
        }
        while let Some(Ok(msg)) = stream.next().await {
            match msg {
                Message::Text(t) => client_message(&recv_state, t.as_str(), &replay_tx).await,
                Message::Close(_) => break,
                _ => {}
            }
        }
    });
    tokio::select! {
        _ = &mut send_task => recv_task.abort(),
        _ = &mut recv_task => send_task.abort(),
    }
    watcher.abort();
}

/// What a connection sends: replays first, then hub messages.
struct Outgoing {
    hub: broadcast::Receiver<Arc<Frame>>,
    replay: mpsc::UnboundedReceiver<Arc<Frame>>,
}

impl Outgoing {
    /// The next message, or `None` when the hub is gone.
    async fn next(&mut self) -> Option<Arc<Frame>> {
        loop {
            tokio::select! {
                biased;
                Some(f) = self.replay.recv() => return Some(f),
                r = self.hub.recv() => match r {
                    Ok(f) => return Some(f),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("A slow editor connection missed {n} comms messages.");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }
}

/// Handles `{"subscribe": topic}` (replays retained messages); a later
/// `{"auth": token}` is ignored (the connection authenticated first).
/// Malformed messages are ignored, as Node-RED does.
async fn client_message(
    state: &AdminState,
    text: &str,
    replay: &mpsc::UnboundedSender<Arc<Frame>>,
) {
    let Ok(Json::Object(msg)) = serde_json::from_str::<Json>(text) else {
        tracing::trace!("Ignoring a malformed comms message.");
        return;
    };
    if msg.contains_key("auth") {
        return;
    }
    let Some(topic) = msg.get("subscribe").and_then(Json::as_str) else {
        return;
    };
    if super::topic_matches(topic, "status/x") {
        // Statuses set before the editor connected (or before this state
        // existed) come from the engine itself.
        for (id, st) in state.engine().statuses().await {
            if !st.is_clear() {
                state
                    .0
                    .comms
                    .remember(&format!("status/{id}"), status_json(&st));
            }
        }
    }
    for f in state.0.comms.matching(topic) {
        if replay.send(f).is_err() {
            return;
        }
    }
}
