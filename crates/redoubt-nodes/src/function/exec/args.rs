//! Spawn mode's command line splitting: Node-RED splits on spaces with
//! `/(?:[^\s"]+|"[^"]*")+/g` and strips quotes around a whole word.

/// Splits `line` into words as Node-RED's spawn mode does.
pub(super) fn split(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        loop {
            match chars.get(i) {
                Some(c) if c.is_whitespace() => break,
                Some('"') => match chars[i + 1..].iter().position(|&c| c == '"') {
                    Some(close) => i += close + 2,
                    // An unmatched quote ends the word and is dropped.
                    None => break,
                },
                Some(_) => i += 1,
                None => break,
            }
        }
        if i > start {
            let w: String = chars[start..i].iter().collect();
            let unquoted = if w.len() >= 2 && w.starts_with('"') && w.ends_with('"') {
                w[1..w.len() - 1].to_string()
            } else {
                w
            };
            words.push(unquoted);
        } else {
            i += 1;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_like_node_red() {
        assert_eq!(split("echo a  b"), ["echo", "a", "b"]);
        assert_eq!(split(r#"echo "a b" c"#), ["echo", "a b", "c"]);
        assert_eq!(split(r#"echo x"a b"y"#), ["echo", r#"x"a b"y"#]);
        assert_eq!(split(r#"echo "unclosed"#), ["echo", "unclosed"]);
        assert!(split("   ").is_empty());
    }
}
