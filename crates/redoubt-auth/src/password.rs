//! Password hashes: bcrypt (`$2a$`, `$2b$`, `$2y$`, any cost, as made by
//! Node-RED's `hash-pw`) and, for Basic auth only, Node-RED's legacy form:
//! exactly 32 hex characters holding the MD5 of the password.
//!
//! Verification is CPU-heavy by design; async callers run it with
//! [`verify_blocking`] so it never stalls the runtime.

use md5::{Digest as _, Md5};
use subtle::ConstantTimeEq;

/// The cost redoubt uses for new hashes (Node-RED's tools use 8).
pub const DEFAULT_COST: u32 = 10;

/// A bcrypt hash could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(String);

/// Which hash forms a check accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashForms {
    /// bcrypt only (adminAuth users).
    Bcrypt,
    /// bcrypt or Node-RED's legacy 32-hex-digit MD5 (httpNodeAuth,
    /// httpStaticAuth).
    BcryptOrLegacyMd5,
}

/// Whether `password` matches `hash`. A malformed hash never matches.
pub fn verify(password: &str, hash: &str, forms: HashForms) -> bool {
    if forms == HashForms::BcryptOrLegacyMd5 && is_legacy_md5(hash) {
        let digest = hex::encode(Md5::digest(password.as_bytes()));
        return digest
            .as_bytes()
            .ct_eq(hash.to_ascii_lowercase().as_bytes())
            .into();
    }
    bcrypt::verify(password, hash).unwrap_or(false)
}

/// [`verify`] on tokio's blocking pool.
pub async fn verify_blocking(password: String, hash: String, forms: HashForms) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, &hash, forms))
        .await
        .unwrap_or(false)
}

/// A new bcrypt hash (`$2b$`, [`DEFAULT_COST`]) that Node-RED accepts too.
pub fn hash(password: &str) -> Result<String, HashError> {
    bcrypt::hash(password, DEFAULT_COST).map_err(|e| HashError(e.to_string()))
}

/// The cost a bcrypt hash carries (`$2b$08$...` is 8).
pub fn bcrypt_cost(hash: &str) -> Option<u32> {
    let mut parts = hash.split('$');
    let _ = parts.next()?;
    let version = parts.next()?;
    if !matches!(version, "2a" | "2b" | "2y") {
        return None;
    }
    parts.next()?.parse().ok()
}

fn is_legacy_md5(hash: &str) -> bool {
    hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Spends the same bcrypt work as checking a real user's password, so a
/// login for an unknown user takes as long as one with a wrong password.
#[derive(Clone)]
pub struct DecoyHash(String);

/// Salt and digest of the decoy: a bcrypt hash of a random password nobody
/// kept (made once with `redoubt admin hash-pw`). Verifying against it costs
/// what its cost field says whatever the password, which is all a decoy is
/// for, so it needs no hashing when the process starts: hashing one there
/// cost a cold start 1 ms at cost 4 and about 60 ms at cost 10.
const DECOY_SALT_AND_DIGEST: &str = "IktCxpvPgGtM2YHwDFQnqOx80OHvkdaY8ssk2lnI2IoxjzfUD7y8a";

impl DecoyHash {
    /// A decoy at `cost` (use the cost of the configured users' hashes).
    pub fn new(cost: u32) -> DecoyHash {
        // bcrypt accepts costs 4..=31; the clamp keeps it there.
        let cost = cost.clamp(4, 31);
        DecoyHash(format!("$2b${cost:02}${DECOY_SALT_AND_DIGEST}"))
    }

    /// Runs one verification against the decoy; the answer is discarded.
    pub async fn burn(&self, password: String) {
        let _ = verify_blocking(password, self.0.clone(), HashForms::Bcrypt).await;
    }
}

impl std::fmt::Debug for DecoyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecoyHash")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash in Node-RED's settings template: the word "password".
    const NODE_RED_SAMPLE: &str = "$2a$08$zZWtXTja0fB1pzD4sHCMyOCMYz2Z6dNbM6tl8sJogENOMcxWV9DN.";

    /// The decoy must really be verified at its cost (a string bcrypt
    /// rejected would fail at once and give unknown users away by timing).
    #[test]
    fn the_decoy_is_a_valid_hash_at_the_cost_asked_for() {
        for cost in [4, 5, 8] {
            let d = DecoyHash::new(cost);
            assert_eq!(bcrypt_cost(&d.0), Some(cost));
            assert!(matches!(bcrypt::verify("guess", &d.0), Ok(false)));
        }
        assert_eq!(bcrypt_cost(&DecoyHash::new(1).0), Some(4));
        assert_eq!(bcrypt_cost(&DecoyHash::new(99).0), Some(31));
    }

    #[test]
    fn node_red_hashes_verify() {
        assert!(verify("password", NODE_RED_SAMPLE, HashForms::Bcrypt));
        assert!(!verify("Password", NODE_RED_SAMPLE, HashForms::Bcrypt));
        let y = NODE_RED_SAMPLE.replacen("$2a$", "$2y$", 1);
        assert!(verify("password", &y, HashForms::Bcrypt));
        assert_eq!(bcrypt_cost(NODE_RED_SAMPLE), Some(8));
    }

    #[test]
    fn new_hashes_are_bcrypt_2b_and_verify() {
        let h = hash("s3cret pass").expect("hash");
        assert!(h.starts_with("$2b$10$"));
        assert!(verify("s3cret pass", &h, HashForms::Bcrypt));
        assert!(!verify("s3cret", &h, HashForms::Bcrypt));
    }

    #[test]
    fn legacy_md5_only_where_allowed() {
        // md5("password")
        let md5 = "5f4dcc3b5aa765d61d8327deb882cf99";
        assert!(verify("password", md5, HashForms::BcryptOrLegacyMd5));
        assert!(verify(
            "password",
            &md5.to_uppercase(),
            HashForms::BcryptOrLegacyMd5
        ));
        assert!(!verify("wrong", md5, HashForms::BcryptOrLegacyMd5));
        assert!(!verify("password", md5, HashForms::Bcrypt));
        assert!(!verify("password", "garbage", HashForms::Bcrypt));
        assert!(!verify("password", "", HashForms::BcryptOrLegacyMd5));
    }
}
