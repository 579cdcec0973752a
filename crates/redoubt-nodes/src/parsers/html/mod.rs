//! html (`@node-red/nodes/core/parsers/70-HTML.js`): runs a CSS selector
//! over an HTML document (cheerio in Node-RED, the `scraper` crate here)
//! and returns, per matched element, its inner HTML, its text, its
//! attributes, or attributes plus inner HTML, either as one array or as one
//! message per element with `msg.parts`.
//!
//! Faithful details: "html" output is what cheerio's `.xml()` gives for the
//! trimmed inner HTML (empty elements self-close, `&<>"'` and non-ASCII
//! characters become entities); "compl" keeps plain inner HTML; text skips
//! comments, `<script>` and `<style>`; per-element messages whose value is
//! empty are not sent but still count in `parts.count`.
//!
//! Known deviations: selectors are standard CSS (scraper) plus jQuery's
//! trailing positional filters (`:first`, `:last`, `:eq(n)`, `:gt(n)`,
//! `:lt(n)`, `:even`, `:odd`); other cheerio extensions such as
//! `:contains()` are rejected as invalid. Attribute names lose namespace
//! prefixes, and attribute order follows scraper (sorted unless its
//! `deterministic` feature is enabled).

use super::read;
use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use redoubt_core::propex::{self, Seg};
use redoubt_core::value::{Object, Value};
use scraper::node::Node as HtmlNode;
use scraper::{ElementRef, Html, Selector};

pub(crate) struct HtmlType;

#[derive(Clone, Copy, PartialEq)]
enum Output {
    Html,
    Text,
    Attr,
    Compl,
}

struct HtmlParser {
    property: Vec<Seg>,
    outproperty: Vec<Seg>,
    tag: String,
    ret: Option<Output>,
    multi: bool,
    chr: String,
}

fn parse_prop(field: &str, raw: &str) -> Result<Vec<Seg>, ConfigError> {
    propex::parse(propex::strip_msg(raw)).map_err(|e| ConfigError::field(field, e.to_string()))
}

impl NodeType for HtmlType {
    fn type_name(&self) -> &'static str {
        "html"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let prop = or(cfg.str("property"), "payload");
        let outprop = or(cfg.str("outproperty"), &prop);
        let ret = match or(cfg.str("ret"), "html").as_str() {
            "html" => Some(Output::Html),
            "text" => Some(Output::Text),
            "attr" => Some(Output::Attr),
            "compl" => Some(Output::Compl),
            // Upstream produces nothing for an unknown output kind.
            _ => None,
        };
        let as_ = or(cfg.str("as"), "single");
        if as_ != "single" && as_ != "multi" {
            return Err(ConfigError::field(
                "as",
                format!("must be \"single\" or \"multi\", got {as_:?}"),
            ));
        }
        Ok(Box::new(HtmlParser {
            property: parse_prop("property", &prop)?,
            outproperty: parse_prop("outproperty", &outprop)?,
            tag: cfg.str("tag"),
            ret,
            multi: as_ == "multi",
            chr: or(cfg.str("chr"), "_"),
        }))
    }
}

fn or(s: String, default: &str) -> String {
    if s.is_empty() { default.to_string() } else { s }
}

/// jQuery's positional filters cheerio accepts at the end of a selector.
enum Position {
    All,
    Eq(i64),
    Gt(i64),
    Lt(i64),
    Even,
    Odd,
}

fn split_position(sel: &str) -> (&str, Position) {
    let t = sel.trim_end();
    for (suffix, pos) in [
        (":first", Position::Eq(0)),
        (":last", Position::Eq(-1)),
        (":even", Position::Even),
        (":odd", Position::Odd),
    ] {
        if let Some(base) = t.strip_suffix(suffix) {
            return (base, pos);
        }
    }
    for (name, make) in [
        (":eq(", Position::Eq as fn(i64) -> Position),
        (":gt(", Position::Gt),
        (":lt(", Position::Lt),
    ] {
        if let Some(open) = t.rfind(name)
            && let Some(arg) = t[open + name.len()..].strip_suffix(')')
            && let Ok(n) = arg.trim().parse::<i64>()
        {
            return (&t[..open], make(n));
        }
    }
    (sel, Position::All)
}

fn select<'a>(doc: &'a Html, tag: &str) -> Result<Vec<ElementRef<'a>>, NodeError> {
    if tag.trim().is_empty() {
        return Ok(Vec::new());
    }
    let (base, pos) = split_position(tag);
    let selector = Selector::parse(if base.trim().is_empty() { "*" } else { base })
        .map_err(|e| NodeError::new(e.to_string()))?;
    let all: Vec<ElementRef<'a>> = doc.select(&selector).collect();
    let len = all.len() as i64;
    let index = |n: i64| if n < 0 { n + len } else { n };
    Ok(match pos {
        Position::All => all,
        Position::Eq(n) => all
            .into_iter()
            .nth(usize::try_from(index(n)).unwrap_or(usize::MAX))
            .into_iter()
            .collect(),
        Position::Gt(n) => all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| (*i as i64) > index(n))
            .map(|(_, e)| e)
            .collect(),
        Position::Lt(n) => all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| (*i as i64) < index(n))
            .map(|(_, e)| e)
            .collect(),
        Position::Even => all.into_iter().step_by(2).collect(),
        Position::Odd => all.into_iter().skip(1).step_by(2).collect(),
    })
}

/// `encodeXML` of the entities package cheerio serialises with.
fn encode_xml(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if u32::from(c) >= 0x80 => out.push_str(&format!("&#x{:X};", u32::from(c))),
            c => out.push(c),
        }
    }
}

/// Serialises an element's children the way cheerio's `.xml()` does.
fn xml_children(el: ElementRef<'_>, out: &mut String) {
    for child in el.children() {
        match child.value() {
            HtmlNode::Text(t) => encode_xml(&t.text, out),
            HtmlNode::Comment(c) => {
                out.push_str("<!--");
                out.push_str(&c.comment);
                out.push_str("-->");
            }
            HtmlNode::Element(e) => {
                out.push('<');
                out.push_str(e.name());
                for (k, v) in e.attrs() {
                    out.push(' ');
                    out.push_str(k);
                    out.push_str("=\"");
                    encode_xml(v, out);
                    out.push('"');
                }
                match ElementRef::wrap(child) {
                    Some(inner) if child.has_children() => {
                        out.push('>');
                        xml_children(inner, out);
                        out.push_str("</");
                        out.push_str(e.name());
                        out.push('>');
                    }
                    _ => out.push_str("/>"),
                }
            }
            _ => {}
        }
    }
}

/// cheerio's `.text()`: descendant text, without comments, scripts and styles.
fn text_of(el: ElementRef<'_>, out: &mut String) {
    let name = el.value().name();
    if name == "script" || name == "style" {
        return;
    }
    for child in el.children() {
        match child.value() {
            HtmlNode::Text(t) => out.push_str(&t.text),
            HtmlNode::Element(_) => {
                if let Some(inner) = ElementRef::wrap(child) {
                    text_of(inner, out);
                }
            }
            _ => {}
        }
    }
}

fn js_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

fn attributes(el: &ElementRef<'_>, into: &Object) {
    for (k, v) in el.value().attrs() {
        into.insert(k, Value::str(v));
    }
}

impl HtmlParser {
    /// The value for one element; `None` when upstream would produce nothing.
    fn extract(&self, el: &ElementRef<'_>) -> Option<Value> {
        match self.ret? {
            Output::Html => {
                let mut s = String::new();
                xml_children(*el, &mut s);
                Some(Value::str(js_trim(&s)))
            }
            Output::Text => {
                let mut s = String::new();
                text_of(*el, &mut s);
                Some(Value::from(s))
            }
            Output::Attr => {
                let o = Object::new();
                attributes(el, &o);
                Some(Value::Object(o))
            }
            Output::Compl => {
                let o = Object::new();
                o.insert(self.chr.as_str(), Value::str(js_trim(&el.inner_html())));
                attributes(el, &o);
                Some(Value::Object(o))
            }
        }
    }

    fn document(value: &Value) -> Result<Html, NodeError> {
        match value {
            Value::String(s) => Ok(Html::parse_document(s)),
            Value::Buffer(b) => Ok(Html::parse_document(&String::from_utf8_lossy(b))),
            Value::Null => Err(NodeError::new(
                "Cannot read properties of null (reading 'type')",
            )),
            Value::Number(_) | Value::Bool(_) => Err(NodeError::new(format!(
                "Cannot create property 'prev' on {} '{}'",
                value.type_name(),
                value.to_js_string()
            ))),
            _ => Ok(Html::new_document()),
        }
    }
}

impl Node for HtmlParser {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let value = read(&msg, &self.property)?;
        if value.is_undefined() {
            cx.send(0, msg);
            return Ok(());
        }
        let mut tag = self.tag.clone();
        if tag.is_empty()
            && msg.object().contains_key("select")
            && let Some(sel) = msg.get("select").filter(Value::truthy)
        {
            tag = sel.to_js_string();
        }
        let doc = Self::document(&value)?;
        let found = select(&doc, &tag)?;
        let count = found.len();
        let mut single = Vec::new();
        for (index, el) in found.iter().enumerate() {
            let Some(v) = self.extract(el) else { continue };
            if !self.multi {
                single.push(v);
                continue;
            }
            if !v.truthy() {
                continue;
            }
            let out = msg.deep_clone();
            propex::set_segs(&out.to_value(), &self.outproperty, v, true, Some(&out));
            let parts = Object::new();
            parts.insert("id", msg.get("_msgid").unwrap_or_default());
            parts.insert("index", Value::Number(index as f64));
            parts.insert("count", Value::Number(count as f64));
            parts.insert("type", Value::str("string"));
            parts.insert("ch", Value::str(""));
            out.set("parts", Value::Object(parts));
            cx.send(0, out);
        }
        if !self.multi {
            propex::set_segs(
                &msg.to_value(),
                &self.outproperty,
                Value::from(single),
                true,
                Some(&msg),
            );
            cx.send(0, msg);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
