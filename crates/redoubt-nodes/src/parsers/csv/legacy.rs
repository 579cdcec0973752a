//! The csv node's legacy mode: Node-RED's original character loop, ported
//! with its quirks (quotes toggle an "inside" flag wherever they appear, a
//! line starting with a separator throws, `\r\n` ends a row twice, column
//! templates are trimmed and unquoted, non-CSV payloads only warn).

use super::{
    HeaderOut, PartsInfo, RowOut, Settings, ensure_string, is_js_object, js_index, js_keys,
    js_parse_float, js_trim, read_of_nullish, row_message, split_outside_quotes,
};
use redoubt_core::Msg;
use redoubt_core::node::{Node, NodeCtx, NodeError, Status};
use redoubt_core::value::{Array, Object, Value};
use std::sync::LazyLock;

/// Upstream's "looks like a number" test for legacy mode.
static NUMBER: LazyLock<Option<regress::Regex>> = LazyLock::new(|| {
    regress::Regex::with_flags(r"^[-]?(?!E)(?!0\d)\d*\.?\d*(E-?\+?)?\d+$", "i").ok()
});

const NO_TEMPLATE: &str = "No columns template specified for object -> CSV.";
const BAD_CSV: &str = "Malformed CSV data - output probably corrupt.";
const NOT_CSV: &str = "This node only handles CSV strings or js objects.";

pub(super) struct Legacy {
    s: Settings,
    /// The column names in use; header rows and object keys replace it and it
    /// survives between messages, as upstream's closure variable does.
    template: Vec<String>,
    goodtmpl: bool,
    /// The separator `clean()` splits on when not given one: the last one it was given.
    clean_sep: String,
    notemplate: bool,
    hdr_sent: bool,
    store: Vec<Value>,
    warn_no_template: bool,
}

impl Legacy {
    pub(super) fn new(s: Settings) -> Legacy {
        let mut node = Legacy {
            template: Vec::new(),
            goodtmpl: true,
            clean_sep: s.sep.clone(),
            notemplate: false,
            hdr_sent: false,
            store: Vec::new(),
            warn_no_template: true,
            s,
        };
        let t = node.s.template.clone();
        node.template = node.clean(&t, Some(","));
        node.notemplate = is_blank(&node.template);
        node
    }

    /// Splits a column list on separators outside quotes, then drops quotes and trims.
    fn clean(&mut self, col: &str, sep: Option<&str>) -> Vec<String> {
        if let Some(sep) = sep {
            self.clean_sep = sep.to_string();
        }
        let cols: Vec<String> = split_outside_quotes(js_trim(col), &self.clean_sep)
            .iter()
            .map(|c| js_trim(&c.replace('"', "")).to_string())
            .collect();
        self.goodtmpl = !is_blank(&cols);
        cols
    }

    fn columns_text(msg: &Msg) -> Result<String, NodeError> {
        match msg.get("columns") {
            Some(Value::String(s)) => Ok(s.to_string()),
            Some(v) if v.truthy() => Err(NodeError::new("col.trim is not a function")),
            _ => Ok(String::new()),
        }
    }

    fn quote_plain(&self, text: String, also_newline_key: bool) -> String {
        if text.contains('"') {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else if text.contains(self.s.sep.as_str()) || also_newline_key {
            format!("\"{text}\"")
        } else {
            text
        }
    }

    fn write_csv(&mut self, msg: &Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let parts = PartsInfo::of(msg);
        if !(self.notemplate && parts.index_after_first()) {
            let t = self.s.template.clone();
            self.template = self.clean(&t, None);
        }
        let mut payload = match msg.payload() {
            Value::Array(a) => a,
            other => Array::from_vec(vec![other]),
        };
        msg.set("payload", Value::Array(payload.clone()));
        let sep = self.s.sep.clone();
        let mut lines = Vec::new();
        if self.s.hdrout != HeaderOut::None && !self.hdr_sent {
            if is_blank(&self.template) {
                if msg.object().contains_key("columns") {
                    let cols = Self::columns_text(msg)?;
                    self.template = self.clean(&cols, Some(","));
                } else {
                    let first = payload.get(0).unwrap_or_default();
                    if first.is_nullish() {
                        return Err(NodeError::new("Cannot convert undefined or null to object"));
                    }
                    self.template = js_keys(&first);
                }
            }
            let head: Vec<String> = self
                .template
                .iter()
                .map(|v| {
                    if v.contains(sep.as_str()) {
                        format!("\"{v}\"")
                    } else {
                        v.clone()
                    }
                })
                .collect();
            lines.push(head.join(&sep));
            if self.s.hdrout == HeaderOut::Once {
                self.hdr_sent = true;
            }
        }
        let mut s = 0;
        while s < payload.len() {
            let item = payload.get(s).unwrap_or_default();
            if matches!(item, Value::Array(_)) || !is_js_object(&item) {
                let row = if is_js_object(&item) {
                    item
                } else {
                    // Upstream wraps the whole payload so that it becomes the one row.
                    let whole = Value::Array(payload.clone());
                    payload = Array::from_vec(vec![whole]);
                    msg.set("payload", Value::Array(payload.clone()));
                    payload
                        .get(s)
                        .ok_or_else(|| read_of_nullish(&Value::Undefined, "length"))?
                };
                lines.push(self.array_row(&row)?);
            } else {
                if is_blank(&self.template) && msg.object().contains_key("columns") {
                    let cols = Self::columns_text(msg)?;
                    self.template = self.clean(&cols, Some(","));
                }
                if is_blank(&self.template) {
                    if self.warn_no_template {
                        cx.warn(NO_TEMPLATE);
                        self.warn_no_template = false;
                    }
                    lines.push(self.keyed_row(&item, &payload.get(0).unwrap_or_default())?);
                } else {
                    lines.push(self.template_row(&item)?);
                }
            }
            s += 1;
        }
        let out = lines.join(&self.s.ret) + &self.s.ret;
        let columns: Vec<String> = self
            .template
            .iter()
            .map(|v| {
                if v.contains(',') {
                    format!("\"{v}\"")
                } else {
                    v.clone()
                }
            })
            .collect();
        msg.set("payload", Value::from(out.clone()));
        msg.set("columns", Value::from(columns.join(",")));
        if !out.is_empty() {
            cx.send(0, msg.clone());
        }
        Ok(())
    }

    /// A row given as an array: each cell quoted in place, then joined.
    fn array_row(&self, row: &Value) -> Result<String, NodeError> {
        let Value::Array(cells) = row else {
            return Err(read_of_nullish(row, "length"));
        };
        let mut texts = Vec::with_capacity(cells.len());
        for (t, cell) in cells.to_vec().into_iter().enumerate() {
            let cell = if cell.is_undefined() {
                Value::str("")
            } else {
                cell
            };
            if matches!(cell, Value::Null) {
                return Err(read_of_nullish(&cell, "toString"));
            }
            let text = cell.to_js_string();
            let quoted = if text.contains('"')
                || text.contains(self.s.sep.as_str())
                || text.contains('\n')
            {
                let q = self.quote_plain(text, true);
                cells.set(t, Value::from(q.clone()));
                q
            } else {
                cells.set(t, cell);
                text
            };
            texts.push(quoted);
        }
        Ok(texts.join(&self.s.sep))
    }

    /// An object row without a template: the first row's keys, scalar values only.
    fn keyed_row(&self, item: &Value, first: &Value) -> Result<String, NodeError> {
        let mut cells = Vec::new();
        for key in js_keys(first) {
            if item.is_nullish() {
                return Err(read_of_nullish(item, "hasOwnProperty"));
            }
            if !js_keys(item).contains(&key) {
                continue;
            }
            let v = js_index(item, &key);
            if is_js_object(&v) {
                continue;
            }
            let text = if v.is_undefined() {
                String::new()
            } else {
                v.to_js_string()
            };
            cells.push(self.quote_plain(text, key.contains('\n')));
        }
        Ok(cells.join(&self.s.sep))
    }

    /// An object row with a template: one cell per column name.
    fn template_row(&self, item: &Value) -> Result<String, NodeError> {
        let mut cells = Vec::with_capacity(self.template.len());
        for name in &self.template {
            if name.is_empty() {
                cells.push(String::new());
                continue;
            }
            if item.is_nullish() {
                return Err(read_of_nullish(item, name));
            }
            let v = js_index(item, name);
            let text = if v.is_undefined() {
                String::new()
            } else {
                ensure_string(&v)?
            };
            let newline = text.contains('\n');
            cells.push(self.quote_plain(text, newline));
        }
        Ok(cells.join(&self.s.sep))
    }
}

/// True for the "no template" shape `[""]`.
fn is_blank(t: &[String]) -> bool {
    t.len() == 1 && t[0].is_empty()
}

/// One cell of the legacy loop: `None` is `null`.
struct Cell(Option<String>);

impl Legacy {
    fn column_name(&mut self, j: usize) -> Option<String> {
        if !self.goodtmpl {
            let name = format!("col{}", j + 1);
            if j < self.template.len() {
                self.template[j] = name;
            } else {
                self.template.push(name);
            }
        }
        self.template.get(j).filter(|t| !t.is_empty()).cloned()
    }

    fn commit(&self, o: &Object, name: &str, cell: &Cell) {
        match &cell.0 {
            None => {
                if self.s.include_null_values {
                    o.insert(name, Value::Null);
                }
            }
            Some(text) => {
                let t = js_trim(text);
                let numeric =
                    self.s.parse_numbers && NUMBER.as_ref().is_some_and(|re| re.find(t).is_some());
                if numeric {
                    o.insert(name, Value::Number(js_parse_float(t)));
                } else if text.is_empty() {
                    if self.s.include_empty_strings {
                        o.insert(name, Value::str(""));
                    }
                } else {
                    o.insert(name, Value::str(text));
                }
            }
        }
    }

    fn read_csv(&mut self, msg: &Msg, text: &str, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let line: Vec<char> = text.chars().collect();
        let sep = super::parse::single_char(&self.s.sep);
        let parts = PartsInfo::of(msg);
        let mut first = true;
        let mut linecount = 0.0;
        if parts.present {
            linecount = parts.index;
            if parts.index > self.s.skip as f64 {
                first = false;
            }
        }
        let last = parts.is_last();
        let nocr = line.iter().filter(|c| **c == '\r' || **c == '\n').count();
        let mut tmp = String::new();
        if parts.present && self.s.multi == "mult" && nocr > 1 {
            first = true;
        }
        let (mut inside, mut j) = (false, 0usize);
        let mut cell = Cell(Some(String::new()));
        let mut o = Object::new();
        let mut rows: Vec<Value> = Vec::new();
        for (i, &c) in line.iter().enumerate() {
            if first && linecount < self.s.skip as f64 {
                if c == '\n' {
                    linecount += 1.0;
                }
                continue;
            }
            if self.s.hdrin && first {
                if c == '\n' || c == '\r' || line.len() - i == 1 {
                    if line.len() - i == 1 {
                        tmp.push(c);
                    }
                    let sep = self.s.sep.clone();
                    self.template = self.clean(&tmp, Some(&sep));
                    first = false;
                } else {
                    tmp.push(c);
                }
                continue;
            }
            let prev = if i > 0 { Some(line[i - 1]) } else { None };
            if c == '"' {
                inside = !inside;
                if prev == Some('"') && inside {
                    cell.0.get_or_insert_with(String::new).push('"');
                }
            } else if Some(c) == sep && !inside {
                if let Some(name) = self.column_name(j) {
                    match prev {
                        None => return Err(read_of_nullish(&Value::Undefined, "includes")),
                        Some(p) if Some(p) == sep || p == '\n' => cell.0 = None,
                        Some(_) => {}
                    }
                    self.commit(&o, &name, &cell);
                }
                j += 1;
                cell = Cell(if line.len() - 1 == i {
                    None
                } else {
                    Some(String::new())
                });
            } else if (c == '\n' || c == '\r') && !inside {
                if let Some(name) = self.column_name(j) {
                    if prev.is_some() && prev == sep {
                        cell.0 = None;
                    }
                    self.commit(&o, &name, &cell);
                }
                if !o.is_empty() {
                    rows.push(Value::Object(o));
                }
                j = 0;
                cell = Cell(Some(String::new()));
                o = Object::new();
                inside = false;
            } else {
                cell.0.get_or_insert_with(|| "null".to_string()).push(c);
            }
        }
        if inside {
            cx.warn(BAD_CSV);
        }
        if let Some(name) = self.column_name(j) {
            self.commit(&o, &name, &cell);
        }
        if !o.is_empty() {
            rows.push(Value::Object(o.clone()));
        }
        let columns: Vec<String> = self
            .template
            .iter()
            .filter(|v| !v.is_empty())
            .map(|v| {
                if v.contains(',') {
                    format!("\"{v}\"")
                } else {
                    v.clone()
                }
            })
            .collect();
        let columns = columns.join(",");
        if self.s.multi != "one" {
            if parts.present && nocr <= 1 {
                if !o.is_empty() {
                    self.store.push(Value::Object(o));
                }
                if parts.completes() {
                    msg.set("payload", Value::from(std::mem::take(&mut self.store)));
                    msg.set("columns", Value::from(columns));
                    msg.remove("parts");
                    cx.send(0, msg.clone());
                }
            } else {
                msg.set("payload", Value::from(rows));
                msg.set("columns", Value::from(columns));
                cx.send(0, msg.clone());
            }
        } else {
            let out = RowOut {
                columns: &columns,
                count: rows.len(),
                skip: self.s.skip,
                hdrin: self.s.hdrin_truthy,
                last,
            };
            let count = rows.len();
            for (i, row) in rows.into_iter().enumerate() {
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

impl Node for Legacy {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        cx.status(Status::clear());
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
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
                cx.warn(NOT_CSV);
                Ok(())
            }
        }
    }
}
