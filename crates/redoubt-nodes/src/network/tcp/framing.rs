//! How a tcp in node turns received bytes into payloads: stream or single,
//! Buffer, String or Base64, split on a delimiter (optionally re-attached).
//! Mirrors `31-tcpin.js`, including its server/client differences.

use base64::Engine as _;
use redoubt_core::value::Value;

/// Output type (`datatype`).
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum DataType {
    Buffer,
    Utf8,
    Base64,
}

/// Framing options of one node.
#[derive(Clone, Debug)]
pub(crate) struct Framing {
    pub(crate) datatype: DataType,
    pub(crate) stream: bool,
    pub(crate) newline: String,
    pub(crate) trim: bool,
}

/// The framing state of one connection.
pub(crate) struct Framer {
    f: Framing,
    server: bool,
    bytes: Vec<u8>,
    text: String,
    /// Bytes of a UTF-8 character split across reads.
    partial: Vec<u8>,
}

impl Framer {
    /// A framer for a server-side (`server`) or client-side socket.
    pub(crate) fn new(f: Framing, server: bool) -> Framer {
        Framer {
            f,
            server,
            bytes: Vec::new(),
            text: String::new(),
            partial: Vec::new(),
        }
    }

    fn is_text(&self) -> bool {
        self.f.datatype != DataType::Buffer
    }

    /// Decodes a chunk (keeping an incomplete UTF-8 character for the next).
    fn decode(&mut self, chunk: &[u8]) -> String {
        match self.f.datatype {
            DataType::Base64 => base64::engine::general_purpose::STANDARD.encode(chunk),
            _ => {
                self.partial.extend_from_slice(chunk);
                let valid = match std::str::from_utf8(&self.partial) {
                    Ok(_) => self.partial.len(),
                    Err(e) if e.error_len().is_none() => e.valid_up_to(),
                    Err(_) => self.partial.len(),
                };
                let rest = self.partial.split_off(valid);
                let s = String::from_utf8_lossy(&self.partial).into_owned();
                self.partial = rest;
                s
            }
        }
    }

    /// Payloads to send now for a received chunk.
    pub(crate) fn data(&mut self, chunk: &[u8]) -> Vec<Value> {
        if !self.is_text() {
            if self.f.stream {
                return vec![Value::Buffer(bytes::Bytes::copy_from_slice(chunk))];
            }
            self.bytes.extend_from_slice(chunk);
            return Vec::new();
        }
        let s = self.decode(chunk);
        // The server splits any string output; the client only utf8.
        let split = self.server || self.f.datatype == DataType::Utf8;
        if !self.f.stream {
            self.text.push_str(&s);
            return Vec::new();
        }
        if !split || self.f.newline.is_empty() {
            return vec![Value::from(s)];
        }
        self.text.push_str(&s);
        let mut parts: Vec<String> = self
            .text
            .split(self.f.newline.as_str())
            .map(str::to_string)
            .collect();
        self.text = parts.pop().unwrap_or_default();
        parts
            .into_iter()
            .map(|mut p| {
                if self.f.trim {
                    p.push_str(&self.f.newline);
                }
                Value::from(p)
            })
            .collect()
    }

    /// The payload to send when the peer closes, if any.
    pub(crate) fn end(&mut self) -> Option<Value> {
        let utf8_split = self.f.datatype == DataType::Utf8 && !self.f.newline.is_empty();
        let flush = if self.server {
            !self.f.stream || utf8_split || self.f.datatype == DataType::Base64
        } else {
            !self.f.stream || utf8_split
        };
        if !flush {
            return None;
        }
        if self.is_text() {
            let t = std::mem::take(&mut self.text);
            (!t.is_empty()).then(|| Value::from(t))
        } else {
            let b = std::mem::take(&mut self.bytes);
            (!b.is_empty()).then(|| Value::Buffer(b.into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framer(datatype: DataType, stream: bool, newline: &str, trim: bool) -> Framer {
        Framer::new(
            Framing {
                datatype,
                stream,
                newline: newline.into(),
                trim,
            },
            true,
        )
    }

    fn strs(v: Vec<Value>) -> Vec<String> {
        v.iter()
            .map(|v| v.as_str().unwrap_or("?").to_string())
            .collect()
    }

    #[test]
    fn splits_streams_on_the_delimiter_across_reads() {
        let mut f = framer(DataType::Utf8, true, "o\n", false);
        assert_eq!(strs(f.data(b"foo\nba")), ["fo"]);
        assert_eq!(strs(f.data(b"ro\nx")), ["bar"]);
        assert_eq!(f.end().expect("test step").as_str(), Some("x"));
        let mut f = framer(DataType::Utf8, true, "o\n", true);
        assert_eq!(strs(f.data(b"foo\n")), ["foo\n"]);
    }

    #[test]
    fn keeps_utf8_characters_split_across_reads() {
        let mut f = framer(DataType::Utf8, false, "", false);
        let e = "é".as_bytes();
        f.data(&e[..1]);
        f.data(&e[1..]);
        assert_eq!(f.end().expect("test step").as_str(), Some("é"));
    }
}
