//! Sets a sandbox up: loads the prelude (`buffer.js`, `prelude.js`, as
//! bytecode compiled once per process, see `bytecode`) and calls it with
//! the host object, then compiles the node's On Message, On Start and
//! On Stop code wrapped as Node-RED wraps it, so line numbers in errors
//! count from the user's first line.

use super::CompileError;
use super::FunctionSpec;
use super::bytecode;
use super::host::{self, Shared};
use rquickjs::context::EvalOptions;
use rquickjs::{CatchResultExt, CaughtError, Ctx, Function, Object, Value as JsValue};

/// Evaluates the prelude and compiles the node's code.
pub(crate) fn setup<'js>(
    ctx: &Ctx<'js>,
    spec: &FunctionSpec,
    sh: &Shared,
) -> Result<(), CompileError> {
    let engine = |e: rquickjs::Error| CompileError::engine(e.to_string());
    let internal = |r: rquickjs::Result<JsValue<'js>>| -> Result<JsValue<'js>, CompileError> {
        r.catch(ctx)
            .map_err(|e| CompileError::engine(e.to_string()))
    };
    let h = host::build(ctx, sh).map_err(engine)?;
    let bufmod = internal(bytecode::import(ctx, bytecode::BUFFER))?;
    let bufmod = internal(call1(&bufmod, (h.clone(),)))?;
    let meta = Object::new(ctx.clone()).map_err(engine)?;
    meta.set("id", spec.id.as_str()).map_err(engine)?;
    meta.set("name", spec.name.as_str()).map_err(engine)?;
    meta.set("path", spec.path.as_str()).map_err(engine)?;
    meta.set("outputCount", spec.outputs as f64)
        .map_err(engine)?;
    let prelude = internal(bytecode::import(ctx, bytecode::PRELUDE))?;
    let rd = internal(call1(&prelude, (h, meta, bufmod)))?;
    let [body, init, fin] = parts(spec).map(|(field, part, src, file)| match src {
        Some(src) => compile(ctx, field, part, &src, &file),
        None => Ok(JsValue::new_null(ctx.clone())),
    });
    let (body, init, fin) = (body?, init?, fin?);
    let rd = rd
        .into_object()
        .ok_or_else(|| CompileError::engine("prelude returned no object".into()))?;
    let set: Function = rd.get("setCode").map_err(engine)?;
    set.call::<_, ()>((body, init, fin))
        .catch(ctx)
        .map_err(|e| CompileError::engine(e.to_string()))?;
    Ok(())
}

/// The node's three code parts as (field, part, wrapped source, file name),
/// wrapped as Node-RED wraps them; an empty On Start or On Stop has no source.
type Part = (&'static str, &'static str, Option<String>, String);

fn parts(spec: &FunctionSpec) -> [Part; 3] {
    let label = if spec.name.is_empty() {
        String::new()
    } else {
        format!(" [{}]", spec.name)
    };
    // Node-RED wraps the code in an async function. Without `await` it
    // needs none: a plain function is much cheaper to call, and the prelude
    // settles its outcome as the async function's promise would settle.
    let kind = if may_await(&spec.func) {
        "async function"
    } else {
        "function"
    };
    // `node` is a fresh object per message (its `send` and `done` are the
    // message's own); a body that cannot name it does not get one built,
    // and declaring only `msg` tells the prelude (by the function's
    // `length`) not to make the `send` it would be given.
    let (params, node) = if may_name_node(&spec.func) {
        (
            "msg,__send__,__done__",
            " var node = __node__.make(__send__,__done__);",
        )
    } else {
        ("msg", "")
    };
    let body = format!(
        "({kind}({params}){{ var __msgid__ = msg._msgid;{node}\n{}\n}})",
        spec.func
    );
    let init = match spec.initialize.trim() {
        "" => None,
        code => Some(format!(
            "(async function(__send__){{ var node = __node__.makeInit(__send__);\n{code}\n}})"
        )),
    };
    let fin = match spec.finalize.trim() {
        "" => None,
        code => Some(format!(
            "(function(){{ var node = __node__.makeFin();\n{code}\n}})"
        )),
    };
    [
        (
            "func",
            "body",
            Some(body),
            format!("Function node:{}{label}", spec.id),
        ),
        (
            "initialize",
            "setup",
            init,
            format!("Function node setup:{}{label}", spec.id),
        ),
        (
            "finalize",
            "cleanup",
            fin,
            format!("Function node cleanup:{}{label}", spec.id),
        ),
    ]
}

/// True when the code may use `await` (any occurrence of the word, even in
/// a string or comment, counts; so does a `\u` escape, which could spell
/// it), so it must run in an async function.
fn may_await(code: &str) -> bool {
    mentions_any(code, &["await", "\\u"])
}

/// True when the code may refer to the `node` variable or the wrapper's
/// parameters: it contains `node` anywhere (even in a string or comment),
/// `__send__` or `__done__` (the parameters by name, as Node-RED's wrapper
/// declares them), `arguments` (them by position), `eval` (whose code could
/// name any of them) or a `\u` escape (which could spell them). Anything
/// else cannot reach a local of the wrapper.
fn may_name_node(code: &str) -> bool {
    mentions_any(
        code,
        &["node", "__send__", "__done__", "arguments", "eval", "\\u"],
    )
}

/// True when `code` contains any of `words`, wherever they stand.
fn mentions_any(code: &str, words: &[&str]) -> bool {
    words.iter().any(|word| code.contains(word))
}

/// Compiles the node's code without running any of it (the wrappers only
/// define functions), to report syntax errors at deploy time.
pub(crate) fn check(ctx: &Ctx<'_>, spec: &FunctionSpec) -> Result<(), CompileError> {
    for (field, part, src, file) in parts(spec) {
        if let Some(src) = src {
            compile(ctx, field, part, &src, &file)?;
        }
    }
    Ok(())
}

fn eval<'js>(ctx: &Ctx<'js>, src: &str, file: &str) -> rquickjs::Result<JsValue<'js>> {
    let mut opts = EvalOptions::default();
    opts.global = true;
    opts.strict = false;
    opts.filename = Some(file.to_string());
    ctx.eval_with_options(src, opts)
}

fn call1<'js, A: rquickjs::function::IntoArgs<'js>>(
    f: &JsValue<'js>,
    args: A,
) -> rquickjs::Result<JsValue<'js>> {
    match f.as_function() {
        Some(f) => f.call(args),
        None => Err(rquickjs::Error::new_from_js("value", "function")),
    }
}

/// Compiles one part of the node's code; syntax errors carry the line and
/// column within the user's text.
fn compile<'js>(
    ctx: &Ctx<'js>,
    field: &'static str,
    part: &'static str,
    src: &str,
    file: &str,
) -> Result<JsValue<'js>, CompileError> {
    match eval(ctx, src, file).catch(ctx) {
        Ok(v) => Ok(v),
        Err(CaughtError::Exception(ex)) => {
            let name: String = ex
                .as_object()
                .get("name")
                .unwrap_or_else(|_| "SyntaxError".to_string());
            let message = ex.message().unwrap_or_default();
            let (line, column) = ex.stack().as_deref().and_then(location).unwrap_or((0, 0));
            Err(CompileError {
                field,
                message: format!(
                    "{name}: {message} ({part}:line {}, col {column})",
                    line.saturating_sub(1)
                ),
                line: line.saturating_sub(1),
                column,
            })
        }
        Err(e) => Err(CompileError::engine(e.to_string())),
    }
}

/// `line:col` at the end of the first stack frame.
fn location(stack: &str) -> Option<(usize, usize)> {
    let first = stack.lines().find(|l| !l.trim().is_empty())?;
    let first = first.trim_end().trim_end_matches(')');
    let mut parts = first.rsplitn(3, ':');
    let col = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    Some((line, col))
}
