//! [`NodeCatalog`]: where `GET /nodes` gets its node sets, node HTML and
//! message catalogs. The editor-assets side implements it over the
//! `@node-red/nodes` files; [`StaticCatalog`] is a built-in fallback (set
//! table only, no HTML) for tests and headless builds.

use serde::Serialize;

/// One node set as `GET /nodes` lists it (Node-RED's registry node info).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeSetInfo {
    /// `<module>/<name>`, e.g. `node-red/inject`.
    pub id: String,
    /// The set name: the file name without numeric prefix and extension.
    pub name: String,
    /// The node types the set registers.
    pub types: Vec<String>,
    /// Always true (sets cannot be disabled here).
    pub enabled: bool,
    /// Whether the module was installed from a local directory.
    pub local: bool,
    /// Whether the module was installed by the user.
    pub user: bool,
    /// The module, `node-red` for core sets (the editor uses it to pick the
    /// i18n namespace, so core sets must keep it).
    pub module: String,
    /// The module version.
    pub version: String,
}

impl NodeSetInfo {
    /// A core (`node-red` module) set.
    pub fn core(name: &str, types: &[&str], version: &str) -> NodeSetInfo {
        NodeSetInfo {
            id: format!("node-red/{name}"),
            name: name.to_string(),
            types: types.iter().map(|t| t.to_string()).collect(),
            enabled: true,
            local: false,
            user: false,
            module: "node-red".to_string(),
            version: version.to_string(),
        }
    }
}

/// The source of node sets, node HTML and node message catalogs.
///
/// The admin routes decide which sets are served (only sets whose types
/// all run, plus the editor-only sets); the catalog renders them.
pub trait NodeCatalog: Send + Sync + 'static {
    /// Every set the catalog knows, in palette order.
    fn sets(&self) -> Vec<NodeSetInfo>;

    /// The editor HTML of the sets `ids`, in that order: for each, the
    /// marker `\n<!-- --- [red-module:ID] --- -->\n`, the node definition
    /// and its help text in `lang` (falling back to the language prefix,
    /// then `en-US`). The caller passes only sets it serves, so the HTML
    /// and the JSON list always agree.
    fn html(&self, ids: &[String], lang: &str) -> String;

    /// The message catalog of a non-core `module` in `lang`, if any. Core
    /// sets (`node-red`) answer `None`: their catalog is served as
    /// `/locales/node-red`.
    fn messages(&self, lang: &str, module: &str) -> Option<serde_json::Value>;
}

/// Node-RED 5's core node sets and the types each registers, in the order
/// Node-RED lists them (category folders, then file names).
pub const CORE_SETS: &[(&str, &[&str])] = &[
    ("junction", &["junction"]),
    ("inject", &["inject"]),
    ("debug", &["debug"]),
    ("complete", &["complete"]),
    ("catch", &["catch"]),
    ("status", &["status"]),
    ("link", &["link in", "link call", "link out"]),
    ("comment", &["comment"]),
    ("global-config", &["global-config"]),
    ("unknown", &["unknown"]),
    ("function", &["function"]),
    ("switch", &["switch"]),
    ("change", &["change"]),
    ("range", &["range"]),
    ("template", &["template"]),
    ("delay", &["delay"]),
    ("trigger", &["trigger"]),
    ("exec", &["exec"]),
    ("rbe", &["rbe"]),
    ("tls", &["tls-config"]),
    ("httpproxy", &["http proxy"]),
    ("mqtt", &["mqtt-broker", "mqtt in", "mqtt out"]),
    ("httpin", &["http in", "http response"]),
    ("httprequest", &["http request"]),
    (
        "websocket",
        &[
            "websocket in",
            "websocket out",
            "websocket-listener",
            "websocket-client",
        ],
    ),
    ("tcpin", &["tcp in", "tcp out", "tcp request"]),
    ("udp", &["udp in", "udp out"]),
    ("CSV", &["csv"]),
    ("HTML", &["html"]),
    ("JSON", &["json"]),
    ("XML", &["xml"]),
    ("YAML", &["yaml"]),
    ("split", &["split", "join"]),
    ("sort", &["sort"]),
    ("batch", &["batch"]),
    ("file", &["file", "file in"]),
    ("watch", &["watch"]),
];

/// Types the editor needs whether or not the runtime implements them:
/// `unknown` (imports with unknown types), `comment` (editor-only),
/// `junction` (drawn natively; the engine passes messages through) and
/// `global-config` (the global environment-variable dialog).
pub const ALWAYS_SERVED: &[&str] = &["unknown", "comment", "junction", "global-config"];

/// A catalog built from [`CORE_SETS`], without node HTML: each set renders
/// as its marker only. Enough for tests and for a runtime without editor
/// assets; the editor itself needs the real catalog.
#[derive(Debug, Clone)]
pub struct StaticCatalog {
    version: String,
}

impl StaticCatalog {
    /// Sets reported with module version `version`.
    pub fn new(version: &str) -> StaticCatalog {
        StaticCatalog {
            version: version.to_string(),
        }
    }
}

/// The marker Node-RED puts before each set's HTML.
pub fn set_marker(id: &str) -> String {
    format!("\n<!-- --- [red-module:{id}] --- -->\n")
}

impl NodeCatalog for StaticCatalog {
    fn sets(&self) -> Vec<NodeSetInfo> {
        CORE_SETS
            .iter()
            .map(|(name, types)| NodeSetInfo::core(name, types, &self.version))
            .collect()
    }

    fn html(&self, ids: &[String], _lang: &str) -> String {
        ids.iter().map(|id| set_marker(id)).collect()
    }

    fn messages(&self, _lang: &str, _module: &str) -> Option<serde_json::Value> {
        None
    }
}

/// The sets of `catalog` that are served: those whose every type is
/// implemented (`implemented`) or always served. A set with some types
/// missing is held back whole: one `registerType` script registers all of
/// its types, and the editor rejects types missing from the JSON list.
pub fn served_sets(catalog: &dyn NodeCatalog, implemented: &[String]) -> Vec<NodeSetInfo> {
    catalog
        .sets()
        .into_iter()
        .filter(|s| {
            !s.types.is_empty()
                && s.types.iter().all(|t| {
                    ALWAYS_SERVED.contains(&t.as_str()) || implemented.iter().any(|i| i == t)
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_sets_are_held_back_and_editor_sets_always_served() {
        let cat = StaticCatalog::new("5.0.7");
        let implemented = vec![
            "inject".to_string(),
            "link in".to_string(),
            "http in".to_string(),
            "http response".to_string(),
        ];
        let ids: Vec<String> = served_sets(&cat, &implemented)
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(
            ids,
            [
                "node-red/junction",
                "node-red/inject",
                "node-red/comment",
                "node-red/global-config",
                "node-red/unknown",
                "node-red/httpin"
            ]
        );
    }

    #[test]
    fn static_html_is_markers_in_order() {
        let cat = StaticCatalog::new("1");
        let html = cat.html(&["node-red/a".into(), "node-red/b".into()], "en-US");
        assert_eq!(
            html,
            "\n<!-- --- [red-module:node-red/a] --- -->\n\n<!-- --- [red-module:node-red/b] --- -->\n"
        );
    }
}
