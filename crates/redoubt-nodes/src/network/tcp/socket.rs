//! One connected TCP socket driven by a task: reads go to a callback,
//! [`Cmd`]s from the node (or the pool) write, end or destroy it, and an
//! optional idle timeout (`socketTimeout`) ends it as Node-RED does.

use super::pool::Cmd;
use super::secure::Stream;
use redoubt_core::node::NodeHandle;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;

/// Why a socket task stopped.
#[derive(Debug, PartialEq)]
pub(crate) enum Ended {
    /// The peer closed its side (Node's `end` event).
    Remote,
    /// Destroyed by a command, or the connection failed.
    Local,
}

/// Runs `stream` until it closes. `on_data` gets each chunk read. With
/// `paced_by`, a node whose reads become messages, the next read waits
/// while the engine's backlog is full (`NodeHandle::room`): the peer's data
/// stays in the socket and TCP slows the peer down, while writes go on.
pub(crate) async fn run(
    mut stream: Stream,
    rx: &mut UnboundedReceiver<Cmd>,
    idle: Option<Duration>,
    paced_by: Option<&NodeHandle>,
    mut on_data: impl FnMut(&[u8]),
    mut on_idle: impl FnMut(),
) -> Ended {
    let mut buf = vec![0u8; 65536];
    let mut commands_open = true;
    loop {
        let read = async {
            if let Some(node) = paced_by {
                // Not reading is not idleness: the idle timer starts after.
                node.room().await;
            }
            match idle {
                Some(t) => tokio::time::timeout(t, stream.read(&mut buf)).await.ok(),
                None => Some(stream.read(&mut buf).await),
            }
        };
        tokio::select! {
            r = read => match r {
                None => {
                    on_idle();
                    if stream.shutdown().await.is_err() {
                        return Ended::Local;
                    }
                }
                Some(Ok(0)) => return Ended::Remote,
                Some(Ok(n)) => on_data(&buf[..n]),
                Some(Err(_)) => return Ended::Local,
            },
            cmd = rx.recv(), if commands_open => match cmd {
                Some(Cmd::Write(b)) => {
                    if stream.write_all(&b).await.is_err() {
                        return Ended::Local;
                    }
                }
                Some(Cmd::End(b)) => {
                    if stream.write_all(&b).await.is_err() || stream.shutdown().await.is_err() {
                        return Ended::Local;
                    }
                }
                Some(Cmd::Destroy) => return Ended::Local,
                None => commands_open = false,
            },
        }
    }
}
