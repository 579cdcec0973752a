//! Node-RED's credential encryption: AES-256-CTR (128-bit big-endian
//! counter, as OpenSSL), key = SHA-256 of the secret string, a fresh random
//! 16-byte IV per save, stored as `hex(iv) + base64(ciphertext)`. There is
//! no MAC: a wrong key shows only as plaintext that is not a JSON object.

use aes::cipher::{KeyIvInit, StreamCipher};
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use sha2::{Digest, Sha256};

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

/// Standard alphabet; padding optional on input (Node's decoder is lenient).
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A 32-byte AES key derived from a credential secret.
#[derive(Clone, PartialEq, Eq)]
pub struct CredentialKey([u8; 32]);

impl CredentialKey {
    /// `sha256(secret)`, as Node-RED derives its key.
    pub fn from_secret(secret: &str) -> CredentialKey {
        CredentialKey(Sha256::digest(secret.as_bytes()).into())
    }
}

impl std::fmt::Debug for CredentialKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialKey(<redacted>)")
    }
}

/// Encrypts `plaintext` into the `$` string of a credentials file.
pub(crate) fn encrypt(key: &CredentialKey, plaintext: &str) -> Result<String, getrandom::Error> {
    let mut iv = [0u8; 16];
    getrandom::fill(&mut iv)?;
    Ok(encrypt_with_iv(key, &iv, plaintext))
}

fn encrypt_with_iv(key: &CredentialKey, iv: &[u8; 16], plaintext: &str) -> String {
    let mut buf = plaintext.as_bytes().to_vec();
    Aes256Ctr::new(&key.0.into(), &(*iv).into()).apply_keystream(&mut buf);
    format!("{}{}", hex::encode(iv), B64.encode(&buf))
}

/// Decrypts the `$` string of a credentials file to its UTF-8 plaintext;
/// `None` if it is malformed (which a wrong key cannot be told apart from
/// only later, when the text fails to parse).
pub(crate) fn decrypt(key: &CredentialKey, payload: &str) -> Option<String> {
    let iv_hex = payload.get(..32)?;
    let body = payload.get(32..)?;
    let iv: [u8; 16] = hex::decode(iv_hex).ok()?.try_into().ok()?;
    let mut buf = B64.decode(body.trim()).ok()?;
    Aes256Ctr::new(&key.0.into(), &iv.into()).apply_keystream(&mut buf);
    String::from_utf8(buf).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_utf8() {
        let key = CredentialKey::from_secret("s3cret");
        let text = r#"{"n1":{"password":"pä😀"}}"#;
        let enc = encrypt(&key, text).expect("random");
        assert_eq!(decrypt(&key, &enc).as_deref(), Some(text));
    }

    #[test]
    fn known_vector_matches_node_crypto() {
        // node -e 'const c=require("crypto");const k=c.createHash("sha256").update("k").digest();
        //  const ci=c.createCipheriv("aes-256-ctr",k,Buffer.alloc(16,1));
        //  console.log(ci.update("hello","utf8","base64")+ci.final("base64"))'
        let key = CredentialKey::from_secret("k");
        let out = encrypt_with_iv(&key, &[1u8; 16], "hello");
        assert_eq!(out, format!("{}0y/JwtU=", "01".repeat(16)));
    }

    #[test]
    fn malformed_payloads_are_rejected() {
        let key = CredentialKey::from_secret("k");
        assert_eq!(decrypt(&key, "short"), None);
        assert_eq!(decrypt(&key, &format!("{}!!!", "zz".repeat(16))), None);
    }
}
