//! JSON Schema validation for the json node's `msg.schema`, shaped like
//! ajv 8 with `allErrors` (what Node-RED uses): the same error objects
//! (`instancePath`, `schemaPath`, `keyword`, `params`, `message`), the same
//! messages and `errorsText`, keywords checked in ajv's order (untyped
//! keywords, then number, string, array and object ones), and ajv's strict
//! mode (unknown keywords and any `format` fail to compile).
//!
//! Covered: boolean schemas, `type`, `enum`, `const`, number limits,
//! `multipleOf`, string lengths and `pattern` (ECMAScript, unicode), array
//! `items` (schema or tuple), `additionalItems`, `minItems`/`maxItems`,
//! `uniqueItems`, `contains`, object `required`, `properties`,
//! `patternProperties`, `additionalProperties`, property counts,
//! `propertyNames`, `dependencies`, `allOf`/`anyOf`/`oneOf`/`not`,
//! `if`/`then`/`else`, and local `$ref`s (`#`, `#/definitions/..`).
//! Not covered: remote `$ref`s, `$id`-based resolution, `format`.

mod keywords;
mod validate;

use regress::Regex;
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// One validation error, as ajv reports it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SchemaError {
    pub instance_path: String,
    pub schema_path: String,
    pub keyword: &'static str,
    pub params: Json,
    pub message: String,
    /// Set on errors found inside `propertyNames`.
    pub property_name: Option<String>,
}

impl SchemaError {
    /// The error as the object ajv puts in `msg.schemaError`.
    pub(crate) fn to_json(&self) -> Json {
        let mut o = json!({"instancePath": self.instance_path, "schemaPath": self.schema_path, "keyword": self.keyword, "params": self.params, "message": self.message});
        if let Some(p) = &self.property_name {
            o["propertyName"] = json!(p);
        }
        o
    }
}

/// ajv's `errorsText`.
pub(crate) fn errors_text(errors: &[SchemaError]) -> String {
    errors
        .iter()
        .map(|e| format!("data{} {}", e.instance_path, e.message))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A schema checked once, with its regular expressions compiled.
pub(crate) struct Schema {
    root: Json,
    regexes: HashMap<String, Regex>,
}

const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "id",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
    "definitions",
    "$defs",
    "readOnly",
    "writeOnly",
    "contentMediaType",
    "contentEncoding",
];
const SCHEMA_MAPS: &[&str] = &["properties", "patternProperties", "definitions", "$defs"];
const SCHEMAS: &[&str] = &[
    "additionalProperties",
    "additionalItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
];
const SCHEMA_LISTS: &[&str] = &["allOf", "anyOf", "oneOf"];
const NUMBERS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];
const COUNTS: &[&str] = &[
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
];
const TYPES: &[&str] = &[
    "number", "integer", "string", "boolean", "object", "array", "null",
];

/// Why a schema does not compile (ajv's message; Node-RED shows its own).
pub(crate) type CompileError = String;

impl Schema {
    /// Checks `root` as ajv's compile would.
    pub(crate) fn compile(root: Json) -> Result<Schema, CompileError> {
        let mut regexes = HashMap::new();
        check(&root, &root, "#", &mut regexes)?;
        Ok(Schema { root, regexes })
    }

    /// Every error of `data` (empty when valid).
    pub(crate) fn validate(&self, data: &Json) -> Vec<SchemaError> {
        let mut errs = Vec::new();
        self.node(&self.root, data, "", "#", &mut errs, 0);
        errs
    }
}

fn regex(src: &str) -> Result<Regex, CompileError> {
    Regex::with_flags(src, "u").map_err(|e| format!("Invalid regular expression: /{src}/u: {e}"))
}

fn resolve<'a>(root: &'a Json, r: &str) -> Option<&'a Json> {
    let pointer = r.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    root.pointer(pointer)
}

fn check(
    s: &Json,
    root: &Json,
    path: &str,
    re: &mut HashMap<String, Regex>,
) -> Result<(), CompileError> {
    let obj = match s {
        Json::Bool(_) => return Ok(()),
        Json::Object(o) => o,
        _ => {
            return Err(format!(
                "schema{} must be object or boolean",
                if path == "#" { "" } else { path }
            ));
        }
    };
    for (k, v) in obj {
        let at = format!("{path}/{k}");
        let k = k.as_str();
        let bad = || Err(format!("schema is invalid: {at} has a bad value"));
        if ANNOTATIONS.contains(&k) && !SCHEMA_MAPS.contains(&k) {
            continue;
        }
        if SCHEMA_MAPS.contains(&k) {
            let Some(m) = v.as_object() else { return bad() };
            for (name, sub) in m {
                if k == "patternProperties" {
                    re.insert(name.clone(), regex(name)?);
                }
                check(sub, root, &format!("{at}/{name}"), re)?;
            }
        } else if SCHEMAS.contains(&k) {
            check(v, root, &at, re)?;
        } else if SCHEMA_LISTS.contains(&k) {
            let Some(items) = v.as_array().filter(|a| !a.is_empty()) else {
                return bad();
            };
            for (i, sub) in items.iter().enumerate() {
                check(sub, root, &format!("{at}/{i}"), re)?;
            }
        } else if NUMBERS.contains(&k) {
            if !v.is_number() || (k == "multipleOf" && v.as_f64().is_some_and(|n| n <= 0.0)) {
                return bad();
            }
        } else if COUNTS.contains(&k) {
            if !v.as_f64().is_some_and(|n| n >= 0.0 && n.fract() == 0.0) {
                return bad();
            }
        } else {
            match k {
                "type" => {
                    let ok = |t: &Json| t.as_str().is_some_and(|t| TYPES.contains(&t));
                    if !(ok(v)
                        || v.as_array()
                            .is_some_and(|a| !a.is_empty() && a.iter().all(ok)))
                    {
                        return bad();
                    }
                }
                "items" => match v {
                    Json::Array(items) => {
                        for (i, sub) in items.iter().enumerate() {
                            check(sub, root, &format!("{at}/{i}"), re)?;
                        }
                    }
                    other => check(other, root, &at, re)?,
                },
                "required" => {
                    if !v.as_array().is_some_and(|a| a.iter().all(Json::is_string)) {
                        return bad();
                    }
                }
                "enum" => {
                    if !v.is_array() {
                        return bad();
                    }
                }
                "const" => {}
                "uniqueItems" => {
                    if !v.is_boolean() {
                        return bad();
                    }
                }
                "pattern" => {
                    let Some(p) = v.as_str() else { return bad() };
                    re.insert(p.to_string(), regex(p)?);
                }
                "dependencies" => {
                    let Some(m) = v.as_object() else { return bad() };
                    for (name, dep) in m {
                        if !dep
                            .as_array()
                            .is_some_and(|a| a.iter().all(Json::is_string))
                        {
                            check(dep, root, &format!("{at}/{name}"), re)?;
                        }
                    }
                }
                "$ref" => {
                    let target = v.as_str().unwrap_or("");
                    if resolve(root, target).is_none() {
                        return Err(format!("can't resolve reference {target} from id #"));
                    }
                }
                "format" => {
                    return Err(format!(
                        "unknown format \"{}\" ignored in schema at path \"{path}\"",
                        v.as_str().unwrap_or("")
                    ));
                }
                other => return Err(format!("strict mode: unknown keyword: \"{other}\"")),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
