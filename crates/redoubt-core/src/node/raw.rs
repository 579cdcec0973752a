//! [`Raw`]: a node's properties as flows.json gave them, either read in
//! place from the deployed flows array or, when the engine had to change
//! them (`${VAR}` substituted, ids mapped inside a subflow instance), the
//! node's own copy.
//!
//! A full deploy of unchanged JSON then starts every node without copying
//! its properties: the array the admin API keeps as the deployed flows is
//! the one the nodes read.

use serde_json::{Map, Value as Json};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};

/// A node's property map (see the module docs). Reads through `Deref`;
/// writing makes it the node's own copy first.
#[derive(Clone, Default)]
pub struct Raw {
    /// `flows[index]`, an object (the planner checked every item), while
    /// the map is read in place; `None` once it is `own`.
    shared: Option<(Arc<Vec<Json>>, usize)>,
    own: Map<String, Json>,
}

impl Raw {
    /// The properties of `flows[index]`, read in place. An item that is not
    /// an object reads as an empty map (the planner rejects such flows
    /// before building any node).
    pub fn shared(flows: Arc<Vec<Json>>, index: usize) -> Raw {
        Raw {
            shared: Some((flows, index)),
            own: Map::new(),
        }
    }

    /// True while the map is read from the deployed array.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }
}

fn empty() -> &'static Map<String, Json> {
    static EMPTY: OnceLock<Map<String, Json>> = OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

impl From<Map<String, Json>> for Raw {
    fn from(own: Map<String, Json>) -> Raw {
        Raw { shared: None, own }
    }
}

impl Deref for Raw {
    type Target = Map<String, Json>;

    fn deref(&self) -> &Map<String, Json> {
        match &self.shared {
            Some((flows, index)) => match flows.get(*index) {
                Some(Json::Object(m)) => m,
                _ => empty(),
            },
            None => &self.own,
        }
    }
}

impl DerefMut for Raw {
    fn deref_mut(&mut self) -> &mut Map<String, Json> {
        if self.shared.is_some() {
            self.own = <Raw as Deref>::deref(self).clone();
            self.shared = None;
        }
        &mut self.own
    }
}

impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        <Raw as Deref>::deref(self).fmt(f)
    }
}

impl PartialEq for Raw {
    fn eq(&self, other: &Raw) -> bool {
        **self == **other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shared_reads_in_place_and_copies_on_write() {
        let flows = Arc::new(vec![json!({"id": "a"}), json!({"id": "b", "x": 1})]);
        let mut raw = Raw::shared(flows.clone(), 1);
        assert!(raw.is_shared());
        assert_eq!(raw.get("id"), Some(&json!("b")));
        raw.insert("x".into(), json!(2));
        assert!(!raw.is_shared());
        assert_eq!(raw.get("x"), Some(&json!(2)));
        assert_eq!(flows[1]["x"], json!(1), "the deployed array is untouched");
    }

    #[test]
    fn an_item_that_is_not_an_object_reads_as_empty() {
        let raw = Raw::shared(Arc::new(vec![json!(3)]), 0);
        assert!(raw.is_empty());
        let raw = Raw::shared(Arc::new(vec![]), 5);
        assert!(raw.is_empty());
    }
}
