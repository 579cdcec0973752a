//! A Mustache engine with the semantics of mustache.js 4.2.0, the version
//! Node-RED's template node uses.
//!
//! What is reproduced, because flows depend on it:
//! - the scanner: `{{=<% %>=}}` delimiter changes, `{{{x}}}` and `{{&x}}`,
//!   comments, and mustache.js's standalone-line rule (a line holding only
//!   whitespace and section, inverted, closing, comment, partial or
//!   delimiter tags disappears, newline included);
//! - lookups: `{{.}}`, dotted names, and the context stack (a name not
//!   found in a section's value is looked up in the enclosing ones);
//! - values: JS truthiness for sections (`0`, `""`, `null`, `false`, `NaN`
//!   are falsy, `[]` renders nothing), `String(x)` rendering (`[object
//!   Object]`, `1,2,3`), and mustache.js escaping of `& < > " ' / \` =`;
//! - error texts: `Unclosed tag at N`, `Unopened section "x" at N`,
//!   `Unclosed section "x" at N`, `Invalid tags: ...`, positions counted in
//!   UTF-16 units as JavaScript counts them.
//!
//! Partials (`{{> name}}`) parse but render nothing (no partials are ever
//! given). Lambdas do not exist: message values are never functions.
//! Lookups do not see JS prototype members (`{{a.toString}}`), only own
//! properties plus `length` of strings, arrays and buffers.

use redoubt_core::value::Value;

/// A template that failed to parse; the text is mustache.js's.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct MustacheError(pub String);

/// One parsed element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// Literal text.
    Text(String),
    /// `{{name}}` (escaped) or `{{{name}}}` / `{{&name}}` (raw).
    Name { name: String, escape: bool },
    /// `{{#name}}...{{/name}}` or, inverted, `{{^name}}...{{/name}}`.
    Section {
        name: String,
        inverted: bool,
        children: Vec<Token>,
    },
    /// `{{> name}}`: renders nothing.
    Partial(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Template {
    tokens: Vec<Token>,
    /// The value of every tag but closing ones, in order (mustache.js's
    /// token list as Node-RED walks it to prefetch context values).
    names: Vec<String>,
    partial: bool,
    /// Room to reserve for the output: the literal text once, plus a
    /// little per tag (sections that repeat grow the string as needed).
    size_hint: usize,
}

impl Template {
    /// Tag values (names, section names, comments, delimiter specs) in order.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// True when the template contains a partial tag.
    pub(crate) fn has_partial(&self) -> bool {
        self.partial
    }
}

/// Where a template's names are resolved.
pub(crate) trait View {
    /// The value of `name`, given the context stack (outermost first).
    /// `Undefined` and `Null` render as nothing.
    fn lookup(&self, stack: &[Value], name: &str) -> Value;
}

/// Plain mustache.js lookups over the stack.
pub(crate) struct Plain;

impl View for Plain {
    fn lookup(&self, stack: &[Value], name: &str) -> Value {
        lookup_stack(stack, name)
    }
}

/// JavaScript's `\s`.
pub(crate) fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

fn space_len(s: &str) -> usize {
    s.char_indices()
        .find(|(_, c)| !is_js_space(*c))
        .map(|(i, _)| i)
        .unwrap_or(s.len())
}

/// Byte index of the leftmost match of `\s*<lit>` in `s` (as `String.search`).
fn search_spaced(s: &str, lit: &str) -> Option<usize> {
    let at = s.find(lit)?;
    let before = &s[..at];
    let trimmed = before.trim_end_matches(is_js_space);
    Some(trimmed.len())
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The scanner of mustache.js: a tail and a position.
struct Scanner<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn tail(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn eos(&self) -> bool {
        self.pos >= self.src.len()
    }

    /// `scanUntil(/\s*lit/)`: everything before the match, or the rest.
    fn until_spaced(&mut self, lit: &str) -> &'a str {
        let tail = self.tail();
        let end = search_spaced(tail, lit).unwrap_or(tail.len());
        self.pos += end;
        &tail[..end]
    }

    /// `scanUntil(/lit\s*/)`: everything before the first `lit`, or the rest.
    fn until(&mut self, lit: &str) -> &'a str {
        let tail = self.tail();
        let end = tail.find(lit).unwrap_or(tail.len());
        self.pos += end;
        &tail[..end]
    }

    /// `scan(/\s*lit/)` at the current position.
    fn spaced(&mut self, lit: &str) -> bool {
        let tail = self.tail();
        let ws = space_len(tail);
        if tail[ws..].starts_with(lit) {
            self.pos += ws + lit.len();
            true
        } else {
            false
        }
    }

    fn skip_space(&mut self) {
        self.pos += space_len(self.tail());
    }

    fn js_pos(&self) -> usize {
        utf16_len(&self.src[..self.pos])
    }
}

enum Raw {
    Text(char),
    Tag { kind: char, value: String },
}

struct Tags {
    open: String,
    close: String,
    close_curly: String,
}

impl Tags {
    fn new(open: &str, close: &str) -> Tags {
        Tags {
            open: open.to_string(),
            close: close.to_string(),
            close_curly: format!("}}{close}"),
        }
    }

    /// `compileTags("<% %>")`: splits on whitespace, exactly two parts.
    fn parse(spec: &str) -> Result<Tags, MustacheError> {
        // 'a b c'.split(/\s+/, 2) keeps two parts; fewer is an error.
        let parts: Vec<&str> = spec
            .split(is_js_space)
            .filter(|p| !p.is_empty())
            .take(2)
            .collect();
        let leading_empty = spec.starts_with(is_js_space);
        match (leading_empty, parts.as_slice()) {
            (false, [o, c]) => Ok(Tags::new(o, c)),
            (true, [c, ..]) => Err(MustacheError(format!("Invalid tags: ,{c}"))),
            _ => Err(MustacheError(format!("Invalid tags: {}", parts.join(",")))),
        }
    }
}

/// Output bytes reserved per tag, beyond the template's literal text.
const TAG_ROOM: usize = 8;

/// Parses `template` with the default `{{ }}` delimiters.
pub(crate) fn parse(template: &str) -> Result<Template, MustacheError> {
    let raw = scan(template)?;
    let mut names = Vec::new();
    let mut partial = false;
    let mut size_hint = 0;
    for r in raw.iter().flatten() {
        match r {
            Raw::Tag { kind, value, .. } => {
                if *kind != '/' {
                    names.push(value.clone());
                }
                partial |= *kind == '>';
                size_hint += TAG_ROOM;
            }
            Raw::Text(c) => size_hint += c.len_utf8(),
        }
    }
    let tokens = nest(raw);
    Ok(Template {
        tokens,
        names,
        partial,
        size_hint,
    })
}

struct LineState {
    spaces: Vec<usize>,
    has_tag: bool,
    non_space: bool,
}

impl LineState {
    /// mustache.js `stripSpace`: a line with a tag and nothing else but
    /// whitespace loses its whitespace (and its newline).
    fn strip(&mut self, raw: &mut [Option<Raw>]) {
        if self.has_tag && !self.non_space {
            for i in self.spaces.drain(..) {
                raw[i] = None;
            }
        } else {
            self.spaces.clear();
        }
        self.has_tag = false;
        self.non_space = false;
    }
}

fn scan(template: &str) -> Result<Vec<Option<Raw>>, MustacheError> {
    let mut raw: Vec<Option<Raw>> = Vec::new();
    let mut sections: Vec<(String, usize)> = Vec::new();
    let mut line = LineState {
        spaces: Vec::new(),
        has_tag: false,
        non_space: false,
    };
    let mut tags = Tags::new("{{", "}}");
    let mut sc = Scanner {
        src: template,
        pos: 0,
    };
    while !sc.eos() {
        let mut start = sc.js_pos();
        let text = sc.until(&tags.open);
        for c in text.chars() {
            if is_js_space(c) {
                line.spaces.push(raw.len());
            } else {
                line.non_space = true;
            }
            raw.push(Some(Raw::Text(c)));
            start += c.len_utf16();
            if c == '\n' {
                line.strip(&mut raw);
            }
        }
        if !sc.tail().starts_with(tags.open.as_str()) {
            break;
        }
        sc.pos += tags.open.len();
        sc.skip_space();
        line.has_tag = true;
        let mut kind = match sc.tail().chars().next() {
            Some(c @ ('#' | '^' | '/' | '>' | '{' | '&' | '=' | '!')) => {
                sc.pos += 1;
                c
            }
            _ => 'n',
        };
        sc.skip_space();
        let value = match kind {
            '=' => {
                let v = sc.until_spaced("=").to_string();
                sc.spaced("=");
                sc.until_spaced(&tags.close);
                v
            }
            '{' => {
                let v = sc.until_spaced(&tags.close_curly).to_string();
                sc.spaced("}");
                sc.until_spaced(&tags.close);
                kind = '&';
                v
            }
            _ => sc.until_spaced(&tags.close).to_string(),
        };
        if !sc.spaced(&tags.close) {
            return Err(MustacheError(format!("Unclosed tag at {}", sc.js_pos())));
        }
        match kind {
            '#' | '^' => sections.push((value.clone(), start)),
            '/' => match sections.pop() {
                None => {
                    return Err(MustacheError(format!(
                        "Unopened section \"{value}\" at {start}"
                    )));
                }
                Some((open, _)) if open != value => {
                    return Err(MustacheError(format!(
                        "Unclosed section \"{open}\" at {start}"
                    )));
                }
                Some(_) => {}
            },
            'n' | '&' => line.non_space = true,
            '=' => tags = Tags::parse(&value)?,
            _ => {}
        }
        raw.push(Some(Raw::Tag { kind, value }));
    }
    line.strip(&mut raw);
    if let Some((open, _)) = sections.pop() {
        return Err(MustacheError(format!(
            "Unclosed section \"{open}\" at {}",
            sc.js_pos()
        )));
    }
    Ok(raw)
}

/// Squashes text and builds the section tree (`squashTokens` + `nestTokens`).
fn nest(raw: Vec<Option<Raw>>) -> Vec<Token> {
    let mut stack: Vec<(String, bool, Vec<Token>)> = Vec::new();
    let mut root: Vec<Token> = Vec::new();
    fn current<'v>(
        root: &'v mut Vec<Token>,
        stack: &'v mut [(String, bool, Vec<Token>)],
    ) -> &'v mut Vec<Token> {
        match stack.last_mut() {
            Some((_, _, children)) => children,
            None => root,
        }
    }
    for r in raw.into_iter().flatten() {
        match r {
            Raw::Text(c) => {
                let out = current(&mut root, &mut stack);
                if let Some(Token::Text(t)) = out.last_mut() {
                    t.push(c);
                } else {
                    out.push(Token::Text(c.to_string()));
                }
            }
            Raw::Tag { kind, value, .. } => match kind {
                '#' | '^' => stack.push((value, kind == '^', Vec::new())),
                '/' => {
                    if let Some((name, inverted, children)) = stack.pop() {
                        current(&mut root, &mut stack).push(Token::Section {
                            name,
                            inverted,
                            children,
                        });
                    }
                }
                'n' => current(&mut root, &mut stack).push(Token::Name {
                    name: value,
                    escape: true,
                }),
                '&' => current(&mut root, &mut stack).push(Token::Name {
                    name: value,
                    escape: false,
                }),
                '>' => current(&mut root, &mut stack).push(Token::Partial(value)),
                _ => {}
            },
        }
    }
    root
}

/// mustache.js's `escapeHtml` of `s`, appended to `out`.
fn push_escaped_html(out: &mut String, s: &str) {
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

/// Renders `t` with `root` as the outermost context.
pub(crate) fn render(t: &Template, root: Value, view: &dyn View) -> String {
    let mut out = String::with_capacity(t.size_hint);
    let mut stack = vec![root];
    render_tokens(&t.tokens, &mut stack, view, &mut out);
    out
}

fn render_tokens(tokens: &[Token], stack: &mut Vec<Value>, view: &dyn View, out: &mut String) {
    for tok in tokens {
        match tok {
            Token::Text(t) => out.push_str(t),
            Token::Partial(_) => {}
            Token::Name { name, escape } => {
                let v = view.lookup(stack, name);
                match v {
                    Value::Undefined | Value::Null => {}
                    Value::String(text) if *escape => push_escaped_html(out, &text),
                    Value::String(text) => out.push_str(&text),
                    Value::Number(_) => out.push_str(&v.to_js_string()),
                    v if *escape => push_escaped_html(out, &v.to_js_string()),
                    v => out.push_str(&v.to_js_string()),
                }
            }
            Token::Section {
                name,
                inverted: false,
                children,
            } => {
                let v = view.lookup(stack, name);
                if !v.truthy() {
                    continue;
                }
                match v {
                    Value::Array(a) => {
                        for item in a.to_vec() {
                            stack.push(item);
                            render_tokens(children, stack, view, out);
                            stack.pop();
                        }
                    }
                    Value::Bool(_) => render_tokens(children, stack, view, out),
                    other => {
                        stack.push(other);
                        render_tokens(children, stack, view, out);
                        stack.pop();
                    }
                }
            }
            Token::Section {
                name,
                inverted: true,
                children,
            } => {
                let v = view.lookup(stack, name);
                let empty = match &v {
                    Value::Array(a) => a.is_empty(),
                    v => !v.truthy(),
                };
                if empty {
                    render_tokens(children, stack, view, out);
                }
            }
        }
    }
}

/// A canonical array index (`"3"`, not `"03"`).
fn index_of(key: &str) -> Option<usize> {
    let n: u32 = key.parse().ok()?;
    (n.to_string() == key).then_some(n as usize)
}

/// `obj[key]` for a JS value (own properties and `length`).
pub(crate) fn get_prop(v: &Value, key: &str) -> Value {
    match v {
        Value::Object(o) => o.get(key).unwrap_or_default(),
        Value::Array(a) => match key {
            "length" => Value::Number(a.len() as f64),
            k => index_of(k).and_then(|i| a.get(i)).unwrap_or_default(),
        },
        Value::String(s) => {
            let units: Vec<u16> = s.encode_utf16().collect();
            match key {
                "length" => Value::Number(units.len() as f64),
                k => index_of(k)
                    .and_then(|i| units.get(i))
                    .map(|u| Value::from(String::from_utf16_lossy(&[*u])))
                    .unwrap_or_default(),
            }
        }
        Value::Buffer(b) => match key {
            "length" => Value::Number(b.len() as f64),
            k => index_of(k)
                .and_then(|i| b.get(i))
                .map(|x| Value::Number(f64::from(*x)))
                .unwrap_or_default(),
        },
        _ => Value::Undefined,
    }
}

/// mustache.js `hasProperty`: `key in obj` for objects.
fn has_property(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(o) => o.contains_key(key),
        Value::Array(a) => key == "length" || index_of(key).is_some_and(|i| i < a.len()),
        Value::Buffer(b) => key == "length" || index_of(key).is_some_and(|i| i < b.len()),
        _ => false,
    }
}

/// mustache.js `primitiveHasOwnProperty`.
fn primitive_has_own(v: &Value, key: &str) -> bool {
    match v {
        Value::String(s) => {
            key == "length" || index_of(key).is_some_and(|i| i < s.encode_utf16().count())
        }
        _ => false,
    }
}

/// mustache.js `Context.prototype.lookup` over a stack (outermost first).
pub(crate) fn lookup_stack(stack: &[Value], name: &str) -> Value {
    if name == "." {
        return stack.last().cloned().unwrap_or_default();
    }
    let dotted = name.find('.').is_some_and(|i| i > 0);
    for view in stack.iter().rev() {
        let found = if dotted {
            lookup_dotted(view, name)
        } else {
            own_property(view, name)
        };
        if let Some(v) = found {
            return v;
        }
    }
    Value::Undefined
}

/// `a.b.c` from one context, as mustache.js walks it: found when the last
/// name is a property of what the others lead to (or a string's index or
/// `length`); a `null` or `undefined` on the way ends the walk.
fn lookup_dotted(view: &Value, name: &str) -> Option<Value> {
    let mut cur = view.clone();
    let mut names = name.split('.').peekable();
    while let Some(n) = names.next() {
        if cur.is_nullish() {
            return None;
        }
        if names.peek().is_none() {
            return own_property(&cur, n)
                .or_else(|| primitive_has_own(&cur, n).then(|| get_prop(&cur, n)));
        }
        cur = get_prop(&cur, n);
    }
    None
}

/// `key`'s value when `v` has it (mustache.js `hasProperty`), looked up
/// once.
fn own_property(v: &Value, key: &str) -> Option<Value> {
    match v {
        Value::Object(o) => o.get(key),
        Value::Array(_) | Value::Buffer(_) if has_property(v, key) => Some(get_prop(v, key)),
        _ => None,
    }
}

#[cfg(test)]
#[path = "mustache_tests.rs"]
mod tests;
