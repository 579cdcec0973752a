//! Serving files from an asset directory the way Express's `static` and
//! `send` do for Node-RED: the query string is ignored, `..` is refused (403),
//! dot-files and directories are not served (404, no listing), and responses
//! carry a content type, `Cache-Control: public, max-age=0`, an ETag and
//! `Last-Modified`, answering `If-None-Match` with 304.
//!
//! The path checks run on the *decoded* path (axum's `Path` extractor
//! percent-decodes, so `%2e%2e` and `%2f` arrive as `..` and `/`), and the
//! resolved file must still lie inside the canonical root after symlinks are
//! followed.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Why a request path was not turned into a file path.
#[derive(Debug, PartialEq)]
pub(crate) enum Rejection {
    /// `..`, `.`, a backslash or a NUL: an attempt to leave the directory.
    Traversal,
    /// Empty, a dot-file, or otherwise not something we serve.
    NotFound,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::Traversal => (StatusCode::FORBIDDEN, "Forbidden").into_response(),
            Rejection::NotFound => (StatusCode::NOT_FOUND, "Not Found").into_response(),
        }
    }
}

/// Joins a decoded, `/`-separated request path onto `root`, refusing
/// anything that could step outside it.
pub(crate) fn safe_join(root: &Path, rel: &str) -> Result<PathBuf, Rejection> {
    if rel.contains(['\\', '\0']) {
        return Err(Rejection::Traversal);
    }
    let mut out = root.to_path_buf();
    let mut any = false;
    for seg in rel.split('/') {
        match seg {
            "" => continue,
            "." | ".." => return Err(Rejection::Traversal),
            s if s.starts_with('.') => return Err(Rejection::NotFound),
            s => out.push(s),
        }
        any = true;
    }
    if any {
        Ok(out)
    } else {
        Err(Rejection::NotFound)
    }
}

/// Checks that `candidate` is a regular file whose canonical path lies
/// inside `canonical_root`; returns the canonical path.
pub(crate) async fn contained_file(canonical_root: &Path, candidate: &Path) -> Option<PathBuf> {
    let real = tokio::fs::canonicalize(candidate).await.ok()?;
    if !real.starts_with(canonical_root) {
        return None;
    }
    let meta = tokio::fs::metadata(&real).await.ok()?;
    meta.is_file().then_some(real)
}

/// Serves `rel` from `root` (which must already be canonical).
pub(crate) async fn serve(root: &Path, rel: &str, req_headers: &HeaderMap) -> Response {
    let candidate = match safe_join(root, rel) {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    match contained_file(root, &candidate).await {
        Some(file) => send_file(&file, req_headers).await,
        None => Rejection::NotFound.into_response(),
    }
}

/// Sends one file with its content type, validators and cache headers.
pub(crate) async fn send_file(file: &Path, req_headers: &HeaderMap) -> Response {
    let Ok(meta) = tokio::fs::metadata(file).await else {
        return Rejection::NotFound.into_response();
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok());
    let etag = format!(
        "W/\"{:x}-{:x}\"",
        meta.len(),
        mtime.map_or(0, |d| d.as_millis())
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=0"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    if let Some(d) = mtime
        && let Ok(v) = HeaderValue::from_str(&http_date(d.as_secs()))
    {
        headers.insert(header::LAST_MODIFIED, v);
    }
    let fresh = req_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let body = match tokio::fs::read(file).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(file = %file.display(), error = %e, "Cannot read editor asset.");
            return Rejection::NotFound.into_response();
        }
    };
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(file)),
    );
    (StatusCode::OK, headers, Body::from(body)).into_response()
}

/// The content type for a file name, as the `mime` package Express uses
/// would give it for the types the editor ships (`.ts` typings are served as
/// text so that jQuery hands them to Monaco as a string).
pub(crate) fn content_type(file: &Path) -> &'static str {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" | "cjs" => "application/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "gif" => "image/gif",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "eot" => "application/vnd.ms-fontobject",
        "md" => "text/markdown; charset=utf-8",
        "txt" | "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Formats seconds since the epoch as an IMF-fixdate (`Last-Modified`).
fn http_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap.
mod tests {
    use super::*;

    #[test]
    fn safe_join_refuses_traversal_and_dotfiles() {
        let root = Path::new("/srv/a");
        assert_eq!(
            safe_join(root, "red/red.min.js").unwrap(),
            Path::new("/srv/a/red/red.min.js")
        );
        assert_eq!(
            safe_join(root, "red//x.js").unwrap(),
            Path::new("/srv/a/red/x.js")
        );
        for bad in ["../x", "red/../../x", "./x", "a\\..\\b", "a\0b", "red/.."] {
            assert_eq!(safe_join(root, bad), Err(Rejection::Traversal), "{bad}");
        }
        for hidden in ["", "/", ".redoubt-integrity", "red/.git/config"] {
            assert_eq!(
                safe_join(root, hidden),
                Err(Rejection::NotFound),
                "{hidden}"
            );
        }
    }

    #[test]
    fn http_dates_are_imf_fixdates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_709_210_096), "Thu, 29 Feb 2024 12:34:56 GMT");
    }

    #[test]
    fn content_types_cover_the_editor_files() {
        assert_eq!(content_type(Path::new("a/b.SVG")), "image/svg+xml");
        assert_eq!(
            content_type(Path::new("vendor.js")),
            "application/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("node/fs.d.ts")),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("red/about")),
            "application/octet-stream"
        );
    }
}
