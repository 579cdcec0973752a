//! json (`@node-red/nodes/core/parsers/70-JSON.js`): converts the property
//! (default `msg.payload`) between a JSON string and a value. `action` is
//! `""` (either way), `"str"` (always to a string) or `"obj"` (always to a
//! value); `pretty` indents with 4 spaces. A Buffer is parsed as UTF-8 text.
//!
//! Parse errors carry the text V8's `JSON.parse` gives (Node.js 22), since
//! flows show and test `msg.error.message`.
//!
//! A message carrying `msg.schema` is validated against that JSON Schema
//! (see [`super::json_schema`], modelled on ajv 8 with `allErrors`): a
//! valid message goes on without `msg.schema`; an invalid one gets
//! `msg.schemaError` and fails with "JSON Schema error: <ajv errorsText>".
//! As in Node-RED, the value validated after parsing a string is the
//! top-level `msg[property]`.

use super::json_schema::{Schema, errors_text};
use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use redoubt_core::propex::{self, Seg};
use redoubt_core::value::{Value, from_json_str, from_serde, to_json_pretty, to_serde};

pub(crate) struct JsonType;

#[derive(Clone, Copy, PartialEq)]
enum Action {
    Toggle,
    Str,
    Obj,
}

struct Json {
    action: Action,
    indent: usize,
    path: Vec<Seg>,
    /// The property as written (`msg[property]` is what gets validated).
    property: String,
    /// The last `msg.schema` compiled, by its JSON text.
    schema: Option<(String, Schema)>,
}

impl NodeType for JsonType {
    fn type_name(&self) -> &'static str {
        "json"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let action = match cfg.str("action").as_str() {
            "" => Action::Toggle,
            "str" => Action::Str,
            "obj" => Action::Obj,
            other => {
                return Err(ConfigError::field(
                    "action",
                    format!("unknown action {other:?} (expected \"\", \"str\" or \"obj\")"),
                ));
            }
        };
        let prop = cfg.str("property");
        let prop = if prop.is_empty() {
            "payload".to_string()
        } else {
            prop
        };
        let path = propex::parse(propex::strip_msg(&prop))
            .map_err(|e| ConfigError::field("property", e.to_string()))?;
        let indent = if cfg.bool("pretty") { 4 } else { 0 };
        Ok(Box::new(Json {
            action,
            indent,
            path,
            property: prop,
            schema: None,
        }))
    }
}

impl Json {
    /// Compiles `msg.schema` when it differs from the last one.
    fn load_schema(&mut self, schema: &Value) -> Result<(), NodeError> {
        let text = redoubt_core::value::to_json(schema).unwrap_or_default();
        if self.schema.as_ref().is_some_and(|(t, _)| *t == text) {
            return Ok(());
        }
        self.schema = None;
        let compiled = Schema::compile(to_serde(schema))
            .map_err(|_| NodeError::new("JSON Schema error: failed to compile schema"))?;
        self.schema = Some((text, compiled));
        Ok(())
    }

    /// Validates `value`; on success drops `msg.schema`, else sets `msg.schemaError`.
    fn validate(&self, msg: &Msg, value: &Value) -> Result<(), NodeError> {
        let Some((_, schema)) = &self.schema else {
            return Ok(());
        };
        let errors = schema.validate(&to_serde(value));
        if errors.is_empty() {
            msg.remove("schema");
            return Ok(());
        }
        let list = serde_json::Value::Array(errors.iter().map(|e| e.to_json()).collect());
        msg.set("schemaError", from_serde(&list));
        Err(NodeError::new(format!(
            "JSON Schema error: {}",
            errors_text(&errors)
        )))
    }
}

impl Node for Json {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let validate = match msg.get("schema") {
            Some(s) if s.truthy() => {
                self.load_schema(&s)?;
                true
            }
            _ => false,
        };
        let root = msg.to_value();
        let value = propex::get_segs(&root, &self.path, Some(&msg)).unwrap_or_default();
        let top = || msg.get(&self.property).unwrap_or_default();
        match &value {
            Value::Undefined => {}
            Value::String(_) | Value::Buffer(_) => {
                if self.action != Action::Str {
                    let parsed = parse_js(&value.to_js_string()).map_err(NodeError::new)?;
                    propex::set_segs(&root, &self.path, parsed, true, Some(&msg));
                    if validate {
                        self.validate(&msg, &top())?;
                    }
                } else if validate {
                    let parsed = parse_js(&top().to_js_string()).map_err(NodeError::new)?;
                    self.validate(&msg, &parsed)?;
                }
            }
            Value::Object(_)
            | Value::Array(_)
            | Value::Bool(_)
            | Value::Number(_)
            | Value::Null
            | Value::Date(_) => {
                if validate {
                    self.validate(&msg, &value)?;
                }
                if self.action != Action::Obj {
                    let text = if self.indent > 0 {
                        to_json_pretty(&value, self.indent)
                    } else {
                        redoubt_core::value::to_json(&value)
                    };
                    let text = text.map_err(|_| NodeError::new("Failed to convert payload"))?;
                    propex::set_segs(&root, &self.path, Value::from(text), true, Some(&msg));
                }
            }
            Value::Handle(_) => {
                cx.warn("Ignored unsupported payload type");
                return Ok(());
            }
        }
        cx.send(0, msg);
        Ok(())
    }
}

/// `JSON.parse(text)`, failing with V8's message.
pub(crate) fn parse_js(text: &str) -> Result<Value, String> {
    match from_json_str(text) {
        Ok(v) => Ok(v),
        Err(_) => Err(v8_error(text)),
    }
}

/// Why V8 rejects `text`: the first error a JSON.parse-shaped scan meets.
fn v8_error(text: &str) -> String {
    let mut s = V8Scan {
        chars: text.chars().collect(),
        i: 0,
    };
    let fail = s.value().and_then(|()| {
        s.skip_ws();
        if s.i < s.chars.len() {
            Err(Fail::At(
                s.i,
                "Unexpected non-whitespace character after JSON",
            ))
        } else {
            Ok(())
        }
    });
    match fail {
        // serde refused something V8 accepts (deep nesting, lone surrogates).
        Ok(()) => "Unexpected token in JSON".to_string(),
        Err(Fail::Eos) => "Unexpected end of JSON input".to_string(),
        Err(Fail::At(i, what)) => {
            let (pos, line, col) = s.location(i);
            let place = if what.ends_with("after JSON") {
                ""
            } else {
                " in JSON"
            };
            format!("{what}{place} at position {pos} (line {line} column {col})")
        }
        Err(Fail::Token(i)) => s.unexpected_token(i),
    }
}

enum Fail {
    /// The input ended where a token was required.
    Eos,
    /// A positioned error with its V8 message prefix.
    At(usize, &'static str),
    /// An unexpected character at a value position.
    Token(usize),
}

struct V8Scan {
    chars: Vec<char>,
    i: usize,
}

impl V8Scan {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<(), Fail> {
        self.skip_ws();
        match self.peek() {
            None => Err(Fail::Eos),
            Some('{') => self.object(),
            Some('[') => self.array(),
            Some('"') => self.string(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some('t') => self.literal("true"),
            Some('f') => self.literal("false"),
            Some('n') => self.literal("null"),
            Some(_) => Err(Fail::Token(self.i)),
        }
    }

    fn literal(&mut self, word: &str) -> Result<(), Fail> {
        for w in word.chars() {
            match self.peek() {
                None => return Err(Fail::Eos),
                Some(c) if c == w => self.i += 1,
                Some(_) => return Err(Fail::Token(self.i)),
            }
        }
        Ok(())
    }

    fn object(&mut self) -> Result<(), Fail> {
        self.i += 1;
        self.skip_ws();
        if self.peek() == Some('}') {
            self.i += 1;
            return Ok(());
        }
        let mut first = true;
        loop {
            self.skip_ws();
            if self.peek() != Some('"') {
                let what = if first {
                    "Expected property name or '}'"
                } else {
                    "Expected double-quoted property name"
                };
                return Err(Fail::At(self.i, what));
            }
            first = false;
            self.string()?;
            self.skip_ws();
            if self.peek() != Some(':') {
                return Err(Fail::At(self.i, "Expected ':' after property name"));
            }
            self.i += 1;
            self.value()?;
            self.skip_ws();
            match self.peek() {
                Some(',') => self.i += 1,
                Some('}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Fail::At(self.i, "Expected ',' or '}' after property value")),
            }
        }
    }

    fn array(&mut self) -> Result<(), Fail> {
        self.i += 1;
        self.skip_ws();
        if self.peek() == Some(']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.value()?;
            self.skip_ws();
            match self.peek() {
                Some(',') => self.i += 1,
                Some(']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Fail::At(self.i, "Expected ',' or ']' after array element")),
            }
        }
    }

    fn string(&mut self) -> Result<(), Fail> {
        self.i += 1;
        loop {
            match self.peek() {
                None => return Err(Fail::At(self.i, "Unterminated string")),
                Some('"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some('\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => self.i += 1,
                        Some('u') => {
                            self.i += 1;
                            for _ in 0..4 {
                                match self.peek() {
                                    Some(c) if c.is_ascii_hexdigit() => self.i += 1,
                                    _ => return Err(Fail::At(self.i, "Bad Unicode escape")),
                                }
                            }
                        }
                        None => return Err(Fail::At(self.i, "Unterminated string")),
                        Some(_) => return Err(Fail::At(self.i, "Bad escaped character")),
                    }
                }
                Some(c) if (c as u32) < 0x20 => {
                    return Err(Fail::At(self.i, "Bad control character in string literal"));
                }
                Some(_) => self.i += 1,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<(), Fail> {
        if self.peek() == Some('-') {
            self.i += 1;
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(Fail::At(self.i, "No number after minus sign"));
            }
        }
        if self.peek() == Some('0') {
            self.i += 1;
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(Fail::At(self.i, "Unexpected number"));
            }
        } else {
            self.digits();
        }
        if self.peek() == Some('.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(Fail::At(self.i, "Unterminated fractional number"));
            }
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.i += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(Fail::At(self.i, "Exponent part is missing a number"));
            }
        }
        Ok(())
    }

    fn utf16_pos(&self, i: usize) -> usize {
        self.chars[..i.min(self.chars.len())]
            .iter()
            .map(|c| c.len_utf16())
            .sum()
    }

    /// Position, line and column as V8 reports them (`\r\n` is one break).
    fn location(&self, i: usize) -> (usize, usize, usize) {
        let mut line = 1;
        let mut line_start = 0;
        let mut k = 0;
        while k < i.min(self.chars.len()) {
            let c = self.chars[k];
            if c == '\r' && self.chars.get(k + 1) == Some(&'\n') && k + 1 < i {
                k += 1;
            }
            if c == '\r' || c == '\n' {
                line += 1;
                line_start = k + 1;
            }
            k += 1;
        }
        (
            self.utf16_pos(i),
            line,
            self.utf16_pos(i) - self.utf16_pos(line_start) + 1,
        )
    }

    fn unexpected_token(&self, i: usize) -> String {
        let src: String = self.chars.iter().collect();
        if matches!(
            src.as_str(),
            "undefined" | "NaN" | "Infinity" | "[object Object]"
        ) {
            return format!("\"{src}\" is not valid JSON");
        }
        let tok = self.chars[i];
        const CONTEXT: usize = 10;
        let len = self.chars.len();
        let sub = |a: usize, b: usize| self.chars[a..b.min(len)].iter().collect::<String>();
        if len < CONTEXT * 2 + 1 {
            format!("Unexpected token '{tok}', \"{src}\" is not valid JSON")
        } else if i < CONTEXT {
            format!(
                "Unexpected token '{tok}', \"{}\"... is not valid JSON",
                sub(0, i + CONTEXT)
            )
        } else if i < len - CONTEXT {
            format!(
                "Unexpected token '{tok}', ...\"{}\"... is not valid JSON",
                sub(i - CONTEXT, i + CONTEXT)
            )
        } else {
            format!(
                "Unexpected token '{tok}', ...\"{}\" is not valid JSON",
                sub(i - CONTEXT, len)
            )
        }
    }
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
