//! [`Lane`]: one blocking-pool thread that a busy function node keeps
//! between its turns.
//!
//! tokio gives each `spawn_blocking` to the pool thread that has waited
//! longest, so one node's turns went round every idle pool thread, and each
//! of those threads kept a malloc arena with the script's garbage in it
//! (three under `wrk -t2 -c50`; bench/HISTORY.md, item 37). A lane's thread
//! runs the node's turns one after the other and waits up to [`LINGER`] for
//! the next one before it goes back to the pool. A runaway script still
//! holds only its own node's thread.

use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// How long a lane's thread waits for the node's next turn before it goes
/// back to the pool.
pub(crate) const LINGER: Duration = Duration::from_millis(10);

type Job = Box<dyn FnOnce() + Send>;

/// The turns of one node, and whether a thread is running them.
#[derive(Default)]
pub(crate) struct Lane {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// A pool thread is running or waiting for this lane's jobs. Set and
    /// cleared under the lock, so a job is never left without one.
    worker: bool,
}

/// The job did not finish: it panicked.
#[derive(Debug, thiserror::Error)]
#[error("the turn stopped without finishing")]
pub(crate) struct LaneGone;

impl Lane {
    /// Runs `f` on the lane's thread (taking one from the blocking pool if
    /// the lane has none) and waits for its result.
    pub(crate) async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, LaneGone> {
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(f());
        });
        let start = {
            let mut st = self.shared.state.lock();
            st.jobs.push_back(job);
            if st.worker {
                self.shared.wake.notify_one();
                false
            } else {
                st.worker = true;
                true
            }
        };
        if start {
            let shared = self.shared.clone();
            tokio::task::spawn_blocking(move || work(&shared));
        }
        result.await.map_err(|_| LaneGone)
    }
}

/// The lane's thread: jobs in order, then [`LINGER`] of waiting. A job
/// that panics ends with its caller told ([`LaneGone`]), not the thread.
fn work(shared: &Shared) {
    let _ends = WorkerEnds(shared);
    let mut st = shared.state.lock();
    loop {
        if let Some(job) = st.jobs.pop_front() {
            parking_lot::MutexGuard::unlocked(&mut st, || {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            });
            continue;
        }
        if shared.wake.wait_for(&mut st, LINGER).timed_out() && st.jobs.is_empty() {
            return;
        }
    }
}

/// Marks the lane as without a thread when [`work`] ends (were it ever to
/// unwind, the jobs left are dropped, so their callers get [`LaneGone`]).
struct WorkerEnds<'a>(&'a Shared);

impl Drop for WorkerEnds<'_> {
    fn drop(&mut self) {
        let mut st = self.0.state.lock();
        st.worker = false;
        st.jobs.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn turns_in_quick_succession_run_on_one_thread_in_order() {
        let lane = Lane::default();
        let mut seen = Vec::new();
        for i in 0..20 {
            let (id, n) = lane
                .run(move || (std::thread::current().id(), i))
                .await
                .expect("ran");
            seen.push((id, n));
            // Other blocking work in between does not take the lane's place.
            tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_micros(50)))
                .await
                .expect("other work");
        }
        let first = seen[0].0;
        assert!(seen.iter().all(|(id, _)| *id == first), "{seen:?}");
        let order: Vec<_> = seen.iter().map(|(_, n)| *n).collect();
        assert_eq!(order, (0..20).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_quiet_lane_gives_its_thread_back_and_takes_one_again() {
        let lane = Lane::default();
        assert_eq!(lane.run(|| 1u8).await.expect("ran"), 1);
        std::thread::sleep(LINGER * 5);
        assert!(!lane.shared.state.lock().worker, "the thread stayed");
        assert_eq!(lane.run(|| 2u8).await.expect("ran again"), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_panicking_turn_is_reported_and_the_next_one_runs() {
        let lane = Lane::default();
        let r = lane.run(|| -> u8 { panic!("a turn failed") }).await;
        assert!(r.is_err());
        assert_eq!(lane.run(|| 3u8).await.expect("ran after the panic"), 3);
    }
}
