//! watch (`23-watch.js`): watches files and directories (optionally
//! recursively) and sends a message per change with the path, the event
//! (`update` or `remove`), the file type and, for files, the size.
//!
//! Change notifications come from the operating system through `notify`
//! (inotify on Linux) rather than polling: changes arrive at once, an idle
//! watch costs nothing, and recursive watches need no directory walks per
//! interval. Like node-watch, events for the same path within 200 ms are
//! merged into one message ([`debounce`]).

mod debounce;

use super::paths::FileRoot;
use debounce::{Change, Kind};
use notify::{EventKind, RecursiveMode, Watcher};
use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeHandle, NodeType,
};
use redoubt_core::value::Value;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

pub(crate) struct WatchType;

struct Watch {
    paths: Vec<PathBuf>,
    recursive: bool,
    topic: String,
    watcher: Option<notify::RecommendedWatcher>,
}

impl NodeType for WatchType {
    fn type_name(&self) -> &'static str {
        "watch"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let files: Vec<String> = cfg
            .str("files")
            .split(',')
            .map(|f| f.trim().to_string())
            .collect();
        if files.iter().all(String::is_empty) {
            return Err(ConfigError::field("files", "no file or directory to watch"));
        }
        let root = FileRoot::from_settings(cx.settings())?;
        let paths = files
            .iter()
            .filter(|f| !f.is_empty())
            .map(|f| {
                root.resolve(&cfg.id, f)
                    .map_err(|e| ConfigError::field("files", e.message))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let topic = if files.len() == 1 {
            files[0].clone()
        } else {
            serde_json::to_string(&files).unwrap_or_default()
        };
        Ok(Box::new(Watch {
            paths,
            recursive: cfg.bool("recursive"),
            topic,
            watcher: None,
        }))
    }
}

impl Node for Watch {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let (tx, rx) = mpsc::unbounded_channel::<Change>();
        let node = cx.handle();
        let errors = node.clone();
        let handler = move |res: notify::Result<notify::Event>| match res {
            Ok(ev) => {
                let kind = match ev.kind {
                    EventKind::Remove(_) => Kind::Remove,
                    EventKind::Modify(notify::event::ModifyKind::Name(
                        notify::event::RenameMode::From,
                    )) => Kind::Remove,
                    EventKind::Create(_) | EventKind::Modify(_) => Kind::Update,
                    // Reads, opens and closes change nothing.
                    _ => return,
                };
                for p in ev.paths {
                    let _ = tx.send(Change { path: p, kind });
                }
            }
            Err(e) => report(&errors, &e.to_string()),
        };
        let mut watcher = match notify::recommended_watcher(handler) {
            Ok(w) => w,
            Err(e) => {
                report(&node, &e.to_string());
                return Ok(());
            }
        };
        let mode = if self.recursive {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        for p in &self.paths {
            if let Err(e) = watcher.watch(p, mode) {
                report(&node, &format!("{e}: {}", p.display()));
            }
        }
        self.watcher = Some(watcher);
        let topic = self.topic.clone();
        cx.spawn_detached(debounce::run(rx, move |c| send(&node, &topic, c)));
        Ok(())
    }

    fn on_input(&mut self, _msg: Msg, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        Ok(())
    }

    fn close(&mut self, _removed: bool, _cx: &mut NodeCtx<'_>) {
        self.watcher = None;
    }
}

/// `node.error(error, {payload: ""})`.
fn report(node: &NodeHandle, text: &str) {
    node.error(
        NodeError::new(text),
        Some(Msg::with_payload(Value::str(""))),
    );
}

fn send(node: &NodeHandle, topic: &str, c: Change) {
    let path = c.path.to_string_lossy().into_owned();
    let m = Msg::new();
    m.set("payload", Value::str(&path));
    m.set("topic", Value::str(topic));
    m.set(
        "file",
        Value::from(
            c.path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    );
    m.set("filename", Value::str(&path));
    m.set(
        "event",
        Value::str(match c.kind {
            Kind::Update => "update",
            Kind::Remove => "remove",
        }),
    );
    let (kind, size) = file_type(&c.path);
    if let Some(s) = size {
        m.set("size", Value::Number(s as f64));
    }
    m.set("type", Value::str(kind));
    node.send(0, m);
}

/// Node-RED's `msg.type` (and the size of a file).
fn file_type(p: &Path) -> (&'static str, Option<u64>) {
    let Ok(md) = std::fs::metadata(p) else {
        return ("none", None);
    };
    let t = md.file_type();
    if t.is_file() {
        ("file", Some(md.len()))
    } else if t.is_block_device() {
        ("blockdevice", None)
    } else if t.is_char_device() {
        ("characterdevice", None)
    } else if t.is_socket() {
        ("socket", None)
    } else if t.is_fifo() {
        ("fifo", None)
    } else if t.is_dir() {
        ("directory", None)
    } else {
        ("n/a", None)
    }
}
