//! Graceful shutdown of open connections: the accept loop holds a
//! [`Drain`], each connection a [`DrainWatcher`]. When the loop stops,
//! [`Drain::shutdown`] asks every connection to finish the request it is
//! serving and close, then waits until all have.
//!
//! hyper-util's `GracefulShutdown` does the same but can only watch the
//! connection types it knows, and plain HTTP here is hyper's own HTTP/1
//! connection with upgrades (websockets), which is not one of them; this
//! works for any connection given how to start its graceful shutdown.

use std::future::Future;
use std::pin::{Pin, pin};
use tokio::sync::watch;

/// Held by the accept loop: tells connections to close and waits for them.
pub(crate) struct Drain {
    tx: watch::Sender<bool>,
}

/// Held by one connection: learns when to close.
pub(crate) struct DrainWatcher {
    rx: watch::Receiver<bool>,
}

impl Drain {
    pub(crate) fn new() -> Drain {
        Drain {
            tx: watch::Sender::new(false),
        }
    }

    /// A watcher for one more connection; [`Drain::shutdown`] waits until
    /// it is dropped.
    pub(crate) fn watcher(&self) -> DrainWatcher {
        DrainWatcher {
            rx: self.tx.subscribe(),
        }
    }

    /// Asks every watched connection to close gracefully and waits until
    /// each has ended (its watcher dropped).
    pub(crate) async fn shutdown(self) {
        self.tx.send_replace(true);
        self.tx.closed().await;
    }
}

impl DrainWatcher {
    /// Runs connection `conn` to its end; when shutdown is asked for (or
    /// the [`Drain`] is gone) first calls `graceful` on it, which lets the
    /// request in progress finish and then ends the connection.
    pub(crate) async fn watch<C, T>(mut self, conn: C, graceful: fn(Pin<&mut C>)) -> T
    where
        C: Future<Output = T>,
    {
        let mut conn = pin!(conn);
        if !*self.rx.borrow_and_update() {
            tokio::select! {
                out = conn.as_mut() => return out,
                // A change (true) or the drain dropped: either way, stop.
                _ = self.rx.changed() => {}
            }
        }
        graceful(conn.as_mut());
        conn.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context, Poll};
    use std::time::Duration;

    /// A connection that ends only once told to shut down.
    struct Conn {
        told: Arc<AtomicBool>,
    }

    impl Future for Conn {
        type Output = &'static str;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
            if self.told.load(Ordering::SeqCst) {
                Poll::Ready("closed")
            } else {
                // Woken again by `graceful` below through the select.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    fn graceful(c: Pin<&mut Conn>) {
        c.told.store(true, Ordering::SeqCst);
    }

    #[tokio::test]
    async fn shutdown_asks_each_connection_and_waits_for_it() {
        let drain = Drain::new();
        let told = Arc::new(AtomicBool::new(false));
        let conn = Conn { told: told.clone() };
        let task = tokio::spawn(drain.watcher().watch(conn, graceful));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!told.load(Ordering::SeqCst), "no shutdown asked for yet");
        tokio::time::timeout(Duration::from_secs(5), drain.shutdown())
            .await
            .expect("shutdown returns once the connection ended");
        assert!(told.load(Ordering::SeqCst));
        assert_eq!(task.await.expect("task"), "closed");
    }

    #[tokio::test]
    async fn a_connection_that_ends_on_its_own_is_not_told() {
        let drain = Drain::new();
        let out = drain
            .watcher()
            .watch(async { "done" }, |_: Pin<&mut _>| {
                panic!("graceful called on a finished connection")
            })
            .await;
        assert_eq!(out, "done");
        tokio::time::timeout(Duration::from_secs(5), drain.shutdown())
            .await
            .expect("no watcher left");
    }

    #[tokio::test]
    async fn a_watcher_made_after_shutdown_began_closes_at_once() {
        let drain = Drain::new();
        let late = drain.watcher();
        drain.tx.send_replace(true);
        let told = Arc::new(AtomicBool::new(false));
        let out = late.watch(Conn { told: told.clone() }, graceful).await;
        assert_eq!(out, "closed");
        assert!(told.load(Ordering::SeqCst));
    }
}
