//! The subset of Mustache that the editor's `templates/index.mst` uses:
//! `{{ name }}` (HTML-escaped), `{{{ name }}}` and `{{& name }}` (raw),
//! dotted names, `{{.}}`, sections `{{#name}}…{{/name}}` over lists, objects
//! and truthy values, inverted sections `{{^name}}`, and comments. Partials
//! and delimiter changes are refused at parse time, so a future template that
//! needs them fails at startup instead of rendering a broken page.
//!
//! Semantics follow mustache.js 4 (what Node-RED's `editor-api` renders with):
//! its escape set, its falsy values (`null`, `false`, `""`, `0`, `[]`) and its
//! removal of "standalone" section lines, so the output matches Node-RED's
//! byte for byte for the same context.

use serde_json::Value;

/// A parsed template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Var {
        name: String,
        escape: bool,
    },
    Section {
        name: String,
        inverted: bool,
        children: Vec<Node>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Escaped,
    Raw,
    Open,
    Inverted,
    Close,
    Comment,
}

#[derive(Debug)]
enum Tok {
    Text(String),
    Tag(Kind, String),
}

impl Template {
    /// Parses `src`; the error names the offending tag.
    pub(crate) fn parse(src: &str) -> Result<Template, String> {
        let mut toks = tokenize(src)?;
        strip_standalone(&mut toks);
        let mut stack: Vec<(String, bool, Vec<Node>)> = Vec::new();
        let mut out = Vec::new();
        for tok in toks {
            let node = match tok {
                Tok::Text(t) if t.is_empty() => continue,
                Tok::Text(t) => Node::Text(t),
                Tok::Tag(Kind::Comment, _) => continue,
                Tok::Tag(Kind::Escaped, name) => Node::Var { name, escape: true },
                Tok::Tag(Kind::Raw, name) => Node::Var {
                    name,
                    escape: false,
                },
                Tok::Tag(k @ (Kind::Open | Kind::Inverted), name) => {
                    stack.push((name, k == Kind::Inverted, std::mem::take(&mut out)));
                    continue;
                }
                Tok::Tag(Kind::Close, name) => {
                    let Some((open, inverted, parent)) = stack.pop() else {
                        return Err(format!("unopened section {{{{/{name}}}}}"));
                    };
                    if open != name {
                        return Err(format!("section {{{{#{open}}}}} closed by {{{{/{name}}}}}"));
                    }
                    let children = std::mem::replace(&mut out, parent);
                    Node::Section {
                        name,
                        inverted,
                        children,
                    }
                }
            };
            out.push(node);
        }
        if let Some((open, _, _)) = stack.pop() {
            return Err(format!("unclosed section {{{{#{open}}}}}"));
        }
        Ok(Template { nodes: out })
    }

    /// Renders with `view` as the root context.
    pub(crate) fn render(&self, view: &Value) -> String {
        let mut out = String::new();
        render_nodes(&self.nodes, &mut vec![view], &mut out);
        out
    }
}

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut rest = src;
    while let Some(start) = rest.find("{{") {
        toks.push(Tok::Text(rest[..start].to_string()));
        let after = &rest[start + 2..];
        let (kind, body, consumed) = if let Some(inner) = after.strip_prefix('{') {
            let end = inner.find("}}}").ok_or("unterminated {{{ tag")?;
            (Kind::Raw, &inner[..end], 1 + end + 3)
        } else {
            let end = after.find("}}").ok_or("unterminated {{ tag")?;
            let body = after[..end].trim();
            let (kind, name) = match body.chars().next() {
                Some('#') => (Kind::Open, &body[1..]),
                Some('^') => (Kind::Inverted, &body[1..]),
                Some('/') => (Kind::Close, &body[1..]),
                Some('!') => (Kind::Comment, ""),
                Some('&') => (Kind::Raw, &body[1..]),
                Some(c @ ('>' | '=' | '<' | '$')) => {
                    return Err(format!(
                        "unsupported Mustache tag {{{{{c}…}}}} (partials and delimiters are not supported)"
                    ));
                }
                _ => (Kind::Escaped, body),
            };
            (kind, name, end + 2)
        };
        let name = body.trim();
        if name.is_empty() && kind != Kind::Comment {
            return Err("empty Mustache tag".into());
        }
        toks.push(Tok::Tag(kind, name.to_string()));
        rest = &after[consumed..];
    }
    toks.push(Tok::Text(rest.to_string()));
    Ok(toks)
}

/// Removes the line of a section, inverted, close or comment tag that stands
/// alone on its line (only blanks around it), as the Mustache spec requires.
/// The tokens alternate text, tag, text, …, starting and ending with text;
/// every decision is made on the original text before anything is cut.
fn strip_standalone(toks: &mut [Tok]) {
    // Per text token: keep text[prefix_cut..suffix_start].
    let mut keep: Vec<(usize, usize)> = toks
        .iter()
        .map(|t| match t {
            Tok::Text(s) => (0, s.len()),
            Tok::Tag(..) => (0, 0),
        })
        .collect();
    for i in (1..toks.len().saturating_sub(1)).step_by(2) {
        let standalone_kind = matches!(
            toks[i],
            Tok::Tag(Kind::Open | Kind::Inverted | Kind::Close | Kind::Comment, _)
        );
        let (Tok::Text(before), Tok::Text(after)) = (&toks[i - 1], &toks[i + 1]) else {
            continue;
        };
        if !standalone_kind {
            continue;
        }
        let line_start = before.rfind('\n').map_or(0, |p| p + 1);
        let lead_blank = before[line_start..].chars().all(|c| c == ' ' || c == '\t');
        let at_line_start = i == 1 || before.contains('\n');
        let trail = after.trim_start_matches([' ', '\t']);
        let newline = if trail.starts_with("\r\n") {
            Some(2)
        } else if trail.starts_with('\n') {
            Some(1)
        } else if trail.is_empty() && i + 2 == toks.len() {
            Some(0)
        } else {
            None
        };
        if let (true, true, Some(nl)) = (lead_blank, at_line_start, newline) {
            keep[i - 1].1 = keep[i - 1].1.min(line_start);
            keep[i + 1].0 = after.len() - trail.len() + nl;
        }
    }
    for (tok, (from, to)) in toks.iter_mut().zip(keep) {
        if let Tok::Text(s) = tok {
            *s = s.get(from..to.max(from)).unwrap_or_default().to_string();
        }
    }
}

fn render_nodes<'a>(nodes: &'a [Node], stack: &mut Vec<&'a Value>, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Var { name, escape } => {
                let text = lookup(stack, name).map(to_text).unwrap_or_default();
                if *escape {
                    escape_html(&text, out);
                } else {
                    out.push_str(&text);
                }
            }
            Node::Section {
                name,
                inverted,
                children,
            } => {
                let value = lookup(stack, name);
                if *inverted {
                    if value.is_none_or(falsy) {
                        render_nodes(children, stack, out);
                    }
                    continue;
                }
                match value {
                    None => {}
                    Some(v) if falsy(v) => {}
                    Some(Value::Array(items)) => {
                        for item in items {
                            stack.push(item);
                            render_nodes(children, stack, out);
                            stack.pop();
                        }
                    }
                    Some(v) => {
                        stack.push(v);
                        render_nodes(children, stack, out);
                        stack.pop();
                    }
                }
            }
        }
    }
}

/// mustache.js lookup: `.` is the top of the stack; a (dotted) name is
/// resolved in the innermost context where its last part exists.
fn lookup<'a>(stack: &[&'a Value], name: &str) -> Option<&'a Value> {
    if name == "." {
        return stack.last().copied();
    }
    stack.iter().rev().find_map(|ctx| {
        let mut cur = *ctx;
        for part in name.split('.') {
            cur = cur.as_object()?.get(part)?;
        }
        Some(cur)
    })
}

fn falsy(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn to_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(to_text).collect::<Vec<_>>().join(","),
        Value::Object(_) => "[object Object]".into(),
        other => other.to_string(),
    }
}

/// mustache.js `escapeHtml`.
fn escape_html(s: &str, out: &mut String) {
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
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may unwrap.
mod tests {
    use super::Template;
    use serde_json::json;

    fn render(src: &str, view: serde_json::Value) -> String {
        Template::parse(src).unwrap().render(&view)
    }

    #[test]
    fn variables_escape_and_raw() {
        let v = json!({"a": {"b": "x/<y>"}, "n": 12, "t": true});
        assert_eq!(
            render("{{ a.b }}|{{{ a.b }}}|{{& a.b}}", v.clone()),
            "x&#x2F;&lt;y&gt;|x/<y>|x/<y>"
        );
        assert_eq!(render("{{n}} {{t}} {{missing}}.", v), "12 true .");
    }

    #[test]
    fn sections_iterate_lists_and_skip_falsy_values() {
        let v = json!({"list": ["a", "b"], "empty": [], "s": "", "o": {"k": "v"}, "z": 0});
        assert_eq!(render("{{#list}}[{{.}}]{{/list}}", v.clone()), "[a][b]");
        assert_eq!(
            render("{{#empty}}x{{/empty}}{{#s}}x{{/s}}{{#z}}x{{/z}}", v.clone()),
            ""
        );
        assert_eq!(
            render("{{#o}}{{k}}{{/o}}{{^s}}inv{{/s}}{{^o}}no{{/o}}", v),
            "vinv"
        );
    }

    #[test]
    fn standalone_section_lines_are_removed() {
        let src = "a\n{{#l}}\n<{{.}}>\n{{/l}}\n  {{! note }}\nb\n";
        assert_eq!(render(src, json!({"l": [1, 2]})), "a\n<1>\n<2>\nb\n");
        assert_eq!(render("x {{#l}}y{{/l}}\n", json!({"l": true})), "x y\n");
    }

    #[test]
    fn unsupported_or_broken_templates_are_refused() {
        for bad in [
            "{{> part}}",
            "{{=<% %>=}}",
            "{{#a}}",
            "{{/a}}",
            "{{#a}}{{/b}}",
            "{{ x",
            "{{}}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }
}
