//! `yaml.dump` of js-yaml 4 with its default options: block style, two
//! spaces of indentation, 80 columns, keys in insertion order, shared or
//! cyclic objects written once with `&ref_N` anchors and `*ref_N` aliases.
//!
//! Strings are plain when that reads back as the same string, single-quoted
//! otherwise (also the YAML 1.1 booleans `y`, `on`, `no`... and base-60
//! numbers), double-quoted with escapes when they hold unprintable
//! characters, literal blocks (`|`) when they span lines and folded blocks
//! (`>`) when a line is longer than the width. Dates are written as ISO
//! timestamps, Buffers as `!!binary`, `undefined` members are left out.
//! Widths are counted in characters rather than UTF-16 units.

use super::scalar::{INDENT, scalar};
use base64::Engine;
use redoubt_core::value::{Value, format_number};

/// A value js-yaml refuses to dump.
#[derive(Debug)]
pub(super) struct DumpError(pub(super) String);

struct State {
    /// Objects and arrays met more than once, by address, in js-yaml's order.
    duplicates: Vec<usize>,
    used: Vec<bool>,
}

/// Dumps a value; `undefined` gives an empty string.
pub(super) fn dump(v: &Value) -> Result<String, DumpError> {
    let mut seen = Vec::new();
    let mut duplicates = Vec::new();
    inspect(v, &mut seen, &mut duplicates);
    let used = vec![false; duplicates.len()];
    let mut state = State { duplicates, used };
    Ok(match state.node(0, v, true, true, false)? {
        Some(s) => s + "\n",
        None => String::new(),
    })
}

fn addr(v: &Value) -> Option<usize> {
    match v {
        Value::Object(o) => Some(o.addr()),
        Value::Array(a) => Some(a.addr()),
        _ => None,
    }
}

/// `getDuplicateReferences`: finds objects reachable more than once.
fn inspect(v: &Value, seen: &mut Vec<usize>, duplicates: &mut Vec<usize>) {
    let Some(a) = addr(v) else { return };
    if seen.contains(&a) {
        if !duplicates.contains(&a) {
            duplicates.push(a);
        }
        return;
    }
    seen.push(a);
    let children = match v {
        Value::Object(o) => o.entries().into_iter().map(|(_, v)| v).collect(),
        Value::Array(arr) => arr.to_vec(),
        _ => Vec::new(),
    };
    for c in &children {
        inspect(c, seen, duplicates);
    }
}

fn next_line(level: usize) -> String {
    format!("\n{}", " ".repeat(INDENT * level))
}

impl State {
    /// `writeNode`: `None` when the value is skipped (`undefined`).
    fn node(
        &mut self,
        level: usize,
        v: &Value,
        block: bool,
        compact: bool,
        iskey: bool,
    ) -> Result<Option<String>, DumpError> {
        let out = match v {
            Value::Undefined => return Ok(None),
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => number(*n),
            Value::String(s) => scalar(s, level, iskey, block),
            Value::Date(ms) => chrono::DateTime::from_timestamp_millis(*ms as i64)
                .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                .ok_or_else(|| DumpError("Invalid time value".into()))?,
            Value::Buffer(b) => {
                let text = base64::engine::general_purpose::STANDARD.encode(b);
                format!("!!binary {}", scalar(&text, level, iskey, block))
            }
            Value::Handle(_) => {
                return Err(DumpError(
                    "unacceptable kind of an object to dump [object Object]".into(),
                ));
            }
            Value::Object(_) | Value::Array(_) => {
                return self.collection(level, v, block, compact).map(Some);
            }
        };
        Ok(Some(out))
    }

    fn collection(
        &mut self,
        level: usize,
        v: &Value,
        block: bool,
        compact: bool,
    ) -> Result<String, DumpError> {
        let dup = addr(v).and_then(|a| self.duplicates.iter().position(|d| *d == a));
        if let Some(i) = dup {
            if self.used[i] {
                return Ok(format!("*ref_{i}"));
            }
            self.used[i] = true;
        }
        let compact = compact && dup.is_none();
        let body = match v {
            Value::Object(o) if block && !o.is_empty() => {
                Some(self.block_mapping(level, &o.entries(), compact)?)
            }
            Value::Array(a) if block && !a.is_empty() => {
                Some(self.block_sequence(level, &a.to_vec(), compact)?)
            }
            _ => None,
        };
        Ok(match (body, dup) {
            (Some(b), Some(i)) => format!("&ref_{i}{b}"),
            (Some(b), None) => b,
            (None, dup) => {
                let flow = if matches!(v, Value::Object(_)) {
                    "{}"
                } else {
                    "[]"
                };
                match dup {
                    Some(i) => format!("&ref_{i} {flow}"),
                    None => flow.to_string(),
                }
            }
        })
    }

    fn block_mapping(
        &mut self,
        level: usize,
        entries: &[(redoubt_core::value::Str, Value)],
        compact: bool,
    ) -> Result<String, DumpError> {
        let mut out = String::new();
        for (k, v) in entries {
            let mut pair = String::new();
            if !compact || !out.is_empty() {
                pair.push_str(&next_line(level));
            }
            let key = scalar(k, level + 1, true, true);
            let explicit = key.chars().count() > 1024;
            if explicit {
                pair.push_str(if key.starts_with('\n') { "?" } else { "? " });
            }
            pair.push_str(&key);
            if explicit {
                pair.push_str(&next_line(level));
            }
            let Some(value) = self.node(level + 1, v, true, explicit, false)? else {
                continue;
            };
            pair.push_str(if value.starts_with('\n') { ":" } else { ": " });
            pair.push_str(&value);
            out.push_str(&pair);
        }
        Ok(if out.is_empty() { "{}".into() } else { out })
    }

    fn block_sequence(
        &mut self,
        level: usize,
        items: &[Value],
        compact: bool,
    ) -> Result<String, DumpError> {
        let mut out = String::new();
        for v in items {
            let item = match self.node(level + 1, v, true, true, false)? {
                Some(s) => s,
                None => "null".to_string(),
            };
            if !compact || !out.is_empty() {
                out.push_str(&next_line(level));
            }
            out.push_str(if item.starts_with('\n') { "-" } else { "- " });
            out.push_str(&item);
        }
        Ok(if out.is_empty() { "[]".into() } else { out })
    }
}

/// `int` and `float` representation.
fn number(n: f64) -> String {
    if n.is_nan() {
        return ".nan".into();
    }
    if n.is_infinite() {
        return if n > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    if n == 0.0 && n.is_sign_negative() {
        return "-0.0".into();
    }
    let s = format_number(n);
    if n.fract() != 0.0 {
        // `5e-7` needs a dot to read back as a float.
        let digits = s.trim_start_matches(['-', '+']);
        if let Some(e) = digits.find('e')
            && digits[..e].chars().all(|c| c.is_ascii_digit())
        {
            return s.replacen('e', ".e", 1);
        }
    }
    s
}
