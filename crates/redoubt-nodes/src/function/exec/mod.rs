//! exec (`90-exec.js`): runs a system command with the message payload and
//! extra parameters appended, in exec mode (through `/bin/bash -c`, output
//! sent when it ends) or spawn mode (no shell, output streamed while it
//! runs). Three outputs: stdout, stderr, return code. `msg.kill` signals a
//! running process; a timeout sends SIGTERM.
//!
//! redoubt is secure by default: the node is only built when the setting
//! `execNodeEnabled: true` is set; otherwise the deploy reports a
//! configuration error on the node and leaves it out.

mod args;
mod run;
mod signal;
#[cfg(test)]
mod tests;

use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeEvent, NodeType, Pending,
    Status,
};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::time::Duration;

pub(crate) struct ExecType;

/// Node's default `maxBuffer` when `execMaxBufferSize` is not set.
const DEFAULT_MAX_BUFFER: usize = 10_000_000;

/// What the node does per message, fixed at deploy.
#[derive(Clone)]
pub(super) struct Spec {
    cmd: String,
    /// The message property appended to the command (`addpay`).
    addpay: Option<String>,
    append: String,
    spawn: bool,
    timeout: Option<Duration>,
    /// `oldrc`: the return code output is a bare number (spawn) and absent
    /// on success (exec).
    old_rc: bool,
    max_buffer: usize,
}

struct Exec {
    spec: Spec,
    /// Running children by pid, with the message whose `done()` waits for them.
    active: HashMap<u32, Option<Pending>>,
}

/// A child process ended (sent by its task after its messages).
pub(super) struct Exited(pub(super) u32);

impl NodeType for ExecType {
    fn type_name(&self) -> &'static str {
        "exec"
    }

    fn build(&self, cfg: &NodeConfig, cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        if !cx.settings().exec_enabled {
            return Err(ConfigError::field(
                "execNodeEnabled",
                "exec nodes are disabled; set execNodeEnabled: true in settings.js to let flows run commands",
            ));
        }
        let addpay = match cfg.get("addpay") {
            None | Some(Json::Bool(true)) => Some("payload".to_string()),
            Some(Json::Bool(false)) | Some(Json::Null) => None,
            Some(Json::String(s)) if s.is_empty() || s == "false" => None,
            Some(Json::String(s)) if s == "true" => Some("payload".to_string()),
            Some(Json::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(ConfigError::field(
                    "addpay",
                    format!("expected a property name, got {other}"),
                ));
            }
        };
        let timer = cfg.num("timer")?.unwrap_or(0.0);
        if !(timer.is_finite() && timer >= 0.0) {
            return Err(ConfigError::field(
                "timer",
                format!("timeout must be a positive number of seconds, got {timer}"),
            ));
        }
        let max_buffer = match cx.settings().raw.get("execMaxBufferSize") {
            Some(Json::Number(n)) => n.as_f64().unwrap_or(0.0).max(0.0) as usize,
            _ => DEFAULT_MAX_BUFFER,
        };
        let max_buffer = if max_buffer == 0 {
            DEFAULT_MAX_BUFFER
        } else {
            max_buffer
        };
        Ok(Box::new(Exec {
            spec: Spec {
                cmd: cfg.str("command").trim().to_string(),
                addpay,
                append: cfg.str("append").trim().to_string(),
                spawn: cfg.str("useSpawn") == "true",
                timeout: (timer > 0.0).then(|| Duration::from_secs_f64(timer)),
                old_rc: cfg.str("oldrc") == "true",
                max_buffer,
            },
            active: HashMap::new(),
        }))
    }
}

impl Node for Exec {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        if msg.object().contains_key("kill") {
            self.kill(&msg, cx);
            return Ok(());
        }
        let mut line = self.spec.cmd.clone();
        if let Some(p) = &self.spec.addpay {
            let v = msg.get_path(p).ok().flatten().unwrap_or_default();
            if !v.is_undefined() {
                line.push(' ');
                line.push_str(&v.to_js_string());
            }
        }
        if !self.spec.append.is_empty() {
            line.push(' ');
            line.push_str(&self.spec.append);
        }
        let started = if self.spec.spawn {
            run::spawn(&self.spec, &line, msg, cx)
        } else {
            run::exec(&self.spec, &line, msg, cx)
        };
        if let Some(pid) = started {
            cx.status(Status::new("blue", "dot", format!("pid:{pid}")));
            let pending = cx.defer();
            self.active.insert(pid, pending);
        }
        Ok(())
    }

    fn on_event(&mut self, ev: NodeEvent, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let NodeEvent::Custom(b) = ev else {
            return Ok(());
        };
        let Ok(done) = b.downcast::<Exited>() else {
            return Ok(());
        };
        if let Some(Some(p)) = self.active.remove(&done.0) {
            cx.complete(p, Ok(()));
        }
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        for pid in self.active.keys() {
            // The child may have just exited; nothing is left to signal then.
            let _ = signal::send(*pid, "SIGTERM");
        }
        self.active.clear();
        cx.status(Status::clear());
    }
}

impl Exec {
    /// `msg.kill`: signals `msg.pid`, or the only running process.
    fn kill(&mut self, msg: &Msg, cx: &mut NodeCtx<'_>) {
        let sig = match msg.get("kill") {
            Some(redoubt_core::value::Value::String(s))
                if s.to_ascii_uppercase().starts_with("SIG") =>
            {
                s.to_ascii_uppercase()
            }
            _ => "SIGTERM".to_string(),
        };
        let target = match msg.get("pid") {
            Some(p) => {
                let pid = p.to_number();
                self.active.keys().copied().find(|k| f64::from(*k) == pid)
            }
            None if self.active.len() == 1 => self.active.keys().next().copied(),
            None => None,
        };
        if let Some(pid) = target {
            match signal::send(pid, &sig) {
                Ok(()) => cx.status(Status::new("red", "dot", "killed")),
                Err(e) => cx.error(NodeError::new(e), Some(msg.clone())),
            }
        }
    }
}
