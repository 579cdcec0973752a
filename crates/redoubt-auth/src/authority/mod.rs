//! [`Authority`]: logs users in (`/auth/token`), turns a presented bearer
//! token into a [`Principal`], and ends sessions (`/auth/revoke`). Every
//! admin route asks it one question: [`Principal::permits`].
//!
//! Compared with Node-RED: tokens are stored hashed; a token's scope is
//! narrowed by its user's current permissions on every request, and a user
//! who no longer resolves loses every session; an invalid token is
//! refused (401) instead of silently becoming the anonymous user; a user
//! may revoke only their own tokens unless they hold `*`; unknown users
//! cost the same bcrypt work as known ones; attempts are throttled per
//! account and address (429), including invalid tokens.

use crate::Hooks;
use crate::audit::{AuditEvent, AuditLog};
use crate::config::{AdminAuthConfig, Source, User};
use crate::password::{DecoyHash, HashForms, verify_blocking};
use crate::scope::Scope;
use crate::sessions::{EndReason, Sessions, SessionsError, TokenHash};
use crate::throttle::Throttle;
use serde_json::{Map, Value as Json, json};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The two OAuth client ids Node-RED's clients use.
pub const CLIENT_IDS: &[&str] = &["node-red-editor", "node-red-admin"];

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user; `None` for the anonymous default user or an open runtime.
    pub username: Option<String>,
    /// What the credential allows.
    pub scope: Scope,
    /// The user's current permissions, which also limit `scope`.
    pub limit: Option<Scope>,
    /// The session, when authenticated with a session token.
    pub session: Option<TokenHash>,
    /// When that session ends (ms since the epoch).
    pub expires_ms: Option<u64>,
    /// No adminAuth: everything is allowed.
    pub open: bool,
}

impl Principal {
    /// The caller when no adminAuth is configured.
    pub fn open() -> Principal {
        Principal {
            username: None,
            scope: Scope::all(),
            limit: None,
            session: None,
            expires_ms: None,
            open: true,
        }
    }

    /// Whether this principal may use `required`.
    pub fn permits(&self, required: &str) -> bool {
        self.scope.permits(required) && self.limit.as_ref().is_none_or(|l| l.permits(required))
    }

    /// Whether this is the anonymous default user.
    pub fn is_anonymous(&self) -> bool {
        !self.open && self.username.is_none()
    }

    /// The `user` object of `GET /settings`.
    pub fn to_json(&self) -> Json {
        let mut m = Map::new();
        match &self.username {
            Some(u) => {
                m.insert("username".into(), json!(u));
            }
            None => {
                m.insert("anonymous".into(), json!(true));
            }
        }
        let effective = match &self.limit {
            Some(l) if *l != self.scope && self.scope == Scope::all() => l.clone(),
            _ => self.scope.clone(),
        };
        m.insert("permissions".into(), effective.to_json());
        Json::Object(m)
    }
}

/// Why a request has no principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No token and no default user: 401.
    NoToken,
    /// A token was presented but is not valid (unknown, expired, revoked,
    /// its user gone): 401 `invalid_token`.
    InvalidToken,
    /// Too many invalid tokens from this address: 429.
    Throttled(Duration),
    /// A hook failed: 500 (the message is safe to log).
    Hook(String),
}

/// `POST /auth/token` with `grant_type=password`.
#[derive(Clone, Default)]
pub struct PasswordGrant {
    /// `client_id`.
    pub client_id: Option<String>,
    /// `client_secret`; when present it must be `not_available`.
    pub client_secret: Option<String>,
    /// `grant_type`.
    pub grant_type: Option<String>,
    /// `username`.
    pub username: Option<String>,
    /// `password`.
    pub password: Option<String>,
    /// `scope`: `""` or absent means the user's own permissions.
    pub scope: Option<String>,
}

impl std::fmt::Debug for PasswordGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordGrant")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// A successful login.
#[derive(Clone, PartialEq, Eq)]
pub struct Grant {
    /// The bearer token.
    pub access_token: String,
    /// Seconds until it expires (`None` for an external token).
    pub expires_in: Option<u64>,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// A refused login, mapped to Node-RED's replies by the admin API.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// No adminAuth of type credentials: no password login here.
    #[error("password login is not enabled")]
    NotEnabled,
    /// Unknown `client_id` or a wrong `client_secret`: 401.
    #[error("invalid client")]
    InvalidClient,
    /// `grant_type` other than `password`: 501.
    #[error("Unsupported grant type: {0}")]
    UnsupportedGrant(String),
    /// A field is missing: 400.
    #[error("Missing required parameter: {0}")]
    MissingField(&'static str),
    /// Wrong password, unknown user or a scope the user lacks: 403.
    #[error("Invalid resource owner credentials")]
    InvalidGrant,
    /// Throttled: 429 with `Retry-After`.
    #[error("Too many login attempts. Wait {} seconds and try again", .0.as_secs().max(1))]
    Throttled(Duration),
    /// A hook or the session store failed: 500.
    #[error("login failed: {0}")]
    Server(String),
}

/// The adminAuth authority. `None` config: no adminAuth, everything open
/// (the caller keeps such a runtime to loopback).
pub struct Authority {
    config: Option<AdminAuthConfig>,
    hooks: Option<Arc<dyn Hooks>>,
    sessions: Sessions,
    throttle: Throttle,
    decoy: DecoyHash,
    audit: Arc<AuditLog>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("enabled", &self.config.is_some())
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

impl Authority {
    /// An authority for `config` (`None` = no adminAuth).
    pub fn new(
        config: Option<AdminAuthConfig>,
        hooks: Option<Arc<dyn Hooks>>,
        sessions: Sessions,
        audit: Arc<AuditLog>,
    ) -> Authority {
        let cost = config
            .as_ref()
            .map_or(crate::password::DEFAULT_COST, AdminAuthConfig::typical_cost);
        Authority {
            decoy: DecoyHash::new(if config.is_some() { cost } else { 4 }),
            config,
            hooks,
            sessions,
            throttle: Throttle::new(),
            audit,
        }
    }

    /// Whether adminAuth is configured.
    pub fn enabled(&self) -> bool {
        self.config.is_some()
    }

    /// The sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Gives up the session store (to rebuild the authority around it).
    pub fn into_sessions(self) -> Sessions {
        self.sessions
    }

    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// The header that may carry a raw token (`tokenHeader`).
    pub fn token_header(&self) -> Option<&str> {
        self.config.as_ref()?.token_header.as_deref()
    }

    /// The body of `GET /auth/login`.
    pub fn login_scheme(&self) -> Json {
        match &self.config {
            Some(c) if c.credentials => json!({
                "type": "credentials",
                "prompts": [
                    {"id": "username", "type": "text", "label": "user.username"},
                    {"id": "password", "type": "password", "label": "user.password"}
                ]
            }),
            _ => json!({}),
        }
    }

    fn hook(&self) -> Result<&Arc<dyn Hooks>, String> {
        self.hooks
            .as_ref()
            .ok_or_else(|| "settings.js functions are not available".to_string())
    }

    /// Finds a user by name (static list or `users` function).
    async fn lookup(&self, username: &str) -> Result<Option<User>, String> {
        let Some(c) = &self.config else {
            return Ok(None);
        };
        match &c.users {
            Source::None => Ok(None),
            Source::Static(list) => Ok(list.iter().find(|u| u.username == username).cloned()),
            Source::Hook => {
                let v = self
                    .hook()?
                    .call("adminAuth.users", vec![json!(username)])
                    .await?;
                user_from_hook(&v, "adminAuth.users")
            }
        }
    }

    /// Checks a username and password; `Ok(None)` means wrong.
    async fn check_password(&self, username: &str, password: &str) -> Result<Option<User>, String> {
        let Some(c) = &self.config else {
            return Ok(None);
        };
        if c.authenticate_hook {
            let v = self
                .hook()?
                .call(
                    "adminAuth.authenticate",
                    vec![json!(username), json!(password)],
                )
                .await?;
            return user_from_hook(&v, "adminAuth.authenticate");
        }
        match self.lookup(username).await? {
            Some(u) => match &u.password_hash {
                Some(h) => {
                    let ok =
                        verify_blocking(password.to_string(), h.clone(), HashForms::Bcrypt).await;
                    Ok(ok.then_some(u))
                }
                None => {
                    self.decoy.burn(password.to_string()).await;
                    Ok(None)
                }
            },
            None => {
                self.decoy.burn(password.to_string()).await;
                Ok(None)
            }
        }
    }

    /// `POST /auth/token`, password grant.
    pub async fn password_grant(
        &self,
        g: PasswordGrant,
        ip: Option<IpAddr>,
    ) -> Result<Grant, GrantError> {
        let Some(c) = &self.config else {
            return Err(GrantError::NotEnabled);
        };
        if !c.credentials {
            return Err(GrantError::NotEnabled);
        }
        let client = g.client_id.clone().unwrap_or_default();
        if !CLIENT_IDS.contains(&client.as_str())
            || g.client_secret
                .as_deref()
                .is_some_and(|s| s != "not_available")
        {
            self.record(
                "auth.invalid-client",
                None,
                ip,
                Some("/auth/token"),
                Map::new(),
            );
            return Err(GrantError::InvalidClient);
        }
        match g.grant_type.as_deref() {
            Some("password") => {}
            other => {
                return Err(GrantError::UnsupportedGrant(
                    other.unwrap_or("").to_string(),
                ));
            }
        }
        let username = g
            .username
            .clone()
            .filter(|u| !u.is_empty())
            .ok_or(GrantError::MissingField("username"))?;
        let password = g
            .password
            .clone()
            .ok_or(GrantError::MissingField("password"))?;
        let now = Instant::now();
        if let Err(wait) = self.throttle.check(&username, ip, now) {
            self.record(
                "auth.login.fail.too-many-attempts",
                Some(&username),
                ip,
                Some("/auth/token"),
                Map::new(),
            );
            return Err(GrantError::Throttled(wait));
        }
        let user = self
            .check_password(&username, &password)
            .await
            .map_err(GrantError::Server)?;
        let Some(user) = user else {
            self.throttle.failure(&username, ip, now);
            self.record(
                "auth.login.fail.credentials",
                Some(&username),
                ip,
                Some("/auth/token"),
                Map::new(),
            );
            return Err(GrantError::InvalidGrant);
        };
        let requested = g.scope.as_deref().unwrap_or("").trim();
        let scope = if requested.is_empty() {
            user.permissions.clone()
        } else {
            let wanted = Scope::parse_request(requested);
            if !user.permissions.grants(&wanted) {
                self.throttle.failure(&username, ip, now);
                let mut extra = Map::new();
                extra.insert("scope".into(), json!(requested));
                self.record(
                    "auth.login.fail.permissions",
                    Some(&username),
                    ip,
                    Some("/auth/token"),
                    extra,
                );
                return Err(GrantError::InvalidGrant);
            }
            wanted
        };
        self.throttle.success(&username, ip);
        let mut extra = Map::new();
        extra.insert("client".into(), json!(client));
        extra.insert("scope".into(), scope.to_json());
        if let Some(t) = user.token.clone() {
            self.record(
                "auth.login",
                Some(&user.username),
                ip,
                Some("/auth/token"),
                extra,
            );
            return Ok(Grant {
                access_token: t,
                expires_in: None,
            });
        }
        let (token, _) = self
            .sessions
            .create(&user.username, &client, scope, c.session_expiry)
            .map_err(|e: SessionsError| GrantError::Server(e.to_string()))?;
        self.record(
            "auth.login",
            Some(&user.username),
            ip,
            Some("/auth/token"),
            extra,
        );
        Ok(Grant {
            access_token: token,
            expires_in: Some(c.session_expiry.as_secs()),
        })
    }

    /// Resolves the caller of a request. `token` is what the
    /// `Authorization: Bearer` header (or `tokenHeader`) carried.
    pub async fn resolve(
        &self,
        token: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<Principal, Rejection> {
        let Some(c) = &self.config else {
            return Ok(Principal::open());
        };
        let Some(token) = token else {
            return self.default_user().await;
        };
        let now = Instant::now();
        if let Some(s) = self.sessions.lookup(token) {
            let h = TokenHash::of(token);
            return match self.lookup(&s.username).await.map_err(Rejection::Hook)? {
                Some(u) => Ok(Principal {
                    username: Some(u.username),
                    scope: s.scope,
                    limit: Some(u.permissions),
                    session: Some(h),
                    expires_ms: Some(s.expires_ms),
                    open: false,
                }),
                None => {
                    // The user is gone: every session of theirs ends.
                    if let Err(e) = self
                        .sessions
                        .revoke_user(&s.username, EndReason::UserRemoved)
                    {
                        tracing::error!("{e}");
                    }
                    self.invalid(ip, now)
                }
            };
        }
        // Session tokens are 256 random bits: guessing them is hopeless, so
        // they are never throttled. API tokens may be weaker, so guessing
        // them is slowed per address.
        if c.tokens != Source::None
            && let Err(wait) = self.throttle.check_address(ip, now)
        {
            return Err(Rejection::Throttled(wait));
        }
        if let Source::Static(list) = &c.tokens {
            let hit = list
                .iter()
                .find(|t| bool::from(t.token.as_bytes().ct_eq(token.as_bytes())));
            if let Some(t) = hit {
                return match self.lookup(&t.user).await.map_err(Rejection::Hook)? {
                    Some(u) => Ok(Principal {
                        username: Some(u.username),
                        scope: t.scope.clone(),
                        limit: Some(u.permissions),
                        session: None,
                        expires_ms: None,
                        open: false,
                    }),
                    None => self.invalid(ip, now),
                };
            }
        }
        if c.tokens == Source::Hook {
            let v = self
                .hook()
                .map_err(Rejection::Hook)?
                .call("adminAuth.tokens", vec![json!(token)])
                .await
                .map_err(Rejection::Hook)?;
            if let Some(u) = user_from_hook(&v, "adminAuth.tokens").map_err(Rejection::Hook)? {
                return Ok(Principal {
                    username: Some(u.username),
                    scope: u.permissions,
                    limit: None,
                    session: None,
                    expires_ms: None,
                    open: false,
                });
            }
        }
        self.invalid(ip, now)
    }

    /// Ends the sessions of users who no longer resolve (removed from
    /// settings.js before a restart, or no longer returned by a `users`
    /// function); returns how many sessions ended. A hook failure ends
    /// nothing.
    pub async fn sweep_users(&self) -> usize {
        let mut ended = 0;
        for name in self.sessions.usernames() {
            match self.lookup(&name).await {
                Ok(Some(_)) => {}
                Ok(None) => match self.sessions.revoke_user(&name, EndReason::UserRemoved) {
                    Ok(n) => {
                        ended += n;
                        let mut extra = Map::new();
                        extra.insert("sessions".into(), json!(n));
                        self.record("auth.user.removed", Some(&name), None, None, extra);
                    }
                    Err(e) => tracing::error!("{e}"),
                },
                Err(e) => tracing::warn!("adminAuth: {e}"),
            }
        }
        ended
    }

    fn invalid(&self, ip: Option<IpAddr>, now: Instant) -> Result<Principal, Rejection> {
        self.throttle.address_failure(ip, now);
        self.record("auth.invalid-token", None, ip, None, Map::new());
        Err(Rejection::InvalidToken)
    }

    async fn default_user(&self) -> Result<Principal, Rejection> {
        let Some(c) = &self.config else {
            return Ok(Principal::open());
        };
        let scope = match &c.default {
            Source::None => return Err(Rejection::NoToken),
            Source::Static(s) => s.clone(),
            Source::Hook => {
                let v = self
                    .hook()
                    .map_err(Rejection::Hook)?
                    .call("adminAuth.default", vec![])
                    .await
                    .map_err(Rejection::Hook)?;
                match v.get("permissions") {
                    Some(p) => Scope::from_json(p),
                    None => return Err(Rejection::NoToken),
                }
            }
        };
        Ok(Principal {
            username: None,
            scope,
            limit: None,
            session: None,
            expires_ms: None,
            open: false,
        })
    }

    /// `POST /auth/revoke`: ends the session of `token`. A caller may end
    /// only their own sessions unless they hold `*`; anything else is
    /// answered as success without effect, so a token cannot be probed.
    pub fn revoke(
        &self,
        caller: &Principal,
        token: &str,
        ip: Option<IpAddr>,
    ) -> Result<bool, SessionsError> {
        let Some(s) = self.sessions.lookup(token) else {
            return Ok(false);
        };
        let own = caller.username.as_deref() == Some(s.username.as_str());
        if !(own || caller.open || caller.permits("*")) {
            let mut extra = Map::new();
            extra.insert("target".into(), json!(s.username));
            self.record(
                "auth.login.revoke.denied",
                caller.username.as_deref(),
                ip,
                Some("/auth/revoke"),
                extra,
            );
            return Ok(false);
        }
        let done = self.sessions.revoke(token)?.is_some();
        let mut extra = Map::new();
        extra.insert("target".into(), json!(s.username));
        self.record(
            "auth.login.revoke",
            caller.username.as_deref(),
            ip,
            Some("/auth/revoke"),
            extra,
        );
        Ok(done)
    }

    /// Writes one audit event.
    pub fn record(
        &self,
        event: &str,
        user: Option<&str>,
        ip: Option<IpAddr>,
        path: Option<&str>,
        extra: Map<String, Json>,
    ) {
        self.audit.record(AuditEvent {
            event,
            user,
            ip,
            path,
            extra,
        });
    }
}

fn user_from_hook(v: &Json, key: &str) -> Result<Option<User>, String> {
    match v {
        Json::Null | Json::Bool(false) => Ok(None),
        other => User::from_json(other, "").map(Some).map_err(|e| {
            format!(
                "{key} returned an invalid user: {}",
                e.to_string().trim_start_matches("setting `adminAuth` ")
            )
        }),
    }
}

#[cfg(test)]
mod tests;
