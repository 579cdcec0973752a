//! The node's URL templates: the variable subset of mustache.js that URLs
//! use. `{{name}}` is HTML-escaped as mustache.js escapes it, `{{{name}}}`
//! and `{{& name}}` are inserted as they are, names are dotted paths into
//! the message, and `{{! comment }}` is dropped.
//!
//! Deviation: sections, partials and delimiter changes (`{{#x}}`, `{{^x}}`,
//! `{{> x}}`, `{{= =}}`) are not supported in URLs; such tags render as
//! nothing. (A full mustache engine lives with the template node.)

use redoubt_core::Msg;
use redoubt_core::value::Value;

/// A compiled URL template.
#[derive(Debug)]
pub(super) struct UrlTemplate {
    pieces: Vec<Piece>,
}

#[derive(Debug)]
enum Piece {
    Text(String),
    Var { path: Vec<String>, escape: bool },
    Nothing,
}

impl UrlTemplate {
    /// Parses `src`; an unclosed tag is an error naming its position, as
    /// mustache.js reports it.
    pub(super) fn compile(src: &str) -> Result<UrlTemplate, String> {
        let mut pieces = Vec::new();
        let mut rest = src;
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let (triple, close_tag) = if after.starts_with('{') {
                (true, "}}}")
            } else {
                (false, "}}")
            };
            let body_start = if triple { 1 } else { 0 };
            let Some(close) = after[body_start..].find(close_tag) else {
                return Err(format!(
                    "Unclosed tag at {}",
                    offset + open + 2 + after.len()
                ));
            };
            let tag = after[body_start..body_start + close].trim();
            pieces.push(piece(tag, triple));
            let consumed = open + 2 + body_start + close + close_tag.len();
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(UrlTemplate { pieces })
    }

    /// Renders with the message as the view.
    pub(super) fn render(&self, msg: &Msg) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Nothing => {}
                Piece::Var { path, escape } => {
                    let v = lookup(&msg.to_value(), path);
                    match v {
                        Value::Undefined | Value::Null => {}
                        Value::Number(_) => out.push_str(&v.to_js_string()),
                        other if *escape => out.push_str(&escape_html(&other.to_js_string())),
                        other => out.push_str(&other.to_js_string()),
                    }
                }
            }
        }
        out
    }
}

fn piece(tag: &str, triple: bool) -> Piece {
    if triple {
        return var(tag, false);
    }
    match tag.chars().next() {
        Some('&') => var(tag[1..].trim(), false),
        Some('!' | '#' | '^' | '/' | '>' | '=') => Piece::Nothing,
        _ => var(tag, true),
    }
}

fn var(name: &str, escape: bool) -> Piece {
    let path = if name == "." {
        Vec::new()
    } else {
        name.split('.').map(str::to_string).collect()
    };
    Piece::Var { path, escape }
}

fn lookup(root: &Value, path: &[String]) -> Value {
    let mut cur = root.clone();
    for key in path {
        cur = match &cur {
            Value::Object(o) => o.get(key).unwrap_or_default(),
            Value::Array(a) => match key.as_str() {
                "length" => Value::Number(a.len() as f64),
                k => k
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| a.get(i))
                    .unwrap_or_default(),
            },
            Value::String(s) if key == "length" => Value::Number(s.encode_utf16().count() as f64),
            _ => return Value::Undefined,
        };
    }
    cur
}

/// mustache.js `escapeHtml`.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '/' => out.push_str("&#x2F;"),
            '`' => out.push_str("&#x60;"),
            '=' => out.push_str("&#x3D;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(src: &str, msg: serde_json::Value) -> String {
        UrlTemplate::compile(src)
            .expect("template")
            .render(&Msg::from_json(&msg))
    }

    #[test]
    fn triple_braces_insert_raw_double_braces_escape() {
        let m = serde_json::json!({"base": "http://h:1/a", "q": "a/b&c", "n": 5, "o": {"p": "x"}});
        assert_eq!(
            render("{{{base}}}/t?q={{q}}&n={{n}}&p={{o.p}}", m.clone()),
            "http://h:1/a/t?q=a&#x2F;b&amp;c&n=5&p=x"
        );
        assert_eq!(
            render("{{& q}}|{{missing}}|{{! note }}|{{#s}}x{{/s}}", m),
            "a/b&c|||x"
        );
    }

    #[test]
    fn unclosed_tag_is_an_error() {
        assert!(UrlTemplate::compile("http://x/{{oops").is_err());
    }
}
