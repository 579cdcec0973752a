//! Node-RED's TCP `connectionPool`: every socket a tcp in node holds (server
//! side or client side), by session id, so a tcp out node in "reply to tcp"
//! mode can write back to the socket a message came from (`msg._session`).
//! Like Node-RED's, the pool is shared by the whole process.

use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::LazyLock;
use tokio::sync::mpsc::UnboundedSender;

/// What another node can ask of a pooled socket.
#[derive(Debug, Clone)]
pub(crate) enum Cmd {
    /// Write these bytes.
    Write(Bytes),
    /// Write these bytes, then close the sending side (`socket.end(buf)`).
    End(Bytes),
    /// Close the socket at once (`socket.destroy()`).
    Destroy,
}

static POOL: LazyLock<Mutex<HashMap<String, UnboundedSender<Cmd>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A socket's place in the pool; dropping it removes the socket.
pub(crate) struct Registration(String);

/// Adds a socket under session `id`.
pub(crate) fn register(id: &str, tx: UnboundedSender<Cmd>) -> Registration {
    POOL.lock().insert(id.to_string(), tx);
    Registration(id.to_string())
}

impl Drop for Registration {
    fn drop(&mut self) {
        POOL.lock().remove(&self.0);
    }
}

/// Sends `cmd` to session `id`; false when there is no such socket.
pub(crate) fn send(id: &str, cmd: Cmd) -> bool {
    match POOL.lock().get(id) {
        Some(tx) => tx.send(cmd).is_ok(),
        None => false,
    }
}

/// Sends `cmd` to every pooled socket.
pub(crate) fn broadcast(cmd: &Cmd) {
    for tx in POOL.lock().values() {
        // A socket closing right now has nobody left to write to.
        let _ = tx.send(cmd.clone());
    }
}
