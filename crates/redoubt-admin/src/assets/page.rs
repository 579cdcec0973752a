//! What the editor page is rendered with: Node-RED's theme context
//! (`editor-api/lib/editor/theme.js`, `defaultContext` plus the
//! `editorTheme` settings we honour) and the cache buster of
//! `editor-api/lib/editor/ui.js`. The same context is the body of
//! `GET /theme`, plus `themes: []` (no theme plugins).

use serde_json::{Map, Value, json};

/// `editorTheme.codeEditor.lib`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodeEditor {
    /// The default: loads `vendor/monaco/monaco-bootstrap.js`.
    #[default]
    Monaco,
    /// Loads `vendor/ace/ace-bootstrap.js`.
    Ace,
    /// Plain text areas; no code editor library.
    Basic,
}

impl CodeEditor {
    /// Node-RED's reading of the setting: unset is Monaco, unknown is basic.
    pub fn from_setting(lib: Option<&str>) -> CodeEditor {
        match lib {
            None | Some("monaco") => CodeEditor::Monaco,
            Some("ace") => CodeEditor::Ace,
            Some(_) => CodeEditor::Basic,
        }
    }

    /// The value for `settings.editorTheme.codeEditor.lib`.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeEditor::Monaco => "monaco",
            CodeEditor::Ace => "ace",
            CodeEditor::Basic => "basic",
        }
    }
}

/// The page settings (`editorTheme.page`, `.header`, `.codeEditor`) and
/// what the cache buster is derived from.
#[derive(Debug, Clone)]
pub struct EditorPageConfig {
    /// `<title>` (`editorTheme.page.title`).
    pub title: String,
    /// Favicon URL, relative to the admin root.
    pub favicon: String,
    /// Safari mask icon URL and colour.
    pub tabicon: String,
    pub tabicon_colour: String,
    /// Header title, image (`None` hides it) and link.
    pub header_title: String,
    pub header_image: Option<String>,
    pub header_url: Option<String>,
    /// Extra stylesheet / script URLs for the page; served by whoever
    /// provides them (nothing here serves theme files).
    pub css: Vec<String>,
    pub scripts: Vec<String>,
    pub code_editor: CodeEditor,
    /// Serve the unminified `red/red.js` and `red/main.js`
    /// (Node-RED does under `NODE_ENV=development`).
    pub development_assets: bool,
    /// Runtime version and instance id: with the editor version they make
    /// the `?v=` cache buster, so browsers reload after an upgrade.
    pub runtime_version: String,
    pub instance_id: String,
}

impl Default for EditorPageConfig {
    fn default() -> EditorPageConfig {
        EditorPageConfig {
            title: "Node-RED".into(),
            favicon: "favicon.ico".into(),
            tabicon: "red/images/node-red-icon-black.svg".into(),
            tabicon_colour: "#8f0000".into(),
            header_title: "Node-RED".into(),
            header_image: Some("red/images/node-red-icon.svg".into()),
            header_url: None,
            css: Vec::new(),
            scripts: Vec::new(),
            code_editor: CodeEditor::Monaco,
            development_assets: false,
            runtime_version: env!("CARGO_PKG_VERSION").into(),
            instance_id: String::new(),
        }
    }
}

impl EditorPageConfig {
    /// The theme context: the Mustache view for `index.mst` (without the
    /// cache buster) and, with `themes`, the body of `GET /theme`.
    pub fn theme_context(&self) -> Value {
        let mut page = Map::new();
        page.insert("title".into(), json!(self.title));
        page.insert("favicon".into(), json!(self.favicon));
        page.insert(
            "tabicon".into(),
            json!({"icon": self.tabicon, "colour": self.tabicon_colour}),
        );
        if !self.css.is_empty() || !self.scripts.is_empty() {
            page.insert("css".into(), json!(self.css));
            page.insert("scripts".into(), json!(self.scripts));
        }
        let mut header = Map::new();
        header.insert("title".into(), json!(self.header_title));
        header.insert("image".into(), json!(self.header_image));
        if let Some(url) = &self.header_url {
            header.insert("url".into(), json!(url));
        }
        let (red, main) = if self.development_assets {
            ("red/red.js", "red/main.js")
        } else {
            ("red/red.min.js", "red/main.min.js")
        };
        let (monaco, ace) = match self.code_editor {
            CodeEditor::Monaco => ("vendor/monaco/monaco-bootstrap.js", ""),
            CodeEditor::Ace => ("", "vendor/ace/ace-bootstrap.js"),
            CodeEditor::Basic => ("", ""),
        };
        json!({
            "page": page,
            "header": header,
            "asset": {"red": red, "main": main, "vendorMonaco": monaco, "vendorAce": ace},
        })
    }

    /// `GET /theme`: the theme context plus the (empty) theme plugin list.
    pub fn theme_json(&self) -> Value {
        let mut ctx = self.theme_context();
        if let Some(obj) = ctx.as_object_mut() {
            obj.insert("themes".into(), json!([]));
        }
        ctx
    }

    /// The `?v=` value: 12 hex digits of a hash of runtime version,
    /// instance id and editor version (Node-RED: sha1 of the first two).
    pub fn cache_buster(&self, editor_version: &str) -> String {
        let input = format!(
            "{}-{}-{}",
            self.runtime_version, self.instance_id, editor_version
        );
        // FNV-1a, 64 bit: only needs to change when the input does.
        let hash = input.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        format!("{hash:016x}")[..12].to_string()
    }

    /// The full view for `index.mst`.
    pub(crate) fn template_view(&self, editor_version: &str) -> Value {
        let mut view = self.theme_context();
        if let Some(obj) = view.as_object_mut() {
            obj.insert(
                "cacheBuster".into(),
                json!(self.cache_buster(editor_version)),
            );
        }
        view
    }

    /// `view.html` of the debug pop-out with the theme's stylesheets
    /// linked, as `21-debug.js` does.
    pub(crate) fn debug_view(&self, view_html: &str) -> String {
        let links: String = self
            .css
            .iter()
            .map(|c| format!("<link rel=\"stylesheet\" href=\"../../{c}\">\n"))
            .collect();
        view_html.replacen("<!-- INSERT-THEME-CSS -->", &links, 1)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap.
mod tests {
    use super::*;

    #[test]
    fn default_theme_matches_node_red() {
        let theme = EditorPageConfig::default().theme_json();
        assert_eq!(
            theme,
            json!({
                "page": {"title": "Node-RED", "favicon": "favicon.ico",
                         "tabicon": {"icon": "red/images/node-red-icon-black.svg", "colour": "#8f0000"}},
                "header": {"title": "Node-RED", "image": "red/images/node-red-icon.svg"},
                "asset": {"red": "red/red.min.js", "main": "red/main.min.js",
                          "vendorMonaco": "vendor/monaco/monaco-bootstrap.js", "vendorAce": ""},
                "themes": []
            })
        );
    }

    #[test]
    fn code_editor_setting_follows_node_red() {
        assert_eq!(CodeEditor::from_setting(None), CodeEditor::Monaco);
        assert_eq!(CodeEditor::from_setting(Some("ace")), CodeEditor::Ace);
        assert_eq!(CodeEditor::from_setting(Some("vim")), CodeEditor::Basic);
        let cfg = EditorPageConfig {
            code_editor: CodeEditor::Ace,
            ..Default::default()
        };
        assert_eq!(
            cfg.theme_context()["asset"]["vendorAce"],
            "vendor/ace/ace-bootstrap.js"
        );
    }

    #[test]
    fn cache_buster_is_12_hex_and_tracks_its_inputs() {
        let cfg = EditorPageConfig::default();
        let a = cfg.cache_buster("5.0.7");
        assert_eq!(a.len(), 12);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, cfg.cache_buster("5.0.7"));
        assert_ne!(a, cfg.cache_buster("5.0.8"));
        let other = EditorPageConfig {
            instance_id: "x".into(),
            ..Default::default()
        };
        assert_ne!(a, other.cache_buster("5.0.7"));
    }
}
