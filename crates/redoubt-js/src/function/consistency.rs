//! Scripts that hold context objects take turns.
//!
//! Node-RED runs every script on one thread, so two function nodes never
//! interleave: `s = global.get('c'); s.n += 1; global.set('c', s)` in two
//! nodes counts every message. redoubt runs each script's turn on the
//! blocking pool and gives it a copy of the context objects it reads,
//! written back when the turn ends; two turns holding copies of the same
//! object at once would lose one's changes. So the first context read or
//! write of a turn takes this process-wide lock, held until the turn has
//! written its changes back. Turns that touch no context never wait.
//!
//! A script that spins forever while holding the lock (with no
//! `functionTimeout`) makes other scripts that read context objects wait,
//! as it would stall all of Node-RED.

use parking_lot::{Mutex, MutexGuard};
use std::cell::RefCell;

static SHARED_OBJECTS: Mutex<()> = Mutex::new(());

thread_local! {
    /// The lock, while this thread's current turn holds it.
    static HELD: RefCell<Option<MutexGuard<'static, ()>>> = const { RefCell::new(None) };
}

/// Takes the lock for the rest of this thread's turn (no-op when held).
pub(crate) fn hold() {
    HELD.with(|h| {
        let mut h = h.borrow_mut();
        if h.is_none() {
            *h = Some(SHARED_OBJECTS.lock());
        }
    });
}

/// Releases the lock when dropped: created at the start of every turn, so
/// the lock is let go however the turn ends.
pub(crate) struct TurnEnd;

impl Drop for TurnEnd {
    fn drop(&mut self) {
        HELD.with(|h| h.borrow_mut().take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_until_the_turn_ends_and_reentrant_within_it() {
        {
            let _end = TurnEnd;
            hold();
            hold();
            assert!(SHARED_OBJECTS.try_lock().is_none(), "held by this turn");
        }
        assert!(SHARED_OBJECTS.try_lock().is_some(), "released at the end");
    }
}
