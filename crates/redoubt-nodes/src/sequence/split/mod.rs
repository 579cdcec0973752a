//! split (`@node-red/nodes/core/sequence/17-split.js`): turns one message
//! into a sequence. Strings and buffers are cut on a separator (`str`, or
//! `bin` bytes) or into fixed lengths (`len`); arrays into elements or
//! chunks of `arraySplt`; objects into one message per key. Every part
//! carries `msg.parts` exactly as Node-RED builds it (`id`, `type`, `ch`,
//! `len`, `key`, `index`, `count`, `property`, and the previous `parts`
//! nested under `parts`).
//!
//! In stream mode (`stream: true`) strings and buffers keep their unfinished
//! tail for the next message and `parts.count` is never set; the `done()` of
//! a message whose data is still held back is completed when that data is
//! finally sent.
//!
//! Deviations: strings are measured in UTF-16 code units as in JavaScript,
//! but a fixed-length cut through a surrogate pair yields U+FFFD; an empty
//! `bin` separator is a configuration error (Node-RED loops forever on it);
//! a message without the property completes (Node-RED never calls done); a
//! `null` property is reported as Node-RED's uncaught TypeError.

use super::jsutil::{get_prop, parse_int, parse_prop, set_prop};
use redoubt_core::Msg;
use redoubt_core::msg::{MSGID, PARTS, new_msgid};
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType, Pending,
};
use redoubt_core::propex::Seg;
use redoubt_core::value::{Object, Value, from_json_str};
use serde_json::Value as Json;

pub(crate) struct SplitType;

/// How strings and buffers are cut.
enum Sep {
    /// A string separator (escapes such as `\n` already applied).
    Str(String),
    /// A byte separator, with the JSON array it came from (sent as `parts.ch`).
    Bin(Vec<u8>, Value),
    /// Fixed-length pieces.
    Len(usize),
}

struct Split {
    sep: Sep,
    array_len: usize,
    stream: bool,
    addname: Option<Vec<Seg>>,
    property: String,
    segs: Vec<Seg>,
    /// `node.c`: the running part index in stream mode.
    counter: usize,
    /// Unsent tail of a string stream.
    remainder: String,
    /// Unsent tail of a buffer stream.
    buffer: Vec<u8>,
    /// Messages whose data is still in `remainder`/`buffer`.
    pending: Vec<Pending>,
}

/// Applies the escapes the editor's separator field allows (`\n`, `\r`,
/// `\t`, `\e`, `\f`, `\0`); JavaScript's `"\e"` is a plain `e`.
pub(crate) fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
        .replace("\\r", "\r")
        .replace("\\t", "\t")
        .replace("\\e", "e")
        .replace("\\f", "\u{c}")
        .replace("\\0", "\0")
}

/// Parses a `bin` separator or joiner: a JSON array of bytes.
pub(crate) fn parse_bin_array(field: &str, text: &str) -> Result<(Vec<u8>, Value), ConfigError> {
    match from_json_str(text) {
        Ok(v @ Value::Array(_)) => {
            let bytes = v.as_array().map(|a| a.to_vec()).unwrap_or_default();
            let bytes = bytes
                .iter()
                .map(|b| (b.to_number() as i64 & 0xff) as u8)
                .collect();
            Ok((bytes, v))
        }
        Ok(_) => Err(ConfigError::field(
            field,
            format!("{text:?} is not an array"),
        )),
        Err(e) => Err(ConfigError::field(
            field,
            format!("invalid JSON {text:?}: {e}"),
        )),
    }
}

impl NodeType for SplitType {
    fn type_name(&self) -> &'static str {
        "split"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let splt = cfg.str("splt");
        let sep = match cfg.str("spltType").as_str() {
            "str" | "" => Sep::Str(unescape(if splt.is_empty() { "\\n" } else { &splt })),
            "bin" => {
                let (bytes, json) = parse_bin_array("splt", &splt)?;
                if bytes.is_empty() {
                    return Err(ConfigError::field(
                        "splt",
                        "an empty byte separator cannot split anything",
                    ));
                }
                Sep::Bin(bytes, json)
            }
            "len" => match parse_int(&splt) {
                Some(n) if n >= 1.0 => Sep::Len(n as usize),
                _ => {
                    return Err(ConfigError::field(
                        "splt",
                        format!("invalid split length: {splt:?}"),
                    ));
                }
            },
            other => {
                return Err(ConfigError::field(
                    "spltType",
                    format!("unknown split type {other:?}"),
                ));
            }
        };
        let array_len = match cfg.get("arraySplt") {
            None => 1.0,
            Some(_) => parse_int(&cfg.str("arraySplt")).unwrap_or(f64::NAN),
        };
        if array_len.is_nan() || array_len < 1.0 {
            return Err(ConfigError::field(
                "arraySplt",
                format!("invalid array split length: {}", cfg.str("arraySplt")),
            ));
        }
        let mut property = cfg.str("property");
        if property.is_empty() {
            property = "payload".into();
        }
        let segs = parse_prop("property", &property)?;
        let addname = cfg.str("addname");
        let addname = if addname.is_empty() {
            None
        } else {
            Some(parse_prop("addname", &addname)?)
        };
        Ok(Box::new(Split {
            sep,
            array_len: array_len as usize,
            stream: matches!(cfg.get("stream"), Some(Json::Bool(true))),
            addname,
            property,
            segs,
            counter: 0,
            remainder: String::new(),
            buffer: Vec::new(),
            pending: Vec::new(),
        }))
    }
}

/// Sends a copy of `msg` with a fresh `_msgid`, as `send()` gives one to a message without.
fn emit(msg: &Msg, cx: &mut NodeCtx<'_>) {
    let m = msg.deep_clone();
    m.set(MSGID, Value::String(new_msgid().into()));
    cx.send(0, m);
}

fn num(n: usize) -> Value {
    Value::Number(n as f64)
}

impl Split {
    fn flush_pending(&mut self, cx: &mut NodeCtx<'_>) {
        for p in self.pending.drain(..) {
            cx.complete(p, Ok(()));
        }
    }

    /// Sends one piece: sets the property and `parts.index` (the running counter).
    fn piece(&mut self, msg: &Msg, parts: &Object, v: Value, cx: &mut NodeCtx<'_>) {
        set_prop(msg, &self.segs, v);
        parts.insert("index", num(self.counter));
        self.counter += 1;
        emit(msg, cx);
    }

    /// `sendArray`: the pieces of a string cut on a separator.
    fn send_pieces(
        &mut self,
        msg: &Msg,
        parts: &Object,
        mut pieces: Vec<String>,
        cx: &mut NodeCtx<'_>,
    ) {
        let total = pieces.len();
        let last = pieces.pop().unwrap_or_default();
        for p in pieces {
            set_prop(msg, &self.segs, Value::from(p));
            parts.insert("index", num(self.counter));
            self.counter += 1;
            if !self.stream {
                parts.insert("count", num(total));
            }
            emit(msg, cx);
        }
        if self.stream {
            self.remainder = last;
        } else {
            set_prop(msg, &self.segs, Value::from(last));
            parts.insert("index", num(self.counter));
            parts.insert("count", num(total));
            emit(msg, cx);
            self.counter = 0;
        }
    }

    fn split_string(&mut self, msg: &Msg, parts: &Object, value: &str, cx: &mut NodeCtx<'_>) {
        let value = std::mem::take(&mut self.remainder) + value;
        parts.insert("type", Value::str("string"));
        let sep = match &self.sep {
            Sep::Len(n) => return self.split_string_len(msg, parts, &value, *n, cx),
            Sep::Str(s) => {
                parts.insert("ch", Value::str(s));
                s.clone()
            }
            Sep::Bin(b, json) => {
                parts.insert("ch", json.deep_clone());
                String::from_utf8_lossy(b).into_owned()
            }
        };
        let pieces: Vec<String> = value.split(sep.as_str()).map(str::to_string).collect();
        self.send_pieces(msg, parts, pieces, cx);
    }

    fn split_string_len(
        &mut self,
        msg: &Msg,
        parts: &Object,
        value: &str,
        n: usize,
        cx: &mut NodeCtx<'_>,
    ) {
        parts.insert("ch", Value::str(""));
        parts.insert("len", num(n));
        let units: Vec<u16> = value.encode_utf16().collect();
        let count = units.len().div_ceil(n);
        if !self.stream {
            parts.insert("count", num(count));
            self.counter = 0;
        }
        let text = |s: &[u16]| Value::from(String::from_utf16_lossy(s));
        let mut pos = 0;
        for _ in 1..count {
            self.piece(msg, parts, text(&units[pos..pos + n]), cx);
            pos += n;
        }
        if count > 1 {
            self.flush_pending(cx);
        }
        let rest = &units[pos..];
        if !self.stream || rest.len() == n {
            self.piece(msg, parts, text(rest), cx);
            self.flush_pending(cx);
        } else {
            self.remainder = String::from_utf16_lossy(rest);
            self.defer(cx);
        }
    }

    fn defer(&mut self, cx: &mut NodeCtx<'_>) {
        if let Some(p) = cx.defer() {
            self.pending.push(p);
        }
    }

    fn split_array(&mut self, msg: &Msg, parts: &Object, items: Vec<Value>, cx: &mut NodeCtx<'_>) {
        parts.insert("type", Value::str("array"));
        let count = items.len().div_ceil(self.array_len);
        parts.insert("count", num(count));
        parts.insert("len", num(self.array_len));
        let copy = msg.deep_clone();
        let Some(Value::Object(copy_parts)) = copy.get(PARTS) else {
            return;
        };
        for (i, chunk) in items.chunks(self.array_len).enumerate() {
            let v = if self.array_len == 1 {
                chunk[0].clone()
            } else {
                Value::from(chunk.to_vec())
            };
            set_prop(&copy, &self.segs, v);
            copy_parts.insert("index", num(i));
            emit(&copy, cx);
        }
    }

    fn split_object(&mut self, msg: &Msg, parts: &Object, obj: &Object, cx: &mut NodeCtx<'_>) {
        let entries = obj.entries();
        parts.insert("type", Value::str("object"));
        for (i, (k, v)) in entries.iter().enumerate() {
            set_prop(msg, &self.segs, v.clone());
            if let Some(addname) = &self.addname {
                set_prop(msg, addname, Value::String(k.clone()));
            }
            parts.insert("key", Value::String(k.clone()));
            parts.insert("index", num(i));
            parts.insert("count", num(entries.len()));
            emit(msg, cx);
        }
    }

    fn split_buffer(&mut self, msg: &Msg, parts: &Object, value: &[u8], cx: &mut NodeCtx<'_>) {
        let mut buff = std::mem::take(&mut self.buffer);
        buff.extend_from_slice(value);
        parts.insert("type", Value::str("buffer"));
        let bytes = |s: &[u8]| Value::Buffer(bytes::Bytes::copy_from_slice(s));
        let (sep, ch) = match &self.sep {
            Sep::Len(n) => return self.split_buffer_len(msg, parts, buff, *n, cx),
            Sep::Str(s) => (s.as_bytes().to_vec(), Value::str(s)),
            Sep::Bin(b, json) => (b.clone(), json.deep_clone()),
        };
        parts.insert("ch", ch);
        let cuts = find_all(&buff, &sep);
        let count = cuts.len() + 1;
        if !self.stream {
            parts.insert("count", num(count));
            self.counter = 0;
        }
        let mut p = 0;
        for pos in cuts {
            self.piece(msg, parts, bytes(&buff[p..pos]), cx);
            p = pos + sep.len();
        }
        if count > 1 {
            self.flush_pending(cx);
        }
        if !self.stream && p < buff.len() {
            set_prop(msg, &self.segs, bytes(&buff[p..]));
            parts.insert("index", num(self.counter));
            // Node-RED sets count from the running index, then bumps it again.
            parts.insert("count", num(self.counter + 1));
            self.counter += 2;
            emit(msg, cx);
            self.flush_pending(cx);
        } else {
            self.buffer = buff[p..].to_vec();
            if !self.buffer.is_empty() {
                self.defer(cx);
            }
        }
    }

    fn split_buffer_len(
        &mut self,
        msg: &Msg,
        parts: &Object,
        buff: Vec<u8>,
        n: usize,
        cx: &mut NodeCtx<'_>,
    ) {
        let bytes = |s: &[u8]| Value::Buffer(bytes::Bytes::copy_from_slice(s));
        let count = buff.len().div_ceil(n);
        if !self.stream {
            parts.insert("count", num(count));
            self.counter = 0;
        }
        parts.insert("len", num(n));
        let mut pos = 0;
        for _ in 1..count {
            self.piece(msg, parts, bytes(&buff[pos..pos + n]), cx);
            pos += n;
        }
        if count > 1 {
            self.flush_pending(cx);
        }
        let rest = &buff[pos..];
        if !self.stream || rest.len() == n {
            self.piece(msg, parts, bytes(rest), cx);
            self.flush_pending(cx);
        } else {
            self.buffer = rest.to_vec();
            self.defer(cx);
        }
    }
}

/// Start positions of the non-overlapping occurrences of `sep` in `hay`.
fn find_all(hay: &[u8], sep: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    if sep.is_empty() {
        return out;
    }
    let mut i = 0;
    while i + sep.len() <= hay.len() {
        if &hay[i..i + sep.len()] == sep {
            out.push(i);
            i += sep.len();
        } else {
            i += 1;
        }
    }
    out
}

impl Node for Split {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let value = get_prop(&msg, &self.segs);
        if value.is_undefined() {
            return Ok(());
        }
        let parts = Object::new();
        if msg.object().contains_key(PARTS) {
            parts.insert("parts", msg.get(PARTS).unwrap_or_default());
        }
        parts.insert("id", Value::String(new_msgid().into()));
        if self.property != "payload" {
            parts.insert("property", Value::str(&self.property));
        }
        msg.set(PARTS, Value::Object(parts.clone()));
        msg.remove(MSGID);
        match value {
            Value::String(s) => self.split_string(&msg, &parts, &s, cx),
            Value::Array(a) => self.split_array(&msg, &parts, a.to_vec(), cx),
            Value::Buffer(b) => self.split_buffer(&msg, &parts, &b, cx),
            Value::Object(o) => self.split_object(&msg, &parts, &o, cx),
            Value::Null => {
                return Err(NodeError::new(
                    "TypeError: Cannot convert undefined or null to object",
                ));
            }
            // A Date has no own keys: nothing to send. Numbers and booleans are dropped.
            _ => {}
        }
        Ok(())
    }

    fn close(&mut self, _removed: bool, cx: &mut NodeCtx<'_>) {
        self.flush_pending(cx);
    }
}

#[cfg(test)]
mod tests;
