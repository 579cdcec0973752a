//! Node credentials as the editor sends and reads them (Node-RED's
//! `runtime/lib/nodes/credentials.js` `extract`/`clean` and
//! `getNodeCredentials`).
//!
//! The editor posts each node's *changed* credential fields inside the node
//! as `"credentials": {...}`; they are merged into the stored map and never
//! written to flows.json. `"__PWRD__"` means "unchanged", an empty or
//! blank string deletes the field.
//!
//! Deviation: Node-RED knows each type's credential definition (which
//! fields are passwords) from the node's `.js`; redoubt does not, so
//! [`is_secret_field`] decides by name, and `GET /credentials` answers
//! every stored field (a secret one only as `has_<field>`).

use redoubt_storage::credentials::CredMap;
use serde_json::{Map, Value as Json};

/// The placeholder the editor sends for "keep the stored password".
pub(crate) const PLACEHOLDER: &str = "__PWRD__";

/// Whether a credential field is treated as a password (never sent back):
/// its lower-cased name contains `pass`, `secret`, `token` or `key`
/// (password, passphrase, passwd, apiKey, privateKey, keydata, ...).
pub fn is_secret_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["pass", "secret", "token", "key"]
        .iter()
        .any(|w| n.contains(w))
}

fn blank(v: &Json) -> bool {
    matches!(v, Json::String(s) if s.trim().is_empty())
}

/// Merges the credentials posted inside node `id` (type `ty`) into `saved`.
pub(crate) fn merge_node(saved: &mut CredMap, id: &str, ty: &str, new: Map<String, Json>) {
    let mut entry = saved.get(id).cloned().unwrap_or_default();
    if ty == "global-config" {
        merge_global_config(&mut entry, &new);
    } else {
        for (k, v) in &new {
            if v.as_str() == Some(PLACEHOLDER) {
                continue;
            }
            if blank(v) {
                entry.shift_remove(k);
            } else {
                entry.insert(k.clone(), v.clone());
            }
        }
        // A subflow instance sends its whole credential set: drop the rest.
        if ty == "subflow" || ty.starts_with("subflow:") {
            entry.retain(|k, _| new.contains_key(k));
        }
    }
    if entry.is_empty() {
        saved.shift_remove(id);
    } else {
        saved.insert(id.to_string(), entry);
    }
}

/// The global environment dialog keeps `cred`-type variables in
/// `credentials.map`, with `has_<name>` flags beside them.
fn merge_global_config(entry: &mut Map<String, Json>, new: &Map<String, Json>) {
    let empty = Map::new();
    let new_map = new.get("map").and_then(Json::as_object).unwrap_or(&empty);
    let mut map = entry
        .get("map")
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    let existing: Vec<String> = map.keys().cloned().collect();
    for k in existing {
        let present = new_map
            .get(&k)
            .is_some_and(|v| !v.is_null() && v != &Json::Bool(false) && !blank(v));
        if !present {
            map.shift_remove(&k);
            map.shift_remove(&format!("has_{k}"));
        }
    }
    for (k, v) in new_map {
        if k.starts_with("has_") {
            continue;
        }
        let known = map.get(k).is_some_and(|x| !blank(x) && !x.is_null());
        if !known || v.as_str() != Some(PLACEHOLDER) {
            map.insert(k.clone(), v.clone());
            let flag = new_map
                .get(&format!("has_{k}"))
                .cloned()
                .unwrap_or(Json::Null);
            map.insert(format!("has_{k}"), flag);
        }
    }
    entry.insert("map".into(), Json::Object(map));
}

/// Drops credentials of nodes that are no longer in `flows`.
pub(crate) fn clean(saved: &mut CredMap, flows: &[Json]) {
    let ids: std::collections::HashSet<&str> = flows
        .iter()
        .filter_map(|n| n.get("id").and_then(Json::as_str))
        .collect();
    saved.retain(|id, _| ids.contains(id.as_str()));
}

/// What `GET /credentials/:type/:id` may show of a node's credentials.
pub(crate) fn safe_view(ty: &str, creds: Option<&Map<String, Json>>) -> Map<String, Json> {
    let mut out = Map::new();
    let Some(creds) = creds else { return out };
    let has = |v: &Json| !v.is_null() && v.as_str() != Some("");
    if ty == "tab" || ty == "group" || ty == "subflow" || ty.starts_with("subflow:") {
        for (k, v) in creds {
            out.insert(format!("has_{k}"), Json::Bool(has(v)));
        }
        return out;
    }
    if ty == "global-config" {
        let flags: Map<String, Json> = creds
            .get("map")
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| !k.starts_with("has_"))
                    .map(|(k, v)| (format!("has_{k}"), Json::Bool(has(v))))
                    .collect()
            })
            .unwrap_or_default();
        out.insert("map".into(), Json::Object(flags));
        return out;
    }
    for (k, v) in creds {
        if is_secret_field(k) {
            out.insert(format!("has_{k}"), Json::Bool(has(v)));
        } else {
            out.insert(
                k.clone(),
                if v.is_null() {
                    Json::String(String::new())
                } else {
                    v.clone()
                },
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn placeholder_keeps_blank_deletes_value_replaces() {
        let mut saved = CredMap::new();
        saved.insert(
            "n1".into(),
            obj(json!({"user": "bob", "password": "pw", "token": "t"})),
        );
        merge_node(
            &mut saved,
            "n1",
            "mqtt-broker",
            obj(json!({"user": "alice", "password": PLACEHOLDER, "token": " "})),
        );
        assert_eq!(
            saved.get("n1"),
            Some(&obj(json!({"user": "alice", "password": "pw"})))
        );
    }

    #[test]
    fn subflow_instances_replace_their_set() {
        let mut saved = CredMap::new();
        saved.insert("s1".into(), obj(json!({"A": "1", "B": "2"})));
        merge_node(
            &mut saved,
            "s1",
            "subflow:abc",
            obj(json!({"A": PLACEHOLDER})),
        );
        assert_eq!(saved.get("s1"), Some(&obj(json!({"A": "1"}))));
    }

    #[test]
    fn emptied_nodes_leave_the_map() {
        let mut saved = CredMap::new();
        saved.insert("n1".into(), obj(json!({"password": "pw"})));
        merge_node(&mut saved, "n1", "x", obj(json!({"password": ""})));
        assert!(saved.is_empty());
    }

    #[test]
    fn global_config_map_keeps_unchanged_secrets() {
        let mut saved = CredMap::new();
        saved.insert(
            "g".into(),
            obj(json!({"map": {"A": "secret", "has_A": true, "B": "old", "has_B": true}})),
        );
        merge_node(
            &mut saved,
            "g",
            "global-config",
            obj(json!({"map": {"A": PLACEHOLDER, "has_A": true, "C": "new", "has_C": true}})),
        );
        assert_eq!(
            saved.get("g"),
            Some(&obj(
                json!({"map": {"A": "secret", "has_A": true, "C": "new", "has_C": true}})
            ))
        );
    }

    #[test]
    fn passwords_never_leave_the_server() {
        let creds =
            obj(json!({"user": "bob", "password": "pw", "apiKey": "", "keydata": "-----BEGIN"}));
        assert_eq!(
            Json::Object(safe_view("mqtt-broker", Some(&creds))),
            json!({"user": "bob", "has_password": true, "has_apiKey": false, "has_keydata": true})
        );
        assert_eq!(
            Json::Object(safe_view("tab", Some(&creds)))["has_user"],
            json!(true)
        );
        assert_eq!(Json::Object(safe_view("x", None)), json!({}));
        let g = obj(json!({"map": {"A": "s", "has_A": true}}));
        assert_eq!(
            Json::Object(safe_view("global-config", Some(&g))),
            json!({"map": {"has_A": true}})
        );
    }

    #[test]
    fn clean_drops_removed_nodes() {
        let mut saved = CredMap::new();
        saved.insert("a".into(), obj(json!({"x": "1"})));
        saved.insert("b".into(), obj(json!({"x": "1"})));
        clean(&mut saved, &[json!({"id": "a"})]);
        assert_eq!(saved.keys().collect::<Vec<_>>(), ["a"]);
    }
}
