//! node-watch's 200 ms delay: changes of one path within the window become
//! one message carrying the last event, in the order paths first changed.

use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// How long changes are gathered before they are sent.
pub(super) const DELAY: Duration = Duration::from_millis(200);

/// What happened to a path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Update,
    Remove,
}

/// One change notification.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Change {
    pub(super) path: PathBuf,
    pub(super) kind: Kind,
}

/// Gathers changes from `rx` and hands each path's last change to `emit`
/// [`DELAY`] after the first change of a batch.
pub(super) async fn run(mut rx: UnboundedReceiver<Change>, mut emit: impl FnMut(Change)) {
    let mut batch: Vec<Change> = Vec::new();
    loop {
        let Some(first) = rx.recv().await else { return };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + DELAY;
        loop {
            tokio::select! {
                c = rx.recv() => match c {
                    Some(c) => match batch.iter_mut().find(|b| b.path == c.path) {
                        Some(b) => b.kind = c.kind,
                        None => batch.push(c),
                    },
                    None => break,
                },
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        for c in batch.drain(..) {
            emit(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::sync::mpsc;

    fn change(p: &str, kind: Kind) -> Change {
        Change {
            path: p.into(),
            kind,
        }
    }

    /// Changes inside the window merge per path; later ones start a new batch.
    #[tokio::test(start_paused = true)]
    async fn merges_changes_of_a_path_within_the_delay() {
        let (tx, rx) = mpsc::unbounded_channel();
        let out = Arc::new(Mutex::new(Vec::new()));
        let o = out.clone();
        tokio::spawn(run(rx, move |c| o.lock().expect("test step").push(c)));
        tx.send(change("/a", Kind::Update)).expect("test step");
        tx.send(change("/b", Kind::Update)).expect("test step");
        tx.send(change("/a", Kind::Remove)).expect("test step");
        tokio::time::sleep(DELAY - Duration::from_millis(1)).await;
        assert!(out.lock().expect("test step").is_empty());
        tokio::time::sleep(Duration::from_millis(2)).await;
        assert_eq!(
            *out.lock().expect("test step"),
            [change("/a", Kind::Remove), change("/b", Kind::Update)]
        );
        tx.send(change("/a", Kind::Update)).expect("test step");
        tokio::time::sleep(DELAY + Duration::from_millis(1)).await;
        assert_eq!(out.lock().expect("test step").len(), 3);
    }
}
