//! `/library/:lib/:type[/path]` (Node-RED's editor-api `editor/library.js`
//! and the `localfilesystem` library storage): the `local` library, files
//! under `<userDir>/lib/<type>/`.
//!
//! * A directory answers a JSON list: sub-directory names, then
//!   `{fn, ...meta}` for each file (meta from the file's leading
//!   `// key: value` lines). A missing folder is an empty list.
//! * A file answers its body (without the meta lines): `application/json`
//!   for flows, `text/plain` otherwise. A missing flow is also looked up
//!   with `.json` appended.
//! * `POST` saves: flows as the JSON body (`.json` appended), other types
//!   as the body's `text` with the other fields as meta lines.
//!
//! Paths never leave the library: `..`, `.`, absolute paths, backslashes
//! and NUL are refused, existing paths are canonicalized and must stay
//! under the canonical library folder (symlinks out are refused), and
//! folders are created one level at a time, each checked first.

use super::{json_body, write_atomic};
use crate::error::ApiError;
use crate::state::AdminState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json_};
use std::path::{Component, PathBuf};

/// The entry types Node-RED's core registers: flows, and the function and
/// template nodes' libraries.
pub const LIBRARY_TYPES: &[&str] = &["flows", "functions", "templates"];

fn forbidden(msg: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", msg)
}

/// The library folder of `ty`, after checking the library and type.
fn type_root(state: &AdminState, lib: &str, ty: &str) -> Result<PathBuf, ApiError> {
    if lib != "local" {
        return Err(ApiError::not_found(format!("Unknown library {lib}")));
    }
    if !LIBRARY_TYPES.contains(&ty) {
        return Err(ApiError::bad_request(
            "unknown_type",
            format!("Unknown library type {ty}"),
        ));
    }
    Ok(state.0.user_dir.join("lib").join(ty))
}

/// The relative path of an entry: only normal components.
pub(crate) fn relative(path: &str) -> Result<PathBuf, ApiError> {
    if path.contains('\0') || path.contains('\\') || path.starts_with('/') {
        return Err(forbidden("Invalid library path"));
    }
    let mut rel = PathBuf::new();
    for c in std::path::Path::new(path).components() {
        match c {
            Component::Normal(n) => rel.push(n),
            _ => return Err(forbidden("Invalid library path")),
        }
    }
    // `Path::components` drops `.` segments silently; refuse them too.
    if path.split('/').any(|s| s == "." || s == "..") {
        return Err(forbidden("Invalid library path"));
    }
    Ok(rel)
}

/// `GET /library/:lib/:type`: the top folder.
pub async fn get_root(
    State(state): State<AdminState>,
    Path((lib, ty)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    entry(state, lib, ty, String::new()).await
}

/// `GET /library/:lib/:type/*path`.
pub async fn get_entry(
    State(state): State<AdminState>,
    Path((lib, ty, path)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    entry(state, lib, ty, path).await
}

enum Found {
    List(Vec<Json_>),
    Body(String),
}

async fn entry(
    state: AdminState,
    lib: String,
    ty: String,
    path: String,
) -> Result<Response, ApiError> {
    let root = type_root(&state, &lib, &ty)?;
    let rel = relative(&path)?;
    let folder_like = path.is_empty() || path.ends_with('/');
    let flows = ty == "flows";
    let found = tokio::task::spawn_blocking(move || -> Result<Option<Found>, ApiError> {
        let Ok(root) = root.canonicalize() else {
            return Ok(folder_like.then(|| Found::List(Vec::new())));
        };
        let mut candidates = vec![root.join(&rel)];
        if flows && !path.ends_with(".json") && !folder_like {
            candidates.push(root.join(format!("{}.json", rel.display())));
        }
        for c in candidates {
            let Ok(real) = c.canonicalize() else { continue };
            if !real.starts_with(&root) {
                return Err(forbidden("Library path leaves the library"));
            }
            return read_entry(&real).map(Some);
        }
        Ok(folder_like.then(|| Found::List(Vec::new())))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(match found {
        None => return Err(ApiError::not_found("Library entry not found")),
        Some(Found::List(l)) => Json(l).into_response(),
        Some(Found::Body(b)) => {
            let ct = if flows {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            ([(header::CONTENT_TYPE, ct)], b).into_response()
        }
    })
}

fn read_entry(real: &std::path::Path) -> Result<Found, ApiError> {
    let io = |e: std::io::Error| ApiError::internal(format!("library {}: {e}", real.display()));
    if real.is_file() {
        let text = std::fs::read_to_string(real).map_err(io)?;
        return Ok(Found::Body(body_of(&text)));
    }
    let mut names: Vec<String> = std::fs::read_dir(real)
        .map_err(io)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for name in names.into_iter().filter(|n| !n.starts_with('.')) {
        let p = real.join(&name);
        if p.is_dir() {
            dirs.push(Json_::String(name));
        } else {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let mut meta = meta_of(&text);
            meta.insert("fn".into(), Json_::String(name));
            files.push(Json_::Object(meta));
        }
    }
    dirs.extend(files);
    Ok(Found::List(dirs))
}

/// A `// key: value` meta line: `(key, value)`.
fn meta_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("// ")?;
    let (k, v) = rest.split_once(": ")?;
    (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some((k, v))
}

fn from_single_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some('\\')) => {
                chars.next();
                out.push('\\');
            }
            ('\\', Some('n')) => {
                chars.next();
                out.push('\n');
            }
            _ => out.push(c),
        }
    }
    out
}

fn to_single_line(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

fn meta_of(text: &str) -> Map<String, Json_> {
    text.lines()
        .map_while(meta_line)
        .map(|(k, v)| (k.to_string(), Json_::String(from_single_line(v))))
        .collect()
}

fn body_of(text: &str) -> String {
    let mut lines = text.split('\n').peekable();
    while lines.peek().is_some_and(|l| meta_line(l).is_some()) {
        lines.next();
    }
    lines.collect::<Vec<_>>().join("\n")
}

/// Creates `rel`'s parent folders under `root` one level at a time, each
/// checked to still be inside `root`; returns the file's path.
fn prepare_path(root: &std::path::Path, rel: &std::path::Path) -> Result<PathBuf, ApiError> {
    let io = |e: std::io::Error| ApiError::internal(format!("library {}: {e}", root.display()));
    std::fs::create_dir_all(root).map_err(io)?;
    let root = root.canonicalize().map_err(io)?;
    let mut dir = root.clone();
    let parts: Vec<_> = rel.components().collect();
    let Some((file, parents)) = parts.split_last() else {
        return Err(forbidden("Invalid library path"));
    };
    for p in parents {
        let next = dir.join(p);
        if !next.exists() {
            std::fs::create_dir(&next).map_err(io)?;
        }
        dir = next.canonicalize().map_err(io)?;
        if !dir.starts_with(&root) || !dir.is_dir() {
            return Err(forbidden("Library path leaves the library"));
        }
    }
    let target = dir.join(file);
    if target.is_dir() {
        return Err(ApiError::bad_request(
            "invalid_path",
            "A library folder has that name",
        ));
    }
    Ok(target)
}

/// `POST /library/:lib/:type/*path`: saves an entry; 204.
pub async fn post_entry(
    State(state): State<AdminState>,
    Path((lib, ty, path)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let root = type_root(&state, &lib, &ty)?;
    let mut path = path;
    if ty == "flows" && !path.ends_with(".json") {
        path.push_str(".json");
    }
    let rel = relative(&path)?;
    if rel.as_os_str().is_empty() {
        return Err(forbidden("Invalid library path"));
    }
    let body = json_body(&headers, &body)?;
    let text = if ty == "flows" {
        let r = if state.settings().flow_file_pretty {
            serde_json::to_string_pretty(&body)
        } else {
            serde_json::to_string(&body)
        };
        r.map_err(ApiError::internal)?
    } else {
        let Json_::Object(mut meta) = body else {
            return Err(ApiError::bad_request(
                "invalid_request",
                "Expected {\"text\": ..., ...meta}",
            ));
        };
        let content = match meta.shift_remove("text") {
            Some(Json_::String(s)) => s,
            None | Some(Json_::Null) => String::new(),
            Some(other) => other.to_string(),
        };
        let mut head = String::new();
        for (k, v) in meta {
            let v = match v {
                Json_::String(s) => s,
                other => other.to_string(),
            };
            head.push_str(&format!("// {k}: {}\n", to_single_line(&v)));
        }
        head + &content
    };
    tokio::task::spawn_blocking(move || {
        let target = prepare_path(&root, &rel)?;
        write_atomic(&target, text.as_bytes())
            .map_err(|e| ApiError::internal(format!("library {}: {e}", target.display())))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused() {
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a\\b",
            "a\0b",
            "./a",
            "a/./b",
        ] {
            assert!(relative(bad).is_err(), "{bad:?}");
        }
        assert_eq!(relative("a/b.json").ok(), Some(PathBuf::from("a/b.json")));
        assert_eq!(relative("").ok(), Some(PathBuf::new()));
        assert_eq!(relative("dir/").ok(), Some(PathBuf::from("dir")));
    }

    #[test]
    fn meta_lines_round_trip() {
        let text = format!(
            "// name: {}\n// outputs: 1\nreturn msg;\n// not meta",
            to_single_line("a\nb\\c")
        );
        let meta = meta_of(&text);
        assert_eq!(meta.get("name"), Some(&Json_::String("a\nb\\c".into())));
        assert_eq!(meta.get("outputs"), Some(&Json_::String("1".into())));
        assert_eq!(body_of(&text), "return msg;\n// not meta");
    }
}
