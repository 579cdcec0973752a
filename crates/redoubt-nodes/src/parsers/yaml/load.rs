//! `yaml.load` of js-yaml 4 (the DEFAULT schema): builds a [`Value`] from
//! the event stream of serde-saphyr's YAML parser (`granit_parser`).
//!
//! The events give the syntax; the meaning is js-yaml's: plain scalars
//! resolve through the YAML 1.2 core schema (`true`/`True`/`TRUE` only,
//! `0o17`, `0x1F`, `1_000`, `.inf`) plus timestamps (to `Date`) and `<<`
//! merge keys; quoted and block scalars are strings; `!!binary` is a
//! Buffer; aliases share the anchored object; duplicate keys are an error;
//! keys become strings as `String(key)` makes them. Error messages follow
//! js-yaml's layout (`reason (line:column)` and a source snippet), but the
//! reason text is the parser's own.

use super::schema;
use base64::Engine;
use redoubt_core::value::{Array, Object, Value};
use serde_saphyr::granit_parser::{Event, Marker, Options, Parser, ScalarStyle, Span, Tag};
use std::collections::{HashMap, HashSet};

/// A load failure: the message is what the yaml node reports.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LoadError(pub(super) String);

const CORE: &str = "tag:yaml.org,2002:";

enum Frame {
    Seq {
        items: Array,
        pairs: bool,
    },
    Map {
        obj: Object,
        key: Option<(Value, bool, Marker)>,
        overridable: HashSet<String>,
    },
}

struct Builder<'a> {
    text: &'a str,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    docs: Vec<Value>,
}

/// Parses one YAML document; an empty stream is `undefined`.
pub(super) fn load(text: &str) -> Result<Value, LoadError> {
    if text.contains('\0') {
        return Err(LoadError("null byte is not allowed in input".into()));
    }
    let mut opts = Options::default();
    opts.set_emit_comments(false);
    let mut b = Builder {
        text,
        stack: Vec::new(),
        anchors: HashMap::new(),
        docs: Vec::new(),
    };
    let mut saw_document = false;
    for item in Parser::new_from_str_with_options(text, opts) {
        let (event, span) = item.map_err(|e| b.error(&e.info(), e.marker()))?;
        match event {
            Event::DocumentStart(..) => {
                saw_document = true;
                b.anchors.clear();
            }
            Event::Scalar(value, style, anchor, tag) => {
                let is_merge = style == ScalarStyle::Plain && tag.is_none() && value == "<<";
                let v = b.scalar(&value, style, tag.as_deref(), &span)?;
                if anchor != 0 {
                    b.anchors.insert(anchor, v.clone());
                }
                b.push(v, is_merge, span.start)?;
            }
            Event::SequenceStart(_, anchor, tag) => {
                let pairs = match tag.as_deref() {
                    None => false,
                    Some(t) => b.collection_tag(t, &["seq", "omap", "pairs"], &span)? == "pairs",
                };
                let items = Array::new();
                if anchor != 0 {
                    b.anchors.insert(anchor, Value::Array(items.clone()));
                }
                b.stack.push(Frame::Seq { items, pairs });
            }
            Event::MappingStart(_, anchor, tag) => {
                if let Some(t) = tag.as_deref() {
                    b.collection_tag(t, &["map", "set"], &span)?;
                }
                let obj = Object::new();
                if anchor != 0 {
                    b.anchors.insert(anchor, Value::Object(obj.clone()));
                }
                b.stack.push(Frame::Map {
                    obj,
                    key: None,
                    overridable: HashSet::new(),
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { items, pairs }) = b.stack.pop() {
                    let v = if pairs {
                        to_pairs(&items, &b, &span)?
                    } else {
                        Value::Array(items)
                    };
                    b.push(v, false, span.start)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map { obj, .. }) = b.stack.pop() {
                    b.push(Value::Object(obj), false, span.start)?;
                }
            }
            Event::Alias(id) => {
                let v = b
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| b.error("unidentified alias", &span.start))?;
                b.push(v, false, span.start)?;
            }
            _ => {}
        }
        if b.docs.len() > 1 {
            return Err(b.error(
                "expected a single document in the stream, but found more",
                &span.start,
            ));
        }
    }
    Ok(match b.docs.pop() {
        Some(v) => v,
        None if saw_document || has_content(text) => Value::Null,
        None => Value::Undefined,
    })
}

/// js-yaml reads a document (holding `null`) from any input longer than
/// its leading spaces and one line break.
fn has_content(text: &str) -> bool {
    let t = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .trim_start_matches(' ');
    let ends_with_break = t.ends_with('\n') || t.ends_with('\r');
    t.chars().count() + usize::from(!ends_with_break && !t.is_empty()) > 1
}

fn to_pairs(items: &Array, b: &Builder<'_>, span: &Span) -> Result<Value, LoadError> {
    let mut out = Vec::new();
    for item in items.to_vec() {
        let Value::Object(o) = item else {
            return Err(b.error(
                "cannot resolve a node with !<tag:yaml.org,2002:pairs> explicit tag",
                &span.start,
            ));
        };
        for (k, v) in o.entries() {
            out.push(Value::from(vec![Value::String(k), v]));
        }
    }
    Ok(Value::from(out))
}

impl Builder<'_> {
    fn error(&self, reason: &str, at: &Marker) -> LoadError {
        LoadError(schema::format_error(
            self.text,
            reason,
            at.line().saturating_sub(1),
            at.col(),
            at.index(),
        ))
    }

    /// Checks an explicit collection tag and returns its core-schema suffix.
    fn collection_tag<'t>(
        &self,
        tag: &'t Tag,
        allowed: &[&str],
        span: &Span,
    ) -> Result<&'t str, LoadError> {
        let suffix = tag.suffix();
        if tag.handle() == CORE && allowed.contains(&suffix) {
            return Ok(suffix);
        }
        if tag.handle() == "!" && suffix.is_empty() {
            return Ok("");
        }
        Err(self.error(
            &format!("unknown tag !<{}{}>", tag.handle(), suffix),
            &span.start,
        ))
    }

    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: &Span,
    ) -> Result<Value, LoadError> {
        let Some(tag) = tag else {
            if style != ScalarStyle::Plain {
                return Ok(Value::str(text));
            }
            return Ok(schema::resolve_plain(text));
        };
        let (handle, suffix) = (tag.handle(), tag.suffix());
        if handle == "!" && suffix.is_empty() {
            return Ok(Value::str(text));
        }
        let bad = || {
            self.error(
                &format!("cannot resolve a node with !<{handle}{suffix}> explicit tag"),
                &span.start,
            )
        };
        if handle != CORE {
            return Err(self.error(&format!("unknown tag !<{handle}{suffix}>"), &span.start));
        }
        let resolved = schema::resolve_plain(text);
        match suffix {
            "str" => Ok(Value::str(text)),
            "null" if text.is_empty() || matches!(resolved, Value::Null) => Ok(Value::Null),
            "bool" if matches!(resolved, Value::Bool(_)) => Ok(resolved),
            "int" if schema::is_int(text) => Ok(resolved),
            "float" if schema::is_float(text) || schema::is_int(text) => {
                Ok(Value::Number(schema::construct_float(text)))
            }
            "timestamp" => schema::timestamp(text).map(Value::Date).ok_or_else(bad),
            "binary" => {
                let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(clean)
                    .map(|b| Value::Buffer(b.into()))
                    .map_err(|_| bad())
            }
            "merge" if text == "<<" => Ok(Value::str(text)),
            "null" | "bool" | "int" | "float" | "merge" => Err(bad()),
            _ => Err(self.error(&format!("unknown tag !<{handle}{suffix}>"), &span.start)),
        }
    }

    /// Places a finished node into its parent (or makes it the document).
    fn push(&mut self, v: Value, is_merge: bool, at: Marker) -> Result<(), LoadError> {
        let Some(top) = self.stack.last_mut() else {
            self.docs.push(v);
            return Ok(());
        };
        match top {
            Frame::Seq { items, .. } => {
                items.push(v);
                Ok(())
            }
            Frame::Map { key, .. } if key.is_none() => {
                *key = Some((v, is_merge, at));
                Ok(())
            }
            Frame::Map {
                obj,
                key,
                overridable,
            } => {
                let Some((k, merge, key_at)) = key.take() else {
                    return Ok(());
                };
                let (obj, overridable) = (obj.clone(), std::mem::take(overridable));
                let overridable = self.store_pair(&obj, overridable, k, merge, &key_at, v)?;
                if let Some(Frame::Map { overridable: o, .. }) = self.stack.last_mut() {
                    *o = overridable;
                }
                Ok(())
            }
        }
    }

    fn store_pair(
        &self,
        obj: &Object,
        mut overridable: HashSet<String>,
        key: Value,
        merge: bool,
        at: &Marker,
        value: Value,
    ) -> Result<HashSet<String>, LoadError> {
        if merge {
            let sources = match &value {
                Value::Array(a) => a.to_vec(),
                other => vec![other.clone()],
            };
            for src in sources {
                let Value::Object(src) = src else {
                    return Err(self.error(
                        "cannot merge mappings; the provided source object is unacceptable",
                        at,
                    ));
                };
                for (k, v) in src.entries() {
                    if !obj.contains_key(&k) {
                        obj.insert(k.clone(), v);
                        overridable.insert(k.to_string());
                    }
                }
            }
            return Ok(overridable);
        }
        let name = self.key_string(&key, at)?;
        if !overridable.contains(&name) && obj.contains_key(&name) {
            return Err(self.error("duplicated mapping key", at));
        }
        obj.insert(name.as_str(), value);
        overridable.remove(&name);
        Ok(overridable)
    }

    /// `String(key)`, with js-yaml's guards for arrays and objects.
    fn key_string(&self, key: &Value, at: &Marker) -> Result<String, LoadError> {
        match key {
            Value::Array(a) => {
                let items = a.to_vec();
                if items.iter().any(|i| matches!(i, Value::Array(_))) {
                    return Err(self.error("nested arrays are not supported inside keys", at));
                }
                Ok(key.to_js_string())
            }
            Value::Object(_) => Ok("[object Object]".into()),
            other => Ok(other.to_js_string()),
        }
    }
}
