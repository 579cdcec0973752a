//! The `memory` context store: values live only in this process and are
//! stored by reference, as in Node-RED.

use super::{ContextError, ContextStore};
use crate::value::Value;
use indexmap::IndexMap;
use parking_lot::Mutex;
use std::collections::HashMap;

/// Node-RED's `memory` store.
#[derive(Default)]
pub struct MemoryStore {
    scopes: Mutex<HashMap<String, IndexMap<String, Value>>>,
}

impl ContextStore for MemoryStore {
    fn get(&self, scope: &str, key: &str) -> Result<Option<Value>, ContextError> {
        Ok(self
            .scopes
            .lock()
            .get(scope)
            .and_then(|m| m.get(key).cloned()))
    }

    fn set(&self, scope: &str, key: &str, value: Option<Value>) -> Result<(), ContextError> {
        let mut s = self.scopes.lock();
        match value {
            Some(v) => {
                s.entry(scope.to_string())
                    .or_default()
                    .insert(key.to_string(), v);
            }
            None => {
                if let Some(m) = s.get_mut(scope) {
                    m.shift_remove(key);
                }
            }
        }
        Ok(())
    }

    fn keys(&self, scope: &str) -> Result<Vec<String>, ContextError> {
        Ok(self
            .scopes
            .lock()
            .get(scope)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default())
    }

    fn delete_scope(&self, scope: &str) -> Result<(), ContextError> {
        self.scopes.lock().remove(scope);
        Ok(())
    }

    fn scopes(&self) -> Result<Vec<String>, ContextError> {
        Ok(self.scopes.lock().keys().cloned().collect())
    }
}
