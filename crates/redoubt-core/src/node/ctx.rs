//! [`NodeCtx`]: what a node may do while one of its hooks runs, and
//! [`NodeHandle`]: the same from a background task.

use super::{NodeError, NodeEvent, Status};
use crate::context::NodeContext;
use crate::engine::{Command, NodeInfo, NodeKey, Shared};
use crate::msg::Msg;
use crate::value::{Str, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// What a node produced during one hook, applied by the engine afterwards.
pub(crate) enum Effect {
    Send(usize, Msg),
    SendTo(Str, Msg),
    EventTo(Str, NodeEvent),
    Status(Status),
    Error(NodeError, Option<Msg>),
    Complete(Msg, Option<NodeError>),
}

/// A message whose `done()` the node postponed with [`NodeCtx::defer`].
#[must_use = "a deferred message must be completed with NodeCtx::complete or NodeHandle::complete"]
pub struct Pending {
    pub(crate) msg: Msg,
    /// A Complete node listened to the node when the message arrived; a
    /// successful completion nobody listens to has nothing to do.
    pub(crate) watched: bool,
}

impl Pending {
    /// The message this completion belongs to.
    pub fn msg(&self) -> &Msg {
        &self.msg
    }

    /// What completing the message with `result` asks of the engine: nothing
    /// for a successful completion no Complete node listens to, so a node
    /// that completes every message from another thread (the function node)
    /// wakes the engine only for what matters.
    fn into_effect(self, result: Completion) -> Option<Effect> {
        if result.is_ok() && !self.watched {
            return None;
        }
        Some(Effect::Complete(self.msg, result.err()))
    }
}

/// The outcome of a deferred message.
pub type Completion = Result<(), NodeError>;

/// What a node does from outside its hooks (sends, completions, statuses,
/// errors), gathered so that it reaches the engine as one command: a node
/// that handles many messages on another thread (the function node) then
/// wakes the engine once per batch instead of once per message. The engine
/// applies them in the order they were added. Hand it to
/// [`NodeHandle::submit`].
#[derive(Default)]
pub struct Batch {
    effects: Vec<Effect>,
}

impl Batch {
    /// Sends `msg` on output `port`.
    pub fn send(&mut self, port: usize, msg: Msg) {
        self.effects.push(Effect::Send(port, msg));
    }

    /// Completes a deferred message (see [`NodeHandle::complete`]).
    pub fn complete(&mut self, pending: Pending, result: Completion) {
        self.effects.extend(pending.into_effect(result));
    }

    /// Sets the node's status.
    pub fn status(&mut self, status: Status) {
        self.effects.push(Effect::Status(status));
    }

    /// Reports an error, routed to Catch nodes when there is a message.
    pub fn error(&mut self, err: NodeError, msg: Option<Msg>) {
        self.effects.push(Effect::Error(err, msg));
    }

    /// How many effects wait in the batch.
    pub fn len(&self) -> usize {
        self.effects.len()
    }

    /// True when nothing waits in the batch.
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty()
    }
}

/// A timer scheduled with [`NodeCtx::schedule`]; dropping it does not cancel it.
#[derive(Debug)]
pub struct TimerId(tokio::task::AbortHandle);

impl TimerId {
    /// Cancels the timer (no event is delivered if it had not fired yet).
    pub fn cancel(&self) {
        self.0.abort();
    }
}

/// The node's view of the runtime during a hook.
pub struct NodeCtx<'a> {
    pub(crate) info: &'a Arc<NodeInfo>,
    pub(crate) shared: &'a Arc<Shared>,
    pub(crate) effects: &'a mut Vec<Effect>,
    pub(crate) tasks: &'a mut Vec<tokio::task::AbortHandle>,
    pub(crate) deferred: bool,
    pub(crate) current: Option<Msg>,
    /// Some Complete node listens to this node.
    pub(crate) watched: bool,
}

impl NodeCtx<'_> {
    /// This node's id.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// This node's name (may be empty).
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// This node's type.
    pub fn type_name(&self) -> &str {
        &self.info.type_name
    }

    /// The id of the flow (tab or subflow instance) this node runs in.
    pub fn flow_id(&self) -> &str {
        &self.info.z
    }

    /// Sends `msg` on output `port` (0-based).
    pub fn send(&mut self, port: usize, msg: Msg) {
        self.effects.push(Effect::Send(port, msg));
    }

    /// Sends `msg` straight to the node with `id` (link out, link call return).
    pub fn send_to(&mut self, id: &str, msg: Msg) {
        self.effects.push(Effect::SendTo(Str::from(id), msg));
    }

    /// Delivers `ev` to the running node `id`'s [`super::Node::on_event`].
    pub fn event_to(&mut self, id: &str, ev: NodeEvent) {
        self.effects.push(Effect::EventTo(Str::from(id), ev));
    }

    /// Ids of running nodes of `type_name` whose id or name is `id_or_name`.
    pub fn find_nodes(&self, type_name: &str, id_or_name: &str) -> Vec<String> {
        self.shared.find_nodes(type_name, id_or_name)
    }

    /// Publishes a runtime event (debug output for the editor).
    pub fn publish(&self, ev: crate::engine::RuntimeEvent) {
        self.shared.publish(ev);
    }

    /// Sets this node's status.
    pub fn status(&mut self, status: Status) {
        self.effects.push(Effect::Status(status));
    }

    /// `node.error(err, msg)`: logs it and, with a message, routes it to Catch nodes.
    pub fn error(&mut self, err: NodeError, msg: Option<Msg>) {
        self.effects.push(Effect::Error(err, msg));
    }

    /// `node.warn(text)`.
    pub fn warn(&self, text: &str) {
        self.shared
            .log(self.info, crate::engine::LogLevel::Warn, text);
    }

    /// `node.log(text)`.
    pub fn log(&self, text: &str) {
        self.shared
            .log(self.info, crate::engine::LogLevel::Info, text);
    }

    /// Postpones `done()` for the message being handled; complete it later
    /// with [`NodeCtx::complete`] or [`NodeHandle::complete`].
    pub fn defer(&mut self) -> Option<Pending> {
        let msg = self.current.clone()?;
        self.deferred = true;
        Some(Pending {
            msg,
            watched: self.watched,
        })
    }

    /// Completes a deferred message (`done()` or `done(err)`).
    pub fn complete(&mut self, pending: Pending, result: Completion) {
        self.effects.extend(pending.into_effect(result));
    }

    /// This node's node/flow/global context.
    pub fn context(&self) -> NodeContext {
        self.info.context(self.shared)
    }

    /// An environment variable as this node sees it (group, flow, subflow, process).
    pub fn env(&self, name: &str) -> Value {
        self.info.env.get(name, Some(self.info)).unwrap_or_default()
    }

    /// The node's identity and scopes.
    pub fn info(&self) -> &Arc<NodeInfo> {
        self.info
    }

    /// Delivers [`NodeEvent::Timer`]`(token)` after `after`.
    pub fn schedule(&mut self, after: Duration, token: u64) -> TimerId {
        self.schedule_timer(after, token, false)
    }

    /// Like [`NodeCtx::schedule`], for a timer that makes messages on the
    /// node's own clock (inject's repeat, trigger's resend): once due it
    /// also waits while the engine's backlog is full ([`NodeHandle::room`]),
    /// so a repeat faster than the flow runs at the flow's pace instead of
    /// queueing messages without bound. A tick that waited is delivered
    /// once, not caught up.
    pub fn schedule_paced(&mut self, after: Duration, token: u64) -> TimerId {
        self.schedule_timer(after, token, true)
    }

    fn schedule_timer(&mut self, after: Duration, token: u64, paced: bool) -> TimerId {
        let handle = self.handle();
        let task = tokio::spawn(async move {
            tokio::time::sleep(after).await;
            if paced {
                handle.room().await;
            }
            handle.event(NodeEvent::Timer(token));
        });
        let abort = task.abort_handle();
        self.track(abort.clone());
        TimerId(abort)
    }

    /// Runs `fut` in the background; its output comes back as
    /// [`NodeEvent::Custom`]. The task is cancelled when the node closes.
    pub fn spawn<F, T>(&mut self, fut: F) -> tokio::task::AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let handle = self.handle();
        let task = tokio::spawn(async move {
            let out = fut.await;
            handle.event(NodeEvent::Custom(Box::new(out)));
        });
        let abort = task.abort_handle();
        self.track(abort.clone());
        abort
    }

    /// Runs `fut` in the background with no result; cancelled when the node closes.
    pub fn spawn_detached<F>(&mut self, fut: F) -> tokio::task::AbortHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let abort = tokio::spawn(fut).abort_handle();
        self.track(abort.clone());
        abort
    }

    fn track(&mut self, h: tokio::task::AbortHandle) {
        if self.tasks.len() >= 64 {
            self.tasks.retain(|t| !t.is_finished());
        }
        self.tasks.push(h);
    }

    /// A handle background tasks use to act as this node.
    pub fn handle(&self) -> NodeHandle {
        NodeHandle {
            shared: self.shared.clone(),
            key: self.info.key(),
            info: self.info.clone(),
        }
    }

    /// Runtime settings.
    pub fn settings(&self) -> &crate::engine::RuntimeSettings {
        &self.shared.settings
    }
}

/// Acts as a node from outside its hooks (a timer task, an HTTP handler, an
/// MQTT event loop). Cheap to clone; every call goes through the engine.
#[derive(Clone)]
pub struct NodeHandle {
    pub(crate) shared: Arc<Shared>,
    pub(crate) key: NodeKey,
    pub(crate) info: Arc<NodeInfo>,
}

impl NodeHandle {
    /// Delivers an event to this node's [`super::Node::on_event`].
    pub fn event(&self, ev: NodeEvent) {
        self.shared.command(Command::Event(self.key.clone(), ev));
    }

    /// Sends `msg` on output `port`, as if the node had sent it.
    pub fn send(&self, port: usize, msg: Msg) {
        // Counted until the executor has routed it (see `Backlog`).
        self.shared.backlog.enter(1);
        self.shared
            .command(Command::Emit(self.key.clone(), port, msg));
    }

    /// Returns at once unless the engine holds more than
    /// [`crate::engine::Backlog::HIGH`] messages no node has taken yet; then
    /// returns once no more than [`crate::engine::Backlog::LOW`] are left.
    /// A node reading messages from a peer (a TCP socket, a UDP port, a
    /// websocket) awaits this before each read, so a peer sending faster
    /// than the flows take its messages is held back by the transport's own
    /// flow control instead of queueing in memory. Never await it while
    /// handling input: taking input is what empties the backlog.
    pub async fn room(&self) {
        self.shared.backlog.room_if_full().await;
    }

    /// Delivers `msg` to this node's own input.
    pub fn input(&self, msg: Msg) {
        self.shared.command(Command::Input(self.key.clone(), msg));
    }

    /// Sets the node's status.
    pub fn status(&self, status: Status) {
        self.shared
            .command(Command::Status(self.key.clone(), status));
    }

    /// Reports an error, routed to Catch nodes when there is a message.
    pub fn error(&self, err: NodeError, msg: Option<Msg>) {
        self.shared
            .command(Command::Error(self.key.clone(), err, msg));
    }

    /// Completes a deferred message (a successful completion no Complete
    /// node listens to goes no further).
    pub fn complete(&self, pending: Pending, result: Completion) {
        if let Some(Effect::Complete(msg, err)) = pending.into_effect(result) {
            self.shared
                .command(Command::Complete(self.key.clone(), msg, err));
        }
    }

    /// Applies everything in `batch`, in order, as one command; an empty
    /// batch sends nothing.
    pub fn submit(&self, batch: Batch) {
        if batch.effects.is_empty() {
            return;
        }
        // Counted until the executor has routed them (see `Backlog`).
        self.shared.backlog.enter(batch.effects.len());
        self.shared
            .command(Command::Effects(self.key.clone(), batch.effects));
    }

    /// `node.warn(text)`.
    pub fn warn(&self, text: &str) {
        self.shared
            .log(&self.info, crate::engine::LogLevel::Warn, text);
    }

    /// `node.log(text)`.
    pub fn log(&self, text: &str) {
        self.shared
            .log(&self.info, crate::engine::LogLevel::Info, text);
    }

    /// This node's context.
    pub fn context(&self) -> NodeContext {
        self.info.context(&self.shared)
    }

    /// The node's identity and scopes.
    pub fn info(&self) -> &Arc<NodeInfo> {
        &self.info
    }

    /// The engine's count of messages no node has taken yet: a node with
    /// an input queue of its own counts it there, and a node producing on
    /// its own clock waits for room (see [`crate::engine::Backlog`]).
    pub fn backlog(&self) -> &Arc<crate::engine::Backlog> {
        &self.shared.backlog
    }
}
