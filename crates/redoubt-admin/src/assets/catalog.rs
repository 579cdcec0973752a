//! The core node catalog: which node *sets* of `@node-red/nodes` the editor
//! is offered (`GET /nodes` JSON), their definitions and help
//! (`GET /nodes` HTML), and their message catalogs.
//!
//! Mirrors `@node-red/registry`: `lib/localfilesystem.js` (a set per
//! `core/<category>/<file>.html`, walked in sorted order; its name is the file
//! name without the numeric prefix, its id `node-red/<name>`),
//! `lib/loader.js` (`loadNodeTemplate`: types from `data-template-name`,
//! inline `data-help-name` blocks split off per `data-lang`; `getNodeHelp`:
//! help from `locales/<lang>/<category>/<file>.html`, then the base language,
//! then `en-US`) and `lib/registry.js` (`getAllNodeConfigs`: sets joined with
//! `<!-- --- [red-module:ID] --- -->` markers).
//!
//! A set's types are its HTML's template names plus any type its runtime
//! `.js` registers that the HTML lacks (`registerNodeConstructor` adds those;
//! in 5.0.7 that is only `junction`, whose HTML is deliberately empty).
//! The package's `package.json` has no `node-red.nodes` map (core sets are
//! found by walking `core/`), so neither do we. Which sets are *served*
//! (all types implemented, or editor-only) is decided by the admin routes
//! ([`crate::state::served_sets`]); this catalog knows every set.

use super::EditorAssets;
use super::locales::DEFAULT_LANG;
use crate::state::{NodeCatalog, NodeSetInfo};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// One node set found in the nodes package.
#[derive(Debug, Clone)]
pub struct NodeSetDef {
    /// `node-red/<name>`.
    pub id: String,
    /// `inject`, `link`, `CSV`, ….
    pub name: String,
    /// The types its HTML defines, in file order (empty for `junction`).
    pub types: Vec<String>,
    /// `common`, `function`, … (the directory under `core/`).
    pub category: String,
    /// The file name, e.g. `20-inject.html`.
    pub file: String,
    /// The definition HTML with inline help blocks removed.
    config: String,
    /// Inline help blocks by language.
    inline_help: HashMap<String, String>,
}

/// Walks `core/` of the nodes package into its node sets.
pub(crate) fn scan_node_sets(nodes_dir: &Path) -> Result<Vec<NodeSetDef>, String> {
    let core = nodes_dir.join("core");
    let mut sets = Vec::new();
    for category in sorted_entries(&core)? {
        let dir = core.join(&category);
        if !dir.is_dir()
            || category.starts_with('.')
            || ["lib", "icons", "node_modules", "test", "locales"].contains(&category.as_str())
        {
            continue;
        }
        for file in sorted_entries(&dir)? {
            let Some(stem) = file.strip_suffix(".html") else {
                continue;
            };
            let path = dir.join(&file);
            if !path.is_file() {
                continue;
            }
            let content =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let name = strip_numeric_prefix(stem).to_string();
            let (config, inline_help) = split_inline_help(&content);
            let mut types = template_names(&content);
            if let Ok(js) = std::fs::read_to_string(dir.join(format!("{stem}.js"))) {
                for t in registered_types(&js) {
                    if !types.contains(&t) {
                        types.push(t);
                    }
                }
            }
            sets.push(NodeSetDef {
                id: format!("node-red/{name}"),
                types,
                name,
                category: category.clone(),
                file,
                config,
                inline_help,
            });
        }
    }
    Ok(sets)
}

fn sorted_entries(dir: &Path) -> Result<Vec<String>, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    // JavaScript's default sort compares UTF-16 code units; for these ASCII
    // names that is byte order.
    names.sort();
    Ok(names)
}

fn strip_numeric_prefix(stem: &str) -> &str {
    match stem.split_once('-') {
        Some((digits, rest))
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            rest
        }
        _ => stem,
    }
}

/// The opening `<script …>` tags of `html`, as (start offset, tag text).
fn script_tags(html: &str) -> impl Iterator<Item = (usize, &str)> {
    let lower = html.to_ascii_lowercase();
    let starts: Vec<usize> = lower.match_indices("<script").map(|(i, _)| i).collect();
    starts.into_iter().filter_map(move |i| {
        let end = html[i..].find('>')?;
        Some((i, &html[i..i + end]))
    })
}

/// The value of attribute `attr` in an opening tag (`attr = 'v'` or `"v"`).
fn attr_value<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(attr) {
        let after = from + pos + attr.len();
        let rest = tag[after..].trim_start();
        if let Some(rest) = rest.strip_prefix('=') {
            let rest = rest.trim_start();
            if rest.starts_with(['"', '\'']) {
                let body = &rest[1..];
                let end = body.find(['"', '\''])?;
                return Some(&body[..end]);
            }
        }
        from = after;
    }
    None
}

/// The node types a definition file registers: every
/// `<script … data-template-name="TYPE">`.
pub(crate) fn template_names(html: &str) -> Vec<String> {
    script_tags(html)
        .filter(|(_, tag)| tag.len() > 7 && tag.as_bytes()[7] == b' ')
        .filter_map(|(_, tag)| attr_value(tag, "data-template-name").map(str::to_string))
        .collect()
}

/// The literal type names a runtime file passes to `RED.nodes.registerType`.
pub(crate) fn registered_types(js: &str) -> Vec<String> {
    js.match_indices("registerType(")
        .filter_map(|(i, m)| {
            let rest = js[i + m.len()..].trim_start();
            let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let body = &rest[1..];
            body.find(quote).map(|end| body[..end].to_string())
        })
        .collect()
}

/// Splits inline `<script … data-help-name=…>…</script>` blocks off the
/// definition, grouping them by their `data-lang` (default `en-US`).
fn split_inline_help(html: &str) -> (String, HashMap<String, String>) {
    let lower = html.to_ascii_lowercase();
    let mut main = String::new();
    let mut help: HashMap<String, String> = HashMap::new();
    let mut index = 0;
    for (start, tag) in script_tags(html) {
        if start < index || !tag.to_ascii_lowercase().contains(" data-help-name=") {
            continue;
        }
        let Some(close) = lower[start..].find("</script>") else {
            break;
        };
        let end = start + close + "</script>".len();
        main.push_str(&html[index..start]);
        let lang = attr_value(tag, " data-lang")
            .unwrap_or(DEFAULT_LANG)
            .to_string();
        help.entry(lang).or_default().push_str(&html[start..end]);
        index = end;
    }
    main.push_str(&html[index..]);
    (main, help)
}

/// The help HTML of `set` in `lang`, following `getNodeHelp`'s fallbacks.
fn node_help(nodes_dir: &Path, set: &NodeSetDef, lang: &str) -> Option<String> {
    let load = |l: &str| -> Option<String> {
        if let Some(h) = set.inline_help.get(l) {
            return Some(h.clone());
        }
        let path = nodes_dir
            .join("locales")
            .join(l)
            .join(&set.category)
            .join(&set.file);
        std::fs::read_to_string(path).ok()
    };
    let found = load(lang).or_else(|| match lang.split('-').collect::<Vec<_>>()[..] {
        [base, _] => load(base),
        _ => None,
    });
    match found {
        Some(h) => Some(h),
        None if lang == DEFAULT_LANG => None,
        None => node_help(nodes_dir, set, DEFAULT_LANG),
    }
}

/// The language for node HTML: Node-RED treats anything odd as `en-US`.
fn html_lang(lang: &str) -> &str {
    let ok = !lang.is_empty()
        && lang.len() <= 35
        && lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok { lang } else { DEFAULT_LANG }
}

/// The node catalog of the fetched `@node-red/nodes` package.
#[derive(Debug, Clone)]
pub struct CoreNodeCatalog {
    assets: Arc<EditorAssets>,
}

impl CoreNodeCatalog {
    /// A catalog over `assets`' node sets.
    pub fn new(assets: Arc<EditorAssets>) -> CoreNodeCatalog {
        CoreNodeCatalog { assets }
    }

    fn info(&self, set: &NodeSetDef) -> NodeSetInfo {
        NodeSetInfo {
            id: set.id.clone(),
            name: set.name.clone(),
            types: set.types.clone(),
            enabled: true,
            local: false,
            user: false,
            module: "node-red".into(),
            version: self.assets.version().to_string(),
        }
    }

    fn append_set(&self, set: &NodeSetDef, lang: &str, out: &mut String) {
        out.push_str(&set.config);
        out.push_str(&node_help(self.assets.nodes_dir(), set, html_lang(lang)).unwrap_or_default());
    }

    /// `GET /nodes/node-red/<name>` (HTML): one set, as `getNodeConfig`
    /// renders it (marker without the leading newline).
    pub fn set_html(&self, id: &str, lang: &str) -> Option<String> {
        let set = self.assets.node_sets().iter().find(|s| s.id == id)?;
        let mut out = format!("<!-- --- [red-module:{id}] --- -->\n");
        self.append_set(set, lang, &mut out);
        Some(out)
    }

    /// `GET /icons` (JSON): `{"node-red": ["alert.svg", …]}`.
    pub fn icons(&self) -> Value {
        serde_json::json!({ "node-red": self.assets.icons() })
    }
}

impl NodeCatalog for CoreNodeCatalog {
    /// Every core set, in Node-RED's order (category folders, then files).
    fn sets(&self) -> Vec<NodeSetInfo> {
        self.assets
            .node_sets()
            .iter()
            .map(|s| self.info(s))
            .collect()
    }

    /// `getAllNodeConfigs` for the sets `ids` (unknown ids are skipped):
    /// `\n<!-- --- [red-module:ID] --- -->\n`, definition, help in `lang`.
    fn html(&self, ids: &[String], lang: &str) -> String {
        let mut out = String::new();
        for id in ids {
            let Some(set) = self.assets.node_sets().iter().find(|s| &s.id == id) else {
                continue;
            };
            out.push_str("\n<!-- --- [red-module:");
            out.push_str(id);
            out.push_str("] --- -->\n");
            self.append_set(set, lang, &mut out);
        }
        out
    }

    /// Only the core module is installed, and its catalog is the
    /// `/locales/node-red` namespace: no module has node messages here.
    fn messages(&self, _lang: &str, _module: &str) -> Option<Value> {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap.
mod tests {
    use super::*;

    #[test]
    fn set_names_drop_the_numeric_prefix_only() {
        assert_eq!(strip_numeric_prefix("20-inject"), "inject");
        assert_eq!(strip_numeric_prefix("70-CSV"), "CSV");
        assert_eq!(strip_numeric_prefix("rbe"), "rbe");
        assert_eq!(strip_numeric_prefix("global-config"), "global-config");
    }

    #[test]
    fn types_come_from_template_names() {
        let html = r#"<script type="text/javascript">RED.nodes.registerType('x',{});</script>
<script type="text/html" data-template-name="link in"><p></script>
<SCRIPT type='text/html' data-template-name = 'link out'></script>
<script data-help-name="link in" type="text/html">help</script>"#;
        assert_eq!(template_names(html), ["link in", "link out"]);
    }

    #[test]
    fn runtime_registered_types_are_found() {
        let js = "module.exports = function(RED) { RED.nodes.registerType(\"junction\",JunctionNode);\n\
                  RED.nodes.registerType( 'link in', LinkIn); RED.nodes.registerType(name, X); }";
        assert_eq!(registered_types(js), ["junction", "link in"]);
    }

    #[test]
    fn inline_help_is_split_off_by_language() {
        let html = "A<script type=\"text/html\" data-help-name=\"x\">en</script>B\
                    <script type=\"text/html\" data-help-name=\"x\" data-lang=\"de\">de</script>C";
        let (main, help) = split_inline_help(html);
        assert_eq!(main, "ABC");
        assert_eq!(
            help["en-US"],
            "<script type=\"text/html\" data-help-name=\"x\">en</script>"
        );
        assert!(help["de"].contains(">de<"));
    }

    #[test]
    fn odd_languages_become_en_us() {
        assert_eq!(html_lang("de"), "de");
        assert_eq!(html_lang("../../etc"), "en-US");
        assert_eq!(html_lang(""), "en-US");
    }
}
