//! `httpStatic`: directories served as files, as express.static serves
//! them: `GET`/`HEAD` only, `index.html` for a directory, dotfiles hidden,
//! and never a file outside the directory (`..` segments are refused, and
//! symbolic links are resolved before the check, so a link pointing out of
//! the directory is not followed). A miss falls through to the node routes.

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use redoubt_auth::BasicAuth;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::services::ServeFile;

/// One `httpStatic` entry.
pub struct StaticMount {
    /// URL prefix, `/` or `/x/`.
    pub url_root: String,
    /// The directory, canonical.
    pub dir: PathBuf,
    /// `httpStaticAuth`.
    pub auth: Option<Arc<BasicAuth>>,
}

/// A static directory could not be used.
#[derive(Debug, thiserror::Error)]
#[error("httpStatic directory {path}: {source}")]
pub struct StaticError {
    /// The directory as configured.
    pub path: String,
    /// The cause.
    pub source: std::io::Error,
}

impl StaticMount {
    /// Checks `dir` exists and resolves it.
    pub fn new(
        url_root: &str,
        dir: &Path,
        auth: Option<Arc<BasicAuth>>,
    ) -> Result<StaticMount, StaticError> {
        let canonical = dir.canonicalize().map_err(|source| StaticError {
            path: dir.display().to_string(),
            source,
        })?;
        let mut url_root = url_root.to_string();
        if !url_root.ends_with('/') {
            url_root.push('/');
        }
        Ok(StaticMount {
            url_root,
            dir: canonical,
            auth,
        })
    }

    /// The file a URL path names inside this directory, if any.
    fn resolve(&self, path: &str) -> Option<PathBuf> {
        let rest = if path.len() + 1 == self.url_root.len() && self.url_root.starts_with(path) {
            ""
        } else {
            path.strip_prefix(self.url_root.as_str())?
        };
        let decoded = percent_encoding::percent_decode_str(rest)
            .decode_utf8()
            .ok()?;
        let mut candidate = self.dir.clone();
        for seg in decoded.split('/').filter(|s| !s.is_empty()) {
            // No parent, root or prefix components, no dotfiles, no
            // backslashes (Windows separators) inside a segment.
            let mut comps = Path::new(seg).components();
            match (comps.next(), comps.next()) {
                (Some(Component::Normal(_)), None)
                    if !seg.starts_with('.') && !seg.contains('\\') =>
                {
                    candidate.push(seg);
                }
                _ => return None,
            }
        }
        if candidate.is_dir() {
            candidate.push("index.html");
        }
        let real = candidate.canonicalize().ok()?;
        (real.starts_with(&self.dir) && real.is_file()).then_some(real)
    }

    fn covers(&self, path: &str) -> bool {
        path.starts_with(self.url_root.as_str()) || format!("{path}/") == self.url_root
    }
}

/// Serves `req` from the static directories, or hands it back.
pub(crate) async fn serve_static(
    mounts: &[StaticMount],
    req: Request,
) -> Result<Response, Request> {
    if mounts.is_empty() {
        return Err(req);
    }
    let path = req.uri().path().to_string();
    for m in mounts.iter().filter(|m| m.covers(&path)) {
        if let Some(auth) = &m.auth
            && let Some(denied) = crate::front_door::basic_gate(
                auth,
                req.headers(),
                crate::front_door::request_ip(&req),
            )
            .await
        {
            return Ok(denied);
        }
        if !matches!(req.method().as_str(), "GET" | "HEAD") {
            continue;
        }
        if let Some(file) = m.resolve(&path) {
            return Ok(match ServeFile::new(file).oneshot(req).await {
                Ok(r) => r.into_response(),
                Err(e) => match e {},
            });
        }
    }
    Err(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_never_leave_the_directory() {
        let base = tempfile::tempdir().expect("tempdir");
        let root = base.path().join("public");
        std::fs::create_dir_all(root.join("sub")).expect("dirs");
        std::fs::write(root.join("index.html"), "home").expect("index");
        std::fs::write(root.join("sub/a.txt"), "a").expect("a");
        std::fs::write(root.join(".env"), "secret").expect("dotfile");
        std::fs::write(base.path().join("outside.txt"), "no").expect("outside");
        #[cfg(unix)]
        std::os::unix::fs::symlink(base.path().join("outside.txt"), root.join("link.txt"))
            .expect("symlink");
        let m = StaticMount::new("/static/", &root, None).expect("mount");
        assert!(m.resolve("/static/sub/a.txt").is_some());
        assert_eq!(
            m.resolve("/static/")
                .expect("index")
                .file_name()
                .and_then(|n| n.to_str()),
            Some("index.html")
        );
        assert!(m.resolve("/static").is_some(), "the root without a slash");
        assert!(m.resolve("/static/../outside.txt").is_none());
        assert!(m.resolve("/static/%2e%2e/outside.txt").is_none());
        assert!(m.resolve("/static/sub/..%2f..%2foutside.txt").is_none());
        assert!(m.resolve("/static/.env").is_none(), "dotfiles are hidden");
        assert!(
            m.resolve("/static/link.txt").is_none(),
            "links out of the root"
        );
        assert!(m.resolve("/static/nothing").is_none());
        assert!(m.resolve("/other/sub/a.txt").is_none());
    }
}
