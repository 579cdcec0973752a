//! `String.prototype.replace` as the change node calls it: with a global
//! regular expression (ECMAScript semantics, through `regress`), with an
//! escaped literal (every occurrence), or with a plain string pattern (the
//! first occurrence only), and with JS `$` substitution patterns in the
//! replacement (`$$`, `$&`, `` $` ``, `$'`, `$1`..`$99`, `$<name>`).

use regress::Regex;

/// What `replace` looks for.
#[derive(Clone)]
pub(super) enum Pattern {
    /// A `/.../g` regular expression.
    Regex(Box<Regex>),
    /// An escaped literal compiled as `/.../g`: every occurrence.
    All(String),
    /// A string pattern (not a RegExp): the first occurrence only.
    First(String),
}

impl std::fmt::Debug for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pattern::Regex(_) => f.write_str("Regex(..)"),
            Pattern::All(s) => write!(f, "All({s:?})"),
            Pattern::First(s) => write!(f, "First({s:?})"),
        }
    }
}

/// Compiles a JS regular expression source (no flags but `g`).
pub(super) fn compile(src: &str) -> Result<Regex, String> {
    Regex::with_flags(src, "").map_err(|e| format!("Invalid regular expression: /{src}/g: {e}"))
}

/// One match: its range and its capture groups (byte ranges into the text).
struct Found<'a> {
    start: usize,
    end: usize,
    groups: Vec<Option<std::ops::Range<usize>>>,
    named: Vec<(&'a str, Option<std::ops::Range<usize>>)>,
    has_named: bool,
}

/// `text.replace(pattern, replacement)`.
pub(super) fn replace(text: &str, pattern: &Pattern, replacement: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut emit = |f: &Found<'_>, out: &mut String| {
        out.push_str(&text[last..f.start]);
        substitute(text, f, replacement, out);
        last = f.end;
    };
    match pattern {
        Pattern::Regex(re) => {
            for m in re.find_iter(text) {
                let named: Vec<(&str, Option<std::ops::Range<usize>>)> = m.named_groups().collect();
                let f = Found {
                    start: m.start(),
                    end: m.end(),
                    groups: m.captures.clone(),
                    has_named: !named.is_empty(),
                    named,
                };
                emit(&f, &mut out);
            }
        }
        Pattern::All(lit) if lit.is_empty() => {
            // /(?:)/g matches before every character and at the end.
            let mut bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            bounds.push(text.len());
            for b in bounds {
                emit(
                    &Found {
                        start: b,
                        end: b,
                        groups: Vec::new(),
                        named: Vec::new(),
                        has_named: false,
                    },
                    &mut out,
                );
            }
        }
        Pattern::All(lit) => {
            for (i, _) in text.match_indices(lit.as_str()) {
                let f = Found {
                    start: i,
                    end: i + lit.len(),
                    groups: Vec::new(),
                    named: Vec::new(),
                    has_named: false,
                };
                emit(&f, &mut out);
            }
        }
        Pattern::First(lit) => {
            if let Some(i) = text.find(lit.as_str()) {
                let f = Found {
                    start: i,
                    end: i + lit.len(),
                    groups: Vec::new(),
                    named: Vec::new(),
                    has_named: false,
                };
                emit(&f, &mut out);
            }
        }
    }
    out.push_str(&text[last..]);
    out
}

/// ECMAScript `GetSubstitution`.
fn substitute(text: &str, f: &Found<'_>, rep: &str, out: &mut String) {
    let b = rep.as_bytes();
    let m = f.groups.len();
    let group = |n: usize, out: &mut String| {
        if let Some(Some(r)) = f.groups.get(n - 1) {
            out.push_str(&text[r.clone()]);
        }
    };
    let mut i = 0;
    let mut lit_start = 0;
    while i < b.len() {
        if b[i] != b'$' || i + 1 >= b.len() {
            i += 1;
            continue;
        }
        out.push_str(&rep[lit_start..i]);
        let next = b[i + 1];
        let mut used = 2;
        match next {
            b'$' => out.push('$'),
            b'&' => out.push_str(&text[f.start..f.end]),
            b'`' => out.push_str(&text[..f.start]),
            b'\'' => out.push_str(&text[f.end..]),
            b'0'..=b'9' => {
                let one = usize::from(next - b'0');
                let two = b
                    .get(i + 2)
                    .filter(|d| d.is_ascii_digit())
                    .map(|d| one * 10 + usize::from(d - b'0'));
                match two {
                    Some(n) if n >= 1 && n <= m => {
                        group(n, out);
                        used = 3;
                    }
                    _ if one >= 1 && one <= m => group(one, out),
                    _ => out.push_str(&rep[i..i + 2]),
                }
            }
            b'<' if f.has_named => match rep[i + 2..].find('>') {
                Some(end) => {
                    let name = &rep[i + 2..i + 2 + end];
                    if let Some((_, Some(r))) = f.named.iter().find(|(n, _)| *n == name) {
                        out.push_str(&text[r.clone()]);
                    }
                    used = 3 + end;
                }
                None => out.push_str("$<"),
            },
            _ => {
                out.push('$');
                used = 1;
            }
        }
        i += used;
        lit_start = i;
    }
    out.push_str(&rep[lit_start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(src: &str, text: &str, rep: &str) -> String {
        replace(
            text,
            &Pattern::Regex(Box::new(compile(src).expect("regex"))),
            rep,
        )
    }

    #[test]
    fn regex_groups_and_specials() {
        assert_eq!(
            re(r"(\d+)-(\d+)-(\d+)", "2024-01-15", "$3/$2/$1"),
            "15/01/2024"
        );
        assert_eq!(
            re("(Hello)", "Hello World", "$1-$1-$1"),
            "Hello-Hello-Hello World"
        );
        assert_eq!(re("b", "abc", "[$`|$&|$']"), "a[a|b|c]c");
        assert_eq!(re("b", "abc", "$$"), "a$c");
        assert_eq!(re("(b)", "abc", "$2$0$"), "a$2$0$c");
        assert_eq!(re("(?<x>b)", "abc", "<$<x>>"), "a<b>c");
        assert_eq!(re("(b)", "abc", "$<x>"), "a$<x>c");
        assert_eq!(re("(a)(b)?", "ac", "[$2]"), "[]c");
        assert_eq!(re("(a)", "a", "$10"), "a0");
    }

    #[test]
    fn regex_is_global_and_handles_empty_matches() {
        assert_eq!(re("a", "banana", "o"), "bonono");
        assert_eq!(re("x*", "ab", "-"), "-a-b-");
        assert_eq!(re(r"(?<=a)b", "abab", "X"), "aXaX");
    }

    #[test]
    fn literals_replace_every_or_first_occurrence() {
        assert_eq!(replace("a.b.c", &Pattern::All(".".into()), "!"), "a!b!c");
        assert_eq!(replace("abc", &Pattern::All("".into()), "-"), "-a-b-c-");
        assert_eq!(
            replace(
                "x undefined undefined",
                &Pattern::First("undefined".into()),
                "u"
            ),
            "x u undefined"
        );
        assert_eq!(replace("a$b", &Pattern::All("$".into()), "[$&]"), "a[$]b");
    }

    #[test]
    fn invalid_regex_is_reported() {
        assert!(compile(r"\+**+").is_err());
    }
}
