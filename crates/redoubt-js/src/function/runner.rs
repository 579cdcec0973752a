//! [`FunctionRunner`]: runs a [`Sandbox`] off the engine's executor.
//!
//! One tokio task per function node owns the input queue and the timer
//! clock; every JS turn runs on the blocking pool, so a runaway script only
//! ever occupies its own thread until the interrupt handler stops it, and
//! messages are handled in arrival order. While inputs keep coming, the
//! turns stay on one pool thread (a [`Lane`]), and the blocking call takes
//! the input queue along: when its batch is done it goes on with what
//! arrived meanwhile (up to [`BATCH`] in all), rather than handing back to
//! the task, which would wake two threads for the next batch and leave the
//! lane idle in between (bench/HISTORY.md, item 48). Timers run on tokio's
//! clock, so tests with a paused clock drive them too.
//!
//! Flow control: the input queue counts in the engine's [`Backlog`], and a
//! due timer waits while the backlog is full, so a script emitting from
//! its timers cannot queue without bound. Inputs are handled meanwhile.

use super::lane::Lane;
use super::sandbox::{Limits, Sandbox};
use super::{FunctionSpec, ScriptSink};
use parking_lot::Mutex;
use redoubt_core::Msg;
use redoubt_core::engine::Backlog;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Inputs handled in one blocking call at most, so a due timer waits for
/// no more than this many.
const BATCH: usize = 1024;

enum Work {
    Init,
    Inputs(Vec<(u64, Msg)>),
    Timers,
}

/// A running function node script.
pub struct FunctionRunner {
    tx: mpsc::UnboundedSender<(u64, Msg)>,
    backlog: Option<Arc<Backlog>>,
    sandbox: Arc<Mutex<Option<Sandbox>>>,
    limits: Arc<OnceLock<Arc<Limits>>>,
    closed: Arc<AtomicBool>,
}

/// What the runner task starts from.
enum Origin {
    Ready,
    Build(Box<FunctionSpec>, Arc<dyn ScriptSink>),
}

impl FunctionRunner {
    /// Starts the runner on the current tokio runtime and runs On Start.
    pub fn start(sandbox: Sandbox) -> FunctionRunner {
        let limits = Arc::new(OnceLock::new());
        let _ = limits.set(sandbox.limits.clone());
        let backlog = sandbox.sink().backlog();
        FunctionRunner::spawn(Some(sandbox), limits, backlog, Origin::Ready)
    }

    /// Starts the runner and builds the sandbox in its own task, so a deploy
    /// of many function nodes builds their engines in parallel and off the
    /// executor. Inputs that arrive first wait in order.
    pub fn start_lazy(spec: FunctionSpec, sink: Arc<dyn ScriptSink>) -> FunctionRunner {
        let limits = Arc::new(OnceLock::new());
        let backlog = sink.backlog();
        FunctionRunner::spawn(None, limits, backlog, Origin::Build(Box::new(spec), sink))
    }

    fn spawn(
        sandbox: Option<Sandbox>,
        limits: Arc<OnceLock<Arc<Limits>>>,
        backlog: Option<Arc<Backlog>>,
        origin: Origin,
    ) -> FunctionRunner {
        let sandbox = Arc::new(Mutex::new(sandbox));
        let closed = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::unbounded_channel();
        let inbox = Inbox {
            rx,
            backlog: backlog.clone(),
        };
        tokio::spawn(run(
            sandbox.clone(),
            limits.clone(),
            closed.clone(),
            origin,
            inbox,
        ));
        FunctionRunner {
            tx,
            backlog,
            sandbox,
            limits,
            closed,
        }
    }

    /// Queues message `id`; its outcome arrives at the sink's `done`.
    pub fn input(&self, id: u64, msg: Msg) {
        // Counted before it is queued, so the task never takes a message
        // that is not counted yet (see `Inbox`).
        if let Some(b) = &self.backlog {
            b.enter(1);
        }
        // After close the task is gone and the message is dropped, as a
        // closed node's input is in Node-RED.
        if self.tx.send((id, msg)).is_err()
            && let Some(b) = &self.backlog
        {
            b.leave(1);
        }
    }

    /// Stops the node: interrupts a running script, runs On Stop and the
    /// `close` handlers (bounded by the node's timeout, or 5 s), clears the
    /// timers, and blocks until that is done; the engine itself is freed in
    /// the background (see [`retire`]).
    pub fn close(&self, removed: bool) {
        self.closed.store(true, Ordering::Relaxed);
        let limits = self.limits.get();
        if let Some(l) = limits {
            l.closing.store(true, Ordering::Relaxed);
        }
        let mut guard = self.sandbox.lock();
        if let Some(l) = self.limits.get() {
            l.closing.store(false, Ordering::Relaxed);
        }
        if let Some(mut sb) = guard.take() {
            sb.close(removed);
            sb.flush();
            retire(sb);
        }
    }
}

/// Frees a closed sandbox's engine as a background job
/// ([`redoubt_core::background`]): a deploy closes every old function node
/// on the engine's executor before the new flows start, and freeing a
/// QuickJS runtime (a last garbage collection of everything the script and
/// the prelude made) costs more than the rest of closing it. Nothing runs
/// in the engine any more: On Stop and the close handlers have run. The
/// job waits until the deploy has been answered, and frees one engine at
/// a time per free core.
fn retire(sb: Sandbox) {
    redoubt_core::background::spawn(move || drop(sb));
}

impl Drop for FunctionRunner {
    fn drop(&mut self) {
        // Without an explicit close the engine still has to go.
        self.closed.store(true, Ordering::Relaxed);
        if let Some(l) = self.limits.get() {
            l.closing.store(true, Ordering::Relaxed);
        }
        let taken = self.sandbox.lock().take();
        drop(taken);
    }
}

async fn run(
    sandbox: Arc<Mutex<Option<Sandbox>>>,
    limits: Arc<OnceLock<Arc<Limits>>>,
    closed: Arc<AtomicBool>,
    origin: Origin,
    mut inbox: Inbox,
) {
    let epoch = Instant::now();
    if let Origin::Build(spec, sink) = origin {
        let sb = sandbox.clone();
        // Building is background work: it waits until a deploy has been
        // answered, and a deploy of many function nodes builds one engine
        // at a time per free core (a thread and a malloc arena each
        // otherwise), leaving a core for what already runs.
        let _permit = redoubt_core::background::permit().await;
        let built = tokio::task::spawn_blocking(move || {
            let mut guard = sb.lock();
            if closed.load(Ordering::Relaxed) {
                return false;
            }
            match Sandbox::new(&spec, sink.clone()) {
                Ok(s) => {
                    let _ = limits.set(s.limits.clone());
                    *guard = Some(s);
                    true
                }
                Err(e) => {
                    sink.log(redoubt_core::engine::LogLevel::Error, &e.message);
                    false
                }
            }
        })
        .await;
        if !matches!(built, Ok(true)) {
            return;
        }
    }
    // On Start runs on any pool thread, not a lane: a deploy starts many
    // nodes at once, and each lane would keep a thread for its linger.
    let Some((back, mut next)) = step(&sandbox, Work::Init, epoch, None, inbox).await else {
        return;
    };
    inbox = back;
    let lane = Lane::default();
    loop {
        let timer = next.map(|d| epoch + d);
        // A timer waits while the engine holds too many messages; inputs,
        // which bring that number down, go on meanwhile.
        let backlog = inbox
            .backlog
            .clone()
            .filter(|b| timer.is_some() && b.is_full());
        let work = tokio::select! {
            biased;
            _ = sleep_until(timer), if timer.is_some() && backlog.is_none() => Work::Timers,
            _ = room(backlog.as_deref()), if backlog.is_some() => continue,
            batch = inbox.recv() => match batch {
                Some(batch) => Work::Inputs(batch),
                None => return,
            },
        };
        match step(&sandbox, work, epoch, Some(&lane), inbox).await {
            Some((back, n)) => {
                inbox = back;
                next = n;
            }
            None => return,
        }
    }
}

/// A function node's input queue, counted in the engine's backlog from
/// when [`FunctionRunner::input`] queues a message until a turn takes it.
struct Inbox {
    rx: mpsc::UnboundedReceiver<(u64, Msg)>,
    backlog: Option<Arc<Backlog>>,
}

impl Inbox {
    /// The next inputs in arrival order, at most [`BATCH`]; `None` once the
    /// node is gone.
    async fn recv(&mut self) -> Option<Vec<(u64, Msg)>> {
        let first = self.rx.recv().await?;
        let mut batch = vec![first];
        self.take_queued(&mut batch, BATCH);
        Some(batch)
    }

    /// Adds the inputs already queued to `batch`, without waiting, until it
    /// holds `max`, and counts all of `batch` out of the backlog: it holds
    /// only inputs just taken from the queue.
    fn take_queued(&mut self, batch: &mut Vec<(u64, Msg)>, max: usize) {
        while batch.len() < max {
            match self.rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        if !batch.is_empty()
            && let Some(b) = &self.backlog
        {
            b.leave(batch.len());
        }
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        // Closed first, so no message arrives after the count below.
        self.rx.close();
        let mut left = 0;
        while self.rx.try_recv().is_ok() {
            left += 1;
        }
        if let Some(b) = &self.backlog {
            b.leave(left);
        }
    }
}

async fn room(backlog: Option<&Backlog>) {
    if let Some(b) = backlog {
        b.room().await;
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// Runs `work` on the lane's thread, else on the blocking pool, and hands
/// the input queue back; `None` once the sandbox is closed, else when the
/// next timer is due.
async fn step(
    sandbox: &Arc<Mutex<Option<Sandbox>>>,
    work: Work,
    epoch: Instant,
    lane: Option<&Lane>,
    mut inbox: Inbox,
) -> Option<(Inbox, Option<Duration>)> {
    let now = Instant::now().duration_since(epoch);
    let sb = sandbox.clone();
    let turn = move || {
        let mut guard = sb.lock();
        let sb = guard.as_mut()?;
        sb.set_now(now);
        match work {
            Work::Init => sb.init(),
            Work::Inputs(mut batch) => {
                let mut handled = 0;
                'inputs: loop {
                    for (id, msg) in batch.drain(..) {
                        if sb.limits.closing.load(Ordering::Relaxed) {
                            break 'inputs;
                        }
                        sb.input(id, msg);
                        handled += 1;
                    }
                    // What arrived meanwhile, now.
                    inbox.take_queued(&mut batch, BATCH - handled);
                    if batch.is_empty() {
                        break;
                    }
                }
            }
            Work::Timers => sb.fire_due(now),
        }
        sb.flush();
        Some((inbox, sb.next_timer()))
    };
    let r = match lane {
        Some(lane) => lane.run(turn).await.map_err(|e| e.to_string()),
        None => tokio::task::spawn_blocking(turn)
            .await
            .map_err(|e| e.to_string()),
    };
    match r {
        Ok(next) => next,
        Err(e) => {
            tracing::error!("Function node script runner failed: {e}.");
            None
        }
    }
}
