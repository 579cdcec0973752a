//! `#:(store)::key` context keys.

/// A context key with an optional store name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextKey {
    /// The store, when the key names one.
    pub store: Option<String>,
    /// The key (a property expression).
    pub key: String,
}

/// Parses `#:(store)::key` (or a plain key), as `RED.util.parseContextStore` does.
pub fn parse_key(text: &str) -> ContextKey {
    if let Some(rest) = text.strip_prefix("#:(")
        && let Some(end) = rest.find(")::")
    {
        return ContextKey {
            store: Some(rest[..end].to_string()),
            key: rest[end + 3..].to_string(),
        };
    }
    ContextKey {
        store: None,
        key: text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_prefix_is_split_off() {
        assert_eq!(
            parse_key("#:(alt)::a.b"),
            ContextKey {
                store: Some("alt".into()),
                key: "a.b".into()
            }
        );
        assert_eq!(
            parse_key("plain"),
            ContextKey {
                store: None,
                key: "plain".into()
            }
        );
    }
}
