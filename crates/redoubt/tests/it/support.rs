//! Starting redoubt for a test and talking to it.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running redoubt.
pub(crate) struct Redoubt {
    child: Child,
    pub(crate) port: u16,
    dir: Option<tempfile::TempDir>,
    startup: Vec<String>,
    pub(crate) log: mpsc::Receiver<String>,
}

/// Settings used by tests: loopback, memory context plus a file store.
pub(crate) const SETTINGS: &str = r#"module.exports = {
    uiHost: "127.0.0.1",
    flowFilePretty: true,
    credentialSecret: "test-secret",
    functionTimeout: 0,
    contextStorage: {
        default: { module: "memory" },
        file: { module: "localfilesystem", config: { flushInterval: 1 } }
    },
    logging: { console: { level: "info" } }
};
"#;

impl Redoubt {
    /// Starts redoubt with `flows` in a fresh user directory.
    pub(crate) fn start(flows: &Value) -> Redoubt {
        let dir = tempfile::tempdir().expect("tempdir");
        Redoubt::start_in(dir, flows, SETTINGS)
    }

    /// Starts redoubt in `dir` (reused across restarts) with `settings`.
    pub(crate) fn start_in(dir: tempfile::TempDir, flows: &Value, settings: &str) -> Redoubt {
        std::fs::write(dir.path().join("settings.js"), settings).expect("settings");
        std::fs::write(
            dir.path().join("flows.json"),
            serde_json::to_string_pretty(flows).expect("json"),
        )
        .expect("flows");
        Redoubt::spawn(dir, &[])
    }

    /// Starts redoubt on an existing user directory with extra arguments.
    pub(crate) fn spawn(dir: tempfile::TempDir, extra: &[&str]) -> Redoubt {
        let mut child = Command::new(env!("CARGO_BIN_EXE_redoubt"))
            .arg("-u")
            .arg(dir.path())
            .args(["-p", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("REDOUBT_LOG", "info")
            .spawn()
            .expect("spawn redoubt");
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        for stream in [
            Box::new(out) as Box<dyn std::io::Read + Send>,
            Box::new(err),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut port = 0;
        let mut startup = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    startup.push(line.clone());
                    if let Some(rest) = ["http", "https"].iter().find_map(|scheme| {
                        line.split(&format!("Server now running at {scheme}://127.0.0.1:"))
                            .nth(1)
                    }) {
                        port = rest.trim_end_matches('/').parse().expect("port");
                    }
                    if port != 0
                        && (line.contains("Started flows") || line.contains("Flows not started"))
                    {
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(_) => break,
            }
        }
        assert_ne!(port, 0, "redoubt did not start");
        Redoubt {
            child,
            port,
            dir: Some(dir),
            startup,
            log: rx,
        }
    }

    /// `http://127.0.0.1:port` + `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Sends SIGTERM and waits; returns the exit code and the user directory.
    pub(crate) fn stop(mut self) -> (Option<i32>, tempfile::TempDir) {
        let pid = self.child.id();
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let code = wait_with_timeout(&mut self.child, Duration::from_secs(15));
        let dir = self.dir.take().expect("user directory");
        (code, dir)
    }

    /// Log lines seen so far.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut v = self.startup.clone();
        v.extend(self.log.try_iter());
        v
    }
}

fn wait_with_timeout(child: &mut Child, t: Duration) -> Option<i32> {
    let deadline = std::time::Instant::now() + t;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

impl Drop for Redoubt {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking HTTP client with a timeout.
pub(crate) fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// A path to a file in the repository.
pub(crate) fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}
