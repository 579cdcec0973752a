//! The audit log: who did what, from where, when, as JSON lines.
//!
//! Events use Node-RED's names (`auth.login`, `auth.login.fail.credentials`,
//! `auth.login.revoke`, `permission.fail`, `flows.set`, `context.get`, ...).
//! Lines go to a file of mode 0600 (`audit.log` in the user directory) and,
//! with `logging.console.audit`, to the console. Callers pass only
//! non-secret fields; [`AuditLog::record`] drops any field whose name looks
//! like a secret as a second line of defence.

use parking_lot::Mutex;
use serde_json::{Map, Value as Json};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The file name of the audit log in the user directory.
pub const AUDIT_FILE: &str = "audit.log";

/// Field names never written, whatever a caller passes.
const SECRET_FIELDS: &[&str] = &[
    "password",
    "pass",
    "token",
    "access_token",
    "accessToken",
    "authorization",
    "secret",
    "credentials",
];

/// One audit event.
#[derive(Debug, Clone, Default)]
pub struct AuditEvent<'a> {
    /// Node-RED's event name.
    pub event: &'a str,
    /// The user it concerns (`None` for anonymous).
    pub user: Option<&'a str>,
    /// The client address.
    pub ip: Option<IpAddr>,
    /// The request path, when it came from one.
    pub path: Option<&'a str>,
    /// Event-specific, non-secret fields.
    pub extra: Map<String, Json>,
}

/// Where audit events go.
pub struct AuditLog {
    file: Option<(PathBuf, Mutex<std::fs::File>)>,
    console: bool,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("file", &self.file.as_ref().map(|(p, _)| p))
            .field("console", &self.console)
            .finish()
    }
}

impl AuditLog {
    /// Writes to `path` (created 0600, appended) and to the console when
    /// `console` is set.
    pub fn open(path: &Path, console: bool) -> std::io::Result<AuditLog> {
        let f = crate::files::open_private_append(path)?;
        Ok(AuditLog {
            file: Some((path.to_path_buf(), Mutex::new(f))),
            console,
        })
    }

    /// Console only (or nowhere).
    pub fn console_only(console: bool) -> AuditLog {
        AuditLog {
            file: None,
            console,
        }
    }

    /// Records one event.
    pub fn record(&self, ev: AuditEvent<'_>) {
        let line = render(&ev);
        if self.console {
            tracing::info!(target: "audit", "[audit] {line}");
        }
        if let Some((path, f)) = &self.file {
            let mut f = f.lock();
            if let Err(e) = writeln!(f, "{line}") {
                tracing::error!("cannot write audit log {}: {e}", path.display());
            }
        }
    }
}

fn render(ev: &AuditEvent<'_>) -> String {
    let mut m = Map::new();
    m.insert("timestamp".into(), Json::from(crate::sessions::now_ms()));
    m.insert("event".into(), Json::from(ev.event));
    m.insert("user".into(), ev.user.map_or(Json::Null, Json::from));
    if let Some(ip) = ev.ip {
        m.insert("ip".into(), Json::from(ip.to_string()));
    }
    if let Some(p) = ev.path {
        m.insert("path".into(), Json::from(p));
    }
    for (k, v) in &ev.extra {
        if SECRET_FIELDS.iter().any(|s| k.eq_ignore_ascii_case(s)) || m.contains_key(k) {
            continue;
        }
        m.insert(k.clone(), v.clone());
    }
    Json::Object(m).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_private_json_lines_without_secrets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(AUDIT_FILE);
        let log = AuditLog::open(&path, false).expect("open");
        let mut extra = Map::new();
        extra.insert("password".into(), json!("hunter2"));
        extra.insert("Token".into(), json!("abc"));
        extra.insert("client".into(), json!("node-red-admin"));
        log.record(AuditEvent {
            event: "auth.login.fail.credentials",
            user: Some("admin"),
            ip: "127.0.0.1".parse().ok(),
            path: Some("/auth/token"),
            extra,
        });
        log.record(AuditEvent {
            event: "flows.set",
            ..Default::default()
        });
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<Json> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "auth.login.fail.credentials");
        assert_eq!(lines[0]["user"], "admin");
        assert_eq!(lines[0]["ip"], "127.0.0.1");
        assert_eq!(lines[0]["client"], "node-red-admin");
        assert!(lines[0]["timestamp"].as_u64().is_some());
        assert!(!text.contains("hunter2") && !text.contains("\"abc\""));
        assert_eq!(lines[1]["user"], Json::Null);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
