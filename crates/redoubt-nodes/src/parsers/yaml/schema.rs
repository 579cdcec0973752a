//! js-yaml's DEFAULT schema for plain scalars (null, bool, int, float,
//! timestamp, merge), used both to resolve them on load and to decide on
//! dump whether a string must be quoted to stay a string; and js-yaml's
//! error layout.

use redoubt_core::value::Value;
use std::sync::LazyLock;

fn regex(src: &str) -> Option<regress::Regex> {
    regress::Regex::new(src).ok()
}

static FLOAT: LazyLock<Option<regress::Regex>> = LazyLock::new(|| {
    regex(
        r"^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    )
});
static DATE: LazyLock<Option<regress::Regex>> =
    LazyLock::new(|| regex(r"^([0-9][0-9][0-9][0-9])-([0-9][0-9])-([0-9][0-9])$"));
static TIMESTAMP: LazyLock<Option<regress::Regex>> = LazyLock::new(|| {
    regex(
        r"^([0-9][0-9][0-9][0-9])-([0-9][0-9]?)-([0-9][0-9]?)(?:[Tt]|[ \t]+)([0-9][0-9]?):([0-9][0-9]):([0-9][0-9])(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9][0-9]?)(?::([0-9][0-9]))?))?$",
    )
});

fn is_null(s: &str) -> bool {
    matches!(s, "~" | "null" | "Null" | "NULL")
}

fn as_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// `resolveYamlInteger`: decimal, `0b`, `0o`, `0x`, with `_` separators.
pub(super) fn is_int(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = usize::from(b[0] == b'-' || b[0] == b'+');
    if b.get(i) == Some(&b'0') {
        if i + 1 == b.len() {
            return true;
        }
        i += 1;
        let digit: Option<fn(u8) -> bool> = match b[i] {
            b'b' => Some(|c| c == b'0' || c == b'1'),
            b'x' => Some(|c: u8| c.is_ascii_hexdigit()),
            b'o' => Some(|c| (b'0'..=b'7').contains(&c)),
            _ => None,
        };
        if let Some(ok) = digit {
            let rest = &b[i + 1..];
            return rest.iter().all(|&c| c == b'_' || ok(c))
                && rest.iter().any(|&c| c != b'_')
                && rest.last() != Some(&b'_');
        }
    }
    let rest = &b[i..];
    rest.first() != Some(&b'_')
        && rest.iter().all(|&c| c == b'_' || c.is_ascii_digit())
        && rest.iter().any(u8::is_ascii_digit)
        && rest.last() != Some(&b'_')
}

fn construct_int(s: &str) -> f64 {
    let v: String = s.chars().filter(|c| *c != '_').collect();
    let (sign, v) = match v.strip_prefix('-') {
        Some(rest) => (-1.0, rest.to_string()),
        None => (1.0, v.strip_prefix('+').unwrap_or(&v).to_string()),
    };
    if v == "0" {
        return 0.0;
    }
    let radix = |digits: &str, r: u32| {
        digits
            .chars()
            .filter_map(|c| c.to_digit(r))
            .fold(0.0, |acc, d| acc * f64::from(r) + f64::from(d))
    };
    let n = if let Some(d) = v.strip_prefix("0b") {
        radix(d, 2)
    } else if let Some(d) = v.strip_prefix("0x") {
        radix(d, 16)
    } else if let Some(d) = v.strip_prefix("0o") {
        radix(d, 8)
    } else {
        v.parse::<f64>().unwrap_or(f64::NAN)
    };
    sign * n
}

/// `resolveYamlFloat`.
pub(super) fn is_float(s: &str) -> bool {
    FLOAT.as_ref().is_some_and(|re| re.find(s).is_some()) && !s.ends_with('_')
}

/// `constructYamlFloat` (also used for `!!float` on integer text).
pub(super) fn construct_float(s: &str) -> f64 {
    let v: String = s
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_lowercase();
    let (sign, v) = match v.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, v.strip_prefix('+').unwrap_or(&v)),
    };
    match v {
        ".inf" => sign * f64::INFINITY,
        ".nan" => f64::NAN,
        _ => sign * parse_float_prefix(v),
    }
}

/// `constructYamlTimestamp`: milliseconds since the epoch.
pub(super) fn timestamp(s: &str) -> Option<f64> {
    let caps = |re: &Option<regress::Regex>| {
        let re = re.as_ref()?;
        let m = re.find(s)?;
        Some(
            m.groups()
                .map(|g| g.map(|r| s[r].to_string()))
                .collect::<Vec<_>>(),
        )
    };
    let g = caps(&DATE).or_else(|| caps(&TIMESTAMP))?;
    let num = |i: usize| {
        g.get(i)
            .cloned()
            .flatten()
            .and_then(|t| t.parse::<f64>().ok())
    };
    let (year, month, day) = (num(1)?, num(2)? - 1.0, num(3)?);
    let Some(hour) = num(4) else {
        return Some(make_date(year, month, day, 0.0, 0.0, 0.0, 0.0));
    };
    let fraction = g.get(7).cloned().flatten().map_or(0.0, |f| {
        let mut f: String = f.chars().take(3).collect();
        while f.len() < 3 {
            f.push('0');
        }
        f.parse::<f64>().unwrap_or(0.0)
    });
    let mut ms = make_date(year, month, day, hour, num(5)?, num(6)?, fraction);
    if let Some(sign) = g.get(9).cloned().flatten() {
        let delta = (num(10).unwrap_or(0.0) * 60.0 + num(11).unwrap_or(0.0)) * 60_000.0;
        ms -= if sign == "-" { -delta } else { delta };
    }
    Some(ms)
}

/// `parseFloat`: the longest leading decimal number (`NaN` when there is none).
fn parse_float_prefix(s: &str) -> f64 {
    let b = s.as_bytes();
    let mut end = 0;
    let mut best = None;
    let (mut dot, mut digit) = (false, false);
    while end < b.len() {
        match b[end] {
            b'0'..=b'9' => {
                digit = true;
                best = Some(end + 1);
            }
            b'.' if !dot => dot = true,
            _ => break,
        }
        end += 1;
    }
    if digit && matches!(b.get(end), Some(b'e' | b'E')) {
        let mut k = end + 1;
        if matches!(b.get(k), Some(b'-' | b'+')) {
            k += 1;
        }
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
            best = Some(k);
        }
    }
    best.and_then(|e| s[..e].parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// `Date.UTC(y, m, d, h, mi, s, ms)`, months counted from 0 and overflowing like JavaScript.
#[allow(clippy::too_many_arguments)]
fn make_date(y: f64, m: f64, d: f64, h: f64, mi: f64, s: f64, ms: f64) -> f64 {
    let year = (y + (m / 12.0).floor()) as i64;
    let month = m.rem_euclid(12.0) as i64 + 1;
    let days = days_from_civil(year, month) as f64 + d - 1.0;
    days * 86_400_000.0 + h * 3_600_000.0 + mi * 60_000.0 + s * 1000.0 + ms
}

/// Days from 1970-01-01 to the first day of `month` (1-12) of `year`.
fn days_from_civil(year: i64, month: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Resolves an untagged plain scalar to its value.
pub(super) fn resolve_plain(s: &str) -> Value {
    if s.is_empty() || is_null(s) {
        return Value::Null;
    }
    if let Some(b) = as_bool(s) {
        return Value::Bool(b);
    }
    if is_int(s) {
        return Value::Number(construct_int(s));
    }
    if is_float(s) {
        return Value::Number(construct_float(s));
    }
    if let Some(ms) = timestamp(s) {
        return Value::Date(ms);
    }
    Value::str(s)
}

/// `testImplicitResolving`: would this text load as something other than a string?
pub(super) fn resolves_implicitly(s: &str) -> bool {
    is_null(s)
        || as_bool(s).is_some()
        || is_int(s)
        || is_float(s)
        || timestamp(s).is_some()
        || s == "<<"
}

/// js-yaml's `YAMLException` message: the reason, `(line:column)` (both
/// 1-based) and a snippet of the source with a caret under the position.
pub(super) fn format_error(
    text: &str,
    reason: &str,
    line: usize,
    col: usize,
    index: usize,
) -> String {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let found = line.min(lines.len().saturating_sub(1));
    let after_max = (line + 2).min(lines.len().saturating_sub(1).max(1));
    let width = (after_max + 1)
        .to_string()
        .len()
        .max((line + 1).to_string().len());
    let mut out = String::new();
    for i in (1..=3).rev() {
        if let Some(l) = found.checked_sub(i).and_then(|n| lines.get(n)) {
            out.push_str(&format!(
                " {:>width$} | {}\n",
                found - i + 1,
                l.replace('\t', "→")
            ));
        }
    }
    let current = lines.get(found).copied().unwrap_or("");
    out.push_str(&format!(
        " {:>width$} | {}\n",
        found + 1,
        current.replace('\t', "→")
    ));
    out.push_str(&"-".repeat(1 + width + 3 + col));
    out.push('^');
    for i in 1..=2 {
        if let Some(l) = lines.get(found + i).filter(|_| found + i + 1 < lines.len()) {
            out.push_str(&format!(
                "\n {:>width$} | {}",
                found + i + 1,
                l.replace('\t', "→")
            ));
        }
    }
    let _ = index;
    format!("{reason} ({}:{})\n\n{out}", line + 1, col + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_like_the_core_schema() {
        assert!(matches!(resolve_plain("~"), Value::Null));
        assert!(matches!(resolve_plain("True"), Value::Bool(true)));
        assert!(matches!(resolve_plain("yes"), Value::String(_)));
        assert_eq!(resolve_plain("0x1F").as_f64(), Some(31.0));
        assert_eq!(resolve_plain("0o17").as_f64(), Some(15.0));
        assert_eq!(resolve_plain("012").as_f64(), Some(12.0));
        assert_eq!(resolve_plain("1_000").as_f64(), Some(1000.0));
        assert_eq!(resolve_plain("-1.5e3").as_f64(), Some(-1500.0));
        assert_eq!(resolve_plain(".inf").as_f64(), Some(f64::INFINITY));
        assert!(matches!(resolve_plain("1_"), Value::String(_)));
        assert!(matches!(resolve_plain("1:20"), Value::String(_)));
    }

    #[test]
    fn timestamps_become_dates() {
        assert_eq!(timestamp("2001-12-14"), Some(1_008_288_000_000.0));
        assert_eq!(
            timestamp("2001-12-14t21:59:43.10-05:00"),
            Some(1_008_385_183_100.0)
        );
        assert_eq!(timestamp("1970-01-01 00:00:01 Z"), Some(1000.0));
        assert_eq!(timestamp("2020-1-1"), None);
    }
}
