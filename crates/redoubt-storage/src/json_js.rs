//! `JSON.stringify` for `serde_json::Value`, byte-for-byte as Node.js
//! prints it, so files and revision hashes match Node-RED's.
//!
//! serde_json's own writer differs from JavaScript for numbers (`1.0` stays
//! `1.0`, JS prints `1`; `1e21` vs `1e+21`; integers above 2^53 are exact
//! where JS rounds them). Here every number goes through `f64` and `ryu-js`
//! as JS does. Strings are escaped as JS does (`\b \f \n \r \t \" \\`,
//! other control characters as lowercase `\u00xx`, everything else raw).

use serde_json::Value;
use std::fmt::Write;

/// `JSON.stringify(v)` (`indent = None`) or `JSON.stringify(v, null, n)`.
pub fn stringify(v: &Value, indent: Option<usize>) -> String {
    let mut out = String::new();
    let pad = indent.map(|n| " ".repeat(n.min(10)));
    write_value(&mut out, v, pad.as_deref(), 0);
    out
}

/// `JSON.stringify(items)` for an array given as a slice.
pub fn stringify_list(items: &[Value], indent: Option<usize>) -> String {
    let mut out = String::new();
    let pad = indent.map(|n| " ".repeat(n.min(10)));
    write_array(&mut out, items, pad.as_deref(), 0);
    out
}

fn newline(out: &mut String, pad: Option<&str>, depth: usize) {
    if let Some(p) = pad {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(p);
        }
    }
}

fn write_value(out: &mut String, v: &Value, pad: Option<&str>, depth: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => write_array(out, items, pad, depth),
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, pad, depth + 1);
                write_string(out, k);
                out.push(':');
                if pad.is_some() {
                    out.push(' ');
                }
                write_value(out, item, pad, depth + 1);
            }
            newline(out, pad, depth);
            out.push('}');
        }
    }
}

fn write_array(out: &mut String, items: &[Value], pad: Option<&str>, depth: usize) {
    if items.is_empty() {
        out.push_str("[]");
        return;
    }
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        newline(out, pad, depth + 1);
        write_value(out, item, pad, depth + 1);
    }
    newline(out, pad, depth);
    out.push(']');
}

fn write_number(out: &mut String, n: &serde_json::Number) {
    let f = match (n.as_i64(), n.as_u64()) {
        // Exact in f64: print the integer directly.
        (Some(i), _) if i.unsigned_abs() <= 1 << 53 => {
            let _ = write!(out, "{i}");
            return;
        }
        (_, Some(u)) if u <= 1 << 53 => {
            let _ = write!(out, "{u}");
            return;
        }
        _ => n.as_f64().unwrap_or(f64::NAN),
    };
    if !f.is_finite() {
        out.push_str("null");
    } else if f == 0.0 {
        out.push('0'); // also -0, which JS prints as 0
    } else {
        out.push_str(ryu_js::Buffer::new().format(f));
    }
}

/// Writes `s` as a JSON string literal the way `JSON.stringify` does.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(text: &str) -> String {
        stringify(&serde_json::from_str(text).expect("json"), None)
    }

    #[test]
    fn numbers_print_as_javascript_does() {
        assert_eq!(
            js("[1.0,1e21,1.5e-7,-0.0,0.1,12345678901234567890,-3,1e300]"),
            "[1,1e+21,1.5e-7,0,0.1,12345678901234567000,-3,1e+300]"
        );
    }

    #[test]
    fn strings_escape_as_javascript_does() {
        assert_eq!(
            js(r#"["a\u0001\b\f\n\r\t\"\\/\u2028é😀"]"#),
            "[\"a\\u0001\\b\\f\\n\\r\\t\\\"\\\\/\u{2028}é😀\"]"
        );
    }

    #[test]
    fn pretty_matches_four_space_indent_and_keeps_key_order() {
        let v = serde_json::from_str(r#"{"z":[1,{}],"a":{},"b":[]}"#).expect("json");
        assert_eq!(
            stringify(&v, Some(4)),
            "{\n    \"z\": [\n        1,\n        {}\n    ],\n    \"a\": {},\n    \"b\": []\n}"
        );
    }
}
