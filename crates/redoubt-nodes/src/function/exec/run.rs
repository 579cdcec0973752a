//! Running one child process: exec mode (shell, buffered output with
//! `execMaxBufferSize`) and spawn mode (no shell, streamed output). Each
//! child gets a task that sends the node's messages and then reports
//! [`super::Exited`] so the node forgets the pid and completes `done()`.

use super::{Exited, Spec, args, signal};
use redoubt_core::Msg;
use redoubt_core::node::{NodeCtx, NodeEvent, NodeHandle, Status};
use redoubt_core::value::{Object, Value};
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};

/// The shell exec mode uses, as Node-RED does on Linux.
fn shell() -> &'static str {
    if std::path::Path::new("/bin/bash").exists() {
        "/bin/bash"
    } else {
        "/bin/sh"
    }
}

/// Text when the bytes are valid UTF-8, a Buffer otherwise (`is-utf8`).
fn output(bytes: Vec<u8>) -> Value {
    match String::from_utf8(bytes) {
        Ok(s) => Value::from(s),
        Err(e) => Value::Buffer(e.into_bytes().into()),
    }
}

fn command(program: &str) -> Command {
    let mut c = Command::new(program);
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Starts `line` through the shell; returns the pid, or `None` when the
/// shell itself could not start (reported on the return code output).
pub(super) fn exec(spec: &Spec, line: &str, msg: Msg, cx: &mut NodeCtx<'_>) -> Option<u32> {
    let mut cmd = command(shell());
    cmd.arg("-c").arg(line);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            cx.error(
                redoubt_core::node::NodeError::new(format!("exec: {e}")),
                Some(msg),
            );
            return None;
        }
    };
    let pid = child.id()?;
    let node = cx.handle();
    let spec = spec.clone();
    let line = line.to_string();
    cx.spawn_detached(async move {
        exec_wait(child, pid, &spec, &line, msg, &node).await;
        node.event(NodeEvent::Custom(Box::new(Exited(pid))));
    });
    Some(pid)
}

/// Reads up to `max` bytes; more makes `over` true and the rest is dropped.
async fn read_capped(r: Option<impl AsyncRead + Unpin>, max: usize) -> (Vec<u8>, bool) {
    let Some(mut r) = r else {
        return (Vec::new(), false);
    };
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return (out, false),
            Ok(n) => {
                if out.len() + n > max {
                    let keep = max - out.len();
                    out.extend_from_slice(&buf[..keep]);
                    return (out, true);
                }
                out.extend_from_slice(&buf[..n]);
            }
        }
    }
}

/// Runs `fut` (reading the child's output and waiting for it); at the
/// timeout the child gets SIGTERM and `fut` goes on to see it end.
async fn kill_after<F: std::future::Future>(
    fut: F,
    pid: u32,
    timeout: Option<Duration>,
) -> F::Output {
    tokio::pin!(fut);
    if let Some(t) = timeout {
        if let Ok(v) = tokio::time::timeout(t, &mut fut).await {
            return v;
        }
        // The child may have exited in between; then nothing is signalled.
        let _ = signal::send(pid, "SIGTERM");
    }
    fut.await
}

async fn exec_wait(
    mut child: Child,
    pid: u32,
    spec: &Spec,
    line: &str,
    msg: Msg,
    node: &NodeHandle,
) {
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let max = spec.max_buffer;
    let reads = async {
        let (o, e) = tokio::join!(read_capped(stdout, max), read_capped(stderr, max));
        if o.1 || e.1 {
            // Node kills the child when an output exceeds maxBuffer.
            let _ = signal::send(pid, "SIGTERM");
        }
        (o, e)
    };
    let run = async {
        let r = reads.await;
        (r, child.wait().await.ok())
    };
    let (((out, out_over), (err, err_over)), status) = kill_after(run, pid, spec.timeout).await;
    msg.remove("payload");
    let err_text = String::from_utf8_lossy(&err).into_owned();
    let msg2 = (!err.is_empty()).then(|| {
        let m = msg.deep_clone();
        m.set("payload", output(err));
        m
    });
    msg.set("payload", output(out));
    node.status(Status::clear());
    let rc = Object::new();
    let failed = if out_over || err_over {
        let which = if out_over { "stdout" } else { "stderr" };
        rc.insert("code", Value::str("ERR_CHILD_PROCESS_STDIO_MAXBUFFER"));
        rc.insert(
            "message",
            Value::from(format!("{which} maxBuffer length exceeded")),
        );
        node.status(Status::new(
            "red",
            "dot",
            "error:ERR_CHILD_PROCESS_STDIO_MAXBUFFER",
        ));
        true
    } else {
        let (code, sig) = split_status(status);
        if code == Some(0) {
            false
        } else {
            let code_v = code
                .map(|c| Value::Number(f64::from(c)))
                .unwrap_or(Value::Null);
            rc.insert("code", code_v);
            rc.insert(
                "message",
                Value::from(format!("Command failed: {line}\n{err_text}")),
            );
            if let Some(s) = sig {
                rc.insert("signal", Value::str(s));
            }
            match code {
                None => node.status(Status::new("red", "dot", "killed")),
                Some(c) => node.status(Status::new("red", "dot", format!("error:{c}"))),
            }
            true
        }
    };
    let msg3 = if failed || !spec.old_rc {
        if !failed {
            rc.insert("code", Value::Number(0.0));
        }
        let m = msg.deep_clone();
        m.set("payload", Value::Object(rc.clone()));
        Some(m)
    } else {
        None
    };
    if msg3.is_some() {
        msg.set("rc", Value::Object(rc.clone()));
        if let Some(m2) = &msg2 {
            m2.set("rc", Value::Object(rc));
        }
    }
    node.send(0, msg);
    if let Some(m) = msg2 {
        node.send(1, m);
    }
    if let Some(m) = msg3 {
        node.send(2, m);
    }
}

/// Exit code (None when killed) and the killing signal's name.
fn split_status(status: Option<ExitStatus>) -> (Option<i32>, Option<&'static str>) {
    match status {
        Some(s) => match s.code() {
            Some(c) => (Some(c), None),
            None => (None, s.signal().and_then(signal::name)),
        },
        None => (None, None),
    }
}

/// Starts `line`'s first word with the rest as arguments, no shell.
pub(super) fn spawn(spec: &Spec, line: &str, msg: Msg, cx: &mut NodeCtx<'_>) -> Option<u32> {
    let mut words = args::split(line);
    let node = cx.handle();
    if words.is_empty() {
        cx.error(
            redoubt_core::node::NodeError::new("TypeError: no command to spawn"),
            Some(msg),
        );
        return None;
    }
    let program = words.remove(0);
    let mut cmd = command(&program);
    cmd.args(&words);
    match cmd.spawn() {
        Ok(child) => {
            let pid = child.id()?;
            let spec = spec.clone();
            cx.spawn_detached(async move {
                spawn_wait(child, pid, &spec, msg, &node).await;
                node.event(NodeEvent::Custom(Box::new(Exited(pid))));
            });
            Some(pid)
        }
        Err(e) => {
            // Node reports a command that cannot start as a negative errno
            // on the return code output (ENOENT: -2).
            let code = -e.raw_os_error().unwrap_or(2);
            node.status(Status::new("red", "dot", format!("rc:{code}")));
            let rc = if spec.old_rc {
                Value::Number(f64::from(code))
            } else {
                let o = Object::new();
                o.insert("code", Value::Number(f64::from(code)));
                Value::Object(o)
            };
            msg.set("payload", rc);
            cx.send(2, msg.deep_clone());
            None
        }
    }
}

async fn spawn_wait(mut child: Child, pid: u32, spec: &Spec, msg: Msg, node: &NodeHandle) {
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let streams =
        async { tokio::join!(stream(stdout, 0, &msg, node), stream(stderr, 1, &msg, node)) };
    let run = async {
        streams.await;
        child.wait().await.ok()
    };
    let status = kill_after(run, pid, spec.timeout).await;
    let (code, sig) = split_status(status);
    let payload = if spec.old_rc {
        code.map(|c| Value::Number(f64::from(c)))
            .unwrap_or(Value::Null)
    } else {
        let o = Object::new();
        o.insert(
            "code",
            code.map(|c| Value::Number(f64::from(c)))
                .unwrap_or(Value::Null),
        );
        if let Some(s) = sig {
            o.insert("signal", Value::str(s));
        }
        Value::Object(o)
    };
    msg.set("payload", payload);
    // Node-RED's status for code 0 falls through to the yellow "rc:0".
    match code {
        None => node.status(Status::new("red", "dot", "killed")),
        Some(c) if c < 0 => node.status(Status::new("red", "dot", format!("rc:{c}"))),
        Some(c) => node.status(Status::new("yellow", "dot", format!("rc:{c}"))),
    }
    node.send(2, msg.deep_clone());
}

/// Sends each chunk of a child's output on `port` as it arrives. While the
/// engine's backlog is full the next read waits (`NodeHandle::room`), so a
/// child writing faster than the flows take its output blocks on its pipe.
async fn stream(r: Option<impl AsyncRead + Unpin>, port: usize, msg: &Msg, node: &NodeHandle) {
    let Some(mut r) = r else { return };
    let mut buf = vec![0u8; 65536];
    loop {
        node.room().await;
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                msg.set("payload", output(buf[..n].to_vec()));
                node.send(port, msg.deep_clone());
            }
        }
    }
}
