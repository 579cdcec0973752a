//! A JavaScript value to XML text the way `xml2js.Builder` 0.6 renders it
//! through xmlbuilder 11: attributes from the attr key (`$`), text from the
//! char key (`_`), arrays as repeated elements, a single top-level key as
//! the root element (otherwise `<root>`), an XML declaration unless
//! `headless`, and xmlbuilder's escaping, name validation and pretty printer.
//!
//! Not supported: xmlbuilder's key decorators (`#text`, `#comment`, `?pi`)
//! and `doctype`.

use redoubt_core::node::NodeError;
use redoubt_core::value::{Object, Value};

/// The `xml2js.Builder` options the node honours.
pub(super) struct BuildOptions {
    attrkey: String,
    charkey: String,
    root_name: String,
    headless: bool,
    cdata: bool,
    version: String,
    encoding: Option<String>,
    standalone: Option<bool>,
    pretty: bool,
    indent: String,
    newline: String,
    allow_empty: bool,
    space_before_slash: String,
}

impl BuildOptions {
    /// The node's options: `msg.options` when it is an object, else compact output.
    pub(super) fn from_value(o: Option<&Object>) -> BuildOptions {
        let get = |k: &str| o.and_then(|o| o.get(k));
        let text = |k: &str, default: &str| {
            get(k).map_or_else(|| default.to_string(), |v| v.to_js_string())
        };
        let render = match (o, get("renderOpts")) {
            (None, _) => None,
            (Some(_), Some(Value::Object(r))) => Some(r),
            (Some(_), _) => {
                let r = Object::new();
                r.insert("pretty", Value::Bool(true));
                Some(r)
            }
        };
        let r = |k: &str| render.as_ref().and_then(|r| r.get(k));
        let (version, encoding, standalone) = match get("xmldec") {
            Some(Value::Object(d)) => (
                d.get("version")
                    .filter(Value::truthy)
                    .map_or_else(|| "1.0".to_string(), |v| v.to_js_string()),
                d.get("encoding")
                    .filter(|v| !v.is_nullish())
                    .map(|v| v.to_js_string()),
                d.get("standalone")
                    .filter(|v| !v.is_nullish())
                    .map(|v| v.truthy()),
            ),
            _ => ("1.0".into(), Some("UTF-8".into()), Some(true)),
        };
        let space = match r("spaceBeforeSlash") {
            Some(Value::Bool(true)) => " ".to_string(),
            Some(v) if v.truthy() => v.to_js_string(),
            _ => String::new(),
        };
        BuildOptions {
            attrkey: text("attrkey", "$"),
            charkey: text("charkey", "_"),
            root_name: text("rootName", "root"),
            headless: get("headless").is_some_and(|v| v.truthy()),
            cdata: get("cdata").is_some_and(|v| v.truthy()),
            version,
            encoding,
            standalone,
            pretty: r("pretty").is_some_and(|v| v.truthy()),
            indent: r("indent")
                .filter(|v| !v.is_nullish())
                .map_or_else(|| "  ".to_string(), |v| v.to_js_string()),
            newline: r("newline")
                .filter(|v| !v.is_nullish())
                .map_or_else(|| "\n".to_string(), |v| v.to_js_string()),
            allow_empty: r("allowEmpty").is_some_and(|v| v.truthy()),
            space_before_slash: space,
        }
    }
}

enum Node {
    Elem(Elem),
    Text(String),
    Raw(String),
}

struct Elem {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

fn err(msg: impl Into<String>) -> NodeError {
    NodeError::new(msg.into())
}

/// xmlbuilder's `assertLegalChar` for XML 1.0.
fn legal_chars(s: String) -> Result<String, NodeError> {
    let bad = s.chars().position(|c| matches!(c, '\0'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}'));
    match bad {
        Some(i) => Err(err(format!(
            "Invalid character in string: {s} at index {i}"
        ))),
        None => Ok(s),
    }
}

fn name_start(c: char) -> bool {
    matches!(c, ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{c0}'..='\u{d6}' | '\u{d8}'..='\u{f6}' | '\u{f8}'..='\u{2ff}'
        | '\u{370}'..='\u{37d}' | '\u{37f}'..='\u{1fff}' | '\u{200c}' | '\u{200d}' | '\u{2070}'..='\u{218f}'
        | '\u{2c00}'..='\u{2fef}' | '\u{3001}'..='\u{d7ff}' | '\u{f900}'..='\u{fdcf}' | '\u{fdf0}'..='\u{fffd}'
        | '\u{10000}'..='\u{effff}')
}

fn name_char(c: char) -> bool {
    name_start(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{b7}' | '\u{300}'..='\u{36f}' | '\u{203f}' | '\u{2040}')
}

fn legal_name(name: &str) -> Result<String, NodeError> {
    let name = legal_chars(name.to_string())?;
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if name_start(first) && chars.all(name_char) => Ok(name),
        _ => Err(err("Invalid character in name")),
    }
}

fn escape_text(s: &str) -> Result<String, NodeError> {
    legal_chars(
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('\r', "&#xD;"),
    )
}

fn escape_attr(s: &str) -> Result<String, NodeError> {
    legal_chars(
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('"', "&quot;")
            .replace('\t', "&#x9;")
            .replace('\n', "&#xA;")
            .replace('\r', "&#xD;"),
    )
}

fn requires_cdata(s: &str) -> bool {
    s.contains('&') || s.contains('>') || s.contains('<')
}

fn wrap_cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replacen("]]>", "]]]]><![CDATA[>", 1))
}

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

/// `for (key in v)` over the values the builder meets.
fn entries(v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Object(o) => o
            .entries()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        Value::Array(a) => a
            .to_vec()
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        Value::Buffer(b) => b
            .iter()
            .enumerate()
            .map(|(i, x)| (i.to_string(), Value::Number(f64::from(*x))))
            .collect(),
        Value::String(s) => s
            .chars()
            .enumerate()
            .map(|(i, c)| (i.to_string(), Value::from(c.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}

impl Elem {
    fn new(name: &str) -> Result<Elem, NodeError> {
        Ok(Elem {
            name: legal_name(name)?,
            attrs: Vec::new(),
            children: Vec::new(),
        })
    }

    /// `element.txt(value)`.
    fn text(&mut self, v: &Value) -> Result<(), NodeError> {
        if v.is_nullish() {
            return Err(err(format!(
                "Missing element text. parent: <{}>",
                self.name
            )));
        }
        let t = escape_text(&v.to_js_string())?;
        self.children.push(Node::Text(t));
        Ok(())
    }

    /// `element.att(name, value)`: `null`/`undefined` values are left out.
    fn attr(&mut self, name: &str, v: &Value) -> Result<(), NodeError> {
        if v.is_nullish() {
            return Ok(());
        }
        let name = legal_name(name)?;
        let value = escape_attr(&v.to_js_string())?;
        match self.attrs.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((name, value)),
        }
        Ok(())
    }
}

struct Builder<'a> {
    o: &'a BuildOptions,
}

impl Builder<'_> {
    /// An element holding a string (`ele(key, text)`), or raw CDATA.
    fn text_child(&self, key: &str, text: &str) -> Result<Node, NodeError> {
        let mut e = Elem::new(key)?;
        if self.o.cdata && requires_cdata(text) {
            e.children.push(Node::Raw(wrap_cdata(text)));
        } else {
            e.children.push(Node::Text(escape_text(text)?));
        }
        Ok(Node::Elem(e))
    }

    fn child(&self, key: &str, v: &Value) -> Result<Node, NodeError> {
        let mut e = Elem::new(key)?;
        self.render(&mut e, v)?;
        Ok(Node::Elem(e))
    }

    fn render(&self, el: &mut Elem, obj: &Value) -> Result<(), NodeError> {
        if !is_js_object(obj) {
            if let Value::String(s) = obj
                && self.o.cdata
                && requires_cdata(s)
            {
                el.children.push(Node::Raw(wrap_cdata(s)));
                return Ok(());
            }
            return el.text(obj);
        }
        if let Value::Array(items) = obj {
            for child in items.to_vec() {
                for (key, entry) in entries(&child) {
                    let node = self.child(&key, &entry)?;
                    el.children.push(node);
                }
            }
            return Ok(());
        }
        for (key, child) in entries(obj) {
            if key == self.o.attrkey {
                if is_js_object(&child) {
                    for (attr, value) in entries(&child) {
                        el.attr(&attr, &value)?;
                    }
                }
            } else if key == self.o.charkey {
                match &child {
                    Value::String(s) if self.o.cdata && requires_cdata(s) => {
                        el.children.push(Node::Raw(wrap_cdata(s)))
                    }
                    other => el.text(other)?,
                }
            } else if let Value::Array(items) = &child {
                for entry in items.to_vec() {
                    let node = match &entry {
                        Value::String(s) => self.text_child(&key, s)?,
                        other => self.child(&key, other)?,
                    };
                    el.children.push(node);
                }
            } else if is_js_object(&child) {
                let node = self.child(&key, &child)?;
                el.children.push(node);
            } else {
                let text = if child.is_nullish() {
                    String::new()
                } else {
                    child.to_js_string()
                };
                let node = self.text_child(&key, &text)?;
                el.children.push(node);
            }
        }
        Ok(())
    }
}

/// `new xml2js.Builder(options).buildObject(value)`.
pub(super) fn build(value: &Value, o: &BuildOptions) -> Result<String, NodeError> {
    if value.is_nullish() {
        return Err(err("Cannot convert undefined or null to object"));
    }
    let keys = entries(value);
    let (root_name, root_obj) = match keys.as_slice() {
        [(k, v)] if o.root_name == "root" && !matches!(value, Value::String(_)) => {
            (k.clone(), v.clone())
        }
        _ => (o.root_name.clone(), value.clone()),
    };
    let mut root = Elem::new(&root_name)?;
    Builder { o }.render(&mut root, &root_obj)?;
    let mut w = Writer {
        o,
        out: String::new(),
        suppress: 0,
    };
    if !o.headless {
        w.declaration();
    }
    w.element(&root, 0);
    let mut out = w.out;
    if o.pretty && !o.newline.is_empty() && out.ends_with(&o.newline) {
        out.truncate(out.len() - o.newline.len());
    }
    Ok(out)
}

/// xmlbuilder's string writer.
struct Writer<'a> {
    o: &'a BuildOptions,
    out: String,
    suppress: usize,
}

impl Writer<'_> {
    fn indent(&mut self, level: usize) {
        if self.o.pretty && self.suppress == 0 {
            self.out.push_str(&self.o.indent.repeat(level));
        }
    }

    fn endline(&mut self) {
        if self.o.pretty && self.suppress == 0 {
            self.out.push_str(&self.o.newline);
        }
    }

    fn declaration(&mut self) {
        self.out
            .push_str(&format!("<?xml version=\"{}\"", self.o.version));
        if let Some(e) = &self.o.encoding {
            self.out.push_str(&format!(" encoding=\"{e}\""));
        }
        if let Some(s) = self.o.standalone {
            self.out.push_str(if s {
                " standalone=\"yes\""
            } else {
                " standalone=\"no\""
            });
        }
        self.out.push_str(&self.o.space_before_slash);
        self.out.push_str("?>");
        self.endline();
    }

    fn node(&mut self, n: &Node, level: usize) {
        match n {
            Node::Elem(e) => self.element(e, level),
            Node::Text(t) | Node::Raw(t) => {
                self.indent(level);
                self.out.push_str(t);
                self.endline();
            }
        }
    }

    fn element(&mut self, e: &Elem, level: usize) {
        self.indent(level);
        self.out.push('<');
        self.out.push_str(&e.name);
        for (name, value) in &e.attrs {
            self.out.push_str(&format!(" {name}=\"{value}\""));
        }
        let blank = e
            .children
            .iter()
            .all(|c| matches!(c, Node::Text(t) | Node::Raw(t) if t.is_empty()));
        if blank {
            if self.o.allow_empty {
                self.out.push_str(&format!("></{}>", e.name));
            } else {
                self.out.push_str(&self.o.space_before_slash);
                self.out.push_str("/>");
            }
            self.endline();
        } else if let [only @ (Node::Text(_) | Node::Raw(_))] = e.children.as_slice()
            && self.o.pretty
        {
            self.out.push('>');
            self.suppress += 1;
            self.node(only, level + 1);
            self.suppress -= 1;
            self.out.push_str(&format!("</{}>", e.name));
            self.endline();
        } else {
            self.out.push('>');
            self.endline();
            for c in &e.children {
                self.node(c, level + 1);
            }
            self.indent(level);
            self.out.push_str(&format!("</{}>", e.name));
            self.endline();
        }
    }
}
