//! csv (`@node-red/nodes/core/parsers/70-CSV.js`): CSV text to objects and
//! objects (or arrays of arrays) to CSV text, in both of Node-RED's parser
//! modes.
//!
//! `spec: "rfc"` (the editor's default for new nodes) is the RFC 4180 mode
//! built on the tokeniser of `parsers/lib/csv/index.js` ([`parse`]); anything
//! else is the legacy character loop, kept for flows created before
//! Node-RED 4. The two differ on purpose in many details (template
//! whitespace, default line ending, errors vs warnings), and both are ported
//! quirk for quirk, including state that survives between messages: the
//! column template learnt from a header row or from object keys, the
//! "headers sent once" flag reset by `msg.reset`, and the row store used to
//! gather a `msg.parts` sequence into one array.
//!
//! Known deviations: positions are counted in characters rather than UTF-16
//! units (invisible to flows), and a message whose payload is swallowed
//! entirely by `skip` completes instead of never calling `done()`.

mod legacy;
mod parse;
mod rfc;
#[cfg(test)]
mod tests;

use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeType};
use redoubt_core::value::{Object, Value};
use serde_json::Value as Json;

pub(crate) struct CsvType;

/// `hdrout`: when to write the column-name row for object -> CSV.
#[derive(Clone, Copy, PartialEq, Debug)]
enum HeaderOut {
    None,
    All,
    Once,
    /// Any other truthy value: legacy mode sends headers every time, RFC mode never.
    Other,
}

/// Options both modes read the same way (each mode applies its own defaults
/// for `ret`).
struct Settings {
    template: String,
    sep: String,
    ret: String,
    multi: String,
    /// `n.hdrin === true`: only a real boolean turns header parsing on.
    hdrin: bool,
    /// `n.hdrin` as JavaScript truthiness, used when correcting `msg.parts`.
    hdrin_truthy: bool,
    hdrout: HeaderOut,
    skip: usize,
    parse_numbers: bool,
    include_empty_strings: bool,
    include_null_values: bool,
}

impl NodeType for CsvType {
    fn type_name(&self) -> &'static str {
        "csv"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let rfc = cfg.str("spec") == "rfc";
        let default_ret = if rfc { "\r\n" } else { "\n" };
        let settings = Settings {
            template: cfg.str("temp"),
            sep: unescape_controls(&or_default(&cfg.str("sep"), ","), true),
            ret: unescape_controls(&or_default(&cfg.str("ret"), default_ret), false),
            multi: or_default(&cfg.str("multi"), "one"),
            hdrin: matches!(cfg.get("hdrin"), Some(Json::Bool(true))),
            hdrin_truthy: json_truthy(cfg.get("hdrin")),
            hdrout: match cfg.get("hdrout") {
                Some(Json::Bool(true)) => HeaderOut::All,
                Some(Json::String(s)) if s == "all" => HeaderOut::All,
                Some(Json::String(s)) if s == "once" => HeaderOut::Once,
                Some(Json::String(s)) if s == "none" => HeaderOut::None,
                other if json_truthy(other) => HeaderOut::Other,
                _ => HeaderOut::None,
            },
            skip: parse_skip(cfg),
            parse_numbers: match cfg.get("strings") {
                None | Some(Json::Null) => true,
                Some(v) => *v == Json::Bool(true),
            },
            include_empty_strings: json_truthy(cfg.get("include_empty_strings")),
            include_null_values: json_truthy(cfg.get("include_null_values")),
        };
        if rfc {
            Ok(Box::new(rfc::Rfc::new(settings)))
        } else {
            Ok(Box::new(legacy::Legacy::new(settings)))
        }
    }
}

/// `parseInt(n.skip || 0)`; text that is not a number counts as 0.
fn parse_skip(cfg: &NodeConfig) -> usize {
    let raw = cfg.str("skip");
    let t = raw.trim_start();
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<usize>().unwrap_or(0)
}

fn or_default(s: &str, default: &str) -> String {
    if s.is_empty() {
        default.to_string()
    } else {
        s.to_string()
    }
}

/// Turns the editor's escaped `\t`, `\n` and `\r` into the characters.
fn unescape_controls(s: &str, tab: bool) -> String {
    let s = if tab {
        s.replace("\\t", "\t")
    } else {
        s.to_string()
    };
    s.replace("\\n", "\n").replace("\\r", "\r")
}

/// JavaScript truthiness of a configuration value.
fn json_truthy(v: Option<&Json>) -> bool {
    match v {
        None | Some(Json::Null) => false,
        Some(Json::Bool(b)) => *b,
        Some(Json::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(Json::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// `String.prototype.trim`: JavaScript also strips the byte-order mark.
fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// `RED.util.ensureString`: strings as they are, Buffers decoded, other
/// objects (and `null`) as JSON, everything else through `String()`.
fn ensure_string(v: &Value) -> Result<String, redoubt_core::node::NodeError> {
    match v {
        Value::String(s) => Ok(s.to_string()),
        Value::Buffer(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        Value::Object(_) | Value::Array(_) | Value::Null | Value::Date(_) | Value::Handle(_) => {
            redoubt_core::value::to_json(v)
                .map_err(|e| redoubt_core::node::NodeError::new(e.to_string()))
        }
        other => Ok(other.to_js_string()),
    }
}

/// `Object.keys(v)` for the values a CSV row can be.
fn js_keys(v: &Value) -> Vec<String> {
    match v {
        Value::Object(o) => o.keys().iter().map(|k| k.to_string()).collect(),
        Value::Array(a) => (0..a.len()).map(|i| i.to_string()).collect(),
        Value::Buffer(b) => (0..b.len()).map(|i| i.to_string()).collect(),
        Value::String(s) => (0..s.chars().count()).map(|i| i.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// `row[key]` for the values a CSV row can be (`undefined` when absent).
fn js_index(v: &Value, key: &str) -> Value {
    match v {
        Value::Object(o) => o.get(key).unwrap_or_default(),
        Value::Array(a) => key
            .parse::<usize>()
            .ok()
            .and_then(|i| a.get(i))
            .unwrap_or_default(),
        Value::Buffer(b) => key
            .parse::<usize>()
            .ok()
            .and_then(|i| b.get(i))
            .map(|x| Value::Number(f64::from(*x)))
            .unwrap_or_default(),
        _ => Value::Undefined,
    }
}

/// `typeof v === "object"` (arrays, Buffers, Dates and `null` included).
fn is_js_object(v: &Value) -> bool {
    matches!(
        v,
        Value::Object(_)
            | Value::Array(_)
            | Value::Buffer(_)
            | Value::Null
            | Value::Date(_)
            | Value::Handle(_)
    )
}

/// The error JavaScript throws when reading a property of `null`/`undefined`.
fn read_of_nullish(v: &Value, key: &str) -> redoubt_core::node::NodeError {
    redoubt_core::node::NodeError::new(format!(
        "Cannot read properties of {} (reading '{key}')",
        v.to_js_string()
    ))
}

/// What every per-row message of one input shares.
struct RowOut<'a> {
    columns: &'a str,
    count: usize,
    skip: usize,
    /// `node.hdrin` is truthy: a header row was removed from the sequence.
    hdrin: bool,
    /// The input was the last part of a sequence.
    last: bool,
}

/// The per-row message of "a message per row" output: a copy of the input
/// with `payload`, `columns` and `parts` set as Node-RED sets them.
fn row_message(msg: &Msg, payload: Value, index: usize, o: &RowOut<'_>) -> Msg {
    let out = msg.deep_clone();
    out.set("columns", Value::str(o.columns));
    out.set("payload", payload);
    if msg.object().contains_key("parts") {
        // An incoming sequence keeps its id; positions move past skipped lines.
        if let Some(Value::Object(parts)) = out.get("parts") {
            let shift = o.skip as f64 + if o.hdrin { 1.0 } else { 0.0 };
            for key in ["index", "count"] {
                let v = parts.get(key).unwrap_or_default();
                parts.insert(key, Value::Number(v.to_number() - shift));
            }
        }
    } else {
        let parts = Object::new();
        parts.insert("id", msg.get("_msgid").unwrap_or_default());
        parts.insert("index", Value::Number(index as f64));
        parts.insert("count", Value::Number(o.count as f64));
        out.set("parts", Value::Object(parts));
    }
    if o.last {
        out.set("complete", Value::Bool(true));
    }
    out
}

/// What `msg.parts` says about the position of this message in a sequence.
struct PartsInfo {
    present: bool,
    index: f64,
    count: Option<f64>,
}

impl PartsInfo {
    fn of(msg: &Msg) -> PartsInfo {
        match msg.get("parts") {
            Some(p) if msg.object().contains_key("parts") => {
                let (index, count) = match &p {
                    Value::Object(o) => (
                        o.get("index").map(|v| v.to_number()).unwrap_or(f64::NAN),
                        o.get("count").map(|v| v.to_number()),
                    ),
                    _ => (f64::NAN, None),
                };
                PartsInfo {
                    present: true,
                    index,
                    count,
                }
            }
            _ => PartsInfo {
                present: false,
                index: f64::NAN,
                count: None,
            },
        }
    }

    /// `msg.parts.index + 1 >= msg.parts.count` when there is a count.
    fn is_last(&self) -> bool {
        self.present && self.count.is_some_and(|c| self.index + 1.0 >= c)
    }

    /// `msg.parts.index + 1 === msg.parts.count`.
    fn completes(&self) -> bool {
        self.count.is_some_and(|c| self.index + 1.0 == c)
    }

    /// `msg.parts.hasOwnProperty("index") && msg.parts.index > 0`.
    fn index_after_first(&self) -> bool {
        self.present && self.index > 0.0
    }
}

/// `col.split(/SEP(?=(?:(?:[^"]*"){2})*[^"]*$)/)`: separators followed by an even number of quotes.
fn split_outside_quotes(col: &str, sep: &str) -> Vec<String> {
    if sep.is_empty() {
        return col.chars().map(String::from).collect();
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < col.len() {
        if col[i..].starts_with(sep) && col[i + sep.len()..].matches('"').count().is_multiple_of(2)
        {
            out.push(col[start..i].to_string());
            i += sep.len();
            start = i;
        } else {
            i += col[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out.push(col[start..].to_string());
    out
}

/// `parseFloat` of text already known to start like a number.
fn js_parse_float(s: &str) -> f64 {
    let b = s.as_bytes();
    let mut end = 0;
    let mut best = None;
    if matches!(b.first(), Some(b'-' | b'+')) {
        end = 1;
    }
    let mut seen_dot = false;
    let mut seen_digit = false;
    while end < b.len() {
        match b[end] {
            b'0'..=b'9' => {
                seen_digit = true;
                best = Some(end + 1);
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => break,
        }
        end += 1;
    }
    if seen_digit && end < b.len() && (b[end] == b'e' || b[end] == b'E') {
        let mut k = end + 1;
        if matches!(b.get(k), Some(b'-' | b'+')) {
            k += 1;
        }
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
            best = Some(k);
        }
    }
    best.and_then(|e| s[..e].parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}
