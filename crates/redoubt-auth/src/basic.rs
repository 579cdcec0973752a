//! HTTP Basic auth for `httpNodeAuth` and `httpStaticAuth`: one user, a
//! bcrypt or legacy MD5 hash, throttled like logins. The SHA-256 of the
//! last password that verified is cached, so a busy endpoint does not run
//! bcrypt on every request; the comparison is constant-time.

use crate::password::{HashForms, verify_blocking};
use crate::throttle::Throttle;
use base64::Engine as _;
use http::HeaderMap;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The `WWW-Authenticate` value Node-RED sends.
pub const CHALLENGE: &str = "Basic realm=\"Authorization Required\"";

/// What a request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BasicOutcome {
    /// Let it through.
    Allowed,
    /// 401 with [`CHALLENGE`].
    Unauthorized,
    /// 429 with `Retry-After`.
    Throttled(Duration),
}

/// One Basic-auth realm.
pub struct BasicAuth {
    user: String,
    hash: String,
    cache: Mutex<Option<[u8; 32]>>,
    throttle: Throttle,
    /// Which setting it came from, for the audit log.
    pub setting: &'static str,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("setting", &self.setting)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl BasicAuth {
    /// A realm for `{user, pass}` from `setting`.
    pub fn new(setting: &'static str, user: &str, pass_hash: &str) -> BasicAuth {
        BasicAuth {
            user: user.to_string(),
            hash: pass_hash.to_string(),
            cache: Mutex::new(None),
            throttle: Throttle::new(),
            setting,
        }
    }

    /// Checks a request's `Authorization` header.
    pub async fn check(&self, headers: &HeaderMap, ip: Option<IpAddr>) -> BasicOutcome {
        let Some((user, pass)) = credentials(headers) else {
            return BasicOutcome::Unauthorized;
        };
        let now = Instant::now();
        if let Err(wait) = self.throttle.check(&user, ip, now) {
            return BasicOutcome::Throttled(wait);
        }
        let digest: [u8; 32] = Sha256::digest(pass.as_bytes()).into();
        let user_ok: bool = user.as_bytes().ct_eq(self.user.as_bytes()).into();
        let cached = self
            .cache
            .lock()
            .is_some_and(|c| bool::from(c.ct_eq(&digest)));
        let pass_ok =
            cached || verify_blocking(pass, self.hash.clone(), HashForms::BcryptOrLegacyMd5).await;
        if user_ok && pass_ok {
            *self.cache.lock() = Some(digest);
            self.throttle.success(&user, ip);
            BasicOutcome::Allowed
        } else {
            self.throttle.failure(&user, ip, now);
            BasicOutcome::Unauthorized
        }
    }
}

/// The user and password of an `Authorization: Basic` header.
fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with_auth(user: &str, pass: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        h.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {v}")).expect("header"),
        );
        h
    }

    #[tokio::test]
    async fn bcrypt_and_legacy_md5_realms() {
        let hash = crate::password::hash("pw").expect("hash");
        let b = BasicAuth::new("httpNodeAuth", "user", &hash);
        assert_eq!(
            b.check(&with_auth("user", "pw"), None).await,
            BasicOutcome::Allowed
        );
        // cached path
        assert_eq!(
            b.check(&with_auth("user", "pw"), None).await,
            BasicOutcome::Allowed
        );
        assert_eq!(
            b.check(&with_auth("user", "no"), None).await,
            BasicOutcome::Unauthorized
        );
        assert_eq!(
            b.check(&with_auth("other", "pw"), None).await,
            BasicOutcome::Unauthorized
        );
        assert_eq!(
            b.check(&HeaderMap::new(), None).await,
            BasicOutcome::Unauthorized
        );
        let md5 = BasicAuth::new("httpStaticAuth", "u", "5f4dcc3b5aa765d61d8327deb882cf99");
        assert_eq!(
            md5.check(&with_auth("u", "password"), None).await,
            BasicOutcome::Allowed
        );
    }

    #[tokio::test]
    async fn guessing_is_throttled() {
        let b = BasicAuth::new("httpNodeAuth", "user", "5f4dcc3b5aa765d61d8327deb882cf99");
        let ip = "10.1.1.1".parse().ok();
        let mut throttled = false;
        for _ in 0..8 {
            if let BasicOutcome::Throttled(_) = b.check(&with_auth("user", "guess"), ip).await {
                throttled = true;
            }
        }
        assert!(throttled);
        // Even the right password waits while throttled.
        assert!(matches!(
            b.check(&with_auth("user", "password"), ip).await,
            BasicOutcome::Throttled(_)
        ));
    }
}
