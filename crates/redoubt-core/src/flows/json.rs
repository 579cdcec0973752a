//! Parsing JSON text into a `serde_json::Value` whose objects and arrays
//! are each allocated once, at their final size.
//!
//! serde_json's own `Value` parser grows every object's map as its keys
//! arrive (the map's entries and its hash table doubling: six allocations
//! and copies for a 12-key node) and every array as its items do. A deploy
//! parses a few hundred node objects before anything else can start, and
//! the deployed flows keep those maps for as long as they run. Here each
//! object's entries (and each array's items) are gathered on a stack shared
//! by the whole parse, then moved into a map (or vector) of exactly their
//! number. On the 200-node benchmark flow this parses in 0.30 instead of
//! 0.41 ms (bench/HISTORY.md, item 43).
//!
//! The result is what `serde_json::from_slice` returns for the same text,
//! errors included: the same deserializer reads the text, with its
//! recursion limit; only the containers are built differently. A key given
//! twice keeps its first position and its last value, as in both
//! serde_json and `JSON.parse`.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Parses `bytes` as one JSON value (surrounding whitespace allowed).
pub fn from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut stacks = Stacks::default();
    let value = Node {
        stacks: &mut stacks,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Parses `text` as one JSON value (surrounding whitespace allowed).
pub fn from_str(text: &str) -> Result<Value, serde_json::Error> {
    from_slice(text.as_bytes())
}

/// The entries and items of the containers still open, innermost last.
#[derive(Default)]
struct Stacks {
    entries: Vec<(String, Value)>,
    items: Vec<Value>,
}

/// One value of the document, its containers built from [`Stacks`].
struct Node<'s> {
    stacks: &'s mut Stacks,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        // JSON text has no NaN or infinity; serde_json maps them to null too.
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let start = self.stacks.items.len();
        while let Some(item) = seq.next_element_seed(Node {
            stacks: &mut *self.stacks,
        })? {
            self.stacks.items.push(item);
        }
        let mut items = Vec::with_capacity(self.stacks.items.len() - start);
        items.extend(self.stacks.items.drain(start..));
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let start = self.stacks.entries.len();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Node {
                stacks: &mut *self.stacks,
            })?;
            self.stacks.entries.push((key, value));
        }
        let mut object = Map::with_capacity(self.stacks.entries.len() - start);
        for (key, value) in self.stacks.entries.drain(start..) {
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Documents covering every kind of value, nesting, escapes, numbers
    /// at the edges of each representation, and repeated keys.
    const DOCUMENTS: &[&str] = &[
        "null",
        " true ",
        "false",
        "0",
        "-0",
        "-12",
        "18446744073709551615",
        "-9223372036854775808",
        "1.5",
        "-2.5e-3",
        "123456789012345678901234567890",
        "\"\"",
        r#""a\"b\\c\u00e9\ud83d\ude00\n""#,
        "[]",
        "{}",
        "[[],[[]],{}]",
        r#"{"a":1,"b":[1,2,{"c":null}],"d":{"e":{"f":"g"}}}"#,
        r#"{"k":1,"j":2,"k":3}"#,
        r#"[{"id":"n1","type":"inject","z":"t1","wires":[["n2"]],"props":[{"p":"payload"}]},
            {"id":"n2","type":"debug","z":"t1","wires":[]},{"id":"t1","type":"tab","env":[]}]"#,
    ];

    #[test]
    fn parses_as_serde_json_does() {
        for doc in DOCUMENTS {
            let ours = from_str(doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
            let theirs: Value = serde_json::from_str(doc).expect("serde_json parses it");
            assert_eq!(ours, theirs, "{doc}");
            // Equal maps can differ in key order; the text cannot.
            assert_eq!(ours.to_string(), theirs.to_string(), "{doc}");
        }
    }

    #[test]
    fn rejects_what_serde_json_rejects_with_its_message() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        for doc in [
            "",
            "[1,]",
            "{\"a\" 1}",
            "[1] 2",
            "{\"a\":1",
            "\"\\x\"",
            "NaN",
            "1e400",
            deep.as_str(),
        ] {
            let ours = from_str(doc).expect_err(doc);
            let theirs = serde_json::from_str::<Value>(doc).expect_err(doc);
            assert_eq!(ours.to_string(), theirs.to_string(), "{doc}");
        }
    }

    #[test]
    fn the_benchmark_flow_parses_as_serde_json_does() {
        // A flows.json of the shape the deploy benchmark sends.
        let mut nodes = Vec::new();
        for i in 0..200 {
            nodes.push(format!(
                r#"{{"id":"n{i}","type":"change","z":"t{}","name":"","rules":[{{"t":"set","p":"payload","pt":"msg","to":"x{i}","tot":"str"}}],"x":{},"y":{}.5,"wires":[["n{}"]]}}"#,
                i % 4,
                i * 10,
                i,
                i + 1
            ));
        }
        let doc = format!("[{}]", nodes.join(","));
        let ours = from_slice(doc.as_bytes()).expect("parses");
        let theirs: Value = serde_json::from_slice(doc.as_bytes()).expect("parses");
        assert_eq!(ours.to_string(), theirs.to_string());
    }
}
