//! file in (`10-file.js`, "read file"): reads a file per message and sends
//! it as one Buffer, one string, a message per line, or a stream of 64 KiB
//! Buffer chunks, the last two with `msg.parts` so a join node can rebuild
//! them. The read runs as a spawned task; `done()` waits for it. While the
//! engine's backlog is full, the next chunk or line waits
//! (`NodeHandle::room`), so a large file is not queued whole as messages.

use super::encoding;
use super::filename::Filename;
use super::paths::{FileRoot, io_error};
use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeHandle, NodeType,
};
use redoubt_core::value::{Object, Value};
use std::path::PathBuf;
use tokio::io::AsyncReadExt;

pub(crate) struct FileInType;

/// Node's read stream high-water mark: the size of each `stream` chunk.
const CHUNK: usize = 64 * 1024;

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Buffer,
    Utf8,
    Lines,
    Stream,
}

struct FileIn {
    filename: Filename,
    root: FileRoot,
    format: Format,
    encoding: String,
    all_props: bool,
    send_error: bool,
}

impl NodeType for FileInType {
    fn type_name(&self) -> &'static str {
        "file in"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let format = match cfg.str("format").as_str() {
            "utf8" => Format::Utf8,
            "lines" => Format::Lines,
            "stream" => Format::Stream,
            "" | "buffer" => Format::Buffer,
            other => {
                return Err(ConfigError::field(
                    "format",
                    format!("unknown output format {other:?}"),
                ));
            }
        };
        let mut enc = cfg.str("encoding");
        if enc.is_empty() {
            enc = "none".into();
        }
        encoding::check(&enc).map_err(|e| ConfigError::field("encoding", e.to_string()))?;
        Ok(Box::new(FileIn {
            filename: Filename::from_config(cfg)?,
            root: FileRoot::from_settings(cx.settings())?,
            format,
            encoding: enc,
            all_props: cfg.bool("allProps"),
            // Nodes saved before the option existed send error messages.
            send_error: cfg.get("sendError").is_none() || cfg.bool("sendError"),
        }))
    }
}

impl Node for FileIn {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let name = match self.filename.evaluate(&msg, cx) {
            Ok(n) => n.replace(['\t', '\r', '\n'], ""),
            Err(e) => {
                cx.error(e, Some(msg));
                return Ok(());
            }
        };
        if name.is_empty() {
            cx.warn("No filename specified");
            return Ok(());
        }
        let path = match self.root.resolve(cx.id(), &name) {
            Ok(p) => p,
            Err(e) => {
                cx.error(e, Some(msg));
                return Ok(());
            }
        };
        msg.set("filename", Value::str(&name));
        let read = Read {
            msg: msg.clone(),
            path,
            format: self.format,
            encoding: self.encoding.clone(),
            all_props: self.all_props,
            send_error: self.send_error,
            node: cx.handle(),
        };
        let pending = cx.defer();
        let node = cx.handle();
        cx.spawn_detached(async move {
            read.run().await;
            if let Some(p) = pending {
                node.complete(p, Ok(()));
            }
        });
        Ok(())
    }
}

struct Read {
    msg: Msg,
    path: PathBuf,
    format: Format,
    encoding: String,
    all_props: bool,
    send_error: bool,
    node: NodeHandle,
}

impl Read {
    async fn run(self) {
        let result = match self.format {
            Format::Stream => self.stream().await,
            _ => self.whole().await,
        };
        if let Err(e) = result {
            let err = io_error(&e, "open", &self.path);
            if self.send_error {
                let m = self.msg.deep_clone();
                m.remove("payload");
                let o = Object::new();
                o.insert("message", Value::str(&err.message));
                if let Some(c) = &err.code {
                    o.insert("code", Value::str(c));
                }
                m.set("error", Value::Object(o));
                self.node.error(err, Some(self.msg.clone()));
                self.node.send(0, m);
            } else {
                self.node.error(err, Some(self.msg.clone()));
            }
        }
    }

    async fn whole(&self) -> std::io::Result<()> {
        let bytes = tokio::fs::read(&self.path).await?;
        let text = || encoding::decode(&bytes, &self.encoding).unwrap_or_default();
        match self.format {
            Format::Buffer => {
                self.msg.set("payload", Value::Buffer(bytes.into()));
                self.node.send(0, self.msg.clone());
            }
            Format::Utf8 => {
                self.msg.set("payload", Value::from(text()));
                self.node.send(0, self.msg.clone());
            }
            _ => {
                let text = text();
                let lines: Vec<&str> = text.split('\n').collect();
                let last = lines.len() - 1;
                for (i, line) in lines.iter().enumerate() {
                    self.node.room().await;
                    let m = self.part_msg();
                    m.set("payload", Value::str(line));
                    m.set(
                        "parts",
                        self.parts(i, (i == last).then_some(i + 1), "\n", "string"),
                    );
                    self.node.send(0, m);
                }
            }
        }
        Ok(())
    }

    async fn stream(&self) -> std::io::Result<()> {
        let mut f = tokio::fs::File::open(&self.path).await?;
        let mut index = 0;
        let mut sent_full = false;
        loop {
            self.node.room().await;
            let mut buf = vec![0u8; CHUNK];
            let mut n = 0;
            while n < CHUNK {
                let r = f.read(&mut buf[n..]).await?;
                if r == 0 {
                    break;
                }
                n += r;
            }
            if n == 0 {
                break;
            }
            buf.truncate(n);
            let m = self.part_msg();
            m.set("payload", Value::Buffer(buf.into()));
            let last = n < CHUNK;
            m.set(
                "parts",
                self.parts(index, last.then_some(index + 1), "", "buffer"),
            );
            self.node.send(0, m);
            index += 1;
            sent_full = !last;
            if last {
                return Ok(());
            }
        }
        if sent_full {
            // The last chunk was exactly full: Node-RED closes the sequence
            // with an extra message holding only `parts`.
            let m = Msg::new();
            m.set("parts", self.parts(index, Some(index), "", "buffer"));
            self.node.send(0, m);
        }
        Ok(())
    }

    /// A message of a sequence: a copy of the input, or topic and filename only.
    fn part_msg(&self) -> Msg {
        if self.all_props {
            return self.msg.deep_clone();
        }
        let m = Msg::new();
        if let Some(t) = self.msg.get("topic") {
            m.set("topic", t);
        }
        if let Some(f) = self.msg.get("filename") {
            m.set("filename", f);
        }
        m
    }

    fn parts(&self, index: usize, count: Option<usize>, ch: &str, kind: &str) -> Value {
        let o = Object::new();
        o.insert("index", Value::Number(index as f64));
        if let Some(c) = count {
            o.insert("count", Value::Number(c as f64));
        }
        o.insert("ch", Value::str(ch));
        o.insert("type", Value::str(kind));
        o.insert("id", self.msg.get("_msgid").unwrap_or_default());
        Value::Object(o)
    }
}
