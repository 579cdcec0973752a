//! [`Object`]: a shared, insertion-ordered JS object, optionally filled
//! lazily on first access.

use super::{Str, Value};
use indexmap::IndexMap;
use indexmap::map::raw_entry_v1::{RawEntryApiV1, RawEntryMut};
use parking_lot::{MappedMutexGuard, Mutex, MutexGuard};
use std::hash::{BuildHasher, DefaultHasher, RandomState};
use std::sync::{Arc, LazyLock};

/// The map inside an [`Object`].
pub type Map = IndexMap<Str, Value, KeyHasher>;

/// How every [`Map`] hashes its keys: std's SipHash-1-3 under one secret
/// random key for the whole process, so that a [`KnownKey`]'s hash is
/// computed once instead of on every insert. Keys come from clients (JSON
/// bodies, query strings, MQTT payloads); a secret SipHash key keeps them
/// from choosing keys that collide. std gives each `HashMap` keys of its
/// own because a `HashMap` iterates in hash order, which copying one map
/// into another can turn quadratic; a [`Map`] iterates in insertion order.
#[derive(Clone, Debug)]
pub struct KeyHasher(RandomState);

impl Default for KeyHasher {
    fn default() -> Self {
        static PROCESS: LazyLock<RandomState> = LazyLock::new(RandomState::new);
        KeyHasher(PROCESS.clone())
    }
}

impl BuildHasher for KeyHasher {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        self.0.build_hasher()
    }
}

/// An empty [`Map`] with room for `n` properties.
pub(crate) fn map_with_capacity(n: usize) -> Map {
    Map::with_capacity_and_hasher(n, KeyHasher::default())
}

/// A key with its [`KeyHasher`] hash, computed once: the property names
/// nearly every message has (`_msgid`, `payload`, `req`, ...) are set
/// without hashing them again ([`Object::insert_known`]).
#[derive(Clone, Debug)]
pub struct KnownKey {
    key: Str,
    hash: u64,
}

impl KnownKey {
    /// `key` and its hash.
    pub fn new(key: &str) -> KnownKey {
        let key = Str::from(key);
        let hash = KeyHasher::default().hash_one(&key);
        KnownKey { key, hash }
    }

    /// The key (one allocation, shared by every map that holds it).
    pub fn key(&self) -> &Str {
        &self.key
    }
}

/// Up to this many keys, [`position`] compares keys in order instead of
/// hashing the one looked up: messages and most payload objects are this
/// small, and SipHash of the key cost more than the comparisons (a key of
/// another length is told apart by its length alone). Bounded, so a client
/// that chooses the keys gains nothing by it.
const SCAN_MAX: usize = 8;

/// Where `key` is in `map`.
fn position(map: &Map, key: &str) -> Option<usize> {
    if map.len() <= SCAN_MAX {
        map.keys().position(|k| &**k == key)
    } else {
        map.get_index_of(key)
    }
}

/// What an object made with [`Object::lazy_with`] builds on first access,
/// and what it can tell before that.
pub trait Lazy: Send {
    /// Inserts every property.
    fn fill(self: Box<Self>, map: &mut Map);

    /// What `key` will hold, if that can be told without filling and the
    /// answer cannot be told apart from the filled one: a primitive, or an
    /// object or array that exists already and that the filled map holds
    /// too. [`Peek::Unknown`] makes the reader fill.
    fn peek(&self, _key: &str) -> Peek {
        Peek::Unknown
    }

    /// The objects and arrays that exist already and that the filled map
    /// will hold, with their keys; `None` when only filling can tell.
    fn existing_children(&self) -> Option<Vec<(Str, Value)>> {
        None
    }
}

/// What [`Lazy::peek`] knows about one key.
pub enum Peek {
    /// The filled object will not have the key.
    Absent,
    /// The filled object will hold this value at the key.
    Value(Value),
    /// Only filling can tell.
    Unknown,
}

/// A closure as a [`Lazy`] that can tell nothing before it runs.
struct FillFn<F>(F);

impl<F: FnOnce(&mut Map) + Send> Lazy for FillFn<F> {
    fn fill(self: Box<Self>, map: &mut Map) {
        (self.0)(map)
    }
}

#[derive(Default)]
struct Inner {
    map: Map,
    /// Not yet run: the object's properties are still to be built.
    fill: Option<Box<dyn Lazy>>,
}

/// A JS object: a reference to a mutable, insertion-ordered map.
///
/// Cloning an `Object` copies the reference (like JS assignment); use
/// [`Value::deep_clone`] for a copy. Every accessor takes the lock only for
/// its own duration and never while calling out, so nested objects (and
/// cyclic ones) never deadlock.
///
/// An object made with [`Object::lazy`] builds its properties the first
/// time anything looks at it; no accessor can tell the difference.
#[derive(Clone, Default)]
pub struct Object(Arc<Mutex<Inner>>);

impl Object {
    /// A new empty object.
    pub fn new() -> Object {
        Object::default()
    }

    /// An object owning `map`.
    pub fn from_map(map: Map) -> Object {
        Object(Arc::new(Mutex::new(Inner { map, fill: None })))
    }

    /// An empty object with room for `n` properties.
    pub fn with_capacity(n: usize) -> Object {
        Object::from_map(map_with_capacity(n))
    }

    /// An object whose properties `fill` inserts on first access (any
    /// read, write, clone or serialisation). Objects that are never looked
    /// at (`msg.req` in most HTTP flows) cost one allocation instead of a
    /// tree. `fill` runs under this object's lock: it must not touch this
    /// same object (it may create and fill others).
    pub fn lazy(fill: impl FnOnce(&mut Map) + Send + 'static) -> Object {
        Object::lazy_with(FillFn(fill))
    }

    /// A lazy object (see [`Object::lazy`]) that can answer [`Object::get`]
    /// and [`Object::object_children`] for some keys without being filled
    /// (see [`Lazy::peek`]): a script reading `msg.req.path` then costs one
    /// string, not the whole request object.
    pub fn lazy_with(lazy: impl Lazy + 'static) -> Object {
        Object(Arc::new(Mutex::new(Inner {
            map: Map::default(),
            fill: Some(Box::new(lazy)),
        })))
    }

    /// The map, locked, with a pending fill run first.
    fn lock(&self) -> MappedMutexGuard<'_, Map> {
        Object::filled(self.0.lock())
    }

    /// The map of locked `inner`, with a pending fill run first.
    fn filled(mut inner: MutexGuard<'_, Inner>) -> MappedMutexGuard<'_, Map> {
        if let Some(fill) = inner.fill.take() {
            fill.fill(&mut inner.map);
        }
        MutexGuard::map(inner, |i| &mut i.map)
    }

    /// The value at `key` (a handle copy for objects and arrays).
    pub fn get(&self, key: &str) -> Option<Value> {
        let inner = self.0.lock();
        if let Some(lazy) = &inner.fill {
            match lazy.peek(key) {
                Peek::Value(v) => return Some(v),
                Peek::Absent => return None,
                Peek::Unknown => {}
            }
        }
        let map = Object::filled(inner);
        position(&map, key).map(|i| map[i].clone())
    }

    /// The object- and array-valued properties, with their keys, in order;
    /// a lazy object that can tell them (see [`Lazy::existing_children`])
    /// is not filled for it.
    pub fn object_children(&self) -> Vec<(Str, Value)> {
        let inner = self.0.lock();
        if let Some(known) = inner.fill.as_ref().and_then(|l| l.existing_children()) {
            return known;
        }
        Object::filled(inner)
            .iter()
            .filter(|(_, v)| matches!(v, Value::Object(_) | Value::Array(_)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// True when `key` is present (even holding `undefined`).
    pub fn contains_key(&self, key: &str) -> bool {
        position(&self.lock(), key).is_some()
    }

    /// Sets `key`; an existing key keeps its position, as in JS. Replacing
    /// the value of an existing key makes no new key.
    pub fn insert<K: AsRef<str> + Into<Str>>(&self, key: K, value: Value) {
        let mut map = self.lock();
        match position(&map, key.as_ref()) {
            Some(i) => map[i] = value,
            None => {
                map.insert(key.into(), value);
            }
        }
    }

    /// [`Object::insert`] of a [`KnownKey`]: the key is found, or placed,
    /// by its hash computed beforehand.
    pub fn insert_known(&self, key: &KnownKey, value: Value) {
        let mut map = self.lock();
        match map
            .raw_entry_mut_v1()
            .from_hash(key.hash, |k| **k == *key.key)
        {
            RawEntryMut::Occupied(mut slot) => *slot.get_mut() = value,
            RawEntryMut::Vacant(slot) => {
                slot.insert_hashed_nocheck(key.hash, key.key.clone(), value);
            }
        }
    }

    /// Removes `key` (JS `delete`), keeping the order of the rest.
    pub fn remove(&self, key: &str) -> Option<Value> {
        let mut map = self.lock();
        let i = position(&map, key)?;
        map.shift_remove_index(i).map(|(_, v)| v)
    }

    /// The keys, in order.
    pub fn keys(&self) -> Vec<Str> {
        self.lock().keys().cloned().collect()
    }

    /// A snapshot of the entries, in order.
    pub fn entries(&self) -> Vec<(Str, Value)> {
        self.lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when there are no keys.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Runs `f` with the map borrowed. `f` must not touch this same object.
    pub fn with<R>(&self, f: impl FnOnce(&Map) -> R) -> R {
        f(&self.lock())
    }

    /// Runs `f` with the map borrowed mutably. `f` must not touch this same object.
    pub fn with_mut<R>(&self, f: impl FnOnce(&mut Map) -> R) -> R {
        f(&mut self.lock())
    }

    /// True when both handles point at the same object (JS `===`).
    pub fn ptr_eq(&self, other: &Object) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// A stable identity for cycle detection.
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match super::to_json(&Value::Object(self.clone())) {
            Ok(s) => write!(f, "Object({s})"),
            Err(_) => write!(f, "Object(<circular>)"),
        }
    }
}

impl FromIterator<(Str, Value)> for Object {
    fn from_iter<T: IntoIterator<Item = (Str, Value)>>(iter: T) -> Self {
        Object::from_map(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counted(runs: &Arc<AtomicUsize>) -> Object {
        let runs = runs.clone();
        Object::lazy(move |m| {
            runs.fetch_add(1, Ordering::SeqCst);
            m.insert("a".into(), Value::Number(1.0));
            m.insert("b".into(), Value::str("x"));
        })
    }

    #[test]
    fn lazy_object_fills_once_on_first_access() {
        let runs = Arc::new(AtomicUsize::new(0));
        let o = counted(&runs);
        let alias = o.clone();
        assert_eq!(runs.load(Ordering::SeqCst), 0, "built before any access");
        assert_eq!(alias.keys(), vec![Str::from("a"), Str::from("b")]);
        assert_eq!(
            o.get("b").and_then(|v| v.as_str().map(str::to_owned)),
            Some("x".into())
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn every_accessor_sees_the_lazy_properties() {
        let runs = Arc::new(AtomicUsize::new(0));
        // A write first: the filled properties come before it, and an
        // overwrite keeps its position.
        let o = counted(&runs);
        o.insert("c", Value::Null);
        o.insert("a", Value::Number(2.0));
        assert_eq!(
            o.keys(),
            vec![Str::from("a"), Str::from("b"), Str::from("c")]
        );
        assert_eq!(o.get("a").and_then(|v| v.as_f64()), Some(2.0));
        assert_eq!(counted(&runs).len(), 2);
        assert!(!counted(&runs).is_empty());
        assert!(counted(&runs).contains_key("b"));
        assert!(counted(&runs).remove("a").is_some());
        assert_eq!(counted(&runs).with(|m| m.len()), 2);
        assert_eq!(counted(&runs).entries().len(), 2);
        assert_eq!(
            super::super::to_json(&Value::Object(counted(&runs))).ok(),
            Some(r#"{"a":1,"b":"x"}"#.to_string())
        );
        assert_eq!(
            super::super::to_json(&Value::Object(counted(&runs)).deep_clone()).ok(),
            Some(r#"{"a":1,"b":"x"}"#.to_string())
        );
        assert_eq!(runs.load(Ordering::SeqCst), 9);
    }

    /// A lazy object that knows `a` and its child `kid` before it is built.
    struct Knows {
        runs: Arc<AtomicUsize>,
        kid: Object,
    }

    impl Lazy for Knows {
        fn fill(self: Box<Self>, map: &mut Map) {
            self.runs.fetch_add(1, Ordering::SeqCst);
            map.insert("a".into(), Value::Number(1.0));
            map.insert("kid".into(), Value::Object(self.kid));
            map.insert("built".into(), Value::new_object());
        }

        fn peek(&self, key: &str) -> Peek {
            match key {
                "a" => Peek::Value(Value::Number(1.0)),
                "kid" => Peek::Value(Value::Object(self.kid.clone())),
                "built" => Peek::Unknown,
                _ => Peek::Absent,
            }
        }

        fn existing_children(&self) -> Option<Vec<(Str, Value)>> {
            Some(vec![("kid".into(), Value::Object(self.kid.clone()))])
        }
    }

    #[test]
    fn what_a_lazy_object_can_tell_is_read_without_building_it() {
        let runs = Arc::new(AtomicUsize::new(0));
        let kid = Object::new();
        let o = Object::lazy_with(Knows {
            runs: runs.clone(),
            kid: kid.clone(),
        });
        assert_eq!(o.get("a").and_then(|v| v.as_f64()), Some(1.0));
        assert!(o.get("nope").is_none());
        assert!(matches!(o.get("kid"), Some(Value::Object(k)) if k.ptr_eq(&kid)));
        assert_eq!(o.object_children().len(), 1);
        assert_eq!(runs.load(Ordering::SeqCst), 0, "built for a known key");
        assert!(matches!(o.get("built"), Some(Value::Object(_))));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Built: the map answers, children included.
        let children: Vec<Str> = o.object_children().into_iter().map(|(k, _)| k).collect();
        assert_eq!(children, vec![Str::from("kid"), Str::from("built")]);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    /// A key set by its hash computed beforehand is the same key to every
    /// other accessor, at every size: it is found by comparing and by
    /// hashing, keeps its place when set again, and is removed like any.
    #[test]
    fn known_keys_are_ordinary_keys_to_every_other_accessor() {
        let known = KnownKey::new("payload");
        for before in [0, SCAN_MAX - 1, 2 * SCAN_MAX] {
            let o = Object::new();
            for i in 0..before {
                o.insert(format!("k{i}"), Value::Number(i as f64));
            }
            o.insert_known(&known, Value::Number(1.0));
            o.insert(format!("k{before}"), Value::Null);
            assert!(matches!(o.get("payload"), Some(Value::Number(n)) if n == 1.0));
            o.insert_known(&known, Value::Number(2.0));
            o.insert("payload", Value::Number(3.0));
            assert_eq!(o.len(), before + 2, "one key, set three times");
            assert_eq!(&*o.keys()[before], "payload", "in its first place");
            assert!(matches!(o.get("payload"), Some(Value::Number(n)) if n == 3.0));
            // Found by hashing once the map is past the scanned size.
            let at = o.with(|m| m.get_index_of("payload"));
            assert_eq!(at, Some(before));
            assert!(o.remove("payload").is_some());
            assert!(!o.contains_key("payload"));
            o.insert_known(&known, Value::Null);
            assert_eq!(
                o.keys().last().map(|k| k.to_string()),
                Some("payload".to_string()),
                "back, at the end"
            );
        }
    }

    /// Every accessor agrees with a plain map on both sides of the size up
    /// to which keys are compared instead of hashed, while the object grows
    /// past it and shrinks back.
    #[test]
    fn lookups_agree_with_the_map_below_and_above_the_scanned_size() {
        let o = Object::new();
        let mut model: Vec<(String, f64)> = Vec::new();
        let check = |o: &Object, model: &[(String, f64)]| {
            assert_eq!(o.len(), model.len());
            for (k, v) in model {
                assert!(
                    matches!(o.get(k), Some(Value::Number(n)) if n == *v),
                    "key {k} of {}",
                    model.len()
                );
                assert!(o.contains_key(k));
            }
            // Absent: a key of the same length as present ones, a prefix,
            // and the empty key.
            for absent in ["k99", "k", ""] {
                assert!(o.get(absent).is_none(), "{absent} of {}", model.len());
                assert!(!o.contains_key(absent));
            }
            let keys: Vec<Str> = model.iter().map(|(k, _)| Str::from(k.as_str())).collect();
            assert_eq!(o.keys(), keys, "order");
        };
        for i in 0..2 * SCAN_MAX {
            let k = format!("k{i}");
            o.insert(k.as_str(), Value::Number(i as f64));
            model.push((k, i as f64));
            check(&o, &model);
            // Replacing a value keeps the key's place at every size.
            o.insert(String::from("k0"), Value::Number(100.0 + i as f64));
            model[0].1 = 100.0 + i as f64;
            check(&o, &model);
        }
        while let Some((k, v)) = model.pop() {
            assert!(matches!(o.remove(&k), Some(Value::Number(n)) if n == v));
            assert!(o.remove(&k).is_none());
            check(&o, &model);
        }
        // Removing from the middle keeps the order of the rest.
        for k in ["a", "b", "c"] {
            o.insert(k, Value::Null);
        }
        assert!(matches!(o.remove("b"), Some(Value::Null)));
        assert_eq!(o.keys(), vec![Str::from("a"), Str::from("c")]);
    }
}
