//! HTTP digest authentication (RFC 2617 / 7616) as the node computes it:
//! MD5, SHA-256 and the node's "SHA-512-256" (the first 256 bits of the
//! SHA-512 hex digest), each with an optional `-sess` suffix and `qop=auth`.

use sha2::{Digest, Sha256, Sha512};
use std::sync::LazyLock;

static CHALLENGE: LazyLock<Option<regress::Regex>> = LazyLock::new(|| {
    regress::Regex::with_flags(r#"([a-z0-9_-]+)=(?:"([^"]+)"|([a-z0-9_-]+))"#, "gi").ok()
});

/// The `Authorization` value answering `challenge` (a `WWW-Authenticate`
/// header) for `method` on `uri` (path and query).
pub(super) fn authorization(
    user: &str,
    pass: &str,
    method: &str,
    uri: &str,
    challenge: &str,
) -> Result<String, String> {
    let fields = parse_challenge(challenge);
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let nonce = get("nonce").ok_or("Invalid digest challenge: missing nonce")?;
    let realm = get("realm").ok_or("Invalid digest challenge: missing realm")?;
    let algorithm = get("algorithm");
    let qop = get("qop").is_some_and(|q| q.split(',').any(|p| p.trim() == "auth"));
    let cnonce = if qop {
        format!(
            "{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        )
    } else {
        String::new()
    };
    let nc = if qop { "00000001" } else { "" };
    let mut ha1 = compute(algorithm, &format!("{user}:{realm}:{pass}"));
    if algorithm.is_some_and(|a| a.to_ascii_lowercase().ends_with("-sess")) {
        ha1 = compute(algorithm, &format!("{ha1}:{nonce}:{cnonce}"));
    }
    let ha2 = compute(algorithm, &format!("{method}:{uri}"));
    let response = if qop {
        compute(
            algorithm,
            &format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"),
        )
    } else {
        compute(algorithm, &format!("{ha1}:{nonce}:{ha2}"))
    };
    let values: [(&str, Option<&str>); 10] = [
        ("username", Some(user)),
        ("realm", Some(realm)),
        ("nonce", Some(nonce)),
        ("uri", Some(uri)),
        ("qop", qop.then_some("auth")),
        ("response", Some(response.as_str())),
        ("nc", Some(nc)),
        ("cnonce", Some(cnonce.as_str())),
        ("algorithm", algorithm),
        ("opaque", get("opaque")),
    ];
    let parts: Vec<String> = values
        .iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
        .map(|(k, v)| {
            if matches!(*k, "qop" | "nc" | "algorithm") {
                format!("{k}={v}")
            } else {
                format!("{k}=\"{v}\"")
            }
        })
        .collect();
    Ok(format!("Digest {}", parts.join(", ")))
}

fn parse_challenge(text: &str) -> Vec<(String, String)> {
    let Some(re) = CHALLENGE.as_ref() else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for m in re.find_iter(text) {
        let Some(k) = m.group(1) else { continue };
        let v = m
            .group(2)
            .or(m.group(3))
            .map(|r| text[r].to_string())
            .unwrap_or_default();
        let k = text[k].to_string();
        match out.iter_mut().find(|(n, _)| *n == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

pub(super) fn compute(algorithm: Option<&str>, value: &str) -> String {
    let alg = algorithm
        .map(|a| a.to_ascii_lowercase())
        .unwrap_or_default();
    match alg.strip_suffix("-sess").unwrap_or(&alg) {
        "sha-256" => hex(&Sha256::digest(value.as_bytes())),
        "sha-512-256" => hex(&Sha512::digest(value.as_bytes()))[..64].to_string(),
        _ => hex(&md5(value.as_bytes())),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// MD5 (RFC 1321), needed only here.
fn md5(input: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i: i32| ((f64::from(i + 1)).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut msg = input.to_vec();
    let bit_len = (input.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_le_bytes());
    let mut st: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for chunk in msg.chunks_exact(64) {
        let m: Vec<u32> = chunk
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = st;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(k[i])
                .wrapping_add(m[g])
                .rotate_left(S[i]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(rotated);
        }
        st = [
            st[0].wrapping_add(a),
            st[1].wrapping_add(b),
            st[2].wrapping_add(c),
            st[3].wrapping_add(d),
        ];
    }
    let mut out = [0u8; 16];
    for (i, w) in st.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_rfc_1321_vectors() {
        assert_eq!(hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            hex(&md5(b"The quick brown fox jumps over the lazy dog")),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
        let digits = "1234567890".repeat(8);
        assert_eq!(
            hex(&md5(digits.as_bytes())),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn rfc_2617_example_without_qop_matches() {
        // RFC 2617 3.5 parameters, computed without qop.
        let h = authorization("Mufasa", "Circle Of Life", "GET", "/dir/index.html", r#"Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#)
            .expect("header");
        let ha1 = hex(&md5(b"Mufasa:testrealm@host.com:Circle Of Life"));
        let ha2 = hex(&md5(b"GET:/dir/index.html"));
        let resp = hex(&md5(format!(
            "{ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:{ha2}"
        )
        .as_bytes()));
        assert!(
            h.starts_with("Digest username=\"Mufasa\", realm=\"testrealm@host.com\""),
            "{h}"
        );
        assert!(h.contains(&format!("response=\"{resp}\"")), "{h}");
        assert!(
            h.ends_with("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""),
            "{h}"
        );
        assert!(authorization("u", "p", "GET", "/", "Digest realm=\"r\"").is_err());
    }
}
