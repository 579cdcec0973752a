//! [`EditorSettings`]: the settings the admin API reports to the editor
//! (`GET /settings`, `GET /diagnostics`) or obeys itself.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

/// The editor languages `@node-red/editor-client` 5 ships.
pub const EDITOR_LANGUAGES: &[&str] = &[
    "de", "en-US", "es-ES", "fr", "ja", "ko", "pt-BR", "ru", "zh-CN", "zh-TW",
];

/// What the admin API tells the editor about the runtime. Built by the
/// binary from its settings file; [`Default`] is what tests use.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EditorSettings {
    /// `httpNodeRoot` (the http-in node editors show it).
    pub http_node_root: String,
    /// `httpAdminRoot` (diagnostics only; mounting is the binary's job).
    pub http_admin_root: String,
    /// The version the editor shows (menu label, tour gating).
    pub version: String,
    /// `flowFilePretty`.
    pub flow_file_pretty: bool,
    /// `system`, `user` or `disabled` (the credentials encryption).
    pub flow_encryption_type: String,
    /// The editor languages (`editorTheme.languages`, an array).
    pub languages: Vec<String>,
    /// The user's `editorTheme`, merged over redoubt's defaults.
    pub editor_theme: Map<String, Json>,
    /// `paletteCategories`, when set.
    pub palette_categories: Option<Vec<String>>,
    /// `diagnostics.enabled` (`GET /diagnostics` answers 403 when false).
    pub diagnostics_enabled: bool,
    /// `diagnostics.ui` (the menu item).
    pub diagnostics_ui: bool,
    /// Node-exported settings copied to the top level of `GET /settings`
    /// (`functionTimeout`, `tlsConfigDisableLocalFiles`, ...).
    pub node_settings: Map<String, Json>,
    /// `apiMaxLength` in bytes: the largest request body accepted.
    pub api_max_length: usize,
    /// `webSocketKeepAliveTime` in milliseconds: the `/comms` heartbeat.
    pub web_socket_keep_alive_ms: u64,
}

impl Default for EditorSettings {
    fn default() -> Self {
        let mut node_settings = Map::new();
        node_settings.insert("functionExternalModules".into(), Json::Bool(false));
        node_settings.insert("functionTimeout".into(), Json::from(0));
        node_settings.insert("tlsConfigDisableLocalFiles".into(), Json::Bool(false));
        EditorSettings {
            http_node_root: "/".into(),
            http_admin_root: "/".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            flow_file_pretty: false,
            flow_encryption_type: "system".into(),
            languages: EDITOR_LANGUAGES.iter().map(|l| l.to_string()).collect(),
            editor_theme: Map::new(),
            palette_categories: None,
            diagnostics_enabled: true,
            diagnostics_ui: true,
            node_settings,
            api_max_length: 5 * 1024 * 1024,
            web_socket_keep_alive_ms: 15_000,
        }
    }
}

/// Why the palette manager is off, sent with the palette settings so an
/// operator reading `GET /settings` sees the reason.
pub const PALETTE_EXPLANATION: &str = "redoubt runs only its built-in native nodes; installing or uploading npm node modules is not supported";

/// Node-RED's settings `extend`: objects merge recursively, scalars and
/// arrays replace, `null` deletes.
pub fn extend(target: &mut Map<String, Json>, source: &Map<String, Json>) {
    for (k, v) in source {
        match v {
            Json::Null => {
                target.shift_remove(k);
            }
            Json::Object(src) => match target.get_mut(k) {
                Some(Json::Object(dst)) => extend(dst, src),
                _ => {
                    target.insert(k.clone(), v.clone());
                }
            },
            _ => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

impl EditorSettings {
    /// The `editorTheme` object sent to the editor: redoubt's defaults
    /// (projects and tours off, palette editing off), the user's theme
    /// over them, and the language list.
    pub fn editor_theme_json(&self) -> Map<String, Json> {
        let mut theme = Map::new();
        theme.insert("projects".into(), serde_json::json!({"enabled": false}));
        theme.insert("tours".into(), Json::Bool(false));
        theme.insert(
            "codeEditor".into(),
            serde_json::json!({"lib": "monaco", "options": {}}),
        );
        extend(&mut theme, &self.editor_theme);
        // The palette manager cannot be turned back on: there is nothing
        // to install modules into.
        let palette = theme
            .entry("palette")
            .or_insert_with(|| Json::Object(Map::new()));
        if let Json::Object(p) = palette {
            p.insert("upload".into(), Json::Bool(false));
            p.insert("editable".into(), Json::Bool(false));
        } else {
            *palette = serde_json::json!({"upload": false, "editable": false});
        }
        theme.insert("languages".into(), Json::from(self.languages.clone()));
        theme
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extend_merges_objects_replaces_scalars_and_deletes_nulls() {
        let mut t = json!({"a": {"x": 1, "y": 2}, "b": 1, "c": [1]})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let s = json!({"a": {"y": 3, "z": 4}, "b": null, "c": [2], "d": "n"});
        extend(&mut t, s.as_object().unwrap_or(&Map::new()));
        assert_eq!(
            Json::Object(t),
            json!({"a": {"x": 1, "y": 3, "z": 4}, "c": [2], "d": "n"})
        );
    }

    #[test]
    fn palette_stays_locked_whatever_the_theme_says() {
        let theme = json!({"palette": {"editable": true, "categories": ["a"]}, "tours": true});
        let s = EditorSettings {
            editor_theme: theme.as_object().cloned().unwrap_or_default(),
            ..EditorSettings::default()
        };
        let t = Json::Object(s.editor_theme_json());
        assert_eq!(
            t["palette"],
            json!({"editable": false, "categories": ["a"], "upload": false})
        );
        assert_eq!(t["tours"], json!(true));
        assert!(t["languages"].is_array());
    }
}
