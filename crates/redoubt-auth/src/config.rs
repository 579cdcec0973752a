//! `adminAuth` from settings.js, checked: what kind of login, where users,
//! the anonymous default user and API tokens come from, and the session
//! lifetime. A value that is a JavaScript function in settings.js arrives
//! as `{"__function__": "<source>"}` and is called through [`crate::Hooks`].

use crate::scope::Scope;
use serde_json::{Map, Value as Json};
use std::time::Duration;

/// How redoubt-js marks a function-valued setting.
const FUNCTION_KEY: &str = "__function__";

/// Node-RED's default `sessionExpiryTime`: 7 days.
pub const DEFAULT_SESSION_EXPIRY: Duration = Duration::from_secs(604_800);

/// `adminAuth` is not usable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("setting `adminAuth{key}` {problem}")]
pub struct ConfigError {
    /// The key below `adminAuth` (`.users[1].password`).
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

fn err(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        problem: problem.into(),
    }
}

/// A user as configured or as returned by a `users`/`authenticate` hook.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The login name.
    pub username: String,
    /// What the user may do.
    pub permissions: Scope,
    /// bcrypt hash (built-in password check only).
    pub password_hash: Option<String>,
    /// Avatar URL shown by the editor.
    pub image: Option<String>,
    /// An external token `/auth/token` hands back instead of minting one.
    pub token: Option<String>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("permissions", &self.permissions)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl User {
    /// Reads a user object (`{username, permissions, password?, image?,
    /// token?}`); `key` names it in errors.
    pub fn from_json(v: &Json, key: &str) -> Result<User, ConfigError> {
        let Json::Object(m) = v else {
            return Err(err(key, "must be an object with username and permissions"));
        };
        let username = match m.get("username") {
            Some(Json::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(err(format!("{key}.username"), "must be a non-empty string")),
        };
        let permissions = match m.get("permissions") {
            Some(p @ (Json::String(_) | Json::Array(_))) => Scope::from_json(p),
            _ => {
                return Err(err(
                    format!("{key}.permissions"),
                    "must be \"*\", \"read\", a scope string or an array of them",
                ));
            }
        };
        let text = |k: &str| -> Result<Option<String>, ConfigError> {
            match m.get(k) {
                None | Some(Json::Null) => Ok(None),
                Some(Json::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(err(format!("{key}.{k}"), "must be a string")),
            }
        };
        Ok(User {
            username,
            permissions,
            password_hash: text("password")?,
            image: text("image")?,
            token: text("token")?,
        })
    }
}

/// Where a value comes from: settings data, or a settings.js function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source<T> {
    /// Not configured.
    None,
    /// Given as data.
    Static(T),
    /// A JavaScript function in settings.js, called through the hooks.
    Hook,
}

/// A static API token (`adminAuth.tokens` as an array).
#[derive(Clone, PartialEq, Eq)]
pub struct StaticToken {
    /// The token value.
    pub token: String,
    /// The user it acts as (must resolve through `users`).
    pub user: String,
    /// Its scope.
    pub scope: Scope,
}

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticToken")
            .field("user", &self.user)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The checked `adminAuth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAuthConfig {
    /// `type: "credentials"`: username/password login is offered.
    pub credentials: bool,
    /// `users`.
    pub users: Source<Vec<User>>,
    /// `authenticate` given as a function.
    pub authenticate_hook: bool,
    /// `default`: the anonymous user's permissions.
    pub default: Source<Scope>,
    /// `tokens`.
    pub tokens: Source<Vec<StaticToken>>,
    /// `tokenHeader`, lower-cased: a header carrying a raw token.
    pub token_header: Option<String>,
    /// `sessionExpiryTime`.
    pub session_expiry: Duration,
}

fn is_function(v: &Json) -> bool {
    matches!(v, Json::Object(m) if m.contains_key(FUNCTION_KEY))
}

impl AdminAuthConfig {
    /// Checks `adminAuth` as evaluated from settings.js.
    pub fn from_json(m: &Map<String, Json>) -> Result<AdminAuthConfig, ConfigError> {
        let credentials = match m.get("type") {
            None | Some(Json::Null) => false,
            Some(Json::String(t)) if t == "credentials" => true,
            Some(Json::String(t)) if t == "strategy" => {
                return Err(err(
                    ".type",
                    "is \"strategy\" (Passport/OAuth), which redoubt does not support; use type \"credentials\" or a tokens function",
                ));
            }
            Some(v) => return Err(err(".type", format!("is {v}, expected \"credentials\""))),
        };
        let users = match m.get("users") {
            None | Some(Json::Null) => Source::None,
            Some(v) if is_function(v) => Source::Hook,
            Some(Json::Array(list)) => {
                let mut out = Vec::new();
                for (i, u) in list.iter().enumerate() {
                    let key = format!(".users[{i}]");
                    let user = User::from_json(u, &key)?;
                    match &user.password_hash {
                        Some(h) if crate::password::bcrypt_cost(h).is_some() => {}
                        Some(_) => {
                            return Err(err(
                                format!("{key}.password"),
                                "is not a bcrypt hash ($2a$/$2b$/$2y$); make one with `redoubt admin hash-pw`",
                            ));
                        }
                        None if credentials
                            && !is_function(m.get("authenticate").unwrap_or(&Json::Null)) =>
                        {
                            return Err(err(
                                format!("{key}.password"),
                                "is missing; make a hash with `redoubt admin hash-pw`",
                            ));
                        }
                        None => {}
                    }
                    if out.iter().any(|o: &User| o.username == user.username) {
                        return Err(err(format!("{key}.username"), "repeats an earlier user"));
                    }
                    out.push(user);
                }
                Source::Static(out)
            }
            Some(Json::Object(_)) => {
                // Node-RED accepts a single user object too.
                let user = User::from_json(m.get("users").unwrap_or(&Json::Null), ".users")?;
                Source::Static(vec![user])
            }
            Some(v) => {
                return Err(err(
                    ".users",
                    format!("is {v}, expected an array of users or a function"),
                ));
            }
        };
        let authenticate_hook = match m.get("authenticate") {
            None | Some(Json::Null) => false,
            Some(v) if is_function(v) => true,
            Some(_) => return Err(err(".authenticate", "must be a function")),
        };
        let default = match m.get("default") {
            None | Some(Json::Null) => Source::None,
            Some(v) if is_function(v) => Source::Hook,
            Some(Json::Object(d)) => match d.get("permissions") {
                Some(p @ (Json::String(_) | Json::Array(_))) => Source::Static(Scope::from_json(p)),
                _ => {
                    return Err(err(
                        ".default.permissions",
                        "must be a scope string or array",
                    ));
                }
            },
            Some(_) => return Err(err(".default", "must be {permissions: ...} or a function")),
        };
        let tokens = match m.get("tokens") {
            None | Some(Json::Null) => Source::None,
            Some(v) if is_function(v) => Source::Hook,
            Some(Json::Array(list)) => {
                let mut out = Vec::new();
                for (i, t) in list.iter().enumerate() {
                    let key = format!(".tokens[{i}]");
                    let token = t
                        .get("token")
                        .and_then(Json::as_str)
                        .filter(|s| !s.is_empty());
                    let user = t
                        .get("user")
                        .and_then(Json::as_str)
                        .filter(|s| !s.is_empty());
                    let (Some(token), Some(user)) = (token, user) else {
                        return Err(err(key, "needs a non-empty token and user"));
                    };
                    out.push(StaticToken {
                        token: token.to_string(),
                        user: user.to_string(),
                        scope: t.get("scope").map(Scope::from_json).unwrap_or_default(),
                    });
                }
                Source::Static(out)
            }
            Some(_) => return Err(err(".tokens", "must be a function or an array")),
        };
        let token_header = match m.get("tokenHeader") {
            None | Some(Json::Null) => None,
            Some(Json::String(h)) if !h.is_empty() => Some(h.to_ascii_lowercase()),
            Some(_) => return Err(err(".tokenHeader", "must be a header name")),
        };
        let session_expiry = match m.get("sessionExpiryTime") {
            None | Some(Json::Null) => DEFAULT_SESSION_EXPIRY,
            Some(v) => match v.as_f64() {
                Some(s) if s.is_finite() && s > 0.0 => Duration::from_secs_f64(s),
                _ => {
                    return Err(err(
                        ".sessionExpiryTime",
                        format!("is {v}, expected seconds"),
                    ));
                }
            },
        };
        if credentials && users == Source::None && !authenticate_hook {
            return Err(err(
                ".users",
                "is missing: type \"credentials\" needs users (or an authenticate function)",
            ));
        }
        Ok(AdminAuthConfig {
            credentials,
            users,
            authenticate_hook,
            default,
            tokens,
            token_header,
            session_expiry,
        })
    }

    /// The bcrypt cost of the configured users (for the decoy hash).
    pub fn typical_cost(&self) -> u32 {
        match &self.users {
            Source::Static(list) => list
                .iter()
                .filter_map(|u| {
                    u.password_hash
                        .as_deref()
                        .and_then(crate::password::bcrypt_cost)
                })
                .max()
                .unwrap_or(crate::password::DEFAULT_COST),
            _ => crate::password::DEFAULT_COST,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: Json) -> Result<AdminAuthConfig, ConfigError> {
        AdminAuthConfig::from_json(v.as_object().expect("object"))
    }

    const HASH: &str = "$2a$08$zZWtXTja0fB1pzD4sHCMyOCMYz2Z6dNbM6tl8sJogENOMcxWV9DN.";

    #[test]
    fn the_stock_template_shape_loads() {
        let c = cfg(json!({"type": "credentials", "users": [
            {"username": "admin", "password": HASH, "permissions": "*"}
        ]}))
        .expect("valid");
        assert!(c.credentials);
        assert_eq!(c.session_expiry, DEFAULT_SESSION_EXPIRY);
        assert_eq!(c.typical_cost(), 8);
        let Source::Static(users) = &c.users else {
            panic!("static users")
        };
        assert_eq!(users[0].permissions, Scope::all());
        assert!(
            !format!("{users:?}").contains(HASH),
            "Debug redacts the hash"
        );
    }

    #[test]
    fn functions_tokens_and_default_are_recognised() {
        let f = json!({"__function__": "function(){}"});
        let c = cfg(json!({"type": "credentials", "users": f, "authenticate": f,
            "default": {"permissions": "read"}, "tokens": [{"token": "t0k", "user": "admin", "scope": ["flows.read"]}],
            "tokenHeader": "X-API-Key", "sessionExpiryTime": 60}))
        .expect("valid");
        assert_eq!(c.users, Source::Hook);
        assert!(c.authenticate_hook);
        assert_eq!(c.default, Source::Static(Scope::One("read".into())));
        assert_eq!(c.token_header.as_deref(), Some("x-api-key"));
        assert_eq!(c.session_expiry, Duration::from_secs(60));
        let Source::Static(t) = &c.tokens else {
            panic!("static tokens")
        };
        assert!(!format!("{t:?}").contains("t0k"), "Debug hides tokens");
    }

    #[test]
    fn mistakes_name_the_key() {
        let e = cfg(json!({"type": "credentials", "users": [{"username": "a", "password": "plain", "permissions": "*"}]}))
            .expect_err("plain password");
        assert_eq!(e.key, ".users[0].password");
        assert!(e.to_string().contains("hash-pw"), "{e}");
        let e = cfg(json!({"type": "credentials", "users": [{"username": "a", "password": HASH}]}))
            .expect_err("no permissions");
        assert_eq!(e.key, ".users[0].permissions");
        let e = cfg(json!({"type": "strategy"})).expect_err("strategy");
        assert_eq!(e.key, ".type");
        let e = cfg(json!({"type": "credentials"})).expect_err("no users");
        assert_eq!(e.key, ".users");
        let e = cfg(json!({"type": "credentials", "users": [
            {"username": "a", "password": HASH, "permissions": "*"},
            {"username": "a", "password": HASH, "permissions": "read"}]}))
        .expect_err("duplicate");
        assert_eq!(e.key, ".users[1].username");
    }
}
