//! XML text to a JavaScript value the way `xml2js.parseString` 0.6 builds
//! it on top of sax (strict mode): every element is an object whose text
//! goes under the char key (`_`), attributes under the attr key (`$`) and
//! children under their tag name, always in arrays by default; an element
//! with text only collapses to its text, an empty one to `""`.
//!
//! quick-xml tokenises; sax's strictness is checked here (text outside the
//! root, unknown entities, attributes without values) and its error texts
//! are used, with `Line`/`Column`/`Char` computed from the failing offset.

use super::entities;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use redoubt_core::value::{Array, Object, Value, loose_eq};

/// The `xml2js` parser options the node honours (from `msg.options`).
pub(super) struct ParseOptions {
    pub(super) attrkey: String,
    pub(super) charkey: String,
    pub(super) explicit_charkey: bool,
    pub(super) trim: bool,
    pub(super) normalize: bool,
    pub(super) normalize_tags: bool,
    pub(super) explicit_root: bool,
    /// `None` is the default `''`: empty elements become their (blank) text.
    pub(super) empty_tag: Option<Value>,
    pub(super) explicit_array: bool,
    pub(super) ignore_attrs: bool,
    pub(super) merge_attrs: bool,
    pub(super) explicit_children: bool,
    pub(super) childkey: String,
    pub(super) preserve_children_order: bool,
    pub(super) chars_as_children: bool,
    pub(super) include_white_chars: bool,
}

impl ParseOptions {
    /// Reads the options from `msg.options` (or none), with xml2js's defaults.
    pub(super) fn from_value(o: Option<&Object>) -> ParseOptions {
        let get = |k: &str| o.and_then(|o| o.get(k));
        let flag = |k: &str, default: bool| get(k).map_or(default, |v| v.truthy());
        let text = |k: &str, default: &str| {
            get(k).map_or_else(|| default.to_string(), |v| v.to_js_string())
        };
        // xml2js compares with `!= ''`, so everything loosely equal to '' means "use the blank text".
        let empty_tag = get("emptyTag").filter(|v| !loose_eq(v, &Value::str("")));
        ParseOptions {
            attrkey: text("attrkey", "$"),
            charkey: text("charkey", "_"),
            explicit_charkey: flag("explicitCharkey", false),
            trim: flag("trim", false),
            normalize: flag("normalize", false),
            normalize_tags: flag("normalizeTags", false),
            explicit_root: flag("explicitRoot", true),
            empty_tag,
            explicit_array: flag("explicitArray", true),
            ignore_attrs: flag("ignoreAttrs", false),
            merge_attrs: flag("mergeAttrs", false),
            explicit_children: flag("explicitChildren", false),
            childkey: text("childkey", "$$"),
            preserve_children_order: flag("preserveChildrenOrder", false),
            chars_as_children: flag("charsAsChildren", false),
            include_white_chars: flag("includeWhiteChars", false),
        }
    }
}

/// A sax-style failure: the message already carries the position.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct XmlError(pub(super) String);

struct Open {
    obj: Object,
    name: String,
    text: String,
    cdata: bool,
}

fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || c == '\u{feff}')
}

fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// sax's error text: the reason, then 0-based line and column after the failing character.
fn sax_error(text: &str, reason: &str, offset: usize) -> XmlError {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let ch = text[offset..]
        .chars()
        .next()
        .map(String::from)
        .unwrap_or_default();
    XmlError(format!(
        "{reason}\nLine: {line}\nColumn: {column}\nChar: {ch}"
    ))
}

struct Parser<'a> {
    opts: &'a ParseOptions,
    stack: Vec<Open>,
}

impl Parser<'_> {
    fn assign_or_push(&self, obj: &Object, key: &str, value: Value) {
        match obj.get(key) {
            None => obj.insert(
                key,
                if self.opts.explicit_array {
                    Value::from(vec![value])
                } else {
                    value
                },
            ),
            Some(Value::Array(a)) => a.push(value),
            Some(existing) => obj.insert(key, Value::from(vec![existing, value])),
        }
    }

    fn open(&mut self, e: &BytesStart<'_>, src: &str, pos: usize) -> Result<(), XmlError> {
        let name = e.name().as_ref().to_string();
        let obj = Object::new();
        obj.insert(self.opts.charkey.as_str(), Value::str(""));
        for attr in e.attributes().with_checks(false) {
            let attr = attr.map_err(|err| {
                use quick_xml::events::attributes::AttrError;
                // Positions count from just after the tag's `<`.
                let (reason, at) = match err {
                    AttrError::UnquotedValue(at) => ("Unquoted attribute value", at),
                    AttrError::ExpectedEq(at) | AttrError::ExpectedValue(at) => {
                        ("Attribute without value", at)
                    }
                    AttrError::ExpectedQuote(at, _) => ("Unquoted attribute value", at),
                    AttrError::Duplicated(at, _) => ("Duplicate attribute", at),
                };
                sax_error(src, reason, pos + 1 + at)
            })?;
            if self.opts.ignore_attrs {
                continue;
            }
            let key = attr.key.as_ref().to_string();
            let value =
                entities::decode(&attr.value).map_err(|reason| sax_error(src, reason, pos))?;
            if self.opts.merge_attrs {
                self.assign_or_push(&obj, &key, Value::from(value));
            } else {
                let attrs = match obj.get(&self.opts.attrkey) {
                    Some(Value::Object(a)) => a,
                    _ => {
                        let a = Object::new();
                        obj.insert(self.opts.attrkey.as_str(), Value::Object(a.clone()));
                        a
                    }
                };
                attrs.insert(key, Value::from(value));
            }
        }
        let name = if self.opts.normalize_tags {
            name.to_lowercase()
        } else {
            name
        };
        obj.insert("#name", Value::str(&name));
        self.stack.push(Open {
            obj,
            name,
            text: String::new(),
            cdata: false,
        });
        Ok(())
    }

    fn text(&mut self, text: &str, cdata: bool) {
        let opts = self.opts;
        let Some(top) = self.stack.last_mut() else {
            return;
        };
        top.text.push_str(text);
        top.cdata |= cdata;
        if opts.explicit_children
            && opts.preserve_children_order
            && opts.chars_as_children
            && (opts.include_white_chars || !js_trim(text).is_empty())
        {
            let child = Object::new();
            child.insert("#name", Value::str("__text__"));
            let t = if opts.normalize {
                collapse_spaces(text)
            } else {
                text.to_string()
            };
            child.insert(opts.charkey.as_str(), Value::from(t));
            push_child(&top.obj, &opts.childkey, Value::Object(child));
        }
    }

    /// Closes the innermost element; returns the document when it was the root.
    fn close(&mut self) -> Option<Value> {
        let opts = self.opts;
        let Open {
            obj,
            name,
            text,
            cdata,
        } = self.stack.pop()?;
        if !opts.explicit_children || !opts.preserve_children_order {
            obj.remove("#name");
        }
        let charkey = opts.charkey.as_str();
        let mut value = Value::Object(obj.clone());
        let mut empty_str = String::new();
        if is_blank(&text) && !cdata {
            empty_str = text;
            obj.remove(charkey);
        } else {
            let mut t = text;
            if opts.trim {
                t = js_trim(&t).to_string();
            }
            if opts.normalize {
                t = collapse_spaces(&t);
            }
            obj.insert(charkey, Value::from(t.clone()));
            if obj.len() == 1 && !opts.explicit_charkey {
                value = Value::from(t);
            }
        }
        if matches!(&value, Value::Object(o) if o.is_empty()) {
            value = opts.empty_tag.clone().unwrap_or(Value::from(empty_str));
        }
        if opts.explicit_children && !opts.merge_attrs {
            value = self.explicit_children(value);
        }
        match self.stack.last() {
            Some(parent) => {
                let parent = parent.obj.clone();
                self.assign_or_push(&parent, &name, value);
                None
            }
            None if opts.explicit_root => {
                let root = Object::new();
                root.insert(name, value);
                Some(Value::Object(root))
            }
            None => Some(value),
        }
    }

    fn explicit_children(&self, value: Value) -> Value {
        let opts = self.opts;
        let Value::Object(obj) = &value else {
            return value;
        };
        if !opts.preserve_children_order {
            let node = Object::new();
            if let Some(a) = obj.remove(&opts.attrkey) {
                node.insert(opts.attrkey.as_str(), a);
            }
            if !opts.chars_as_children
                && let Some(c) = obj.remove(&opts.charkey)
            {
                node.insert(opts.charkey.as_str(), c);
            }
            if !obj.is_empty() {
                node.insert(opts.childkey.as_str(), value.clone());
            }
            return Value::Object(node);
        }
        let Some(parent) = self.stack.last() else {
            return value;
        };
        let clone: Object = obj.entries().into_iter().collect();
        push_child(&parent.obj, &opts.childkey, Value::Object(clone));
        obj.remove("#name");
        if obj.len() == 1
            && !opts.explicit_charkey
            && let Some(t) = obj.get(&opts.charkey)
        {
            return t;
        }
        value
    }
}

fn push_child(obj: &Object, childkey: &str, child: Value) {
    match obj.get(childkey) {
        Some(Value::Array(a)) => a.push(child),
        _ => obj.insert(childkey, Value::Array(Array::from_vec(vec![child]))),
    }
}

/// `s.replace(/\s{2,}/g, " ").trim()`.
fn collapse_spaces(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in s.chars() {
        if c.is_whitespace() {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            out.push_str(if run.chars().count() >= 2 { " " } else { &run });
            run.clear();
        }
        out.push(c);
    }
    if !run.is_empty() {
        out.push_str(if run.chars().count() >= 2 { " " } else { &run });
    }
    js_trim(&out).to_string()
}

/// `parseString(text, options)`; blank text is `null`.
pub(super) fn parse(text: &str, opts: &ParseOptions) -> Result<Value, XmlError> {
    if js_trim(text).is_empty() {
        return Ok(Value::Null);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = Reader::from_str(text);
    let cfg = reader.config_mut();
    cfg.trim_text(false);
    cfg.check_end_names = true;
    cfg.expand_empty_elements = false;
    let mut p = Parser {
        opts,
        stack: Vec::new(),
    };
    let mut saw_root = false;
    loop {
        let pos = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            let at = reader.error_position() as usize;
            let reason = match &e {
                quick_xml::Error::IllFormed(
                    quick_xml::errors::IllFormedError::MismatchedEndTag { .. },
                ) => "Unexpected close tag".to_string(),
                quick_xml::Error::IllFormed(
                    quick_xml::errors::IllFormedError::UnmatchedEndTag(name),
                ) => format!("Unmatched closing tag: {name}"),
                quick_xml::Error::Syntax(_) => "Unexpected end".to_string(),
                other => other.to_string(),
            };
            sax_error(text, &reason, at)
        })?;
        match event {
            Event::Start(e) => {
                saw_root = true;
                p.open(&e, text, pos)?;
            }
            Event::Empty(e) => {
                saw_root = true;
                p.open(&e, text, pos)?;
                if let Some(done) = p.close() {
                    return Ok(done);
                }
            }
            Event::End(_) => {
                if let Some(done) = p.close() {
                    return Ok(done);
                }
            }
            Event::Text(t) => {
                let raw = t.into_inner();
                if p.stack.is_empty() {
                    if !is_blank(&raw) {
                        let reason = if saw_root {
                            "Text data outside of root node."
                        } else {
                            "Non-whitespace before first tag."
                        };
                        return Err(sax_error(text, reason, pos));
                    }
                } else {
                    p.text(&raw, false);
                }
            }
            Event::GeneralRef(r) => {
                let decoded = entities::decode(&format!("&{};", &*r))
                    .map_err(|reason| sax_error(text, reason, pos))?;
                if p.stack.is_empty() {
                    return Err(sax_error(text, "Non-whitespace before first tag.", pos));
                }
                p.text(&decoded, false);
            }
            Event::CData(c) => {
                p.text(&c, true);
            }
            Event::Eof => {
                return Err(sax_error(
                    text,
                    if saw_root {
                        "Unclosed root tag"
                    } else {
                        "Unexpected end"
                    },
                    text.len(),
                ));
            }
            _ => {}
        }
    }
}
