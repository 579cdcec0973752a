//! Validation: ajv's keyword order and error objects.

use super::keywords::{has_group_keywords, number_keywords};
use super::{Schema, SchemaError, resolve};
use serde_json::{Map, Value as Json, json};

pub(super) fn type_name(d: &Json) -> &'static str {
    match d {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

pub(super) fn is_type(d: &Json, t: &str) -> bool {
    match t {
        "integer" => d.as_f64().is_some_and(|n| n.fract() == 0.0),
        t => type_name(d) == t,
    }
}

/// JSON pointer token escaping.
pub(super) fn esc(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// A schema path segment: JSON pointer escaping, then `encodeURIComponent`.
pub(super) fn esc_uri(k: &str) -> String {
    let mut out = String::new();
    for b in esc(k).bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Deep equality with numbers compared as numbers (ajv's `fast-deep-equal`).
pub(super) fn equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// The JS text of a number as ajv prints a limit (`5`, `1.5`).
pub(super) fn num_text(v: &Json) -> String {
    redoubt_core::value::format_number(v.as_f64().unwrap_or(f64::NAN))
}

pub(super) struct Ctx<'a> {
    pub data: &'a Json,
    pub ipath: &'a str,
    pub spath: &'a str,
    pub errs: &'a mut Vec<SchemaError>,
}

impl Ctx<'_> {
    pub(super) fn err(&mut self, kw: &'static str, params: Json, message: String) {
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
    pub(super) fn node(
        &self,
        s: &Json,
        data: &Json,
        ipath: &str,
        spath: &str,
        errs: &mut Vec<SchemaError>,
        depth: usize,
    ) {
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
        let mut c = Ctx {
            data,
            ipath,
            spath,
            errs,
        };
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
            let param = o.get("type").cloned().unwrap_or_default();
            c.err("type", json!({ "type": param }), format!("must be {t}"));
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
    pub(super) fn sub(
        &self,
        s: &Json,
        data: &Json,
        ipath: &str,
        spath: &str,
        depth: usize,
    ) -> Vec<SchemaError> {
        let mut errs = Vec::new();
        self.node(s, data, ipath, spath, &mut errs, depth + 1);
        errs
    }

    fn untyped(&self, o: &Map<String, Json>, c: &mut Ctx<'_>, depth: usize) {
        if let Some(target) = o
            .get("$ref")
            .and_then(Json::as_str)
            .and_then(|r| resolve(&self.root, r).map(|t| (r, t)))
        {
            let e = self.sub(target.1, c.data, c.ipath, target.0, depth);
            c.errs.extend(e);
        }
        if let Some(v) = o.get("const")
            && !equal(c.data, v)
        {
            c.err(
                "const",
                json!({"allowedValue": v}),
                "must be equal to constant".into(),
            );
        }
        if let Some(Json::Array(allowed)) = o.get("enum")
            && !allowed.iter().any(|v| equal(c.data, v))
        {
            c.err(
                "enum",
                json!({"allowedValues": allowed}),
                "must be equal to one of the allowed values".into(),
            );
        }
        if let Some(s) = o.get("not")
            && self
                .sub(s, c.data, c.ipath, &format!("{}/not", c.spath), depth)
                .is_empty()
        {
            c.err("not", json!({}), "must NOT be valid".into());
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
                    c.err(
                        "oneOf",
                        json!({"passingSchemas": null}),
                        "must match exactly one schema in oneOf".into(),
                    );
                }
                _ => c.err(
                    "oneOf",
                    json!({"passingSchemas": passing[..2]}),
                    "must match exactly one schema in oneOf".into(),
                ),
            }
        }
        if let Some(Json::Array(list)) = o.get("allOf") {
            for (i, s) in list.iter().enumerate() {
                let e = self.sub(s, c.data, c.ipath, &format!("{}/allOf/{i}", c.spath), depth);
                c.errs.extend(e);
            }
        }
        if let Some(cond) = o.get("if") {
            let passed = self
                .sub(cond, c.data, c.ipath, &format!("{}/if", c.spath), depth)
                .is_empty();
            let branch = if passed { "then" } else { "else" };
            if let Some(s) = o.get(branch) {
                let e = self.sub(s, c.data, c.ipath, &format!("{}/{branch}", c.spath), depth);
                if !e.is_empty() {
                    c.errs.extend(e);
                    c.err(
                        "if",
                        json!({"failingKeyword": branch}),
                        format!("must match \"{branch}\" schema"),
                    );
                }
            }
        }
    }
}
