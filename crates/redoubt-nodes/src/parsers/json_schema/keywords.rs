//! The number, string, array and object keywords.

use super::validate::{Ctx, equal, esc, esc_uri, is_type, num_text};
use super::{NUMBERS, Schema};
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;

pub(super) fn has_group_keywords(o: &Map<String, Json>, group: &str) -> bool {
    let keys: &[&str] = match group {
        "number" => NUMBERS,
        "string" => &["maxLength", "minLength", "pattern"],
        "array" => &[
            "maxItems",
            "minItems",
            "additionalItems",
            "items",
            "contains",
            "uniqueItems",
        ],
        _ => &[
            "maxProperties",
            "minProperties",
            "required",
            "propertyNames",
            "additionalProperties",
            "dependencies",
            "properties",
            "patternProperties",
        ],
    };
    keys.iter().any(|k| o.contains_key(*k))
}

pub(super) fn number_keywords(o: &Map<String, Json>, c: &mut Ctx<'_>) {
    let n = c.data.as_f64().unwrap_or(f64::NAN);
    for (kw, cmp) in [
        ("maximum", "<="),
        ("minimum", ">="),
        ("exclusiveMaximum", "<"),
        ("exclusiveMinimum", ">"),
    ] {
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
            c.err(
                kw,
                json!({"comparison": cmp, "limit": limit}),
                format!("must be {cmp} {}", num_text(limit)),
            );
        }
    }
    if let Some(m) = o.get("multipleOf") {
        let d = n / m.as_f64().unwrap_or(f64::NAN);
        if d.fract() != 0.0 {
            c.err(
                "multipleOf",
                json!({"multipleOf": m}),
                format!("must be multiple of {}", num_text(m)),
            );
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
fn limits(
    o: &Map<String, Json>,
    c: &mut Ctx<'_>,
    count: usize,
    kws: [&'static str; 2],
    what: &str,
) {
    for (kw, more) in [(kws[0], true), (kws[1], false)] {
        let Some(limit) = o.get(kw) else { continue };
        let l = limit.as_f64().unwrap_or(0.0);
        let bad = if more {
            count as f64 > l
        } else {
            (count as f64) < l
        };
        if bad {
            let word = if more { "more" } else { "fewer" };
            c.err(
                kw,
                json!({"limit": limit}),
                format!("must NOT have {word} than {} {what}", num_text(limit)),
            );
        }
    }
}

impl Schema {
    pub(super) fn string_keywords(&self, o: &Map<String, Json>, c: &mut Ctx<'_>) {
        let s = c.data.as_str().unwrap_or("");
        limits(
            o,
            c,
            s.chars().count(),
            ["maxLength", "minLength"],
            "characters",
        );
        if let Some(p) = o.get("pattern").and_then(Json::as_str)
            && self.regexes.get(p).is_some_and(|re| re.find(s).is_none())
        {
            c.err(
                "pattern",
                json!({"pattern": p}),
                format!("must match pattern \"{p}\""),
            );
        }
    }

    pub(super) fn array_keywords(&self, o: &Map<String, Json>, c: &mut Ctx<'_>, depth: usize) {
        let items = c.data.as_array().cloned().unwrap_or_default();
        limits(o, c, items.len(), ["maxItems", "minItems"], "items");
        if let (Some(Json::Array(tuple)), Some(extra)) = (o.get("items"), o.get("additionalItems"))
            && items.len() > tuple.len()
        {
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
        match o.get("items") {
            Some(Json::Array(tuple)) => {
                for (i, (s, item)) in tuple.iter().zip(&items).enumerate() {
                    let e = self.sub(
                        s,
                        item,
                        &format!("{}/{i}", c.ipath),
                        &format!("{}/items/{i}", c.spath),
                        depth,
                    );
                    c.errs.extend(e);
                }
            }
            Some(s) => {
                for (i, item) in items.iter().enumerate() {
                    let e = self.sub(
                        s,
                        item,
                        &format!("{}/{i}", c.ipath),
                        &format!("{}/items", c.spath),
                        depth,
                    );
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
                c.err(
                    "contains",
                    json!({"minContains": 1}),
                    "must contain at least 1 valid item(s)".into(),
                );
            }
        }
        if o.get("uniqueItems") == Some(&Json::Bool(true))
            && let Some((i, j)) = duplicate(o.get("items"), &items)
        {
            let msg = format!("must NOT have duplicate items (items ## {j} and {i} are identical)");
            c.err("uniqueItems", json!({"i": i, "j": j}), msg);
        }
    }

    pub(super) fn object_keywords(&self, o: &Map<String, Json>, c: &mut Ctx<'_>, depth: usize) {
        let Some(obj) = c.data.as_object().cloned() else {
            return;
        };
        limits(
            o,
            c,
            obj.len(),
            ["maxProperties", "minProperties"],
            "properties",
        );
        if let Some(Json::Array(req)) = o.get("required") {
            for r in req.iter().filter_map(Json::as_str) {
                if !obj.contains_key(r) {
                    c.err(
                        "required",
                        json!({"missingProperty": r}),
                        format!("must have required property '{r}'"),
                    );
                }
            }
        }
        if let Some(s) = o.get("propertyNames") {
            for k in obj.keys() {
                let e = self.sub(
                    s,
                    &Json::String(k.clone()),
                    c.ipath,
                    &format!("{}/propertyNames", c.spath),
                    depth,
                );
                if !e.is_empty() {
                    c.errs.extend(e.into_iter().map(|mut e| {
                        e.property_name = Some(k.clone());
                        e
                    }));
                    c.err(
                        "propertyNames",
                        json!({"propertyName": k}),
                        "property name must be valid".into(),
                    );
                }
            }
        }
        let props = o.get("properties").and_then(Json::as_object);
        let patterns = o.get("patternProperties").and_then(Json::as_object);
        if let Some(extra) = o.get("additionalProperties") {
            for (k, v) in &obj {
                let declared = props.is_some_and(|p| p.contains_key(k))
                    || patterns.is_some_and(|p| {
                        p.keys()
                            .any(|re| self.regexes.get(re).is_some_and(|r| r.find(k).is_some()))
                    });
                if declared {
                    continue;
                }
                if extra == &Json::Bool(false) {
                    c.err(
                        "additionalProperties",
                        json!({"additionalProperty": k}),
                        "must NOT have additional properties".into(),
                    );
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
                        let missing: Vec<&str> = names
                            .iter()
                            .filter_map(Json::as_str)
                            .filter(|n| !obj.contains_key(*n))
                            .collect();
                        for m in missing {
                            let params = json!({"property": k, "missingProperty": m, "depsCount": names.len(), "deps": names.iter().filter_map(Json::as_str).collect::<Vec<_>>().join(", ")});
                            let word = if names.len() == 1 {
                                "property"
                            } else {
                                "properties"
                            };
                            let list = names
                                .iter()
                                .filter_map(Json::as_str)
                                .collect::<Vec<_>>()
                                .join(", ");
                            c.err(
                                "dependencies",
                                params,
                                format!("must have {word} {list} when property {k} is present"),
                            );
                        }
                    }
                    s => {
                        let e = self.sub(
                            s,
                            c.data,
                            c.ipath,
                            &format!("{}/dependencies/{}", c.spath, esc_uri(k)),
                            depth,
                        );
                        c.errs.extend(e);
                    }
                }
            }
        }
        if let Some(p) = props {
            for (k, s) in p {
                if let Some(v) = obj.get(k) {
                    let sp = format!("{}/properties/{}", c.spath, esc_uri(k));
                    let e = self.sub(s, v, &format!("{}/{}", c.ipath, esc(k)), &sp, depth);
                    c.errs.extend(e);
                }
            }
        }
        if let Some(p) = patterns {
            for (re, s) in p {
                let Some(r) = self.regexes.get(re) else {
                    continue;
                };
                for (k, v) in obj.iter().filter(|(k, _)| r.find(k).is_some()) {
                    let sp = format!("{}/patternProperties/{}", c.spath, esc_uri(re));
                    let e = self.sub(s, v, &format!("{}/{}", c.ipath, esc(k)), &sp, depth);
                    c.errs.extend(e);
                }
            }
        }
    }
}
