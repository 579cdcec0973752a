//! Converts what a settings.js exports into `serde_json::Value`, keeping
//! object insertion order (serde_json `preserve_order`).
//!
//! Values JSON cannot hold are encoded so the caller can still see them:
//! functions become `{"__function__": "<source>"}`, regular expressions
//! `{"__regexp__": "/src/flags"}`, modules from the prelude's `require`
//! `{"__module__": "os"}`, and Dates their ISO string. `undefined` and symbol
//! properties are skipped; `undefined` array slots become `null`, and
//! non-finite numbers `null`, as `JSON.stringify` does. Circular references,
//! very large values and Promises (other than a resolved `https`) are errors
//! naming the property path.

use std::fmt;
use std::time::Instant;

use rquickjs::{Array, Function, Object, Type, Value};
use serde_json::{Map, Value as Json};

/// Key under which a function's source text is stored.
pub const FUNCTION_KEY: &str = "__function__";
/// Key under which a regular expression's `/source/flags` is stored.
pub const REGEXP_KEY: &str = "__regexp__";
/// Key under which the name of a `require`d prelude module is stored.
pub const MODULE_KEY: &str = "__module__";

/// Hidden property `prelude.js` puts on the `path`, `fs` and `os` modules.
const MODULE_TAG: &str = "__redoubtModule";
/// Upper bound on the number of values converted, against exponential DAGs.
const MAX_VALUES: usize = 1_000_000;
/// Largest integer a JS number holds exactly (2^53).
const MAX_SAFE: f64 = 9_007_199_254_740_992.0;

/// Why a value could not be converted.
#[derive(Debug)]
pub(crate) enum ConvertError {
    /// The value refers to itself; `path` is where the cycle closes.
    Circular { path: String },
    /// The value is not representable; `reason` says what it is.
    Unsupported { path: String, reason: String },
    /// More than [`MAX_VALUES`] values.
    TooLarge,
    /// The evaluation deadline passed while converting.
    Deadline,
    /// The engine failed while reading a property (a getter threw, …).
    Js(rquickjs::Error),
}

impl From<rquickjs::Error> for ConvertError {
    fn from(e: rquickjs::Error) -> Self {
        ConvertError::Js(e)
    }
}

/// The pristine builtins `prelude.js` captured before user code ran.
pub(crate) struct Introspect<'js> {
    kind: Function<'js>,
    function_source: Function<'js>,
    regexp_source: Function<'js>,
    date_string: Function<'js>,
}

impl<'js> Introspect<'js> {
    /// Reads the helpers from the prelude's `introspect` object.
    pub(crate) fn from_object(obj: &Object<'js>) -> rquickjs::Result<Self> {
        Ok(Self {
            kind: obj.get("kind")?,
            function_source: obj.get("functionSource")?,
            regexp_source: obj.get("regexpSource")?,
            date_string: obj.get("dateString")?,
        })
    }
}

/// One step of a property path, for error messages.
enum Segment {
    Key(String),
    Index(usize),
}

/// Walks a JS value graph and builds the JSON tree.
pub(crate) struct Converter<'a, 'js> {
    introspect: &'a Introspect<'js>,
    deadline: Instant,
    ancestors: Vec<Object<'js>>,
    path: Vec<Segment>,
    seen: usize,
}

impl<'a, 'js> Converter<'a, 'js> {
    pub(crate) fn new(introspect: &'a Introspect<'js>, deadline: Instant) -> Self {
        Self {
            introspect,
            deadline,
            ancestors: Vec::new(),
            path: Vec::new(),
            seen: 0,
        }
    }

    /// Converts `value` (the settings object, or any part of it).
    pub(crate) fn convert(&mut self, value: Value<'js>) -> Result<Json, ConvertError> {
        self.seen += 1;
        if self.seen > MAX_VALUES {
            return Err(ConvertError::TooLarge);
        }
        if self.seen.is_multiple_of(4096) && Instant::now() >= self.deadline {
            return Err(ConvertError::Deadline);
        }
        match value.type_of() {
            Type::Uninitialized | Type::Undefined | Type::Null | Type::Symbol => Ok(Json::Null),
            Type::Bool => Ok(Json::Bool(value.as_bool().unwrap_or(false))),
            Type::Int => Ok(Json::from(value.as_int().unwrap_or(0))),
            Type::Float => Ok(number(value.as_float().unwrap_or(f64::NAN))),
            Type::String => Ok(Json::String(value.get::<String>()?)),
            Type::BigInt => self.big_int(&value),
            Type::Function | Type::Constructor => {
                let source: String = self.introspect.function_source.call((value,))?;
                Ok(tagged(FUNCTION_KEY, source))
            }
            Type::Promise => Err(self
                .unsupported("is a Promise; only the `https` setting may be asynchronous".into())),
            Type::Array => match value.into_array() {
                Some(array) => self.array(array),
                None => Ok(Json::Null),
            },
            Type::Module | Type::Unknown => {
                Err(self.unsupported("is an engine-internal value".into()))
            }
            Type::Object | Type::Exception | Type::Proxy => match value.into_object() {
                Some(obj) => self.object(obj),
                None => Ok(Json::Null),
            },
        }
    }

    fn big_int(&self, value: &Value<'js>) -> Result<Json, ConvertError> {
        let big = value.as_big_int().cloned();
        match big.map(|b| b.to_i64()) {
            Some(Ok(n)) => Ok(Json::from(n)),
            _ => Err(self.unsupported("is a BigInt outside the 64-bit range".into())),
        }
    }

    fn array(&mut self, array: Array<'js>) -> Result<Json, ConvertError> {
        self.enter(array.as_object())?;
        let mut out = Vec::with_capacity(array.len());
        for index in 0..array.len() {
            let item: Value<'js> = array.get(index)?;
            self.path.push(Segment::Index(index));
            let converted = self.convert(item)?;
            self.path.pop();
            out.push(converted);
        }
        self.ancestors.pop();
        Ok(Json::Array(out))
    }

    fn object(&mut self, obj: Object<'js>) -> Result<Json, ConvertError> {
        if let Some(name) = obj.get::<_, Option<String>>(MODULE_TAG)? {
            return Ok(tagged(MODULE_KEY, name));
        }
        let kind: String = self.introspect.kind.call((obj.clone(),))?;
        match kind.as_str() {
            "[object RegExp]" => {
                let source: String = self.introspect.regexp_source.call((obj,))?;
                return Ok(tagged(REGEXP_KEY, source));
            }
            "[object Date]" => {
                let iso: Option<String> = self.introspect.date_string.call((obj,))?;
                return Ok(iso.map_or(Json::Null, Json::String));
            }
            _ => {}
        }
        self.enter(&obj)?;
        let mut out = Map::new();
        for prop in obj.props::<String, Value<'js>>() {
            let (key, value) = prop?;
            if value.is_undefined() || value.is_symbol() {
                continue;
            }
            self.path.push(Segment::Key(key));
            let converted = self.convert(value)?;
            if let Some(Segment::Key(key)) = self.path.pop() {
                out.insert(key, converted);
            }
        }
        self.ancestors.pop();
        Ok(Json::Object(out))
    }

    /// Pushes `obj` on the ancestor stack, failing if it is already there.
    fn enter(&mut self, obj: &Object<'js>) -> Result<(), ConvertError> {
        if self.ancestors.iter().any(|a| a == obj) {
            return Err(ConvertError::Circular {
                path: self.path_string(),
            });
        }
        self.ancestors.push(obj.clone());
        Ok(())
    }

    fn unsupported(&self, reason: String) -> ConvertError {
        ConvertError::Unsupported {
            path: self.path_string(),
            reason,
        }
    }

    /// `a.b[0].c`; the empty path (the exported value itself) is `module.exports`.
    fn path_string(&self) -> String {
        PathDisplay(&self.path).to_string()
    }
}

struct PathDisplay<'p>(&'p [Segment]);

impl fmt::Display for PathDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("module.exports");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

fn tagged(key: &str, value: String) -> Json {
    let mut map = Map::new();
    map.insert(key.to_owned(), Json::String(value));
    Json::Object(map)
}

/// A JS number as JSON: integral values as integers, non-finite as `null`.
fn number(f: f64) -> Json {
    if !f.is_finite() {
        return Json::Null;
    }
    if f.fract() == 0.0 && f.abs() < MAX_SAFE {
        // Exact: |f| < 2^53 and integral.
        return Json::from(f as i64);
    }
    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
}
