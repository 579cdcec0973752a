//! Topic filters: matching (`matchTopic`, shared subscriptions included)
//! and the validity checks of `10-mqtt.js`.

/// True when `topic` matches `filter` (`+`, `#`, `$share/<name>/<filter>`).
pub(crate) fn matches(filter: &str, topic: &str) -> bool {
    if filter == "#" {
        return true;
    }
    let filter = strip_share(filter);
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(seg)) => {
                // Node-RED's `[^/]+` needs at least one character.
                if seg.is_empty() {
                    return false;
                }
            }
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// The filter inside `$share/<name>/<filter>`, or the filter itself.
pub(crate) fn strip_share(filter: &str) -> &str {
    if let Some(rest) = filter.strip_prefix("$share/")
        && let Some((name, inner)) = rest.split_once('/')
        && !name.is_empty()
        && !name.contains(['#', '+'])
    {
        return inner;
    }
    filter
}

/// `isValidSubscriptionTopic`.
pub(crate) fn valid_filter(t: &str) -> bool {
    if t.is_empty() {
        return true;
    }
    let levels: Vec<&str> = t.split('/').collect();
    for (i, l) in levels.iter().enumerate() {
        let last = i == levels.len() - 1;
        let ok = *l == "+" || (*l == "#" && last) || !l.contains(['+', '#']);
        if !ok {
            return false;
        }
    }
    true
}

/// `isValidPublishTopic`.
pub(crate) fn valid_publish(t: &str) -> bool {
    !t.is_empty() && !t.contains(['+', '#', '\u{8}', '\u{c}', '\n', '\r', '\t', '\u{b}', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_node_red_does() {
        assert!(matches("#", "a/b"));
        assert!(matches("a/#", "a"));
        assert!(matches("a/#", "a/b/c"));
        assert!(matches("a/+/c", "a/b/c"));
        assert!(!matches("a/+/c", "a//c"));
        assert!(!matches("a/+", "a/b/c"));
        assert!(!matches("a/b", "a/b/c"));
        assert!(matches("$share/g1/s/#", "s/x"));
        assert!(!matches("$share/g1/s/#", "t/x"));
    }

    #[test]
    fn topic_validity() {
        assert!(valid_filter("a/+/b/#"));
        assert!(!valid_filter("a/#/b"));
        assert!(!valid_filter("a/b+"));
        assert!(valid_publish("a/b"));
        assert!(!valid_publish("a/+"));
        assert!(!valid_publish(""));
    }
}
