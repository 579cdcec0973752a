//! i18n message catalogs (`GET /locales/:namespace?lng=`), resolved the way
//! `@node-red/util/lib/i18n.js` and `editor-api/lib/editor/locales.js` do:
//!
//! - namespaces `editor`, `jsonata`, `infotips` come from
//!   `editor-client/locales/<lang>/<ns>.json`; `node-red` (the core nodes'
//!   labels) from `nodes/locales/<lang>/messages.json`;
//! - a language with no catalog of its own falls back to its base
//!   (`de-DE` → `de`); anything else gives no catalog (the route answers `{}`);
//! - i18next v3 plural keys are migrated (`x_plural` → `x_other`);
//! - every non-default catalog is completed with the `en-US` entries it lacks.

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// The default (and fallback) language, i18n's `defaultLang`.
pub const DEFAULT_LANG: &str = "en-US";

/// Whether `lang` may name a catalog directory (letters and `-` only).
pub(crate) fn valid_lang(lang: &str) -> bool {
    !lang.is_empty() && lang.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
}

/// The catalog file of `namespace` for `lang`, if the namespace is known.
pub(crate) fn catalog_path(
    editor_dir: &Path,
    nodes_dir: &Path,
    namespace: &str,
    lang: &str,
) -> Option<PathBuf> {
    match namespace {
        "editor" | "jsonata" | "infotips" => Some(
            editor_dir
                .join("locales")
                .join(lang)
                .join(format!("{namespace}.json")),
        ),
        "node-red" => Some(nodes_dir.join("locales").join(lang).join("messages.json")),
        _ => None,
    }
}

/// The languages to try for a request, in order: the exact one, then its base.
pub(crate) fn candidates(lang: &str) -> Vec<&str> {
    let mut out = vec![lang];
    if let Some((base, _)) = lang.split_once('-') {
        out.push(base);
    }
    out
}

/// Reads and migrates one catalog file; `Ok(None)` when it does not exist.
pub(crate) fn read_catalog(path: &Path) -> Result<Option<Value>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let value: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
    Ok(Some(migrate_v3_plurals(value)))
}

/// i18next v3 → v4: `key_plural` becomes `key_other` unless that exists.
pub(crate) fn migrate_v3_plurals(value: Value) -> Value {
    let Value::Object(map) = value else {
        return value;
    };
    let mut out = Map::new();
    let mut plurals = Vec::new();
    for (k, v) in map {
        if k.ends_with("_plural") {
            plurals.push((k.replacen("_plural", "_other", 1), v));
        } else {
            out.insert(k, migrate_v3_plurals(v));
        }
    }
    for (k, v) in plurals {
        if out.get(&k).is_none_or(js_falsy) {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}

/// Fills the entries `catalog` lacks (or has falsy) from `fallback`, deeply.
pub(crate) fn merge_fallback(fallback: &Value, catalog: &mut Value) {
    let (Value::Object(fb), Value::Object(cat)) = (fallback, catalog) else {
        return;
    };
    for (k, fv) in fb {
        match cat.get_mut(k) {
            Some(cv) if !js_falsy(cv) => merge_fallback(fv, cv),
            _ => {
                cat.insert(k.clone(), fv.clone());
            }
        }
    }
}

fn js_falsy(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap.
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plural_keys_are_migrated_recursively() {
        let v = json!({"a": {"n": "1", "n_plural": "many"}, "b_plural": "x", "b_other": "kept"});
        assert_eq!(
            migrate_v3_plurals(v),
            json!({"a": {"n": "1", "n_other": "many"}, "b_other": "kept"})
        );
    }

    #[test]
    fn fallback_fills_missing_and_empty_entries_only() {
        let en = json!({"a": "A", "b": {"c": "C", "d": "D"}, "e": "E"});
        let mut de = json!({"a": "a-de", "b": {"c": "c-de", "d": ""}});
        merge_fallback(&en, &mut de);
        assert_eq!(
            de,
            json!({"a": "a-de", "b": {"c": "c-de", "d": "D"}, "e": "E"})
        );
    }

    #[test]
    fn languages_are_validated_and_fall_back_to_their_base() {
        assert!(valid_lang("zh-CN") && valid_lang("de"));
        for bad in ["", "../x", "en_US", "fr/..", "de1", "*"] {
            assert!(!valid_lang(bad), "{bad}");
        }
        assert_eq!(candidates("de-DE"), ["de-DE", "de"]);
        assert_eq!(candidates("fr"), ["fr"]);
    }
}
