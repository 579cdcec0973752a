//! The security posture at startup: the adminAuth [`Authority`] (users,
//! sessions, audit log), whether the editor may be reached from other
//! machines, and what redoubt says about it in the log.
//!
//! Without adminAuth Node-RED serves its editor to the whole network.
//! redoubt then answers the editor and admin API on loopback only, whatever
//! `uiHost` is, unless `allowRemoteEditorWithoutAuth: true` opts out (and
//! that is logged loudly at every start).

use crate::settings::Settings;
use anyhow::{Context, Result};
use redoubt_admin::Exposure;
use redoubt_auth::{AdminAuthConfig, AuditLog, Authority, BasicAuth, Hooks, Sessions};
use redoubt_http::{FrontDoor, StaticMount};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// settings.js functions, called in the embedded engine.
struct JsHooks(redoubt_js::SettingsHooks);

impl Hooks for JsHooks {
    fn call<'a>(
        &'a self,
        key: &'a str,
        args: Vec<serde_json::Value>,
    ) -> redoubt_auth::BoxFuture<'a, std::result::Result<serde_json::Value, String>> {
        // HookError's text carries the key and the script's error, never
        // the arguments (passwords, tokens).
        Box::pin(async move { self.0.call(key, args).await.map_err(|e| e.to_string()) })
    }
}

/// Builds the authority for `s`; `hooks` serve its function-valued
/// adminAuth settings.
pub(crate) fn authority(
    s: &Settings,
    user_dir: &Path,
    hooks: Option<redoubt_js::SettingsHooks>,
) -> Result<Arc<Authority>> {
    let hooks = hooks.map(|h| Arc::new(JsHooks(h)) as Arc<dyn Hooks>);
    let config = match &s.admin_auth {
        Some(m) => Some(AdminAuthConfig::from_json(m)?),
        None => None,
    };
    let audit = Arc::new(
        AuditLog::open(
            &user_dir.join(redoubt_auth::audit::AUDIT_FILE),
            s.logging.audit,
        )
        .with_context(|| format!("cannot open the audit log in {}", user_dir.display()))?,
    );
    let sessions = if s.raw.get("readOnly").and_then(|v| v.as_bool()) == Some(true) {
        Sessions::in_memory()
    } else {
        Sessions::open(user_dir)?
    };
    let authority = Arc::new(Authority::new(config, hooks, sessions, audit));
    spawn_expiry(&authority);
    Ok(authority)
}

/// Ends sessions as they expire, and those of users who are gone (which
/// closes their websockets). Users are checked at startup and then about
/// once a minute.
fn spawn_expiry(authority: &Arc<Authority>) {
    let weak = Arc::downgrade(authority);
    tokio::spawn(async move {
        let mut last_sweep: Option<std::time::Instant> = None;
        loop {
            let Some(a) = weak.upgrade() else { return };
            let next = a.sessions().expire();
            if a.enabled() && last_sweep.is_none_or(|t| t.elapsed().as_secs() >= 60) {
                a.sweep_users().await;
                last_sweep = Some(std::time::Instant::now());
            }
            drop(a);
            let now = redoubt_auth::sessions::now_ms();
            let wait = next.map_or(60_000, |n| n.saturating_sub(now).clamp(1_000, 60_000));
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
        }
    });
}

/// Basic auth for node routes and the `httpStatic` directories.
pub(crate) fn front_door(s: &Settings, user_dir: &Path) -> Result<FrontDoor> {
    let node_auth = s
        .http_node_auth
        .as_ref()
        .map(|b| Arc::new(BasicAuth::new("httpNodeAuth", &b.user, &b.pass)));
    let static_auth = s
        .http_static_auth
        .as_ref()
        .map(|b| Arc::new(BasicAuth::new("httpStaticAuth", &b.user, &b.pass)));
    let mut statics = Vec::new();
    for d in &s.http_static {
        let dir = Path::new(&d.path);
        let dir = if dir.is_absolute() {
            dir.to_path_buf()
        } else {
            user_dir.join(dir)
        };
        let mount = StaticMount::new(&d.root, &dir, static_auth.clone())?;
        tracing::info!(
            "Static files   : {} at {}",
            mount.dir.display(),
            mount.url_root
        );
        statics.push(mount);
    }
    Ok(FrontDoor {
        node_auth,
        statics: Arc::new(statics),
    })
}

/// Whether `host` (`uiHost`) is a loopback address or name.
fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// How the admin API is exposed, with the startup messages that explain it.
pub(crate) fn exposure(s: &Settings, host: &str) -> Exposure {
    let editor = !s.disable_editor;
    let auth = s.admin_auth.is_some();
    let loopback_only = !auth && !s.allow_remote_editor_without_auth;
    if s.http_admin_root.is_none() {
        tracing::info!("Editor and admin API are off (httpAdminRoot: false).");
    } else if auth {
        tracing::info!("Editor and admin API require a login (adminAuth).");
    } else if s.allow_remote_editor_without_auth && !is_loopback_host(host) {
        tracing::warn!(
            "UNSAFE: allowRemoteEditorWithoutAuth is set and adminAuth is not: anyone who can reach {host} can edit flows and run code on this machine."
        );
    } else if is_loopback_host(host) {
        tracing::info!(
            "No adminAuth: the editor and admin API are served on this machine only ({host})."
        );
    } else {
        tracing::warn!(
            "No adminAuth: the editor and admin API answer only requests from this machine, although uiHost is {host}. Set adminAuth (redoubt admin init) to use them from elsewhere."
        );
    }
    Exposure {
        loopback_only,
        editor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback_host("127.0.0.1"));
        assert!(is_loopback_host("::1"));
        assert!(is_loopback_host("[::1]"));
        assert!(is_loopback_host("localhost"));
        assert!(!is_loopback_host("0.0.0.0"));
        assert!(!is_loopback_host("192.168.1.2"));
    }
}
