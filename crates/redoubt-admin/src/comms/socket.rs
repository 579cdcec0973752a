//! One `/comms` connection: a sender task (hub messages and subscription
//! replays, batched, plus the heartbeat) and a receiver task (client
//! messages), as in axum's chat example; when either ends the other is
//! aborted.

use super::{Frame, status_json};
use crate::state::AdminState;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde_json::{Value as Json, json};
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
) -> Response {
    ws.on_upgrade(move |socket| serve(socket, state))
}

async fn serve(socket: WebSocket, state: AdminState) {
    let (mut sink, mut stream) = socket.split();
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

/// Handles `{"subscribe": topic}` (replays retained messages) and
/// `{"auth": token}` (accepted and ignored until adminAuth exists).
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
