//! file (`10-file.js`, "write file"): writes, appends to or deletes a file
//! per message, one message at a time. The I/O runs on a worker task that
//! owns the open append stream (kept open for a fixed filename and
//! reopened when the file was deleted or replaced, compared by inode).

use super::encoding;
use super::filename::Filename;
use super::paths::{FileRoot, io_error};
use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeHandle, NodeType, Pending,
};
use redoubt_core::value::{Value, to_json};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

pub(crate) struct FileOutType;

#[derive(Clone, Copy, PartialEq)]
enum Action {
    Append,
    Overwrite,
    Delete,
}

struct FileOut {
    filename: Filename,
    root: FileRoot,
    action: Action,
    append_newline: bool,
    create_dir: bool,
    encoding: String,
    tx: mpsc::UnboundedSender<Job>,
    rx: Option<mpsc::UnboundedReceiver<Job>>,
}

/// One write or delete, prepared on the executor.
struct Job {
    msg: Msg,
    pending: Option<Pending>,
    path: PathBuf,
    /// `None` for a delete.
    data: Option<Vec<u8>>,
    action: Action,
    create_dir: bool,
    /// Keep the append stream open for the next message.
    keep_open: bool,
}

impl NodeType for FileOutType {
    fn type_name(&self) -> &'static str {
        "file"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let action = match cfg.str("overwriteFile").as_str() {
            "true" => Action::Overwrite,
            "delete" => Action::Delete,
            "false" | "" => Action::Append,
            other => {
                return Err(ConfigError::field(
                    "overwriteFile",
                    format!("unknown action {other:?} (expected true, false or delete)"),
                ));
            }
        };
        let mut enc = cfg.str("encoding");
        if enc.is_empty() {
            enc = "none".into();
        }
        if enc != "setbymsg" {
            encoding::check(&enc).map_err(|e| ConfigError::field("encoding", e.to_string()))?;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        Ok(Box::new(FileOut {
            filename: Filename::from_config(cfg)?,
            root: FileRoot::from_settings(cx.settings())?,
            action,
            append_newline: cfg.bool("appendNewline"),
            create_dir: cfg.bool("createDir"),
            encoding: enc,
            tx,
            rx: Some(rx),
        }))
    }
}

impl Node for FileOut {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        if let Some(rx) = self.rx.take() {
            cx.spawn_detached(worker(rx, cx.handle()));
        }
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let name = match self.filename.evaluate(&msg, cx) {
            Ok(n) => n,
            Err(e) => {
                cx.error(e, Some(msg));
                return Ok(());
            }
        };
        msg.set("filename", Value::str(&name));
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
        let data = if self.action == Action::Delete {
            None
        } else {
            let payload = msg.payload();
            if payload.is_undefined() {
                return Ok(());
            }
            match self.bytes(&msg, payload) {
                Ok(d) => Some(d),
                Err(e) => {
                    cx.error(e, Some(msg));
                    return Ok(());
                }
            }
        };
        let job = Job {
            pending: cx.defer(),
            msg,
            path,
            data,
            action: self.action,
            create_dir: self.create_dir,
            keep_open: self.filename.fixed,
        };
        // The worker lives as long as the node; a send error means it is closing.
        let _ = self.tx.send(job);
        Ok(())
    }
}

impl FileOut {
    /// The bytes to write for `payload`, as Node-RED converts them.
    fn bytes(&self, msg: &Msg, payload: Value) -> Result<Vec<u8>, NodeError> {
        let mut text = match payload {
            Value::Buffer(b) => return Ok(b.to_vec()),
            Value::String(s) => s.to_string(),
            Value::Bool(_) | Value::Number(_) => payload.to_js_string(),
            other => to_json(&other).map_err(|e| NodeError::new(e.to_string()))?,
        };
        let last_part = msg.get("parts").and_then(|p| {
            let o = p.as_object()?.clone();
            let is_string = o
                .get("type")
                .and_then(|t| t.as_str().map(|s| s == "string"));
            let count = o.get("count").and_then(|c| c.as_f64());
            let index = o.get("index").and_then(|c| c.as_f64());
            Some(is_string == Some(true) && count.is_some() && count == index.map(|i| i + 1.0))
        });
        if self.append_newline && last_part != Some(true) {
            text.push('\n');
        }
        let enc = if self.encoding == "setbymsg" {
            msg.get("encoding")
                .and_then(|e| e.as_str().map(str::to_string))
                .unwrap_or_else(|| "none".into())
        } else {
            self.encoding.clone()
        };
        encoding::encode(&text, &enc).map_err(|e| NodeError::new(e.to_string()))
    }
}

/// The open append stream of a fixed filename.
struct Stream {
    path: PathBuf,
    file: tokio::fs::File,
    ino: u64,
}

async fn worker(mut rx: mpsc::UnboundedReceiver<Job>, node: NodeHandle) {
    let mut stream: Option<Stream> = None;
    while let Some(mut job) = rx.recv().await {
        let result = run(&mut job, &mut stream).await;
        match result {
            Ok(()) => node.send(0, job.msg.clone()),
            Err(e) => node.error(e, Some(job.msg.clone())),
        }
        if let Some(p) = job.pending.take() {
            node.complete(p, Ok(()));
        }
    }
}

async fn run(job: &mut Job, stream: &mut Option<Stream>) -> Result<(), NodeError> {
    let path = job.path.clone();
    let Some(data) = job.data.take() else {
        return tokio::fs::remove_file(&path).await.map_err(|e| {
            NodeError::new(format!(
                "failed to delete file: {}",
                io_error(&e, "unlink", &path).message
            ))
        });
    };
    if job.create_dir
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        tokio::fs::create_dir_all(dir).await.map_err(|e| {
            NodeError::new(format!(
                "failed to create file: {}",
                io_error(&e, "mkdir", dir).message
            ))
        })?;
    }
    if job.action == Action::Overwrite {
        *stream = None;
        return write_new(&path, &data).await.map_err(|e| {
            NodeError::new(format!(
                "failed to write to file: {}",
                io_error(&e, "open", &path).message
            ))
        });
    }
    append(&path, &data, stream, job.keep_open)
        .await
        .map_err(|e| {
            NodeError::new(format!(
                "failed to append to file: {}",
                io_error(&e, "open", &path).message
            ))
        })
}

async fn write_new(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = tokio::fs::File::create(path).await?;
    f.write_all(data).await?;
    f.flush().await
}

async fn append(
    path: &Path,
    data: &[u8],
    stream: &mut Option<Stream>,
    keep_open: bool,
) -> std::io::Result<()> {
    // Reuse the open stream only while the file on disk is still the one it
    // points at (it may have been deleted, or replaced by log rotation).
    let reuse = match stream.as_ref() {
        Some(s) if s.path == path => tokio::fs::metadata(path)
            .await
            .map(|m| m.ino() == s.ino)
            .unwrap_or(false),
        _ => false,
    };
    if !reuse {
        *stream = None;
        let file = tokio::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .await?;
        let ino = file.metadata().await?.ino();
        *stream = Some(Stream {
            path: path.to_path_buf(),
            file,
            ino,
        });
    }
    if let Some(s) = stream.as_mut() {
        s.file.write_all(data).await?;
        s.file.flush().await?;
    }
    if !keep_open {
        *stream = None;
    }
    Ok(())
}
