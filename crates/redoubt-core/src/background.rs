//! Background work: jobs that can wait, such as building a function node's
//! script engine, freeing a closed one, or freeing a replaced deployment's
//! JSON. Two things come before them:
//!
//! * **A deploy being answered.** While the admin API holds a [`HoldOff`]
//!   (from [`hold_off`]), no background job starts; those that ask wait
//!   until it is dropped. A deploy of 200 nodes with 35 function nodes
//!   freed the old engines and built the new ones while it wrote and synced
//!   the new flows.json: the engines' allocations and frees took malloc's
//!   locks from under the thread that saves, its fsync went from 0.5 to
//!   1–4 ms and the answer waited for it (bench/HISTORY.md, item 42).
//! * **The running flows.** Jobs run on tokio's blocking pool, at most one
//!   fewer at once than the machine has cores (at least one), so a core
//!   stays free for the executor and HTTP serving while a deploy's engines
//!   are built and freed.
//!
//! The limits are process-wide, as the cores and the allocator they
//! protect are.

use std::sync::OnceLock;
use tokio::sync::{RwLock, RwLockWriteGuard, Semaphore, SemaphorePermit};

/// Held (write) while a deploy is answered; a job waits for a read.
static HOLD: RwLock<()> = RwLock::const_new(());

/// Jobs at once: one fewer than the cores, at least one.
fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Semaphore::new(cores.saturating_sub(1).max(1))
    })
}

/// While alive, no background job starts (those running finish).
#[must_use = "background jobs are held off only while this is alive"]
pub struct HoldOff {
    _held: RwLockWriteGuard<'static, ()>,
}

/// Holds background jobs off until the returned guard is dropped. Waits
/// only for jobs that are being admitted, never for running ones: a job
/// does not keep the hold-off's lock while it runs.
pub async fn hold_off() -> HoldOff {
    HoldOff {
        _held: HOLD.write().await,
    }
}

/// A background job's turn; the next job may start once it is dropped.
pub struct Permit {
    _slot: Option<SemaphorePermit<'static>>,
}

/// Waits until no deploy holds background work off and a slot is free.
pub async fn permit() -> Permit {
    // Only waits for a hold-off to end: holding the read lock while the
    // job runs would make the next deploy wait for the job.
    drop(HOLD.read().await);
    // `acquire` only fails on a closed semaphore, and this one never is.
    Permit {
        _slot: slots().acquire().await.ok(),
    }
}

/// Runs `work` as a background job on tokio's blocking pool (see the
/// module documentation for when it starts). Without a tokio runtime,
/// for example while a runtime is being dropped, it runs at once on the
/// caller's thread.
pub fn spawn(work: impl FnOnce() + Send + 'static) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        work();
        return;
    };
    rt.spawn(async move {
        let permit = permit().await;
        // The job's own panic is reported by tokio; nothing else to do.
        let _ = tokio::task::spawn_blocking(move || {
            work();
            drop(permit);
        })
        .await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_waits_while_background_work_is_held_off() {
        let held = hold_off().await;
        let ran = Arc::new(AtomicBool::new(false));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let flag = ran.clone();
        spawn(move || {
            flag.store(true, Ordering::SeqCst);
            let _ = tx.send(());
        });
        // Time for the job to run if nothing held it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !ran.load(Ordering::SeqCst),
            "the job ran during the hold-off"
        );
        drop(held);
        tokio::time::timeout(Duration::from_secs(10), rx)
            .await
            .expect("the job runs once the hold-off ends")
            .expect("the job reports");
        assert!(ran.load(Ordering::SeqCst));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_running_job_does_not_delay_a_hold_off() {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        spawn(move || {
            let _ = started_tx.send(());
            let _ = release_rx.recv_timeout(Duration::from_secs(10));
        });
        tokio::task::spawn_blocking(move || started_rx.recv_timeout(Duration::from_secs(10)))
            .await
            .expect("the waiter runs")
            .expect("the job starts");
        // The job is running and keeps running: the hold-off is granted anyway.
        let held = tokio::time::timeout(Duration::from_secs(5), hold_off())
            .await
            .expect("a hold-off does not wait for running jobs");
        drop(held);
        let _ = release_tx.send(());
    }

    #[test]
    fn without_a_runtime_a_job_runs_at_once() {
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        spawn(move || flag.store(true, Ordering::SeqCst));
        assert!(ran.load(Ordering::SeqCst));
    }
}
