//! The csv node's RFC 4180 mode (`spec: "rfc"`): the tokeniser of
//! [`super::parse`] plus the node logic around it. Column templates and
//! header rows are parsed strictly (a malformed template disables the node
//! with a red status), spaces in templates are kept, records default to
//! `\r\n`, and payloads that are neither text nor objects are errors.

use super::parse::{self, Cell, Options, ParseError, header_string, quote_cell};
use super::{
    HeaderOut, PartsInfo, RowOut, Settings, ensure_string, is_js_object, js_index, js_keys,
    read_of_nullish, row_message,
};
use redoubt_core::Msg;
use redoubt_core::node::{Node, NodeCtx, NodeError, Status};
use redoubt_core::value::Value;

const BAD_TEMPLATE: &str = "Malformed columns template.";
const NO_TEMPLATE: &str = "No columns template specified for object -> CSV.";
const NOT_CSV: &str = "This node only handles CSV strings or js objects.";
const QUOTE: char = '"';

pub(super) struct Rfc {
    s: Settings,
    /// The column names in use (`None` entries are skipped columns). Header
    /// rows and object keys replace it; it survives between messages.
    template: Vec<Cell>,
    /// The configured template could not be parsed: the node ignores input.
    broken: bool,
    no_template: bool,
    hdr_sent: bool,
    store: Vec<Value>,
    warn_no_template: bool,
}

/// What the payload of an object -> CSV message is made of.
#[derive(PartialEq)]
enum Rows {
    Objects,
    Arrays,
}

/// The characters that make a cell need quotes.
fn quoteables(sep: &str) -> [&str; 4] {
    [sep, "\"", "\n", "\r"]
}

fn has_template(t: &[Cell]) -> bool {
    !(t.is_empty() || (t.len() == 1 && t[0].as_deref() == Some("")))
}

fn blank() -> Vec<Cell> {
    vec![Some(String::new())]
}

fn parse_error(e: ParseError) -> NodeError {
    NodeError::new(e.0)
}

/// Parses a comma-separated column list strictly; `None` unless it is exactly one record.
fn template_from(col: &str, sep: &str) -> Result<Option<Vec<Cell>>, ParseError> {
    let chars: Vec<char> = col.chars().collect();
    let parsed = parse::parse(
        &chars,
        Options {
            separator: sep,
            quote: QUOTE,
            arrays: true,
            strict: true,
            ..Options::default()
        },
    )?;
    let mut rows = parsed.rows;
    Ok(if rows.len() == 1 { rows.pop() } else { None })
}

impl Rfc {
    pub(super) fn new(s: Settings) -> Rfc {
        let (template, broken) = match template_from(&s.template, ",") {
            Ok(t) => (t.unwrap_or_else(blank), false),
            Err(_) => (blank(), true),
        };
        Rfc {
            no_template: !has_template(&template),
            template,
            broken,
            hdr_sent: false,
            store: Vec::new(),
            warn_no_template: true,
            s,
        }
    }

    fn columns_text(msg: &Msg) -> String {
        match msg.get("columns") {
            Some(v) if v.truthy() => v.to_js_string(),
            _ => String::new(),
        }
    }

    fn write_csv(&mut self, msg: &Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let (items, kind) = match msg.payload() {
            Value::Array(a) => {
                let items = a.to_vec();
                match items.first() {
                    Some(Value::Array(_)) => (items, Rows::Arrays),
                    Some(first) if !is_js_object(first) => (vec![Value::Array(a)], Rows::Arrays),
                    _ => (items, Rows::Objects),
                }
            }
            other => (vec![other], Rows::Objects),
        };
        if !(self.no_template && PartsInfo::of(msg).index_after_first()) {
            self.template = template_from(&self.s.template, ",")
                .map_err(parse_error)?
                .unwrap_or_else(blank);
        }
        let sep = self.s.sep.clone();
        let quoteables = quoteables(&sep);
        let mut lines = Vec::new();
        let send_headers = matches!(self.s.hdrout, HeaderOut::All | HeaderOut::Once);
        if send_headers && !self.hdr_sent {
            if !has_template(&self.template) {
                self.template = if msg.object().contains_key("columns") {
                    template_from(&Self::columns_text(msg), ",")
                        .map_err(parse_error)?
                        .unwrap_or_else(blank)
                } else {
                    match items.first() {
                        Some(first) if !first.is_nullish() => {
                            js_keys(first).into_iter().map(Some).collect()
                        }
                        _ => {
                            return Err(NodeError::new(
                                "Cannot convert undefined or null to object",
                            ));
                        }
                    }
                };
            }
            let head: Vec<String> = self
                .template
                .iter()
                .map(|h| quote_cell(h.as_deref().unwrap_or(""), QUOTE, &quoteables))
                .collect();
            lines.push(head.join(&self.s.sep));
            if self.s.hdrout == HeaderOut::Once {
                self.hdr_sent = true;
            }
        }
        for row in &items {
            let line = if kind == Rows::Arrays {
                self.array_row(row)?
            } else {
                self.object_row(msg, row, &items[0], cx)?
            };
            lines.push(line);
        }
        msg.set(
            "payload",
            Value::from(lines.join(&self.s.ret) + &self.s.ret),
        );
        msg.set("columns", Value::from(header_string(&self.template, QUOTE)));
        cx.send(0, msg.clone());
        Ok(())
    }

    fn array_row(&self, row: &Value) -> Result<String, NodeError> {
        let sep = self.s.sep.clone();
        let quoteables = quoteables(&sep);
        let with_template = has_template(&self.template);
        let len = if with_template {
            self.template.len()
        } else {
            match row {
                Value::Array(a) => a.len(),
                Value::String(s) => s.chars().count(),
                Value::Buffer(b) => b.len(),
                _ => 0,
            }
        };
        let mut cells = Vec::with_capacity(len);
        for t in 0..len {
            if with_template && self.template[t].as_deref().is_none_or(str::is_empty) {
                cells.push(String::new());
                continue;
            }
            let cell = match row {
                Value::String(s) => s
                    .chars()
                    .nth(t)
                    .map(|c| Value::from(c.to_string()))
                    .unwrap_or_default(),
                _ => js_index(row, &t.to_string()),
            };
            let text = if cell.is_undefined() {
                String::new()
            } else {
                ensure_string(&cell)?
            };
            cells.push(quote_cell(&text, QUOTE, &quoteables));
        }
        Ok(cells.join(&self.s.sep))
    }

    fn object_row(
        &mut self,
        msg: &Msg,
        row: &Value,
        first: &Value,
        cx: &mut NodeCtx<'_>,
    ) -> Result<String, NodeError> {
        let sep = self.s.sep.clone();
        let quoteables = quoteables(&sep);
        if !has_template(&self.template) && msg.object().contains_key("columns") {
            self.template = template_from(&Self::columns_text(msg), ",")
                .map_err(parse_error)?
                .unwrap_or_default();
        }
        let mut cells = Vec::new();
        if has_template(&self.template) {
            for name in &self.template {
                let Some(name) = name.as_deref().filter(|n| !n.is_empty()) else {
                    cells.push(String::new());
                    continue;
                };
                if row.is_nullish() {
                    return Err(read_of_nullish(row, name));
                }
                let v = js_index(row, name);
                let text = if v.is_undefined() {
                    String::new()
                } else {
                    ensure_string(&v)?
                };
                cells.push(quote_cell(&text, QUOTE, &quoteables));
            }
            return Ok(cells.join(&self.s.sep));
        }
        if self.warn_no_template {
            cx.warn(NO_TEMPLATE);
            self.warn_no_template = false;
        }
        if row.is_nullish() {
            return Err(NodeError::new("Cannot convert undefined or null to object"));
        }
        let own = js_keys(row);
        self.template = own.iter().cloned().map(Some).collect();
        for key in js_keys(first) {
            if !own.contains(&key) {
                continue;
            }
            let v = js_index(row, &key);
            if is_js_object(&v) {
                continue;
            }
            let text = if v.is_undefined() {
                String::new()
            } else {
                v.to_js_string()
            };
            cells.push(quote_cell(&text, QUOTE, &quoteables));
        }
        Ok(cells.join(&self.s.sep))
    }

    fn read_csv(&mut self, msg: &Msg, text: &str, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let input: Vec<char> = text.chars().collect();
        let parts = PartsInfo::of(msg);
        let skip = self.s.skip as f64;
        let mut first_line = true;
        let mut linecount = 0.0;
        if parts.present {
            linecount = parts.index;
            if parts.index > skip {
                first_line = false;
            }
        }
        let last = parts.is_last();
        let mut cursor = 0;
        if skip > 0.0 && linecount < skip {
            while cursor < input.len() && first_line && linecount < skip {
                if input[cursor] == '\r' || input[cursor] == '\n' {
                    linecount += 1.0;
                }
                cursor += 1;
            }
            if cursor >= input.len() {
                return Ok(());
            }
        }
        let breaks = input[cursor..]
            .iter()
            .filter(|c| **c == '\r' || **c == '\n')
            .count();
        if parts.present && self.s.multi == "mult" && breaks > 1 {
            first_line = true;
        }
        if first_line && self.s.hdrin {
            let opts = Options {
                cursor,
                separator: &self.s.sep,
                quote: QUOTE,
                headers_only: true,
                arrays: true,
                strict: true,
                ..Options::default()
            };
            match parse::parse(&input, opts) {
                Ok(head) => {
                    self.template = head.headers;
                    cursor = head.cursor;
                }
                Err(e) => {
                    cx.status(Status::new("red", "dot", BAD_TEMPLATE));
                    return Err(parse_error(e));
                }
            }
        }
        let opts = Options {
            cursor,
            separator: &self.s.sep,
            quote: QUOTE,
            data_has_header_row: false,
            headers: if has_template(&self.template) {
                self.template.clone()
            } else {
                Vec::new()
            },
            include_null_values: self.s.include_null_values,
            include_empty_strings: self.s.include_empty_strings,
            parse_numeric: self.s.parse_numbers,
            ..Options::default()
        };
        let parsed = parse::parse(&input, opts).map_err(parse_error)?;
        let columns = header_string(&parsed.headers, QUOTE);
        let data = parsed.objects;
        if self.s.multi != "one" {
            if parts.present && breaks <= 1 {
                self.store.extend(data);
                if parts.completes() {
                    msg.set("payload", Value::from(std::mem::take(&mut self.store)));
                    msg.set("columns", Value::from(columns));
                    msg.remove("parts");
                    cx.send(0, msg.clone());
                }
            } else {
                msg.set("columns", Value::from(columns));
                msg.set("payload", Value::from(data));
                cx.send(0, msg.clone());
            }
        } else {
            let count = data.len();
            let out = RowOut {
                columns: &columns,
                count,
                skip: self.s.skip,
                hdrin: self.s.hdrin_truthy,
                last,
            };
            for (i, row) in data.into_iter().enumerate() {
                cx.send(0, row_message(msg, row, i, &out));
            }
            if parts.present && last && count == 0 {
                let done = Msg::new();
                done.set("complete", Value::Bool(true));
                cx.send(0, done);
            }
        }
        Ok(())
    }
}

impl Node for Rfc {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        cx.status(Status::clear());
        if self.broken {
            cx.warn(BAD_TEMPLATE);
            cx.status(Status::new("red", "dot", BAD_TEMPLATE));
        }
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        if self.broken {
            return Ok(());
        }
        cx.status(Status::clear());
        let reset = msg.object().contains_key("reset");
        if reset {
            self.hdr_sent = false;
        }
        if !msg.object().contains_key("payload") {
            if !reset {
                cx.send(0, msg);
            }
            return Ok(());
        }
        match msg.payload() {
            v if is_js_object(&v) => self.write_csv(&msg, cx),
            Value::String(text) => self.read_csv(&msg, &text, cx),
            _ => {
                cx.status(Status::new("red", "dot", NOT_CSV));
                Err(NodeError::new(NOT_CSV))
            }
        }
    }
}
