//! How js-yaml's dumper writes a string: plain when that reads back as the
//! same string, single-quoted otherwise (also for the YAML 1.1 booleans `y`,
//! `on`, `no`... and base-60 numbers), double-quoted with escapes when it
//! holds unprintable characters, a literal block (`|`) when it spans lines
//! and a folded block (`>`) when a line is longer than the width.

use super::schema::resolves_implicitly;
use std::sync::LazyLock;

/// Spaces per nesting level.
pub(super) const INDENT: usize = 2;
const LINE_WIDTH: usize = 80;

static BASE60: LazyLock<Option<regress::Regex>> =
    LazyLock::new(|| regress::Regex::new(r"^[-+]?[0-9_]+(?::[0-9_]+)+(?:\.[0-9_]*)?$").ok());

const DEPRECATED_BOOLEANS: [&str; 16] = [
    "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off",
    "OFF",
];

fn is_printable(c: char) -> bool {
    let c = u32::from(c);
    (0x20..=0x7e).contains(&c)
        || ((0xa1..=0xd7ff).contains(&c) && c != 0x2028 && c != 0x2029)
        || ((0xe000..=0xfffd).contains(&c) && c != 0xfeff)
        || (0x10000..=0x10ffff).contains(&c)
}

fn is_white(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_ns_char_or_white(c: char) -> bool {
    is_printable(c) && c != '\u{feff}' && c != '\r' && c != '\n'
}

fn plain_safe(c: char, prev: Option<char>, inblock: bool) -> bool {
    let ns_or_white = is_ns_char_or_white(c);
    let ns = ns_or_white && !is_white(c);
    let base = if inblock {
        ns_or_white
    } else {
        ns_or_white && !matches!(c, ',' | '[' | ']' | '{' | '}')
    };
    (base && c != '#' && (prev != Some(':') || ns))
        || (prev.is_some_and(|p| is_ns_char_or_white(p) && !is_white(p)) && c == '#')
        || (prev == Some(':') && ns)
}

fn plain_safe_first(c: char) -> bool {
    is_printable(c)
        && c != '\u{feff}'
        && !is_white(c)
        && !matches!(
            c,
            '-' | '?'
                | ':'
                | ','
                | '['
                | ']'
                | '{'
                | '}'
                | '#'
                | '&'
                | '*'
                | '!'
                | '|'
                | '='
                | '>'
                | '\''
                | '"'
                | '%'
                | '@'
                | '`'
        )
}

enum Style {
    Plain,
    Single,
    Literal,
    Folded,
    Double,
}

fn choose_style(s: &[char], single_line_only: bool, line_width: usize, inblock: bool) -> Style {
    let (Some(&first), Some(&last)) = (s.first(), s.last()) else {
        return Style::Single;
    };
    let mut plain = plain_safe_first(first) && !is_white(last) && last != ':';
    let mut prev = None;
    let mut has_line_break = false;
    let mut has_foldable_line = false;
    let mut line_start = 0;
    for (i, &c) in s.iter().enumerate() {
        if c == '\n' && !single_line_only {
            has_line_break = true;
            has_foldable_line = has_foldable_line
                || (i - line_start > line_width && s.get(line_start) != Some(&' '));
            line_start = i + 1;
        } else if !is_printable(c) {
            return Style::Double;
        }
        plain = plain && plain_safe(c, prev, inblock);
        prev = Some(c);
    }
    if !single_line_only {
        has_foldable_line = has_foldable_line
            || (s.len() - line_start > line_width && s.get(line_start) != Some(&' '));
    }
    if !has_line_break && !has_foldable_line {
        let text: String = s.iter().collect();
        return if plain && !resolves_implicitly(&text) {
            Style::Plain
        } else {
            Style::Single
        };
    }
    if has_foldable_line {
        Style::Folded
    } else {
        Style::Literal
    }
}

/// `writeScalar` for a string at `level`.
pub(super) fn scalar(text: &str, level: usize, iskey: bool, inblock: bool) -> String {
    if text.is_empty() {
        return "''".into();
    }
    if DEPRECATED_BOOLEANS.contains(&text)
        || BASE60.as_ref().is_some_and(|re| re.find(text).is_some())
    {
        return format!("'{text}'");
    }
    let indent = INDENT * level.max(1);
    let line_width = 40usize.max(LINE_WIDTH.saturating_sub(indent));
    let chars: Vec<char> = text.chars().collect();
    match choose_style(&chars, iskey, line_width, inblock) {
        Style::Plain => text.to_string(),
        Style::Single => format!("'{}'", text.replace('\'', "''")),
        Style::Literal => format!(
            "|{}{}",
            block_header(&chars),
            drop_ending_newline(indent_string(text, indent))
        ),
        Style::Folded => {
            let folded = fold_string(&chars, line_width);
            format!(
                ">{}{}",
                block_header(&chars),
                drop_ending_newline(indent_string(&folded, indent))
            )
        }
        Style::Double => format!("\"{}\"", escape(text)),
    }
}

fn block_header(s: &[char]) -> String {
    let leading_space = s.iter().find(|c| **c != '\n') == Some(&' ');
    let indicator = if leading_space {
        INDENT.to_string()
    } else {
        String::new()
    };
    let clip = s.last() == Some(&'\n');
    let keep = clip && (s.len() >= 2 && s[s.len() - 2] == '\n' || s.len() == 1);
    let chomp = if keep {
        "+"
    } else if clip {
        ""
    } else {
        "-"
    };
    format!("{indicator}{chomp}\n")
}

fn drop_ending_newline(s: String) -> String {
    match s.strip_suffix('\n') {
        Some(t) => t.to_string(),
        None => s,
    }
}

fn indent_string(s: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        if !line.is_empty() && line != "\n" {
            out.push_str(&pad);
        }
        out.push_str(line);
    }
    out
}

fn fold_string(s: &[char], width: usize) -> String {
    let first_break = s.iter().position(|c| *c == '\n').unwrap_or(s.len());
    let mut out = fold_line(&s[..first_break], width);
    let mut prev_more_indented = matches!(s.first(), Some('\n' | ' '));
    let mut i = first_break;
    while i < s.len() {
        let breaks_start = i;
        while i < s.len() && s[i] == '\n' {
            i += 1;
        }
        let line_start = i;
        while i < s.len() && s[i] != '\n' {
            i += 1;
        }
        let line = &s[line_start..i];
        let more_indented = line.first() == Some(&' ');
        out.extend(&s[breaks_start..line_start]);
        if !prev_more_indented && !more_indented && !line.is_empty() {
            out.push('\n');
        }
        out.push_str(&fold_line(line, width));
        prev_more_indented = more_indented;
    }
    out
}

/// Greedy line breaking at spaces that are followed by a non-space.
fn fold_line(line: &[char], width: usize) -> String {
    if line.is_empty() || line[0] == ' ' {
        return line.iter().collect();
    }
    let (mut start, mut curr) = (0, 0);
    let mut out = String::new();
    let mut k = 0;
    while k + 1 < line.len() {
        if line[k] == ' ' && line[k + 1] != ' ' {
            let next = k;
            if next - start > width {
                let end = if curr > start { curr } else { next };
                out.push('\n');
                out.extend(&line[start..end]);
                start = end + 1;
            }
            curr = next;
            k += 2;
        } else {
            k += 1;
        }
    }
    out.push('\n');
    if line.len() - start > width && curr > start {
        out.extend(&line[start..curr]);
        out.push('\n');
        out.extend(&line[curr + 1..]);
    } else {
        out.extend(&line[start..]);
    }
    out[1..].to_string()
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let seq = match c {
            '\0' => "\\0",
            '\u{7}' => "\\a",
            '\u{8}' => "\\b",
            '\t' => "\\t",
            '\n' => "\\n",
            '\u{b}' => "\\v",
            '\u{c}' => "\\f",
            '\r' => "\\r",
            '\u{1b}' => "\\e",
            '"' => "\\\"",
            '\\' => "\\\\",
            '\u{85}' => "\\N",
            '\u{a0}' => "\\_",
            '\u{2028}' => "\\L",
            '\u{2029}' => "\\P",
            c if is_printable(c) => {
                out.push(c);
                continue;
            }
            c => {
                let n = u32::from(c);
                let hex = format!("{n:X}");
                let (h, len) = if n <= 0xff {
                    ('x', 2)
                } else if n <= 0xffff {
                    ('u', 4)
                } else {
                    ('U', 8)
                };
                out.push_str(&format!(
                    "\\{h}{}{hex}",
                    "0".repeat(len - hex.len().min(len))
                ));
                continue;
            }
        };
        out.push_str(seq);
    }
    out
}
