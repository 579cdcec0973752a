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
//! Deviation, by design: a set is offered only when redoubt implements *all*
//! of its types (one `registerType` script registers the whole set, so a
//! partial set cannot be served), except the always-offered sets of
//! [`ALWAYS_OFFERED`]. The package's `package.json` has no `node-red.nodes`
//! map (core sets are discovered by walking `core/`), so neither do we.

use super::EditorAssets;
use super::locales::DEFAULT_LANG;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Sets the editor itself depends on; offered whatever is implemented.
pub const ALWAYS_OFFERED: [&str; 4] = [
    "node-red/unknown",
    "node-red/comment",
    "node-red/junction",
    "node-red/global-config",
];

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

/// One entry of `GET /nodes` (JSON), Node-RED's node-set info.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeSetInfo {
    pub id: String,
    pub name: String,
    pub types: Vec<String>,
    pub enabled: bool,
    pub local: bool,
    pub user: bool,
    pub module: String,
    pub version: String,
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
            sets.push(NodeSetDef {
                id: format!("node-red/{name}"),
                types: template_names(&content),
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

/// The node catalog offered to the editor: the core sets whose types are
/// all implemented, plus [`ALWAYS_OFFERED`].
#[derive(Debug, Clone)]
pub struct CoreNodeCatalog {
    assets: Arc<EditorAssets>,
    offered: Vec<usize>,
    withheld: Vec<(String, Vec<String>)>,
}

impl CoreNodeCatalog {
    /// `implemented` holds the registry's type names (`"inject"`, `"link in"`, …).
    pub fn new(assets: Arc<EditorAssets>, implemented: &[String]) -> CoreNodeCatalog {
        let mut offered = Vec::new();
        let mut withheld = Vec::new();
        for (i, set) in assets.node_sets().iter().enumerate() {
            let missing: Vec<String> = set
                .types
                .iter()
                .filter(|t| !implemented.contains(t))
                .cloned()
                .collect();
            if missing.is_empty() || ALWAYS_OFFERED.contains(&set.id.as_str()) {
                offered.push(i);
            } else {
                withheld.push((set.id.clone(), missing));
            }
        }
        CoreNodeCatalog {
            assets,
            offered,
            withheld,
        }
    }

    fn offered_sets(&self) -> impl Iterator<Item = &NodeSetDef> {
        self.offered
            .iter()
            .filter_map(|&i| self.assets.node_sets().get(i))
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

    /// `GET /nodes` (JSON): the offered sets, in Node-RED's order.
    pub fn sets(&self) -> Vec<NodeSetInfo> {
        self.offered_sets().map(|s| self.info(s)).collect()
    }

    /// One offered set's info (`GET /nodes/node-red/<name>`, JSON).
    pub fn set(&self, id: &str) -> Option<NodeSetInfo> {
        self.offered_sets()
            .find(|s| s.id == id)
            .map(|s| self.info(s))
    }

    /// Sets left out because redoubt lacks some of their types, with those types.
    pub fn withheld(&self) -> &[(String, Vec<String>)] {
        &self.withheld
    }

    /// `GET /nodes` (HTML): every offered set's definition and help, each
    /// after a `\n<!-- --- [red-module:ID] --- -->\n` marker.
    pub fn html(&self, lang: &str) -> String {
        let lang = html_lang(lang);
        let mut out = String::new();
        for set in self.offered_sets() {
            out.push_str("\n<!-- --- [red-module:");
            out.push_str(&set.id);
            out.push_str("] --- -->\n");
            out.push_str(&set.config);
            out.push_str(&node_help(self.assets.nodes_dir(), set, lang).unwrap_or_default());
        }
        out
    }

    /// `GET /nodes/node-red/<name>` (HTML): one offered set, as `getNodeConfig`.
    pub fn set_html(&self, id: &str, lang: &str) -> Option<String> {
        let set = self.offered_sets().find(|s| s.id == id)?;
        let help = node_help(self.assets.nodes_dir(), set, html_lang(lang)).unwrap_or_default();
        Some(format!(
            "<!-- --- [red-module:{}] --- -->\n{}{}",
            set.id, set.config, help
        ))
    }

    /// The message catalog of `module` in `lang`: the `node-red` namespace
    /// (`nodes/locales/<lang>/messages.json`) for the core module, `None`
    /// for any other module. Unknown languages give `{}`.
    pub fn messages(&self, lang: &str, module: &str) -> Option<Value> {
        if module != "node-red" {
            return None;
        }
        let catalog = self.assets.locale("node-red", lang);
        Some(catalog.map_or_else(|| Value::Object(Default::default()), |c| (*c).clone()))
    }

    /// `GET /icons` (JSON): `{"node-red": ["alert.svg", …]}`.
    pub fn icons(&self) -> Value {
        serde_json::json!({ "node-red": self.assets.icons() })
    }
}

#[cfg(test)]
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
