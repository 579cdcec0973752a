//! The Node-RED editor's assets: the unmodified `@node-red/editor-client`
//! and `@node-red/nodes` packages, pinned in the repository's
//! `editor-assets.json` and fetched (sha512-checked) by
//! `scripts/fetch-editor-assets.sh` into a git-ignored cache. Nothing here
//! touches the network, and no build script is involved: the directory is
//! found at run time ([`resolve_dir`]), checked once ([`EditorAssets::load`],
//! which names every missing or broken file instead of serving a blank page),
//! then served by [`assets_router`] from disk.
//!
//! Layout of an assets directory (`.cache/editor-assets/<version>/`):
//! `editor-client/` and `nodes/`, each an unpacked npm tarball without its
//! `package/` prefix.
//!
//! Offline devices: there is no embedded copy (a compressed embed of ~30 MB
//! would slow every build for little gain); copy the directory onto the
//! device and point `--editor-assets DIR` / `REDOUBT_EDITOR_ASSETS` at it,
//! or put it beside the binary as `editor-assets/`.

mod catalog;
mod files;
mod locales;
mod mustache;
mod page;
mod router;

#[cfg(test)]
mod tests;

pub use catalog::{CoreNodeCatalog, NodeSetDef};
pub use locales::DEFAULT_LANG;
pub use page::{CodeEditor, EditorPageConfig};
pub use router::{assets_router, mount_at};

use mustache::Template;
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The editor version this build is tested against (`editor-assets.json`).
pub const PINNED_VERSION: &str = "5.0.7";

/// Environment variable naming the assets directory (as `--editor-assets`).
pub const ASSETS_ENV: &str = "REDOUBT_EDITOR_ASSETS";

/// What the fix for a missing or broken directory is.
const FIX: &str = "run scripts/fetch-editor-assets.sh";

/// Why the editor assets cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssetsError {
    /// No directory was given and none of the default places has one.
    #[error(
        "no editor assets found (looked in {searched}); {FIX}, or point --editor-assets DIR or \
         {ASSETS_ENV} at a directory holding editor-client/ and nodes/"
    )]
    NotFound { searched: String },
    /// Required files are absent.
    #[error("editor assets at {} are incomplete: missing {}; {FIX}", dir.display(), missing.join(", "))]
    Incomplete { dir: PathBuf, missing: Vec<String> },
    /// Files are present but unusable (empty, unparsable, wrong package).
    #[error("editor assets at {} are corrupt: {}; {FIX} --force", dir.display(), problems.join("; "))]
    Corrupt { dir: PathBuf, problems: Vec<String> },
}

/// Files that must exist, relative to the assets directory.
const REQUIRED: &[&str] = &[
    "editor-client/package.json",
    "editor-client/templates/index.mst",
    "editor-client/public/favicon.ico",
    "editor-client/public/red/red.min.js",
    "editor-client/public/red/main.min.js",
    "editor-client/public/red/style.min.css",
    "editor-client/public/red/keymap.json",
    "editor-client/public/red/images/icons/arrow-in.svg",
    "editor-client/public/vendor/vendor.js",
    "editor-client/public/vendor/jquery/css/base/jquery-ui.min.css",
    "editor-client/public/vendor/font-awesome/css/font-awesome.min.css",
    "editor-client/public/vendor/monaco/monaco-bootstrap.js",
    "editor-client/public/vendor/monaco/style.css",
    "editor-client/locales/en-US/editor.json",
    "editor-client/locales/en-US/jsonata.json",
    "editor-client/locales/en-US/infotips.json",
    "nodes/package.json",
    "nodes/core/common/20-inject.html",
    "nodes/core/common/21-debug.html",
    "nodes/core/common/98-unknown.html",
    "nodes/core/common/lib/debug/debug-utils.js",
    "nodes/core/common/lib/debug/view.html",
    "nodes/icons/inject.svg",
    "nodes/locales/en-US/messages.json",
    "nodes/locales/en-US/common/20-inject.html",
];

/// A checked editor assets directory, ready to serve.
#[derive(Debug)]
pub struct EditorAssets {
    dir: PathBuf,
    editor_dir: PathBuf,
    nodes_dir: PathBuf,
    public_dir: PathBuf,
    debug_dir: PathBuf,
    version: String,
    template: Template,
    node_sets: Vec<NodeSetDef>,
    icons: Vec<String>,
    languages: Vec<String>,
    /// Parsed catalogs by (namespace, directory language).
    catalogs: Mutex<HashMap<(String, String), Arc<Value>>>,
}

/// Finds the assets directory: `explicit` (the `--editor-assets` flag), else
/// `$REDOUBT_EDITOR_ASSETS`, else the first existing of
/// `./.cache/editor-assets/<PINNED>`, the workspace's
/// `.cache/editor-assets/<PINNED>` (development builds), and
/// `<directory of the executable>/editor-assets`.
pub fn resolve_dir(explicit: Option<&Path>) -> Result<PathBuf, AssetsError> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(ASSETS_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let cache = Path::new(".cache")
        .join("editor-assets")
        .join(PINNED_VERSION);
    let mut candidates = vec![cache.clone()];
    candidates.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(&cache),
    );
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        candidates.push(exe_dir.join("editor-assets"));
    }
    if let Some(found) = candidates.iter().find(|c| c.is_dir()) {
        return Ok(found.clone());
    }
    let searched = candidates
        .iter()
        .map(|c| c.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Err(AssetsError::NotFound { searched })
}

impl EditorAssets {
    /// [`resolve_dir`] then [`EditorAssets::load`].
    pub fn discover(explicit: Option<&Path>) -> Result<EditorAssets, AssetsError> {
        EditorAssets::load(&resolve_dir(explicit)?)
    }

    /// Checks `dir` (holding `editor-client/` and `nodes/`) and reads what is
    /// needed up front: the page template, the node sets, icons, languages.
    pub fn load(dir: &Path) -> Result<EditorAssets, AssetsError> {
        // A whole missing package is named once, not file by file.
        let absent: Vec<&str> = ["editor-client", "nodes"]
            .into_iter()
            .filter(|p| !dir.join(p).is_dir())
            .collect();
        let mut missing: Vec<String> = absent.iter().map(|p| format!("{p}/")).collect();
        missing.extend(
            REQUIRED
                .iter()
                .filter(|f| !absent.iter().any(|p| f.starts_with(&format!("{p}/"))))
                .filter(|f| !dir.join(f).is_file())
                .map(|f| f.to_string()),
        );
        if !missing.is_empty() {
            return Err(AssetsError::Incomplete {
                dir: dir.to_path_buf(),
                missing,
            });
        }
        let mut problems = Vec::new();
        for f in REQUIRED {
            if std::fs::metadata(dir.join(f)).is_ok_and(|m| m.len() == 0) {
                problems.push(format!("{f} is empty"));
            }
        }
        let editor_version = package_version(
            dir,
            "editor-client",
            "@node-red/editor-client",
            &mut problems,
        );
        let nodes_version = package_version(dir, "nodes", "@node-red/nodes", &mut problems);
        if let (Some(e), Some(n)) = (&editor_version, &nodes_version)
            && e != n
        {
            problems.push(format!(
                "editor-client is {e} but nodes is {n}; both must be the same release"
            ));
        }
        let canon = |p: PathBuf, problems: &mut Vec<String>| {
            std::fs::canonicalize(&p).unwrap_or_else(|e| {
                problems.push(format!("{}: {e}", p.display()));
                p
            })
        };
        let editor_dir = canon(dir.join("editor-client"), &mut problems);
        let nodes_dir = canon(dir.join("nodes"), &mut problems);
        let template = std::fs::read_to_string(editor_dir.join("templates/index.mst"))
            .map_err(|e| e.to_string())
            .and_then(|t| Template::parse(&t))
            .map_err(|e| problems.push(format!("editor-client/templates/index.mst: {e}")))
            .ok();
        for (ns, lang_file) in [
            ("editor", "editor"),
            ("jsonata", "jsonata"),
            ("infotips", "infotips"),
        ] {
            let path = editor_dir
                .join("locales/en-US")
                .join(format!("{lang_file}.json"));
            if let Err(e) = locales::read_catalog(&path) {
                problems.push(format!("catalog {ns}: {e}"));
            }
        }
        if let Err(e) = locales::read_catalog(&nodes_dir.join("locales/en-US/messages.json")) {
            problems.push(format!("catalog node-red: {e}"));
        }
        let node_sets = catalog::scan_node_sets(&nodes_dir).unwrap_or_else(|e| {
            problems.push(format!("node sets: {e}"));
            Vec::new()
        });
        if !node_sets.iter().any(|s| s.id == "node-red/unknown") {
            problems.push("nodes/core has no node sets (core/<category>/<file>.html)".into());
        }
        if !problems.is_empty() {
            return Err(AssetsError::Corrupt {
                dir: dir.to_path_buf(),
                problems,
            });
        }
        let (Some(version), Some(template)) = (editor_version, template) else {
            return Err(AssetsError::Corrupt {
                dir: dir.to_path_buf(),
                problems: vec!["unreadable package".into()],
            });
        };
        if version != PINNED_VERSION {
            tracing::warn!(
                version,
                pinned = PINNED_VERSION,
                "Serving an editor version this build was not tested with."
            );
        }
        let public_dir = editor_dir.join("public");
        let debug_dir = nodes_dir.join("core/common/lib/debug");
        Ok(EditorAssets {
            dir: dir.to_path_buf(),
            icons: list_files(&nodes_dir.join("icons"), |n| {
                n.ends_with(".svg") || n.ends_with(".png") || n.ends_with(".gif")
            }),
            languages: list_dirs(&editor_dir.join("locales")),
            editor_dir,
            nodes_dir,
            public_dir,
            debug_dir,
            version,
            template,
            node_sets,
            catalogs: Mutex::new(HashMap::new()),
        })
    }

    /// The directory this was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The editor version (both packages have it).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The editor's languages (`editor-client/locales/*`), for
    /// `settings.editorTheme.languages`.
    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    /// Every node set of the nodes package, offered or not.
    pub fn node_sets(&self) -> &[NodeSetDef] {
        &self.node_sets
    }

    /// Icon file names of the core module (`nodes/icons`).
    pub fn icons(&self) -> &[String] {
        &self.icons
    }

    pub(crate) fn nodes_dir(&self) -> &Path {
        &self.nodes_dir
    }

    pub(crate) fn template(&self) -> &Template {
        &self.template
    }

    /// The catalog of an i18n `namespace` (`editor`, `jsonata`, `infotips`,
    /// `node-red`) in `lang`, completed from `en-US`; `None` when the
    /// namespace or language has none (the route then answers `{}`).
    pub fn locale(&self, namespace: &str, lang: &str) -> Option<Arc<Value>> {
        if !locales::valid_lang(lang) {
            return None;
        }
        for candidate in locales::candidates(lang) {
            let key = (namespace.to_string(), candidate.to_string());
            if let Some(hit) = self.catalogs.lock().get(&key) {
                return Some(hit.clone());
            }
            let path =
                locales::catalog_path(&self.editor_dir, &self.nodes_dir, namespace, candidate)?;
            let mut catalog = match locales::read_catalog(&path) {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "Cannot read an editor message catalog.");
                    continue;
                }
            };
            if candidate != DEFAULT_LANG
                && let Some(fallback) = self.locale(namespace, DEFAULT_LANG)
            {
                locales::merge_fallback(&fallback, &mut catalog);
            }
            let catalog = Arc::new(catalog);
            self.catalogs.lock().insert(key, catalog.clone());
            return Some(catalog);
        }
        None
    }
}

fn package_version(
    dir: &Path,
    sub: &str,
    name: &str,
    problems: &mut Vec<String>,
) -> Option<String> {
    let path = dir.join(sub).join("package.json");
    let parsed: Value = match std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!("{sub}/package.json: {e}"));
            return None;
        }
    };
    if parsed.get("name").and_then(Value::as_str) != Some(name) {
        problems.push(format!("{sub}/package.json is not the {name} package"));
        return None;
    }
    let version = parsed
        .get("version")
        .and_then(Value::as_str)
        .map(str::to_string);
    if version.is_none() {
        problems.push(format!("{sub}/package.json has no version"));
    }
    version
}

fn list_files(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    list_entries(dir, |p| p.is_file(), keep)
}

fn list_dirs(dir: &Path) -> Vec<String> {
    list_entries(dir, |p| p.is_dir(), |_| true)
}

fn list_entries(
    dir: &Path,
    kind: impl Fn(&Path) -> bool,
    keep: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            (!name.starts_with('.') && kind(&e.path()) && keep(&name)).then_some(name)
        })
        .collect();
    out.sort();
    out
}
