//! Express-style route patterns (`/users/:id`, `/files/*`, `/a/:b?`),
//! matched case-insensitively with an optional trailing slash, as Express 4
//! does by default.

use percent_encoding::percent_decode_str;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Param { name: String, optional: bool },
    Star,
}

/// A compiled route pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    parts: Vec<Part>,
}

impl Pattern {
    /// Compiles a pattern; errors name the bad segment.
    pub(crate) fn compile(path: &str) -> Result<Pattern, String> {
        let trimmed = path.trim_end_matches('/');
        let mut parts = Vec::new();
        for seg in trimmed.split('/').skip(1) {
            if seg == "*" {
                parts.push(Part::Star);
            } else if let Some(name) = seg.strip_prefix(':') {
                let (name, optional) = match name.strip_suffix('?') {
                    Some(n) => (n, true),
                    None => (name, false),
                };
                if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(format!("invalid route parameter {seg:?} in {path:?}"));
                }
                parts.push(Part::Param {
                    name: name.to_string(),
                    optional,
                });
            } else {
                parts.push(Part::Lit(seg.to_ascii_lowercase()));
            }
        }
        Ok(Pattern { parts })
    }

    /// Matches a request path (still percent-encoded); returns decoded params.
    pub(crate) fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let trimmed = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        let segs: Vec<&str> = if trimmed.is_empty() || trimmed == "/" {
            vec![]
        } else {
            trimmed.split('/').skip(1).collect()
        };
        let mut params = Vec::new();
        let mut i = 0;
        for (pi, part) in self.parts.iter().enumerate() {
            match part {
                Part::Lit(l) => {
                    let s = segs.get(i)?;
                    if !s.eq_ignore_ascii_case(l) {
                        return None;
                    }
                    i += 1;
                }
                Part::Param { name, optional } => match segs.get(i) {
                    Some(s) if !s.is_empty() => {
                        params.push((name.clone(), decode(s)));
                        i += 1;
                    }
                    _ if *optional => {}
                    _ => return None,
                },
                Part::Star => {
                    let rest = segs[i.min(segs.len())..].join("/");
                    params.push((format!("{}", params.len()), decode(&rest)));
                    i = segs.len();
                    if pi + 1 != self.parts.len() {
                        return None;
                    }
                }
            }
        }
        (i == segs.len()).then_some(params)
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_decoded_and_trailing_slash_is_optional() {
        let p = Pattern::compile("/t/:id/:name").expect("compile");
        assert_eq!(
            p.matches("/t/42/bob%20smith/"),
            Some(vec![
                ("id".into(), "42".into()),
                ("name".into(), "bob smith".into())
            ])
        );
        assert_eq!(p.matches("/t/42"), None);
        assert!(
            Pattern::compile("/Hello")
                .expect("compile")
                .matches("/hello")
                .is_some()
        );
    }

    #[test]
    fn optional_and_star() {
        let p = Pattern::compile("/a/:b?").expect("compile");
        assert!(p.matches("/a").is_some());
        assert!(p.matches("/a/x").is_some());
        let s = Pattern::compile("/files/*").expect("compile");
        assert_eq!(
            s.matches("/files/x/y"),
            Some(vec![("0".into(), "x/y".into())])
        );
        assert!(Pattern::compile("/a/:").is_err());
    }
}
