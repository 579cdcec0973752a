//! Login sessions: bearer tokens issued by `/auth/token`.
//!
//! Only the SHA-256 of a token is kept, in memory and in the sessions file
//! (`.sessions.redoubt.json`, mode 0600, written atomically), so a leaked
//! file grants nothing. Node-RED stores the tokens themselves, twice, in a
//! world-readable `.sessions.json`. Lifetimes are absolute
//! (`sessionExpiryTime`), as in Node-RED.
//!
//! Every end of a session (revoke, expiry, the user's removal) is announced
//! on [`Sessions::ended`], so open websockets authenticated with it close.

use crate::scope::Scope;
use base64::Engine as _;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// The file name of the sessions store in the user directory.
pub const SESSIONS_FILE: &str = ".sessions.redoubt.json";

/// The SHA-256 of a token: how sessions are known.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Hashes a presented token.
    pub fn of(token: &str) -> TokenHash {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }

    fn hex(&self) -> String {
        hex::encode(self.0)
    }

    fn from_hex(s: &str) -> Option<TokenHash> {
        let v = hex::decode(s).ok()?;
        Some(TokenHash(v.try_into().ok()?))
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A prefix is enough to tell sessions apart in debugging.
        write!(f, "TokenHash({}…)", &self.hex()[..8])
    }
}

/// One session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who logged in.
    pub username: String,
    /// `node-red-editor` or `node-red-admin`.
    pub client: String,
    /// What the token may do (fixed at issue, narrowed by the user's
    /// current permissions on every request).
    pub scope: Scope,
    /// Milliseconds since the epoch when it ends.
    pub expires_ms: u64,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// `POST /auth/revoke`.
    Revoked,
    /// Its lifetime passed.
    Expired,
    /// Its user was removed or lost access.
    UserRemoved,
}

/// A session ended.
#[derive(Debug, Clone)]
pub struct Ended {
    /// Which session.
    pub token: TokenHash,
    /// Its user.
    pub username: String,
    /// Why.
    pub reason: EndReason,
}

/// Reading or writing the sessions file failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    /// The file could not be read or written.
    #[error("sessions file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a sessions file.
    #[error("sessions file {path} is not valid: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The sessions file could not be written (the error names it).
    #[error(transparent)]
    Write(redoubt_storage::StorageError),
    /// No random bytes for a token.
    #[error("cannot generate a token: {0}")]
    Random(String),
}

#[derive(Serialize, Deserialize)]
struct Stored {
    user: String,
    client: String,
    scope: serde_json::Value,
    expires: u64,
}

/// The session store.
pub struct Sessions {
    path: Option<PathBuf>,
    map: RwLock<HashMap<TokenHash, Session>>,
    ended: broadcast::Sender<Ended>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("path", &self.path)
            .field("count", &self.map.read().len())
            .finish()
    }
}

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Sessions {
    /// An in-memory store (tests, `readOnly`).
    pub fn in_memory() -> Sessions {
        Sessions {
            path: None,
            map: RwLock::new(HashMap::new()),
            ended: broadcast::channel(256).0,
        }
    }

    /// Loads the store persisted in `dir` (none yet is fine); expired
    /// sessions are dropped.
    pub fn open(dir: &Path) -> Result<Sessions, SessionsError> {
        let path = dir.join(SESSIONS_FILE);
        let mut map = HashMap::new();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let stored: HashMap<String, Stored> =
                    serde_json::from_slice(&bytes).map_err(|e| SessionsError::Invalid {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                let now = now_ms();
                for (k, s) in stored {
                    let Some(h) = TokenHash::from_hex(&k) else {
                        continue;
                    };
                    if s.expires > now {
                        map.insert(
                            h,
                            Session {
                                username: s.user,
                                client: s.client,
                                scope: Scope::from_json(&s.scope),
                                expires_ms: s.expires,
                            },
                        );
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(SessionsError::Io { path, source }),
        }
        Ok(Sessions {
            path: Some(path),
            map: RwLock::new(map),
            ended: broadcast::channel(256).0,
        })
    }

    /// Issues a token for `username`; returns it (the only time it exists
    /// in clear) and its session.
    pub fn create(
        &self,
        username: &str,
        client: &str,
        scope: Scope,
        lifetime: Duration,
    ) -> Result<(String, Session), SessionsError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| SessionsError::Random(e.to_string()))?;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let session = Session {
            username: username.to_string(),
            client: client.to_string(),
            scope,
            expires_ms: now_ms().saturating_add(lifetime.as_millis() as u64),
        };
        self.map
            .write()
            .insert(TokenHash::of(&token), session.clone());
        self.save()?;
        Ok((token, session))
    }

    /// The live session for a presented token.
    pub fn lookup(&self, token: &str) -> Option<Session> {
        let h = TokenHash::of(token);
        let s = self.map.read().get(&h).cloned()?;
        if s.expires_ms <= now_ms() {
            self.expire();
            return None;
        }
        Some(s)
    }

    /// Whether the session `h` is still live.
    pub fn is_live(&self, h: &TokenHash) -> bool {
        self.map
            .read()
            .get(h)
            .is_some_and(|s| s.expires_ms > now_ms())
    }

    /// Ends the session of `token`; returns it if there was one.
    pub fn revoke(&self, token: &str) -> Result<Option<Session>, SessionsError> {
        let h = TokenHash::of(token);
        let removed = self.map.write().remove(&h);
        if let Some(s) = &removed {
            self.save()?;
            self.announce(h, s, EndReason::Revoked);
        }
        Ok(removed)
    }

    /// Ends every session of `username`; returns how many.
    pub fn revoke_user(&self, username: &str, reason: EndReason) -> Result<usize, SessionsError> {
        let gone = self.remove_where(|s| s.username == username);
        if !gone.is_empty() {
            self.save()?;
        }
        for (h, s) in &gone {
            self.announce(*h, s, reason);
        }
        Ok(gone.len())
    }

    /// Drops expired sessions and announces them; returns the next expiry.
    pub fn expire(&self) -> Option<u64> {
        let now = now_ms();
        let gone = self.remove_where(|s| s.expires_ms <= now);
        if !gone.is_empty() {
            if let Err(e) = self.save() {
                tracing::error!("{e}");
            }
            for (h, s) in &gone {
                self.announce(*h, s, EndReason::Expired);
            }
        }
        self.map.read().values().map(|s| s.expires_ms).min()
    }

    /// Sessions ending from now on.
    pub fn ended(&self) -> broadcast::Receiver<Ended> {
        self.ended.subscribe()
    }

    /// The users who hold sessions.
    pub fn usernames(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .map
            .read()
            .values()
            .map(|s| s.username.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// How many sessions are live.
    pub fn len(&self) -> usize {
        self.map.read().len()
    }

    /// Whether no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes and returns the sessions matching `pred`.
    fn remove_where(&self, pred: impl Fn(&Session) -> bool) -> Vec<(TokenHash, Session)> {
        let mut map = self.map.write();
        let keys: Vec<TokenHash> = map
            .iter()
            .filter(|(_, s)| pred(s))
            .map(|(k, _)| *k)
            .collect();
        keys.into_iter()
            .filter_map(|k| map.remove(&k).map(|s| (k, s)))
            .collect()
    }

    fn announce(&self, token: TokenHash, s: &Session, reason: EndReason) {
        let _ = self.ended.send(Ended {
            token,
            username: s.username.clone(),
            reason,
        });
    }

    fn save(&self) -> Result<(), SessionsError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let stored: HashMap<String, Stored> = self
            .map
            .read()
            .iter()
            .map(|(k, s)| {
                (
                    k.hex(),
                    Stored {
                        user: s.username.clone(),
                        client: s.client.clone(),
                        scope: s.scope.to_json(),
                        expires: s.expires_ms,
                    },
                )
            })
            .collect();
        // Invariant: a map of strings and plain structs always serializes.
        let bytes = serde_json::to_vec_pretty(&stored).unwrap_or_default();
        redoubt_storage::write_file_atomic(path, &bytes, 0o600).map_err(SessionsError::Write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_hashed_in_a_private_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Sessions::open(dir.path()).expect("open");
        let (token, sess) = s
            .create(
                "admin",
                "node-red-editor",
                Scope::all(),
                Duration::from_secs(60),
            )
            .expect("create");
        assert!(token.len() >= 43);
        assert_eq!(s.lookup(&token).expect("live").username, "admin");
        assert_eq!(sess.scope, Scope::all());
        let text = std::fs::read_to_string(dir.path().join(SESSIONS_FILE)).expect("file");
        assert!(!text.contains(&token), "the token itself is never stored");
        assert!(text.contains(&TokenHash::of(&token).hex()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SESSIONS_FILE))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Sessions survive a restart.
        let again = Sessions::open(dir.path()).expect("reopen");
        assert_eq!(
            again.lookup(&token).expect("live").client,
            "node-red-editor"
        );
        assert!(again.lookup("not-a-token").is_none());
    }

    #[test]
    fn revoke_and_user_removal_end_sessions_and_announce_it() {
        let s = Sessions::in_memory();
        let mut ended = s.ended();
        let (a, _) = s
            .create(
                "alice",
                "node-red-editor",
                Scope::all(),
                Duration::from_secs(60),
            )
            .expect("a");
        let (b, _) = s
            .create(
                "bob",
                "node-red-editor",
                Scope::all(),
                Duration::from_secs(60),
            )
            .expect("b");
        let (b2, _) = s
            .create(
                "bob",
                "node-red-admin",
                Scope::all(),
                Duration::from_secs(60),
            )
            .expect("b2");
        assert!(s.revoke(&a).expect("revoke").is_some());
        assert!(s.lookup(&a).is_none());
        let e = ended.try_recv().expect("announced");
        assert_eq!(
            (e.username.as_str(), e.reason),
            ("alice", EndReason::Revoked)
        );
        assert_eq!(e.token, TokenHash::of(&a));
        assert!(s.revoke("unknown").expect("revoke").is_none());
        assert_eq!(
            s.revoke_user("bob", EndReason::UserRemoved).expect("user"),
            2
        );
        assert!(s.lookup(&b).is_none() && s.lookup(&b2).is_none());
        assert_eq!(ended.try_recv().expect("b").reason, EndReason::UserRemoved);
    }

    #[test]
    fn expired_sessions_are_refused_and_announced() {
        let s = Sessions::in_memory();
        let mut ended = s.ended();
        let (t, _) = s
            .create("admin", "node-red-admin", Scope::all(), Duration::ZERO)
            .expect("create");
        assert!(s.lookup(&t).is_none());
        assert_eq!(
            ended.try_recv().expect("expired").reason,
            EndReason::Expired
        );
        assert!(s.is_empty());
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(SESSIONS_FILE), "{nope").expect("write");
        let e = Sessions::open(dir.path()).expect_err("invalid");
        assert!(e.to_string().contains(SESSIONS_FILE), "{e}");
    }
}
