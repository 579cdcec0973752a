//! Permissions and scopes, with Node-RED's matching rules
//! (`@node-red/editor-api/lib/auth/permissions.js`): a user's permissions
//! are a string or a list of strings (`*`, `read`, `write`, `flows.read`,
//! `*.write`, ...); a route requires one scope string.

use serde_json::Value as Json;

/// A user's permissions or a token's scope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Scope {
    /// No permissions at all (Node-RED's `undefined`): denies everything.
    #[default]
    Nothing,
    /// One permission string.
    One(String),
    /// Several; any of them may allow a request. Empty denies everything.
    Many(Vec<String>),
}

impl Scope {
    /// Every permission (`*`).
    pub fn all() -> Scope {
        Scope::One("*".into())
    }

    /// Reads Node-RED's JSON form: a string, an array of strings, or
    /// anything else (no permissions).
    pub fn from_json(v: &Json) -> Scope {
        match v {
            Json::String(s) => Scope::One(s.clone()),
            Json::Array(a) => Scope::Many(
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
            ),
            _ => Scope::Nothing,
        }
    }

    /// Node-RED's JSON form (what `/settings` reports as `user.permissions`).
    pub fn to_json(&self) -> Json {
        match self {
            Scope::Nothing => Json::Null,
            Scope::One(s) => Json::String(s.clone()),
            Scope::Many(v) => Json::Array(v.iter().cloned().map(Json::String).collect()),
        }
    }

    /// A space-separated request (`scope` of `/auth/token`).
    pub fn parse_request(text: &str) -> Scope {
        let items: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        match items.len() {
            1 => Scope::One(items[0].clone()),
            _ => Scope::Many(items),
        }
    }

    /// Whether this scope allows `required` (Node-RED's `hasPermission`).
    /// An empty `required` is allowed for everyone.
    pub fn permits(&self, required: &str) -> bool {
        if required.is_empty() {
            return true;
        }
        match self {
            Scope::Nothing => false,
            Scope::One(s) => one_permits(s, required),
            Scope::Many(v) => v.iter().any(|s| one_permits(s, required)),
        }
    }

    /// Whether every permission in `wanted` is allowed by `self`: what a
    /// user must hold to be issued a token with scope `wanted`.
    pub fn grants(&self, wanted: &Scope) -> bool {
        match wanted {
            Scope::Nothing => false,
            Scope::One(s) => self.permits(s),
            Scope::Many(v) => !v.is_empty() && v.iter().all(|s| self.permits(s)),
        }
    }
}

fn one_permits(have: &str, required: &str) -> bool {
    if have == "*" || have == required {
        return true;
    }
    match have {
        "read" | "*.read" => required == "read" || required.ends_with(".read"),
        "write" | "*.write" => required == "write" || required.ends_with(".write"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn node_red_matching_rules() {
        let star = Scope::all();
        assert!(star.permits("flows.write"));
        let read = Scope::One("read".into());
        assert!(read.permits("flows.read"));
        assert!(read.permits("read"));
        assert!(!read.permits("flows.write"));
        let write = Scope::One("*.write".into());
        assert!(write.permits("nodes.write"));
        assert!(!write.permits("nodes.read"), "write does not imply read");
        let fine = Scope::One("flows.write".into());
        assert!(
            !fine.permits("flows.read"),
            "flows.write does not imply flows.read"
        );
        assert!(fine.permits("flows.write"));
        let many = Scope::from_json(&json!(["flows.read", "nodes.read"]));
        assert!(many.permits("nodes.read"));
        assert!(!many.permits("settings.read"));
        assert!(!Scope::Many(vec![]).permits("flows.read"));
        assert!(!Scope::Nothing.permits("flows.read"));
        assert!(Scope::Nothing.permits(""), "revoke needs no scope");
    }

    #[test]
    fn token_requests_must_be_grantable() {
        let star = Scope::all();
        assert!(star.grants(&Scope::parse_request("flows.read nodes.read")));
        let read = Scope::One("read".into());
        assert!(!read.grants(&Scope::parse_request("*")));
        assert!(read.grants(&Scope::parse_request("flows.read")));
        assert!(
            !read.grants(&Scope::parse_request("")),
            "an empty request is resolved before"
        );
        assert_eq!(Scope::from_json(&json!(7)), Scope::Nothing);
        assert_eq!(Scope::all().to_json(), json!("*"));
    }
}
