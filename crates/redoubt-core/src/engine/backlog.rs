//! [`Backlog`]: how many messages the engine holds that no node has taken
//! yet, and the flow control built on that count.
//!
//! Node-RED queues every message sent and never slows a sender down, so a
//! script emitting messages from its timers faster than the flow behind it
//! takes them keeps all of them in memory at once: a million messages in
//! the chain benchmark's burst held 0.5 GB in Node-RED and 0.8–1.4 GB in
//! redoubt before this (bench/HISTORY.md, item 45). redoubt counts the
//! messages waiting in the executor's delivery queue, those a node has
//! sent or submitted from a background task that the executor has not
//! routed yet, and those in the nodes' own input queues (a function
//! node's). While more than [`Backlog::HIGH`] wait, a producer that runs on
//! its own clock (a function node's timers) waits until the count is down
//! to [`Backlog::LOW`] before its next turn, and so do the other sources
//! (`NodeHandle::room`): nodes reading from a peer, a file or a child
//! process wait before their next read, which leaves the data where it
//! came from, mqtt in holds its acknowledgements, and repeat timers
//! (`NodeCtx::schedule_paced`) hold their next tick.
//!
//! Inputs are never held back: taking input is what brings the count
//! down, so a node waiting to take its input could wait for itself.
//! Nothing is dropped either; a waiting producer only runs later, as it
//! would behind a busy event loop in Node-RED.

use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Notify;

/// Messages waiting in the engine, and producers waiting for room.
#[derive(Debug, Default)]
pub struct Backlog {
    /// In the executor's delivery queue, as it last stored it.
    queued: AtomicUsize,
    /// Entered and not yet left (see [`Backlog::enter`]): in the nodes'
    /// own input queues, or submitted and not yet routed.
    pending: AtomicUsize,
    /// Producers inside [`Backlog::room`].
    waiting: AtomicUsize,
    room: Notify,
}

impl Backlog {
    /// Above this many waiting messages, producers on their own clock wait.
    /// At about 1 KB a small message, a timer loop emitting faster than
    /// its flow keeps up queues a few MB and what one of its turns sends.
    /// In the chain benchmark's burst, 4,096 against 16,384 took the peak
    /// RSS from 61 to 48 MiB and the rate from 94k to 102k msgs/s (a
    /// smaller queue stays in the caches); lower would hold timers back in
    /// ordinary bursts (a split of a few thousand parts).
    pub const HIGH: usize = 4_096;
    /// A waiting producer goes on once no more than this many wait.
    pub const LOW: usize = Backlog::HIGH / 2;

    /// An empty backlog.
    pub fn new() -> Backlog {
        Backlog::default()
    }

    /// Messages waiting to be taken by a node.
    pub fn len(&self) -> usize {
        self.queued
            .load(Ordering::SeqCst)
            .saturating_add(self.pending.load(Ordering::SeqCst))
    }

    /// Whether no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether producers on their own clock should wait ([`Backlog::room`]).
    pub fn is_full(&self) -> bool {
        self.len() > Backlog::HIGH
    }

    /// Returns at once unless the backlog [`is_full`](Backlog::is_full);
    /// then returns once no more than [`Backlog::LOW`] messages wait. What
    /// a producer awaits before its next read or turn.
    pub async fn room_if_full(&self) {
        if self.is_full() {
            self.room().await;
        }
    }

    /// Returns once no more than [`Backlog::LOW`] messages wait.
    pub async fn room(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _left = Left(&self.waiting);
        loop {
            let notified = self.room.notified();
            tokio::pin!(notified);
            // Registered before the count is read: a fall after the read
            // finds `waiting` raised and wakes this.
            notified.as_mut().enable();
            if self.len() <= Backlog::LOW {
                return;
            }
            notified.await;
        }
    }

    /// `n` messages entered a node's own input queue, or were submitted to
    /// the executor.
    pub fn enter(&self, n: usize) {
        self.pending.fetch_add(n, Ordering::SeqCst);
    }

    /// `n` messages left a node's own input queue (taken, or dropped with
    /// the node); each must have [`Backlog::enter`]ed.
    pub fn leave(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.pending.fetch_sub(n, Ordering::SeqCst);
        self.fell();
    }

    /// The executor's delivery queue holds `queued` messages now, and it
    /// has routed `routed` submitted ones since it last said so (counted in
    /// the queue now, or delivered). The queue's count is raised before the
    /// routed ones leave, so the count never dips in between.
    pub(crate) fn routed(&self, queued: usize, routed: usize) {
        let before = self.queued.swap(queued, Ordering::SeqCst);
        if routed > 0 {
            self.pending.fetch_sub(routed, Ordering::SeqCst);
        }
        if routed > 0 || before > queued {
            self.fell();
        }
    }

    /// Wakes the waiting producers once there is room. Read after the
    /// count changed, so a producer that registered before it is woken.
    fn fell(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 && self.len() <= Backlog::LOW {
            self.room.notify_waiters();
        }
    }
}

/// Lowers the count of waiting producers when one stops waiting, however.
struct Left<'a>(&'a AtomicUsize);

impl Drop for Left<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn counts_the_executor_queue_and_the_inboxes() {
        let b = Backlog::new();
        assert!(b.is_empty());
        b.routed(10, 0);
        b.enter(5);
        assert_eq!(b.len(), 15);
        b.leave(5);
        b.routed(3, 0);
        assert_eq!(b.len(), 3);
        assert!(!b.is_full());
        b.enter(Backlog::HIGH);
        assert!(b.is_full());
    }

    #[test]
    fn routed_messages_move_from_pending_to_the_queue() {
        let b = Backlog::new();
        b.enter(8);
        assert_eq!(b.len(), 8);
        b.routed(6, 8);
        assert_eq!(b.len(), 6);
    }

    #[tokio::test]
    async fn room_is_there_at_once_below_the_low_mark() {
        let b = Backlog::new();
        b.enter(Backlog::LOW);
        tokio::time::timeout(Duration::from_secs(5), b.room())
            .await
            .expect("room below the low mark");
    }

    #[tokio::test]
    async fn a_producer_waits_until_the_backlog_falls_to_the_low_mark() {
        let b = Arc::new(Backlog::new());
        b.enter(Backlog::HIGH + 1);
        let waiter = tokio::spawn({
            let b = b.clone();
            async move { b.room().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "room while the backlog is full");
        // Falling below the high mark is not enough.
        b.leave(Backlog::LOW);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "room above the low mark");
        b.leave(1);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken at the low mark")
            .expect("waiter ran");
        assert_eq!(b.waiting.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn the_executor_draining_its_queue_wakes_producers() {
        let b = Arc::new(Backlog::new());
        b.routed(Backlog::HIGH * 2, 0);
        let waiter = tokio::spawn({
            let b = b.clone();
            async move { b.room().await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        b.routed(0, 0);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken by the executor")
            .expect("waiter ran");
    }

    #[tokio::test]
    async fn a_producer_that_stops_waiting_is_no_longer_counted() {
        let b = Backlog::new();
        b.enter(Backlog::HIGH + 1);
        let r = tokio::time::timeout(Duration::from_millis(10), b.room()).await;
        assert!(r.is_err());
        assert_eq!(b.waiting.load(Ordering::SeqCst), 0);
    }
}
