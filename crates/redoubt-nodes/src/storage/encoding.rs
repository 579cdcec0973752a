//! Text encodings of the file nodes (iconv-lite's names as the editor
//! offers them). Node's own encodings are done here; the WHATWG set
//! (Japanese, Chinese, Korean, Windows, ISO, KOI8, Mac) comes from
//! `encoding_rs`. DOS/IBM code pages iconv-lite has and `encoding_rs`
//! lacks (cp437, cp850, …) are reported as unsupported.

use base64::Engine as _;

/// An encoding name the file nodes cannot handle.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
#[error("unsupported encoding {0:?}")]
pub(crate) struct Unsupported(pub String);

enum Codec {
    Utf8,
    Utf16Le,
    Utf16Be,
    Latin1,
    Ascii,
    Base64,
    Hex,
    Whatwg(&'static encoding_rs::Encoding),
}

/// iconv-lite's canonical form: lower case, letters and digits only.
fn canonical(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn codec(name: &str) -> Result<Codec, Unsupported> {
    let c = canonical(name);
    let label = match c.as_str() {
        "" | "none" | "utf8" | "unicode11utf8" => return Ok(Codec::Utf8),
        "ucs2" | "utf16le" | "utf16" => return Ok(Codec::Utf16Le),
        "utf16be" => return Ok(Codec::Utf16Be),
        "binary" | "latin1" | "iso88591" => return Ok(Codec::Latin1),
        "ascii" => return Ok(Codec::Ascii),
        "base64" => return Ok(Codec::Base64),
        "hex" => return Ok(Codec::Hex),
        "windows31j" | "windows932" | "shiftjis" | "sjis" => "shift_jis",
        "eucjp" => "euc-jp",
        "gb2312" | "gbk" | "windows936" | "euccn" | "cp936" => "gbk",
        "gb18030" => "gb18030",
        "ksc5601" | "windows949" | "euckr" | "cp949" => "euc-kr",
        "big5" | "big5hkscs" | "windows950" | "cp950" => "big5",
        "cp874" | "windows874" | "tis620" => "windows-874",
        "cp866" | "ibm866" => "ibm866",
        "macintosh" | "macroman" => "macintosh",
        "maccyrillic" | "macukraine" => "x-mac-cyrillic",
        "koi8r" => "koi8-r",
        "koi8u" | "koi8ru" => "koi8-u",
        other => {
            if let Some(n) = other.strip_prefix("cp").filter(|n| n.starts_with("125")) {
                return whatwg(&format!("windows-{n}"), name);
            }
            if let Some(n) = other.strip_prefix("iso8859") {
                return whatwg(&format!("iso-8859-{n}"), name);
            }
            other
        }
    };
    whatwg(label, name)
}

fn whatwg(label: &str, original: &str) -> Result<Codec, Unsupported> {
    encoding_rs::Encoding::for_label_no_replacement(label.as_bytes())
        .map(Codec::Whatwg)
        .ok_or_else(|| Unsupported(original.to_string()))
}

/// Checks a configured encoding at deploy time.
pub(crate) fn check(name: &str) -> Result<(), Unsupported> {
    codec(name).map(|_| ())
}

/// Encodes text as `iconv.encode(text, name)` does.
pub(crate) fn encode(text: &str, name: &str) -> Result<Vec<u8>, Unsupported> {
    Ok(match codec(name)? {
        Codec::Utf8 => text.as_bytes().to_vec(),
        Codec::Utf16Le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        Codec::Utf16Be => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        // Node keeps the low byte of each UTF-16 unit for latin1 and ascii.
        Codec::Latin1 | Codec::Ascii => text.encode_utf16().map(|u| u as u8).collect(),
        Codec::Base64 => base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .unwrap_or_default(),
        Codec::Hex => hex_decode(text),
        Codec::Whatwg(e) => e.encode(text).0.into_owned(),
    })
}

/// Decodes bytes as `iconv.decode(bytes, name)` does.
pub(crate) fn decode(bytes: &[u8], name: &str) -> Result<String, Unsupported> {
    Ok(match codec(name)? {
        Codec::Utf8 => {
            let b = bytes
                .strip_prefix(b"\xEF\xBB\xBF".as_slice())
                .unwrap_or(bytes);
            String::from_utf8_lossy(b).into_owned()
        }
        Codec::Utf16Le => encoding_rs::UTF_16LE
            .decode_with_bom_removal(bytes)
            .0
            .into_owned(),
        Codec::Utf16Be => encoding_rs::UTF_16BE
            .decode_with_bom_removal(bytes)
            .0
            .into_owned(),
        Codec::Latin1 => bytes.iter().map(|&b| b as char).collect(),
        Codec::Ascii => bytes.iter().map(|&b| (b & 0x7f) as char).collect(),
        Codec::Base64 => base64::engine::general_purpose::STANDARD.encode(bytes),
        Codec::Hex => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        Codec::Whatwg(e) => e.decode_without_bom_handling(bytes).0.into_owned(),
    })
}

fn hex_decode(text: &str) -> Vec<u8> {
    // Node stops at the first pair that is not hex.
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks_exact(2) {
        let (Some(h), Some(l)) = (
            (pair[0] as char).to_digit(16),
            (pair[1] as char).to_digit(16),
        ) else {
            break;
        };
        out.push((h * 16 + l) as u8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_native_encodings_round_trip() {
        for enc in ["none", "utf8", "ucs2", "utf-16le", "utf-16be", "binary"] {
            let b = encode("test", enc).expect("test step");
            assert_eq!(decode(&b, enc).expect("test step"), "test", "{enc}");
        }
        assert_eq!(encode("test", "ucs2").expect("test step"), b"t\0e\0s\0t\0");
        assert_eq!(encode("dGVzdA==", "base64").expect("test step"), b"test");
        assert_eq!(decode(b"test", "base64").expect("test step"), "dGVzdA==");
        assert_eq!(encode("74657374", "hex").expect("test step"), b"test");
        assert_eq!(decode(b"test", "hex").expect("test step"), "74657374");
    }

    #[test]
    fn multibyte_code_pages_match_iconv_lite() {
        // "テスト" in Shift_JIS and "测试" in GBK, as iconv-lite encodes them.
        for enc in ["Shift_JIS", "Windows-31j", "Windows932"] {
            assert_eq!(
                encode("テスト", enc).expect("test step"),
                [0x83, 0x65, 0x83, 0x58, 0x83, 0x67]
            );
        }
        for enc in ["GBK", "GB2312", "Windows936", "EUC-CN", "GB18030"] {
            assert_eq!(
                encode("测试", enc).expect("test step"),
                [0xb2, 0xe2, 0xca, 0xd4]
            );
            assert_eq!(
                decode(&[0xb2, 0xe2, 0xca, 0xd4], enc).expect("test step"),
                "测试"
            );
        }
        assert_eq!(encode("é", "cp1252").expect("test step"), [0xe9]);
        assert_eq!(decode(&[0xe9], "koi8-r").expect("test step"), "И");
    }

    #[test]
    fn unknown_code_pages_are_rejected() {
        assert_eq!(check("cp437"), Err(Unsupported("cp437".into())));
        assert!(check("nonsense").is_err());
    }
}
