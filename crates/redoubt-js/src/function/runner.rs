//! [`FunctionRunner`]: runs a [`Sandbox`] off the engine's executor.
//!
//! One tokio task per function node owns the input queue and the timer
//! clock; every JS turn runs on the blocking pool (`spawn_blocking`), so a
//! runaway script only ever occupies its own thread until the interrupt
//! handler stops it, and messages are handled in arrival order. Timers run
//! on tokio's clock, so tests with a paused clock drive them too.

use super::sandbox::Sandbox;
use parking_lot::Mutex;
use redoubt_core::Msg;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Inputs handled in one blocking call at most.
const BATCH: usize = 256;

enum Work {
    Init,
    Inputs(Vec<(u64, Msg)>),
    Timers,
}

/// A running function node script.
pub struct FunctionRunner {
    tx: mpsc::UnboundedSender<(u64, Msg)>,
    sandbox: Arc<Mutex<Option<Sandbox>>>,
    limits: Arc<super::sandbox::Limits>,
}

impl FunctionRunner {
    /// Starts the runner on the current tokio runtime and runs On Start.
    pub fn start(sandbox: Sandbox) -> FunctionRunner {
        let limits = sandbox.limits.clone();
        let sandbox = Arc::new(Mutex::new(Some(sandbox)));
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(sandbox.clone(), rx));
        FunctionRunner {
            tx,
            sandbox,
            limits,
        }
    }

    /// Queues message `id`; its outcome arrives at the sink's `done`.
    pub fn input(&self, id: u64, msg: Msg) {
        // After close the task is gone and the message is dropped, as a
        // closed node's input is in Node-RED.
        let _ = self.tx.send((id, msg));
    }

    /// Stops the node: interrupts a running script, runs On Stop and the
    /// `close` handlers (bounded by the node's timeout, or 5 s), clears the
    /// timers and frees the engine. Blocks until that is done.
    pub fn close(&self, removed: bool) {
        self.limits.closing.store(true, Ordering::Relaxed);
        let mut guard = self.sandbox.lock();
        self.limits.closing.store(false, Ordering::Relaxed);
        if let Some(mut sb) = guard.take() {
            sb.close(removed);
        }
    }
}

impl Drop for FunctionRunner {
    fn drop(&mut self) {
        // Without an explicit close the engine still has to go.
        self.limits.closing.store(true, Ordering::Relaxed);
        let taken = self.sandbox.lock().take();
        drop(taken);
    }
}

async fn run(sandbox: Arc<Mutex<Option<Sandbox>>>, mut rx: mpsc::UnboundedReceiver<(u64, Msg)>) {
    let epoch = Instant::now();
    let Some(mut next) = step(&sandbox, Work::Init, epoch).await else {
        return;
    };
    loop {
        let timer = next.map(|d| epoch + d);
        let work = tokio::select! {
            biased;
            _ = sleep_until(timer), if timer.is_some() => Work::Timers,
            first = rx.recv() => match first {
                Some(first) => {
                    let mut batch = vec![first];
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok(m) => batch.push(m),
                            Err(_) => break,
                        }
                    }
                    Work::Inputs(batch)
                }
                None => return,
            },
        };
        match step(&sandbox, work, epoch).await {
            Some(n) => next = n,
            None => return,
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// Runs `work` on the blocking pool; `None` once the sandbox is closed,
/// else when the next timer is due.
async fn step(
    sandbox: &Arc<Mutex<Option<Sandbox>>>,
    work: Work,
    epoch: Instant,
) -> Option<Option<Duration>> {
    let now = Instant::now().duration_since(epoch);
    let sb = sandbox.clone();
    let r = tokio::task::spawn_blocking(move || {
        let mut guard = sb.lock();
        let sb = guard.as_mut()?;
        sb.set_now(now);
        match work {
            Work::Init => sb.init(),
            Work::Inputs(batch) => {
                for (id, msg) in batch {
                    if sb.limits.closing.load(Ordering::Relaxed) {
                        break;
                    }
                    sb.input(id, msg);
                }
            }
            Work::Timers => sb.fire_due(now),
        }
        Some(sb.next_timer())
    })
    .await;
    match r {
        Ok(next) => next,
        Err(e) => {
            tracing::error!("Function node script runner failed: {e}.");
            None
        }
    }
}
