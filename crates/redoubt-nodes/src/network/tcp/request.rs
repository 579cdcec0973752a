//! tcp request: sends the payload to `server:port` (or `msg.host`/`msg.port`)
//! and returns what comes back: after a fixed time from the first byte,
//! when a given character arrives, after a number of bytes, never (the
//! connection stays open and every chunk is sent on), or not at all
//! (`immed`: send and close). One connection per `host:port`, each run by a
//! task; messages arriving while it connects wait in a queue of
//! `tcpMsgQueueSize`.

use super::secure::{Stream, Tls};
use super::{TcpSettings, connections, unescape};
use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeEvent, NodeHandle, NodeType,
    Pending, Status,
};
use redoubt_core::value::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

pub(crate) struct TcpRequestType;

/// When the reply is complete.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Out {
    /// This many ms after the first byte.
    Time(u64),
    /// Send, then close without waiting (`immed`).
    Immediate,
    /// When this byte arrives (it is included).
    Char(u8),
    /// After this many bytes.
    Count(usize),
    /// Never: every chunk is sent on and the connection stays (`sit`).
    Stay,
}

#[derive(Clone)]
struct Spec {
    server: String,
    port: String,
    out: Out,
    string: bool,
    newline: String,
    trim: bool,
    queue: usize,
    tls: Tls,
}

/// One message for a connection task.
enum Job {
    Send(Msg, Option<Pending>),
    Reset,
}

struct Conn {
    tx: UnboundedSender<Job>,
    generation: u64,
}

/// A connection task ended; messages it had not taken are handed back.
struct Gone {
    key: String,
    generation: u64,
    leftover: Vec<(Msg, Option<Pending>)>,
}

struct TcpRequest {
    spec: Spec,
    conns: HashMap<String, Conn>,
    count: Arc<AtomicUsize>,
    generation: u64,
    last_key: String,
}

impl NodeType for TcpRequestType {
    fn type_name(&self) -> &'static str {
        "tcp request"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let tls = Tls::from_config(cx, false)?;
        let splitc = cfg.str("splitc");
        let bad = || ConfigError::field("splitc", format!("invalid value {splitc:?}"));
        let number = || -> Result<f64, ConfigError> {
            let n = Value::str(&splitc).to_number();
            if n.is_nan() { Err(bad()) } else { Ok(n) }
        };
        let out = match cfg.str("out").as_str() {
            "immed" => Out::Immediate,
            "" | "time" => {
                let n = number()?;
                if n < 0.0 {
                    Out::Immediate
                } else {
                    Out::Time(n as u64)
                }
            }
            "count" => Out::Count(number()?.max(1.0) as usize),
            "sit" => Out::Stay,
            "char" => Out::Char(split_char(&splitc).ok_or_else(bad)?),
            other => {
                return Err(ConfigError::field(
                    "out",
                    format!("unknown return mode {other:?}"),
                ));
            }
        };
        let port = cfg.str("port");
        Ok(Box::new(TcpRequest {
            spec: Spec {
                server: cfg.str("server"),
                port: if port == "0" { String::new() } else { port },
                out,
                string: cfg.str("ret") == "string",
                newline: unescape(&cfg.str("newline")),
                trim: cfg.bool("trim"),
                queue: TcpSettings::from(cx.settings()).queue.max(1),
                tls,
            },
            conns: HashMap::new(),
            count: Arc::new(AtomicUsize::new(0)),
            generation: 0,
            last_key: String::new(),
        }))
    }
}

/// The split character: `\n`-style escapes, `0x..` hex, or the first character.
fn split_char(s: &str) -> Option<u8> {
    match s {
        "\\n" => Some(0x0a),
        "\\r" => Some(0x0d),
        "\\t" => Some(0x09),
        "\\e" => Some(0x1b),
        "\\f" => Some(0x0c),
        "\\0" => Some(0x00),
        _ if s.starts_with("0x") => u8::from_str_radix(&s[2..], 16).ok(),
        _ => s.bytes().next(),
    }
}

impl Node for TcpRequest {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let payload = msg.payload();
        if !matches!(
            payload,
            Value::Undefined | Value::Buffer(_) | Value::String(_)
        ) {
            msg.set("payload", Value::from(payload.to_js_string()));
        }
        if self.spec.out == Out::Stay {
            match msg.get("reset") {
                Some(Value::Bool(true)) => {
                    for (_, c) in self.conns.drain() {
                        let _ = c.tx.send(Job::Reset);
                    }
                    self.count.store(0, Ordering::SeqCst);
                    self.reset_status(cx);
                }
                Some(Value::String(k)) if k.contains(':') => {
                    if let Some(c) = self.conns.remove(&*k) {
                        let _ = c.tx.send(Job::Reset);
                        self.count.store(self.conns.len(), Ordering::SeqCst);
                    }
                    self.reset_status(cx);
                }
                _ => {}
            }
            if msg.get("reset").is_some_and(|r| r.truthy()) && !msg.object().contains_key("payload")
            {
                return Ok(());
            }
        }
        let pending = cx.defer();
        self.dispatch(msg, pending, cx);
        Ok(())
    }

    fn on_event(&mut self, ev: NodeEvent, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let NodeEvent::Custom(b) = ev else {
            return Ok(());
        };
        let Ok(gone) = b.downcast::<Gone>() else {
            return Ok(());
        };
        if self
            .conns
            .get(&gone.key)
            .is_some_and(|c| c.generation == gone.generation)
        {
            self.conns.remove(&gone.key);
            self.count.store(self.conns.len(), Ordering::SeqCst);
        }
        for (msg, pending) in gone.leftover {
            self.dispatch(msg, pending, cx);
        }
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        for (_, c) in self.conns.drain() {
            let _ = c.tx.send(Job::Reset);
        }
        cx.status(Status::clear());
    }
}

impl TcpRequest {
    fn reset_status(&self, cx: &mut NodeCtx<'_>) {
        let n = self.conns.len();
        let shape = if n == 0 { "ring" } else { "dot" };
        cx.status(Status::new("green", shape, connections(n)));
    }

    /// Hands the message to its connection, starting one when needed.
    fn dispatch(&mut self, msg: Msg, pending: Option<Pending>, cx: &mut NodeCtx<'_>) {
        let pick = |fixed: &str, key: &str| -> Option<String> {
            if !fixed.is_empty() {
                return Some(fixed.to_string());
            }
            msg.get(key)
                .filter(|v| !v.is_nullish())
                .map(|v| v.to_js_string())
        };
        let host = pick(&self.spec.server, "host");
        let port = pick(&self.spec.port, "port");
        let key = format!(
            "{}:{}",
            host.as_deref().unwrap_or("undefined"),
            port.as_deref().unwrap_or("undefined")
        );
        if key != self.last_key {
            cx.status(Status::clear());
            self.last_key = key.clone();
        }
        let job = Job::Send(msg, pending);
        let job = match self.conns.get(&key) {
            Some(c) => match c.tx.send(job) {
                Ok(()) => return,
                // The task just ended: start a new connection for this message.
                Err(e) => e.0,
            },
            None => job,
        };
        let (Some(host), Some(port)) = (host.filter(|h| !h.is_empty()), port) else {
            cx.warn("Host and/or port not set");
            if let Job::Send(msg, Some(p)) = job {
                let _ = msg;
                cx.complete(p, Ok(()));
            }
            return;
        };
        let Ok(port) = port.parse::<u16>() else {
            if let Job::Send(msg, p) = job {
                cx.error(NodeError::new(format!("Invalid port {port:?}")), Some(msg));
                if let Some(p) = p {
                    cx.complete(p, Ok(()));
                }
            }
            return;
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(job);
        self.generation += 1;
        self.conns.insert(
            key.clone(),
            Conn {
                tx,
                generation: self.generation,
            },
        );
        self.count.store(self.conns.len(), Ordering::SeqCst);
        let task = Task {
            spec: self.spec.clone(),
            key,
            generation: self.generation,
            host,
            port,
            node: cx.handle(),
            count: self.count.clone(),
            last: None,
        };
        cx.spawn_detached(task.run(rx));
    }
}

/// One connection to `host:port`.
struct Task {
    spec: Spec,
    key: String,
    generation: u64,
    host: String,
    port: u16,
    node: NodeHandle,
    count: Arc<AtomicUsize>,
    /// The latest message: replies are copies of it.
    last: Option<Msg>,
}

impl Task {
    async fn run(mut self, mut rx: UnboundedReceiver<Job>) {
        self.connected(&mut rx).await;
        rx.close();
        let mut leftover = Vec::new();
        while let Ok(job) = rx.try_recv() {
            if let Job::Send(m, p) = job {
                leftover.push((m, p));
            }
        }
        self.node.event(NodeEvent::Custom(Box::new(Gone {
            key: self.key.clone(),
            generation: self.generation,
            leftover,
        })));
    }

    fn done(&self, p: Option<Pending>) {
        if let Some(p) = p {
            self.node.complete(p, Ok(()));
        }
    }

    async fn connected(&mut self, rx: &mut UnboundedReceiver<Job>) {
        let mut stream = match self.spec.tls.connect(&self.host, self.port).await {
            Ok(s) => s,
            Err(_) => {
                self.node
                    .status(Status::new("red", "ring", "common.status.error"));
                let mut first = None;
                while let Ok(job) = rx.try_recv() {
                    if let Job::Send(m, p) = job {
                        first.get_or_insert(m);
                        self.done(p);
                    }
                }
                let err = NodeError::new(format!("connect failed {}", self.key));
                self.node.error(err, first);
                return;
            }
        };
        let n = self.count.load(Ordering::SeqCst);
        self.node
            .status(Status::new("green", "dot", connections(n)));
        // Write what queued up while connecting (at most tcpMsgQueueSize).
        let queued = take_queue(rx, self.spec.queue);
        for p in queued.dropped {
            self.done(p);
        }
        if queued.reset {
            for (_, p) in queued.keep {
                self.done(p);
            }
            return;
        }
        let queue = queued.keep;
        let mut out = Vec::new();
        for (m, p) in queue {
            append_payload(&mut out, &m);
            self.last = Some(m);
            self.done(p);
        }
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            return;
        }
        if self.spec.out == Out::Immediate {
            let _ = stream.shutdown().await;
            self.node.status(Status::clear());
            return;
        }
        self.exchange(stream, rx).await;
    }

    async fn exchange(&mut self, mut stream: Stream, rx: &mut UnboundedReceiver<Job>) {
        let mut buf = vec![0u8; 65536];
        let mut acc: Vec<u8> = Vec::new();
        let mut chunk = String::new();
        let mut deadline: Option<tokio::time::Instant> = None;
        let mut open = true;
        let node = self.node.clone();
        loop {
            let timer = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                job = rx.recv() => match job {
                    Some(Job::Send(m, p)) => {
                        let mut out = Vec::new();
                        append_payload(&mut out, &m);
                        self.last = Some(m);
                        self.done(p);
                        if open && !out.is_empty() && stream.write_all(&out).await.is_err() {
                            open = false;
                        }
                    }
                    Some(Job::Reset) | None => return,
                },
                // While the engine's backlog is full the reply waits in the
                // socket (`NodeHandle::room`), as tcp in's reads do.
                r = async { node.room().await; stream.read(&mut buf).await }, if open => {
                    let n = match r {
                        Ok(0) | Err(_) => {
                            self.node.status(Status::new("grey", "ring", "common.status.disconnected"));
                            // A running timer still delivers what arrived.
                            if deadline.is_none() {
                                return;
                            }
                            open = false;
                            continue;
                        }
                        Ok(n) => n,
                    };
                    let data = &buf[..n];
                    match self.spec.out {
                        Out::Stay => self.stay(data, &mut chunk),
                        Out::Time(ms) => {
                            if deadline.is_none() {
                                deadline = Some(tokio::time::Instant::now() + Duration::from_millis(ms));
                            }
                            acc.extend_from_slice(data);
                        }
                        Out::Count(c) => {
                            acc.extend_from_slice(data);
                            if acc.len() >= c {
                                acc.truncate(c);
                                self.reply(&acc);
                                return;
                            }
                        }
                        Out::Char(ch) => {
                            acc.extend_from_slice(data);
                            if let Some(i) = acc.iter().position(|b| *b == ch) {
                                acc.truncate(i + 1);
                                self.reply(&acc);
                                return;
                            }
                        }
                        Out::Immediate => return,
                    }
                },
                () = timer => {
                    self.reply(&acc);
                    return;
                }
            }
        }
    }

    /// Sends a copy of the latest message with `bytes` as its payload.
    fn reply(&self, bytes: &[u8]) {
        let m = self.last.as_ref().map(Msg::deep_clone).unwrap_or_default();
        m.set("payload", self.payload(bytes));
        self.node.send(0, m);
        self.node.status(Status::clear());
    }

    fn payload(&self, bytes: &[u8]) -> Value {
        if self.spec.string {
            Value::from(String::from_utf8_lossy(bytes).into_owned())
        } else {
            Value::Buffer(bytes::Bytes::copy_from_slice(bytes))
        }
    }

    /// `sit`: every chunk goes out, as a string split on the delimiter when asked.
    fn stay(&self, data: &[u8], chunk: &mut String) {
        let base = self.last.as_ref().map(Msg::deep_clone).unwrap_or_default();
        if !self.spec.string || self.spec.newline.is_empty() {
            base.set("payload", self.payload(data));
            self.node.send(0, base);
            return;
        }
        chunk.push_str(&String::from_utf8_lossy(data));
        let mut parts: Vec<String> = chunk
            .split(self.spec.newline.as_str())
            .map(str::to_string)
            .collect();
        *chunk = parts.pop().unwrap_or_default();
        for mut p in parts {
            if self.spec.trim {
                p.push_str(&self.spec.newline);
            }
            let m = base.deep_clone();
            m.set("payload", Value::from(p));
            self.node.send(0, m);
        }
    }
}

/// What queued up for a connection while it was being made.
struct Queued {
    /// The newest `limit` messages, oldest first.
    keep: VecDeque<(Msg, Option<Pending>)>,
    /// Completions of the older messages Node-RED's queue drops.
    dropped: Vec<Option<Pending>>,
    /// A `msg.reset` arrived meanwhile.
    reset: bool,
}

fn take_queue(rx: &mut UnboundedReceiver<Job>, limit: usize) -> Queued {
    let mut q = Queued {
        keep: VecDeque::new(),
        dropped: Vec::new(),
        reset: false,
    };
    while let Ok(job) = rx.try_recv() {
        match job {
            Job::Send(m, p) => {
                if q.keep.len() == limit
                    && let Some((_, old)) = q.keep.pop_front()
                {
                    q.dropped.push(old);
                }
                q.keep.push_back((m, p));
            }
            Job::Reset => q.reset = true,
        }
    }
    q
}

/// Adds the bytes of `msg.payload` (a string or Buffer) to `out`.
fn append_payload(out: &mut Vec<u8>, msg: &Msg) {
    match msg.payload() {
        Value::Buffer(b) => out.extend_from_slice(&b),
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::{Job, split_char, take_queue};
    use redoubt_core::Msg;
    use redoubt_core::value::Value;

    /// it('should limit the queue size'): with `tcpMsgQueueSize` 10, the
    /// oldest of 11 messages queued while connecting is dropped.
    #[test]
    fn the_connect_queue_keeps_the_newest_messages() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for i in 0..11 {
            let sent = tx.send(Job::Send(Msg::with_payload(Value::from(i as f64)), None));
            assert!(sent.is_ok());
        }
        let q = take_queue(&mut rx, 10);
        assert_eq!(q.dropped.len(), 1);
        let kept: Vec<f64> = q
            .keep
            .iter()
            .map(|(m, _)| m.payload().to_number())
            .collect();
        assert_eq!(kept, (1..11).map(f64::from).collect::<Vec<_>>());
        assert!(!q.reset);
    }

    #[test]
    fn split_characters_parse_like_node_red() {
        assert_eq!(split_char("\\n"), Some(10));
        assert_eq!(split_char("0x41"), Some(0x41));
        assert_eq!(split_char("0"), Some(b'0'));
        assert_eq!(split_char(""), None);
    }
}
