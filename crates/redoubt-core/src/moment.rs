//! A subset of moment.js `format()` tokens, for `date` typed inputs with a
//! custom format: YYYY YY MM M DD D HH H hh h mm m ss s SSS A a ZZ Z, and
//! `[literal]` text.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Formats `t` with a moment.js format string.
pub fn format(t: &DateTime<Utc>, fmt: &str) -> String {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let tokens: [&str; 20] = [
        "YYYY", "YY", "MM", "M", "DD", "D", "HH", "H", "hh", "h", "mm", "m", "ss", "s", "SSS", "A",
        "a", "ZZ", "Z", "x",
    ];
    while i < chars.len() {
        if chars[i] == '['
            && let Some(end) = chars[i..].iter().position(|c| *c == ']')
        {
            out.extend(&chars[i + 1..i + end]);
            i += end + 1;
            continue;
        }
        let rest: String = chars[i..].iter().collect();
        let Some(tok) = tokens.iter().find(|t| rest.starts_with(**t)) else {
            out.push(chars[i]);
            i += 1;
            continue;
        };
        let h12 = if t.hour().is_multiple_of(12) {
            12
        } else {
            t.hour() % 12
        };
        let s = match *tok {
            "YYYY" => format!("{:04}", t.year()),
            "YY" => format!("{:02}", t.year() % 100),
            "MM" => format!("{:02}", t.month()),
            "M" => t.month().to_string(),
            "DD" => format!("{:02}", t.day()),
            "D" => t.day().to_string(),
            "HH" => format!("{:02}", t.hour()),
            "H" => t.hour().to_string(),
            "hh" => format!("{h12:02}"),
            "h" => h12.to_string(),
            "mm" => format!("{:02}", t.minute()),
            "m" => t.minute().to_string(),
            "ss" => format!("{:02}", t.second()),
            "s" => t.second().to_string(),
            "SSS" => format!("{:03}", t.timestamp_subsec_millis()),
            "A" => (if t.hour() < 12 { "AM" } else { "PM" }).to_string(),
            "a" => (if t.hour() < 12 { "am" } else { "pm" }).to_string(),
            "ZZ" => "+0000".to_string(),
            "Z" => "+00:00".to_string(),
            _ => t.timestamp_millis().to_string(),
        };
        out.push_str(&s);
        i += tok.chars().count();
    }
    out
}
