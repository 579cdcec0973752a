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

use regress::Regex;
use serde_json::{Map, Value as Json, json};
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
    errors.iter().map(|e| format!("data{} {}", e.instance_path, e.message)).collect::<Vec<_>>().join(", ")
}

/// A schema checked once, with its regular expressions compiled.
pub(crate) struct Schema {
    root: Json,
    regexes: HashMap<String, Regex>,
}

const ANNOTATIONS: &[&str] = &[
    "$schema", "$id", "id", "$comment", "title", "description", "default", "examples", "definitions", "$defs",
    "readOnly", "writeOnly", "contentMediaType", "contentEncoding",
];
const SCHEMA_MAPS: &[&str] = &["properties", "patternProperties", "definitions", "$defs"];
const SCHEMAS: &[&str] =
    &["additionalProperties", "additionalItems", "contains", "propertyNames", "not", "if", "then", "else"];
const SCHEMA_LISTS: &[&str] = &["allOf", "anyOf", "oneOf"];
const NUMBERS: &[&str] = &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"];
const COUNTS: &[&str] =
    &["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"];
const TYPES: &[&str] = &["number", "integer", "string", "boolean", "object", "array", "null"];

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

fn check(s: &Json, root: &Json, path: &str, re: &mut HashMap<String, Regex>) -> Result<(), CompileError> {
    let obj = match s {
        Json::Bool(_) => return Ok(()),
        Json::Object(o) => o,
        _ => return Err(format!("schema{} must be object or boolean", if path == "#" { "" } else { path })),
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
            let Some(items) = v.as_array().filter(|a| !a.is_empty()) else { return bad() };
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
                    if !(ok(v) || v.as_array().is_some_and(|a| !a.is_empty() && a.iter().all(ok))) {
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
                        if !dep.as_array().is_some_and(|a| a.iter().all(Json::is_string)) {
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
                    return Err(format!("unknown format \"{}\" ignored in schema at path \"{path}\"", v.as_str().unwrap_or("")));
                }
                other => return Err(format!("strict mode: unknown keyword: \"{other}\"")),
            }
        }
    }
    Ok(())
}

fn type_name(d: &Json) -> &'static str {
    match d {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn is_type(d: &Json, t: &str) -> bool {
    match t {
        "integer" => d.as_f64().is_some_and(|n| n.fract() == 0.0),
        t => type_name(d) == t,
    }
}

/// JSON pointer token escaping.
fn esc(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// Deep equality with numbers compared as numbers (ajv's `fast-deep-equal`).
fn equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q)),
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// The JS text of a number as ajv prints a limit (`5`, `1.5`).
fn num_text(v: &Json) -> String {
    redoubt_core::value::format_number(v.as_f64().unwrap_or(f64::NAN))
}

struct Ctx<'a> {
    data: &'a Json,
    ipath: &'a str,
    spath: &'a str,
    errs: &'a mut Vec<SchemaError>,
}

impl Ctx<'_> {
    fn err(&mut self, kw: &'static str, params: Json, message: String) {
        self.errs.push(SchemaError {
            instance_path: self.ipath.to_string(),
            schema_path: format!("{}/{kw}", self.spath),
            keyword: kw,
            params,
            message,
            property_name: None,
        });
    }
}

impl Schema {
    fn node(&self, s: &Json, data: &Json, ipath: &str, spath: &str, errs: &mut Vec<SchemaError>, depth: usize) {
        if depth > 64 {
            return;
        }
        let o = match s {
            Json::Bool(true) => return,
            Json::Bool(false) => {
                errs.push(SchemaError {
                    instance_path: ipath.to_string(),
                    schema_path: format!("{spath}/false schema"),
                    keyword: "false schema",
                    params: json!({}),
                    message: "boolean schema is false".into(),
                    property_name: None,
                });
                return;
            }
            Json::Object(o) => o,
            _ => return,
        };
        let mut c = Ctx { data, ipath, spath, errs };
        let types: Vec<&str> = match o.get("type") {
            Some(Json::String(t)) => vec![t.as_str()],
            Some(Json::Array(a)) => a.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        let type_ok = types.is_empty() || types.iter().any(|t| is_type(data, t));
        // A single group type with keywords of its group reports a wrong
        // type where that group's keywords would run; otherwise first.
        let deferred = types.len() == 1
            && ["number", "string", "array", "object"].contains(&types[0])
            && has_group_keywords(o, types[0]);
        let type_error = |c: &mut Ctx<'_>| {
            let t = types.join(",");
            c.err("type", json!({"type": t}), format!("must be {t}"));
        };
        if !type_ok && !deferred {
            type_error(&mut c);
        }
        self.untyped(o, &mut c, depth);
        for group in ["number", "string", "array", "object"] {
            if !has_group_keywords(o, group) {
                continue;
            }
            if type_name(data) == group {
                match group {
                    "number" => number_keywords(o, &mut c),
                    "string" => self.string_keywords(o, &mut c),
                    "array" => self.array_keywords(o, &mut c, depth),
                    _ => self.object_keywords(o, &mut c, depth),
                }
            } else if deferred && !type_ok && types[0] == group {
                type_error(&mut c);
            }
        }
    }

    /// Validates `data` against `s` into a separate list.
    fn sub(&self, s: &Json, data: &Json, ipath: &str, spath: &str, depth: usize) -> Vec<SchemaError> {
        let mut errs = Vec::new();
        self.node(s, data, ipath, spath, &mut errs, depth + 1);
        errs
    }

    fn untyped(&self, o: &Map<String, Json>, c: &mut Ctx<'_>, depth: usize) {
        if let Some(target) = o.get("$ref").and_then(Json::as_str).and_then(|r| resolve(&self.root, r).map(|t| (r, t))) {
            let e = self.sub(target.1, c.data, c.ipath, target.0, depth);
            c.errs.extend(e);
        }
        if let Some(v) = o.get("const") {
            if !equal(c.data, v) {
                c.err("const", json!({"allowedValue": v}), "must be equal to constant".into());
            }
        }
        if let Some(Json::Array(allowed)) = o.get("enum") {
            if !allowed.iter().any(|v| equal(c.data, v)) {
                c.err("enum", json!({"allowedValues": allowed}), "must be equal to one of the allowed values".into());
            }
        }
        if let Some(s) = o.get("not") {
            if self.sub(s, c.data, c.ipath, &format!("{}/not", c.spath), depth).is_empty() {
                c.err("not", json!({}), "must NOT be valid".into());
            }
        }
        if let Some(Json::Array(list)) = o.get("anyOf") {
            let mut all = Vec::new();
            let mut ok = false;
            for (i, s) in list.iter().enumerate() {
                let e = self.sub(s, c.data, c.ipath, &format!("{}/anyOf/{i}", c.spath), depth);
                ok |= e.is_empty();
                all.extend(e);
            }
            if !ok {
                c.errs.extend(all);
                c.err("anyOf", json!({}), "must match a schema in anyOf".into());
            }
        }
        if let Some(Json::Array(list)) = o.get("oneOf") {
            let mut all = Vec::new();
            let mut passing = Vec::new();
            for (i, s) in list.iter().enumerate() {
                let e = self.sub(s, c.data, c.ipath, &format!("{}/oneOf/{i}", c.spath), depth);
                if e.is_empty() {
                    passing.push(i);
                }
                all.extend(e);
            }
            match passing.len() {
                1 => {}
                0 => {
                    c.errs.extend(all);
                    c.err("oneOf", json!({"passingSchemas": null}), "must match exactly one schema in oneOf".into());
                }
                _ => c.err("oneOf", json!({"passingSchemas": passing[..2]}), "must match exactly one schema in oneOf".into()),
            }
        }
        if let Some(Json::Array(list)) = o.get("allOf") {
            for (i, s) in list.iter().enumerate() {
                let e = self.sub(s, c.data, c.ipath, &format!("{}/allOf/{i}", c.spath), depth);
                c.errs.extend(e);
            }
        }
        if let Some(cond) = o.get("if") {
            let passed = self.sub(cond, c.data, c.ipath, &format!("{}/if", c.spath), depth).is_empty();
            let branch = if passed { "then" } else { "else" };
            if let Some(s) = o.get(branch) {
                let e = self.sub(s, c.data, c.ipath, &format!("{}/{branch}", c.spath), depth);
                if !e.is_empty() {
                    c.errs.extend(e);
                    c.err("if", json!({"failingKeyword": branch}), format!("must match \"{branch}\" schema"));
                }
            }
        }
    }
}

fn has_group_keywords(o: &Map<String, Json>, group: &str) -> bool {
    let keys: &[&str] = match group {
        "number" => NUMBERS,
        "string" => &["maxLength", "minLength", "pattern"],
        "array" => &["maxItems", "minItems", "additionalItems", "items", "contains", "uniqueItems"],
        _ => &[
            "maxProperties", "minProperties", "required", "propertyNames", "additionalProperties", "dependencies",
            "properties", "patternProperties",
        ],
    };
    keys.iter().any(|k| o.contains_key(*k))
}

fn number_keywords(o: &Map<String, Json>, c: &mut Ctx<'_>) {
    let n = c.data.as_f64().unwrap_or(f64::NAN);
    for (kw, cmp) in [("maximum", "<="), ("minimum", ">="), ("exclusiveMaximum", "<"), ("exclusiveMinimum", ">")] {
        let Some(limit) = o.get(kw) else { continue };
        let l = limit.as_f64().unwrap_or(f64::NAN);
        let ok = match cmp {
            "<=" => n <= l,
            ">=" => n >= l,
            "<" => n < l,
            _ => n > l,
        };
        if !ok {
            let kw: &'static str = kw;
            c.err(kw, json!({"comparison": cmp, "limit": limit}), format!("must be {cmp} {}", num_text(limit)));
        }
    }
    if let Some(m) = o.get("multipleOf") {
        let d = n / m.as_f64().unwrap_or(f64::NAN);
        if d.fract() != 0.0 {
            c.err("multipleOf", json!({"multipleOf": m}), format!("must be multiple of {}", num_text(m)));
        }
    }
}

/// The first duplicate pair as ajv finds it: with scalar item types it
/// scans from the end remembering indexes (`i` below `j`), otherwise it
/// compares every pair from the end (`i` above `j`).
fn duplicate(items_schema: Option<&Json>, items: &[Json]) -> Option<(usize, usize)> {
    let types: Vec<&str> = match items_schema.and_then(|s| s.get("type")) {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(a)) => a.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| *t == "object" || *t == "array") {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for i in (0..items.len()).rev() {
            let item = &items[i];
            if !types.iter().any(|t| is_type(item, t)) {
                continue;
            }
            let mut key = match item {
                Json::String(s) => s.clone(),
                Json::Number(_) => num_text(item),
                other => other.to_string(),
            };
            if types.len() > 1 && item.is_string() {
                key.push('_');
            }
            if let Some(j) = seen.get(&key) {
                return Some((i, *j));
            }
            seen.insert(key, i);
        }
        return None;
    }
    for i in (0..items.len()).rev() {
        for j in (0..i).rev() {
            if equal(&items[i], &items[j]) {
                return Some((i, j));
            }
        }
    }
    None
}

/// `count` against `maxKw`/`minKw`, with ajv's wording for `what`.
fn limits(o: &Map<String, Json>, c: &mut Ctx<'_>, count: usize, kws: [&'static str; 2], what: &str) {
    for (kw, more) in [(kws[0], true), (kws[1], false)] {
        let Some(limit) = o.get(kw) else { continue };
        let l = limit.as_f64().unwrap_or(0.0);
        let bad = if more { count as f64 > l } else { (count as f64) < l };
        if bad {
            let word = if more { "more" } else { "fewer" };
            c.err(kw, json!({"limit": limit}), format!("must NOT have {word} than {} {what}", num_text(limit)));
        }
    }
}

impl Schema {
    fn string_keywords(&self, o: &Map<String, Json>, c: &mut Ctx<'_>) {
        let s = c.data.as_str().unwrap_or("");
        limits(o, c, s.chars().count(), ["maxLength", "minLength"], "characters");
        if let Some(p) = o.get("pattern").and_then(Json::as_str) {
            if self.regexes.get(p).is_some_and(|re| re.find(s).is_none()) {
                c.err("pattern", json!({"pattern": p}), format!("must match pattern \"{p}\""));
            }
        }
    }

    fn array_keywords(&self, o: &Map<String, Json>, c: &mut Ctx<'_>, depth: usize) {
        let items = c.data.as_array().cloned().unwrap_or_default();
        limits(o, c, items.len(), ["maxItems", "minItems"], "items");
        if let (Some(Json::Array(tuple)), Some(extra)) = (o.get("items"), o.get("additionalItems")) {
            if items.len() > tuple.len() {
                if extra == &Json::Bool(false) {
                    let msg = format!("must NOT have more than {} items", tuple.len());
                    c.err("additionalItems", json!({"limit": tuple.len()}), msg);
                } else {
                    for (i, item) in items.iter().enumerate().skip(tuple.len()) {
                        let sp = format!("{}/additionalItems", c.spath);
                        let e = self.sub(extra, item, &format!("{}/{i}", c.ipath), &sp, depth);
                        c.errs.extend(e);
                    }
                }
            }
        }
        match o.get("items") {
            Some(Json::Array(tuple)) => {
                for (i, (s, item)) in tuple.iter().zip(&items).enumerate() {
                    let e = self.sub(s, item, &format!("{}/{i}", c.ipath), &format!("{}/items/{i}", c.spath), depth);
                    c.errs.extend(e);
                }
            }
            Some(s) => {
                for (i, item) in items.iter().enumerate() {
                    let e = self.sub(s, item, &format!("{}/{i}", c.ipath), &format!("{}/items", c.spath), depth);
                    c.errs.extend(e);
                }
            }
            None => {}
        }
        if let Some(s) = o.get("contains") {
            let sp = format!("{}/contains", c.spath);
            let mut all = Vec::new();
            let mut any = false;
            for (i, it) in items.iter().enumerate() {
                let e = self.sub(s, it, &format!("{}/{i}", c.ipath), &sp, depth);
                any |= e.is_empty();
                all.extend(e);
            }
            if !any {
                c.errs.extend(all);
                c.err("contains", json!({"minContains": 1}), "must contain at least 1 valid item(s)".into());
            }
        }
        if o.get("uniqueItems") == Some(&Json::Bool(true)) {
            if let Some((i, j)) = duplicate(o.get("items"), &items) {
                let msg = format!("must NOT have duplicate items (items ## {j} and {i} are identical)");
                c.err("uniqueItems", json!({"i": i, "j": j}), msg);
            }
        }
    }

    fn object_keywords(&self, o: &Map<String, Json>, c: &mut Ctx<'_>, depth: usize) {
        let Some(obj) = c.data.as_object().cloned() else { return };
        limits(o, c, obj.len(), ["maxProperties", "minProperties"], "properties");
        if let Some(Json::Array(req)) = o.get("required") {
            for r in req.iter().filter_map(Json::as_str) {
                if !obj.contains_key(r) {
                    c.err("required", json!({"missingProperty": r}), format!("must have required property '{r}'"));
                }
            }
        }
        if let Some(s) = o.get("propertyNames") {
            for k in obj.keys() {
                let e = self.sub(s, &Json::String(k.clone()), c.ipath, &format!("{}/propertyNames", c.spath), depth);
                if !e.is_empty() {
                    c.errs.extend(e.into_iter().map(|mut e| {
                        e.property_name = Some(k.clone());
                        e
                    }));
                    c.err("propertyNames", json!({"propertyName": k}), "property name must be valid".into());
                }
            }
        }
        let props = o.get("properties").and_then(Json::as_object);
        let patterns = o.get("patternProperties").and_then(Json::as_object);
        if let Some(extra) = o.get("additionalProperties") {
            for (k, v) in &obj {
                let declared = props.is_some_and(|p| p.contains_key(k))
                    || patterns.is_some_and(|p| p.keys().any(|re| self.regexes.get(re).is_some_and(|r| r.find(k).is_some())));
                if declared {
                    continue;
                }
                if extra == &Json::Bool(false) {
                    c.err("additionalProperties", json!({"additionalProperty": k}), "must NOT have additional properties".into());
                } else {
                    let sp = format!("{}/additionalProperties", c.spath);
                    let e = self.sub(extra, v, &format!("{}/{}", c.ipath, esc(k)), &sp, depth);
                    c.errs.extend(e);
                }
            }
        }
        if let Some(Json::Object(deps)) = o.get("dependencies") {
            for (k, dep) in deps.iter().filter(|(k, _)| obj.contains_key(*k)) {
                match dep {
                    Json::Array(names) => {
                        let missing: Vec<&str> =
                            names.iter().filter_map(Json::as_str).filter(|n| !obj.contains_key(*n)).collect();
                        for m in missing {
                            let params = json!({"property": k, "missingProperty": m, "depsCount": names.len(), "deps": names.iter().filter_map(Json::as_str).collect::<Vec<_>>().join(", ")});
                            let word = if names.len() == 1 { "property" } else { "properties" };
                            let list = names.iter().filter_map(Json::as_str).collect::<Vec<_>>().join(", ");
                            c.err("dependencies", params, format!("must have {word} {list} when property {k} is present"));
                        }
                    }
                    s => {
                        let e = self.sub(s, c.data, c.ipath, &format!("{}/dependencies/{}", c.spath, esc(k)), depth);
                        c.errs.extend(e);
                    }
                }
            }
        }
        if let Some(p) = props {
            for (k, s) in p {
                if let Some(v) = obj.get(k) {
                    let sp = format!("{}/properties/{}", c.spath, esc(k));
                    let e = self.sub(s, v, &format!("{}/{}", c.ipath, esc(k)), &sp, depth);
                    c.errs.extend(e);
                }
            }
        }
        if let Some(p) = patterns {
            for (re, s) in p {
                let Some(r) = self.regexes.get(re) else { continue };
                for (k, v) in obj.iter().filter(|(k, _)| r.find(k).is_some()) {
                    let sp = format!("{}/patternProperties/{}", c.spath, esc(re));
                    let e = self.sub(s, v, &format!("{}/{}", c.ipath, esc(k)), &sp, depth);
                    c.errs.extend(e);
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "json_schema_tests.rs"]
mod tests;
