//! The RFC 4180 tokeniser of Node-RED's `parsers/lib/csv/index.js`, which
//! the csv node's RFC mode is built on.
//!
//! Like the original it accepts any one-character separator and quote, and
//! `\r`, `\n` or `\r\n` as record ends. In strict mode (used for column
//! templates and header rows) a stray quote or data after a closing quote
//! is an error; otherwise the parser keeps going and keeps the stray quote
//! when something follows it. Empty cells are `None` (JavaScript `null`)
//! when nothing was between the separators, `""` when a quoted empty cell
//! was.

use redoubt_core::value::{Object, Value};

/// A malformed CSV input in strict mode; the text is the upstream error message.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ParseError(pub(super) &'static str);

/// One parsed cell: `None` is an empty unquoted cell.
pub(super) type Cell = Option<String>;

/// How [`parse`] reads its input.
pub(super) struct Options<'a> {
    pub(super) cursor: usize,
    pub(super) separator: &'a str,
    pub(super) quote: char,
    /// Stop after the first record and only report the headers.
    pub(super) headers_only: bool,
    /// Column names to use instead of a header row (empty: none supplied).
    pub(super) headers: Vec<Cell>,
    pub(super) data_has_header_row: bool,
    pub(super) parse_numeric: bool,
    pub(super) include_null_values: bool,
    pub(super) include_empty_strings: bool,
    /// `array` output style (rows of cells) instead of objects.
    pub(super) arrays: bool,
    pub(super) strict: bool,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            cursor: 0,
            separator: ",",
            quote: '"',
            headers_only: false,
            headers: Vec::new(),
            data_has_header_row: true,
            parse_numeric: false,
            include_null_values: false,
            include_empty_strings: true,
            arrays: false,
            strict: false,
        }
    }
}

/// The result of [`parse`].
pub(super) struct Parsed {
    pub(super) headers: Vec<Cell>,
    /// Array style: the rows, the header row first.
    pub(super) rows: Vec<Vec<Cell>>,
    /// Object style: one object per non-empty row.
    pub(super) objects: Vec<Value>,
    /// Where parsing stopped.
    pub(super) cursor: usize,
}

/// Parses `input` (as characters) from `opts.cursor`.
pub(super) fn parse(input: &[char], mut opts: Options<'_>) -> Result<Parsed, ParseError> {
    let sep = single_char(opts.separator);
    let quote = opts.quote;
    let mut cursor = opts.cursor;
    let mut cell = String::new();
    let mut row: Vec<Cell> = Vec::new();
    let mut output: Vec<Vec<Cell>> = Vec::new();
    let (mut new_cell, mut in_quote, mut closed) = (true, false, false);

    fn finalise_cell(row: &mut Vec<Cell>, cell: &mut String, new_cell: bool) {
        let text = std::mem::take(cell);
        row.push(if text.is_empty() {
            if new_cell { None } else { Some(String::new()) }
        } else {
            Some(text)
        });
    }

    while cursor < input.len() {
        let c = input[cursor];
        if in_quote {
            if c == quote && input.get(cursor + 1) == Some(&quote) {
                cell.push(quote);
                cursor += 2;
                new_cell = false;
                closed = false;
            } else if c == quote {
                in_quote = false;
                cursor += 1;
                new_cell = false;
                closed = true;
            } else {
                cell.push(c);
                new_cell = false;
                closed = false;
                cursor += 1;
            }
        } else if Some(c) == sep {
            finalise_cell(&mut row, &mut cell, new_cell);
            cursor += 1;
            new_cell = true;
            closed = false;
        } else if c == quote {
            if new_cell {
                in_quote = true;
                cursor += 1;
                new_cell = false;
                closed = false;
            } else if opts.strict {
                return Err(ParseError("Quote found in the middle of an unquoted field"));
            } else {
                // Keep one quote when something other than a cell or record end follows.
                cursor += 1;
                if let Some(&next) = input.get(cursor)
                    && next != '\n'
                    && next != '\r'
                    && Some(next) != sep
                {
                    cell.push(c);
                    if next == quote {
                        cursor += 1;
                    }
                }
            }
        } else if c == '\n' || c == '\r' {
            if !cell.is_empty() {
                finalise_cell(&mut row, &mut cell, new_cell);
            }
            if !row.is_empty() {
                output.push(std::mem::take(&mut row));
            }
            // Upstream skips a following `\n` after either line-break character.
            cursor += if input.get(cursor + 1) == Some(&'\n') {
                2
            } else {
                1
            };
            new_cell = true;
            closed = false;
            if opts.headers_only {
                break;
            }
        } else if closed {
            if opts.strict {
                return Err(ParseError("Data found after closing quote"));
            }
            // Step back onto the closing quote so it is kept as data.
            cursor -= 1;
            closed = false;
        } else {
            cell.push(c);
            new_cell = false;
            cursor += 1;
        }
    }
    if opts.strict && in_quote {
        return Err(ParseError("Missing quote, unclosed cell"));
    }
    if !cell.is_empty() {
        finalise_cell(&mut row, &mut cell, new_cell);
    }
    if !row.is_empty() {
        output.push(row);
    }

    let mut headers = std::mem::take(&mut opts.headers);
    let mut first_row_is_header = false;
    if let Some(first) = output.first()
        && headers.is_empty()
    {
        if opts.data_has_header_row {
            headers.extend(first.iter().cloned());
            first_row_is_header = true;
        } else {
            headers.extend((1..=first.len()).map(|i| Some(format!("col{i}"))));
        }
    }

    if opts.arrays || opts.headers_only {
        if !first_row_is_header && !opts.headers_only && !headers.is_empty() {
            output.insert(0, headers.clone());
        }
        let rows = if opts.headers_only {
            Vec::new()
        } else {
            output
        };
        return Ok(Parsed {
            headers,
            rows,
            objects: Vec::new(),
            cursor,
        });
    }

    let mut objects = Vec::new();
    for row in output.iter().skip(usize::from(first_row_is_header)) {
        let obj = Object::new();
        for (j, name) in headers.iter().enumerate() {
            let Some(name) = name.as_deref().filter(|s| !s.is_empty()) else {
                continue;
            };
            let v = row.get(j).cloned().flatten();
            let value = match v {
                None if !opts.include_null_values => continue,
                None => Value::Null,
                Some(s) if s.is_empty() && !opts.include_empty_strings => continue,
                Some(s) if opts.parse_numeric && !s.is_empty() && !skip_number_conversion(&s) => {
                    let n = Value::str(&s).to_number();
                    if n.is_nan() {
                        Value::from(s)
                    } else {
                        Value::Number(n)
                    }
                }
                Some(s) => Value::from(s),
            };
            obj.insert(name, value);
        }
        if !obj.is_empty() {
            objects.push(Value::Object(obj));
        }
    }
    Ok(Parsed {
        headers,
        rows: Vec::new(),
        objects,
        cursor,
    })
}

/// The non-empty headers, quoted for a comma-separated list, joined with commas.
pub(super) fn header_string(headers: &[Cell], quote: char) -> String {
    let q = quote.to_string();
    headers
        .iter()
        .filter_map(|h| h.as_deref().filter(|s| !s.is_empty()))
        .map(|h| quote_cell(h, quote, &[&q, ",", "\r", "\n"]))
        .collect::<Vec<_>>()
        .join(",")
}

/// `/^ *(\+|-0\d|0\d)/`: leading `+` or a leading zero keeps text as text.
fn skip_number_conversion(s: &str) -> bool {
    let t = s.trim_start_matches(' ');
    let b = t.as_bytes();
    match b {
        [b'+', ..] => true,
        [b'-', b'0', d, ..] | [b'0', d, ..] => d.is_ascii_digit(),
        _ => false,
    }
}

/// The separator as a character, when it is exactly one (longer separators never match).
pub(super) fn single_char(s: &str) -> Option<char> {
    let mut it = s.chars();
    match (it.next(), it.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// `quoteCell`: wraps a cell in quotes when it contains any of `quoteables`,
/// doubling embedded double quotes when it contains the quote character.
pub(super) fn quote_cell(cell: &str, quote: char, quoteables: &[&str]) -> String {
    let double_up = cell.contains(quote);
    let wrap = quoteables.iter().any(|q| cell.contains(q));
    let body = if double_up {
        cell.replace('"', "\"\"")
    } else {
        cell.to_string()
    };
    if wrap {
        format!("{quote}{body}{quote}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn quoted_cells_commas_and_doubled_quotes() {
        let p = parse(
            &chars("a,\"b,c\",\"d\"\"e\"\n1,,\"\",2\n1,,\"\""),
            Options {
                arrays: true,
                ..Options::default()
            },
        )
        .expect("parse");
        assert_eq!(
            p.rows,
            vec![
                vec![Some("a".into()), Some("b,c".into()), Some("d\"e".into())],
                vec![
                    Some("1".into()),
                    None,
                    Some(String::new()),
                    Some("2".into())
                ],
                // As upstream: an empty last cell is not pushed at the end of a record.
                vec![Some("1".into()), None],
            ]
        );
    }

    #[test]
    fn strict_mode_rejects_stray_quotes() {
        let strict = |s: &str| {
            parse(
                &chars(s),
                Options {
                    strict: true,
                    arrays: true,
                    ..Options::default()
                },
            )
            .err()
        };
        assert_eq!(
            strict("a,b\"c"),
            Some(ParseError("Quote found in the middle of an unquoted field"))
        );
        assert_eq!(
            strict("\"a\" ,b"),
            Some(ParseError("Data found after closing quote"))
        );
        assert_eq!(
            strict("\"a,b"),
            Some(ParseError("Missing quote, unclosed cell"))
        );
    }

    #[test]
    fn lenient_mode_keeps_stray_quotes_as_data() {
        let p = parse(
            &chars("\"with,a\"n,odd"),
            Options {
                arrays: true,
                data_has_header_row: false,
                ..Options::default()
            },
        )
        .expect("parse");
        assert_eq!(
            p.rows[1],
            vec![Some("with,a\"n".into()), Some("odd".into())]
        );
    }

    #[test]
    fn numbers_are_converted_unless_they_look_like_codes() {
        let p = parse(
            &chars("0x1F, 1.5 ,007,+3,-0.5,-05,abc"),
            Options {
                data_has_header_row: false,
                parse_numeric: true,
                ..Options::default()
            },
        )
        .expect("parse");
        let o = p.objects[0].as_object().cloned().expect("object");
        assert_eq!(o.get("col1").and_then(|v| v.as_f64()), Some(31.0));
        assert_eq!(o.get("col2").and_then(|v| v.as_f64()), Some(1.5));
        assert_eq!(
            o.get("col3").and_then(|v| v.as_str().map(String::from)),
            Some("007".into())
        );
        assert_eq!(
            o.get("col4").and_then(|v| v.as_str().map(String::from)),
            Some("+3".into())
        );
        assert_eq!(o.get("col5").and_then(|v| v.as_f64()), Some(-0.5));
        assert_eq!(
            o.get("col6").and_then(|v| v.as_str().map(String::from)),
            Some("-05".into())
        );
    }

    #[test]
    fn quote_cell_quotes_only_when_needed() {
        let q = |s| quote_cell(s, '"', &["\"", ",", "\r", "\n"]);
        assert_eq!(q("plain"), "plain");
        assert_eq!(q("a,b"), "\"a,b\"");
        assert_eq!(q("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
