//! [`Services`]: a type map of shared facilities (the HTTP host, the script
//! engine) that node crates provide and nodes look up while being built.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// Shared services by type.
#[derive(Default, Clone)]
pub struct Services {
    map: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl Services {
    /// An empty map.
    pub fn new() -> Services {
        Services::default()
    }

    /// Adds (or replaces) the service of type `T`.
    pub fn insert<T: Any + Send + Sync>(&mut self, service: Arc<T>) {
        self.map.insert(TypeId::of::<T>(), service);
    }

    /// The service of type `T`.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.map
            .get(&TypeId::of::<T>())
            .and_then(|s| s.clone().downcast::<T>().ok())
    }
}
