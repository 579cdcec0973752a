// The sandbox of one function node, mirroring the one `10-function.js`
// builds for `vm.createContext`: `node`, `context`/`flow`/`global`, `env`,
// `RED.util`, `Buffer`, `console`, `util` and the timer functions, plus the
// control object `rd` the Rust side drives (input, timers, init, close).
//
// `h` holds the host functions (see host.rs); `meta` is {id, name, path,
// outputCount}; `Buffer` comes from buffer.js. Messages the Rust side still
// has to convert live in `live` (sends without cloning) and `inflightParts`
// (messages whose done() is pending), so Rust never keeps JS values itself.
(function (h, meta, bufmod) {
    "use strict";
    const G = globalThis;
    const Buffer = bufmod.Buffer;
    const hasOwn = Object.prototype.hasOwnProperty;
    const HandleProto = Object.freeze(Object.create(null));
    const RESOLVING = 0, RESOLVED = 1, FAILED = 2;

    let body = null, init = null, fin = null;
    // The On Message code has no `await`, so it is compiled as a plain
    // function (see compile.rs) and settled as an async one would be.
    let bodySync = false;
    // The body declares `__send__` for its `node` object (see compile.rs).
    let bodySends = true;
    const AsyncFunctionProto = Object.getPrototypeOf(async function () {});
    const PromiseCtor = Promise;
    // What a plain body returned or threw, until the Rust side settles it:
    // [threw, value, msg, msgid, done, autoDone] (see `settle`).
    const pend = [false, undefined, undefined, undefined, undefined, false];
    let state = RESOLVED;
    let queued = [];
    // id -> the message's objects as converted, the message itself first
    const inflightParts = new Map();
    const inflightIds = new Map();  // msg -> id
    let live = [];
    let bound = [];
    const twins = [];               // context objects kept across turns (twins.rs)
    const timers = new Map();       // id -> {fn, args}
    let timerSeq = 0;
    const closeHandlers = [];

    // ---- formatting -------------------------------------------------------

    function inspect(v) {
        if (typeof v === "string") {
            return v;
        }
        if (v instanceof Error) {
            return String(v);
        }
        if (typeof v === "object" && v !== null) {
            try {
                return JSON.stringify(v);
            } catch (e) {
                return String(v);
            }
        }
        return String(v);
    }

    function format(first) {
        const args = Array.prototype.slice.call(arguments, 1);
        if (typeof first !== "string") {
            return [first].concat(args).map(inspect).join(" ");
        }
        let i = 0;
        let out = first.replace(/%[sdifjoO%]/g, function (m) {
            if (m === "%%") {
                return "%";
            }
            if (i >= args.length) {
                return m;
            }
            const a = args[i++];
            switch (m) {
                case "%s": return typeof a === "string" ? a : inspect(a);
                case "%d": return String(Number(a));
                case "%i": return String(parseInt(a, 10));
                case "%f": return String(parseFloat(a));
                default: return inspect(a);
            }
        });
        for (; i < args.length; i++) {
            out += " " + inspect(args[i]);
        }
        return out;
    }

    // What node.error/done report: the text a Catch node sees as
    // msg.error.message (Error#toString, as Node-RED's handleError does).
    function errorInfo(err) {
        if (typeof err === "object" && err !== null) {
            let message;
            try {
                message = String(err);
            } catch (e) {
                message = "Error";
            }
            const info = { message: message };
            if (typeof err.stack === "string" && err.stack !== "") {
                info.stack = message + "\n" + err.stack.replace(/\n+$/, "");
            }
            if (err.code !== undefined && err.code !== null) {
                info.code = String(err.code);
            }
            return info;
        }
        return { message: String(err) };
    }

    // "(line L, col C)" of the first frame in the function body, with the
    // line counted from the first line of the user's code.
    function bodyLocation(err) {
        const stack = typeof err.stack === "string" ? err.stack : "";
        const m = /\(?Function node:[^\n]*?:(\d+):(\d+)\)?\s*(\n|$)/.exec(stack);
        if (!m) {
            return null;
        }
        return { line: Number(m[1]) - 1, col: Number(m[2]) };
    }

    // ---- RED.util -----------------------------------------------------------

    function cloneValue(v, seen) {
        if (v === null || typeof v !== "object") {
            return v;
        }
        const known = seen.get(v);
        if (known !== undefined) {
            return known;
        }
        if (Object.getPrototypeOf(v) === HandleProto || v instanceof Error) {
            return v;
        }
        let out;
        if (v instanceof Buffer) {
            out = Buffer.from(v);
        } else if (v instanceof Date) {
            out = new Date(v.getTime());
        } else if (v instanceof RegExp) {
            out = new RegExp(v.source, v.flags);
        } else if (ArrayBuffer.isView(v)) {
            out = new v.constructor(v);
        } else if (Array.isArray(v)) {
            out = new Array(v.length);
            seen.set(v, out);
            for (let i = 0; i < v.length; i++) {
                out[i] = cloneValue(v[i], seen);
            }
            return out;
        } else if (v instanceof Map) {
            out = new Map();
            seen.set(v, out);
            v.forEach(function (val, key) {
                out.set(key, cloneValue(val, seen));
            });
            return out;
        } else if (v instanceof Set) {
            out = new Set();
            seen.set(v, out);
            v.forEach(function (val) {
                out.add(cloneValue(val, seen));
            });
            return out;
        } else {
            out = Object.create(Object.getPrototypeOf(v));
            seen.set(v, out);
            for (const k of Object.keys(v)) {
                out[k] = cloneValue(v[k], seen);
            }
            return out;
        }
        seen.set(v, out);
        return out;
    }

    function cloneMessage(msg) {
        if (msg === undefined || msg === null) {
            return msg;
        }
        const req = msg.req;
        const res = msg.res;
        delete msg.req;
        delete msg.res;
        const m = cloneValue(msg, new Map());
        if (req) {
            m.req = req;
            msg.req = req;
        }
        if (res) {
            m.res = res;
            msg.res = res;
        }
        return m;
    }

    function pathOf(expr, msg) {
        const segs = h.parsePath(String(expr));
        return segs.map(function (s) {
            return Array.isArray(s) ? resolvePath(msg, s) : s;
        });
    }

    function resolvePath(msg, segs) {
        return segs.reduce(function (obj, key) {
            return obj[Array.isArray(key) ? resolvePath(msg, key) : key];
        }, msg);
    }

    function getObjectProperty(msg, expr) {
        let result = null;
        pathOf(expr, msg).reduce(function (obj, key) {
            result = (typeof obj[key] !== "undefined" ? obj[key] : undefined);
            return result;
        }, msg);
        return result;
    }

    function setObjectProperty(msg, prop, value, createMissing) {
        if (typeof createMissing === "undefined") {
            createMissing = (typeof value !== "undefined");
        }
        const parts = pathOf(prop, msg);
        let obj = msg;
        for (let i = 0; i < parts.length - 1; i++) {
            const key = parts[i];
            if (typeof key === "string" || (typeof key === "number" && !Array.isArray(obj))) {
                if (hasOwn.call(obj, key)) {
                    if ((typeof obj[key] !== "object" && typeof obj[key] !== "function") || obj[key] === null) {
                        return false;
                    }
                    obj = obj[key];
                } else if (createMissing) {
                    obj[key] = typeof parts[i + 1] === "string" ? {} : [];
                    obj = obj[key];
                } else {
                    return false;
                }
            } else if (obj[key] === undefined) {
                if (!createMissing) {
                    return false;
                }
                obj[key] = typeof parts[i + 1] === "string" ? {} : [];
                obj = obj[key];
            } else {
                obj = obj[key];
            }
        }
        const key = parts[parts.length - 1];
        if (typeof value === "undefined") {
            if (typeof key === "number" && Array.isArray(obj)) {
                obj.splice(key, 1);
            } else {
                delete obj[key];
            }
        } else if (typeof obj === "object" && obj !== null) {
            obj[key] = value;
        } else {
            return false;
        }
        return true;
    }

    function stripMsg(expr) {
        expr = String(expr);
        return expr.indexOf("msg.") === 0 ? expr.substring(4) : expr;
    }

    function compareObjects(a, b) {
        if (a === b) {
            return true;
        }
        if (a === null || b === null || typeof a !== "object" || typeof b !== "object") {
            return false;
        }
        if (Array.isArray(a) !== Array.isArray(b)) {
            return false;
        }
        if (a instanceof Uint8Array && b instanceof Uint8Array) {
            return a.length === b.length && a.every(function (x, i) { return x === b[i]; });
        }
        const ka = Object.keys(a), kb = Object.keys(b);
        if (ka.length !== kb.length) {
            return false;
        }
        return ka.every(function (k) { return hasOwn.call(b, k) && compareObjects(a[k], b[k]); });
    }

    const REDutil = {
        cloneMessage: cloneMessage,
        generateId: function () { return h.generateId(); },
        getMessageProperty: function (msg, expr) { return getObjectProperty(msg, stripMsg(expr)); },
        setMessageProperty: function (msg, prop, value, createMissing) {
            return setObjectProperty(msg, stripMsg(prop), value, createMissing);
        },
        getObjectProperty: getObjectProperty,
        setObjectProperty: setObjectProperty,
        normalisePropertyExpression: function (expr, msg) { return pathOf(expr, msg); },
        ensureString: function (o) {
            if (Buffer.isBuffer(o)) {
                return o.toString();
            } else if (typeof o === "object") {
                return JSON.stringify(o);
            } else if (typeof o === "string") {
                return o;
            }
            return "" + o;
        },
        ensureBuffer: function (o) {
            if (Buffer.isBuffer(o)) {
                return o;
            } else if (typeof o === "object") {
                o = JSON.stringify(o);
            } else if (typeof o !== "string") {
                o = "" + o;
            }
            return Buffer.from(o);
        },
        compareObjects: compareObjects,
        parseContextStore: function (key) {
            const m = /^#:\((\S+?)\)::(.*)$/.exec(key);
            return m ? { store: m[1], key: m[2] } : { key: key };
        },
        getSetting: function (_node, name) { return h.env(String(name)); },
    };

    // ---- context ------------------------------------------------------------

    function validKey(key) {
        if (typeof key === "string") {
            return key.length > 0;
        }
        const keys = Array.isArray(key) ? key : [key];
        return keys.length > 0 && keys.every(function (k) { return typeof k === "string" && k.length > 0; });
    }

    function makeContext(scope) {
        return {
            get: function (key, store, cb) {
                if (!cb && typeof store === "function") {
                    cb = store;
                    store = undefined;
                }
                if (cb && typeof cb !== "function") {
                    throw new Error("Callback must be a function");
                }
                if (!validKey(key)) {
                    const err = new Error("Invalid context key");
                    if (cb) {
                        return cb(err);
                    }
                    throw err;
                }
                let values;
                try {
                    values = Array.isArray(key)
                        ? key.map(function (k) { return h.ctxGet(scope, k, store); })
                        : h.ctxGet(scope, key, store);
                } catch (err) {
                    if (cb) {
                        return cb(err);
                    }
                    throw err;
                }
                if (cb) {
                    return Array.isArray(key) ? cb.apply(null, [undefined].concat(values)) : cb(undefined, values);
                }
                return values;
            },
            set: function (key, value, store, cb) {
                if (!cb && typeof store === "function") {
                    cb = store;
                    store = undefined;
                }
                if (cb && typeof cb !== "function") {
                    throw new Error("Callback must be a function");
                }
                if (!validKey(key)) {
                    const err = new Error("Invalid context key");
                    if (cb) {
                        return cb(err);
                    }
                    throw err;
                }
                let error;
                try {
                    if (Array.isArray(key)) {
                        const values = Array.isArray(value) ? value : [value];
                        for (let i = 0; i < key.length; i++) {
                            h.ctxSet(scope, key[i], i < values.length ? values[i] : null, store);
                        }
                    } else {
                        h.ctxSet(scope, key, value, store);
                    }
                } catch (err) {
                    if (!cb) {
                        throw err;
                    }
                    error = err;
                }
                if (cb) {
                    cb(error);
                }
            },
            keys: function (store, cb) {
                if (typeof store === "function") {
                    cb = store;
                    store = undefined;
                }
                if (cb && typeof cb !== "function") {
                    throw new Error("Callback must be a function");
                }
                let keys;
                try {
                    keys = h.ctxKeys(scope, store);
                } catch (err) {
                    if (cb) {
                        return cb(err);
                    }
                    throw err;
                }
                if (cb) {
                    return cb(null, keys);
                }
                return keys;
            },
        };
    }

    const flowContext = makeContext("flow");
    const globalContext = makeContext("global");
    const nodeContext = makeContext("node");
    Object.defineProperty(nodeContext, "flow", { get: function () { return flowContext; } });
    Object.defineProperty(nodeContext, "global", { get: function () { return globalContext; } });

    // ---- timers -------------------------------------------------------------

    function delayOf(d) {
        d = Number(d);
        return (!(d >= 1) || d > 2147483647) ? 1 : d;
    }

    function addTimer(fn, delay, args, repeat) {
        const id = ++timerSeq;
        timers.set(id, { fn: fn, args: args, repeat: repeat });
        h.setTimer(id, delayOf(delay), repeat);
        return id;
    }

    function clearTimer(id) {
        if (timers.delete(id)) {
            h.clearTimer(id);
        }
    }

    // ---- sending ------------------------------------------------------------

    // Hands message `m` on to output `port`; the first message of a send
    // without cloning goes on as the object itself (`live`), followed there
    // by the JS counterparts of its objects when it is an input message, so
    // the Rust side needs no call to find them.
    function emitOne(first, port, m, msgid, cloneFirst) {
        if (first && cloneFirst === false) {
            m._msgid = msgid;
            const boundId = inflightIds.get(m);
            live.push(m, boundId === undefined ? undefined : inflightParts.get(boundId));
            h.emitLive(port, live.length - 2, boundId === undefined ? 0 : boundId);
        } else {
            h.emit(port, m, msgid);
        }
    }

    function sendResults(msgid, msgs, cloneFirst) {
        if (msgs === null || msgs === undefined) {
            return;
        }
        // One message for output 1 (`return msg`), the usual case: what the
        // general path below does with it, without its arrays.
        if (typeof msgs === "object" && !Array.isArray(msgs) && !Buffer.isBuffer(msgs)) {
            emitOne(true, 0, msgs, msgid, cloneFirst);
            return;
        }
        if (!Array.isArray(msgs)) {
            msgs = [msgs];
        }
        const out = [];
        for (let port = 0; port < msgs.length; port++) {
            let list = msgs[port];
            if (!list) {
                continue;
            }
            if (!Array.isArray(list)) {
                list = [list];
            }
            for (let n = 0; n < list.length; n++) {
                const m = list[n];
                if (m === null || m === undefined) {
                    continue;
                }
                if (typeof m === "object" && !Buffer.isBuffer(m) && !Array.isArray(m)) {
                    out.push([port, m]);
                } else {
                    let type = typeof m;
                    if (type === "object") {
                        type = Buffer.isBuffer(m) ? "Buffer" : (Array.isArray(m) ? "Array" : "Date");
                    }
                    h.error({ message: "Function tried to send a message of type " + type }, undefined);
                }
            }
        }
        for (let i = 0; i < out.length; i++) {
            emitOne(i === 0, out[i][0], out[i][1], msgid, cloneFirst);
        }
    }

    function reportError(err, msg) {
        if (typeof err !== "boolean" && !err) {
            err = "";
        }
        const routed = msg !== null && typeof msg === "object" ? msg : undefined;
        h.error(errorInfo(err), routed);
    }

    function log(level) {
        return function (text) {
            h.log(level, inspect(text));
        };
    }

    // The functions every `node` object shares (as Node-RED's wrapper
    // takes them from its `__node__`); only `send` and `done` are per call.
    const nodeLog = log("info"), nodeWarn = log("warn"), nodeDebug = log("debug"), nodeTrace = log("trace");
    function nodeStatus(status) {
        if (status !== null && typeof status !== "object") {
            status = { text: String(status) };
        }
        h.status(status || {});
    }
    function nodeOn(event, handler) {
        if (event === "input") {
            throw new Error("Cannot add listener to 'input' event within Function");
        }
        if (event === "close" && typeof handler === "function") {
            if (closeHandlers.length === 0) {
                h.closeListener();
            }
            closeHandlers.push(handler);
        }
    }
    function nodeLinkcall() {
        return Promise.reject(new Error("node.linkcall is not supported by redoubt"));
    }
    function sendFromClose() {
        h.error({ message: "Cannot send from close function" }, undefined);
    }

    function makeNode(send, done, kind) {
        const node = {
            id: meta.id,
            name: meta.name,
            path: meta.path,
            outputCount: meta.outputCount,
            log: nodeLog,
            error: reportError,
            warn: nodeWarn,
            debug: nodeDebug,
            trace: nodeTrace,
            status: nodeStatus,
        };
        if (kind === "close") {
            node.send = sendFromClose;
            return node;
        }
        node.send = send;
        if (kind === "body") {
            node.on = nodeOn;
            node.done = done;
            node.linkcall = nodeLinkcall;
        }
        return node;
    }

    // ---- message processing -------------------------------------------------

    function fail(msg, err, done) {
        if (typeof err === "object" && err !== null && (err instanceof Error || "stack" in err)) {
            if (err.name === "ReferenceError") {
                const at = bodyLocation(err);
                if (at) {
                    err.message = err.name + ": " + err.message + " (line " + at.line + ", col " + at.col + ")";
                }
            }
            msg.error = err;
            done(err);
        } else if (typeof err === "string") {
            done(err);
        } else {
            done(JSON.stringify(err));
        }
    }

    function deliver(msgid, results, autoDone, done) {
        sendResults(msgid, results, false);
        if (autoDone) {
            done();
        }
    }

    // Settles a plain body's outcome as its async function's promise would:
    // one job, queued after the jobs the body queued itself.
    function settleLater(threw, result, msg, msgid, done, autoDone) {
        const p = new PromiseCtor(function (resolve, reject) {
            if (threw) {
                reject(result);
            } else {
                resolve(result);
            }
        });
        p.then(function (results) {
            deliver(msgid, results, autoDone, done);
        }, function (err) {
            fail(msg, err, done);
        });
    }

    // Calls the body; with `direct` (a message handed in by the Rust side)
    // a plain body's outcome is left in `pend`, which is returned.
    function process(id, msg, autoDone, direct) {
        const msgid = msg._msgid;
        let finished = false;
        const done = function (err) {
            if (finished) {
                return;
            }
            finished = true;
            h.done(id, (err === undefined || err === null || err === false) ? null : errorInfo(err));
        };
        const send = bodySends ? function (msgs, clone) {
            sendResults(msgid, msgs, clone);
        } : undefined;
        let result;
        if (bodySync) {
            let threw = false;
            try {
                result = body(msg, send, done);
            } catch (err) {
                threw = true;
                result = err;
            }
            if (!direct) {
                settleLater(threw, result, msg, msgid, done, autoDone);
                return true;
            }
            pend[0] = threw;
            pend[1] = result;
            pend[2] = msg;
            pend[3] = msgid;
            pend[4] = done;
            pend[5] = autoDone;
            return pend;
        }
        try {
            result = body(msg, send, done);
        } catch (err) {
            fail(msg, err, done);
            return true;
        }
        result.then(function (results) {
            deliver(msgid, results, autoDone, done);
        }, function (err) {
            fail(msg, err, done);
        });
        return true;
    }

    // Removes input message `id` from the in-flight tables.
    function forget(id) {
        const parts = inflightParts.get(id);
        if (parts === undefined) {
            return;
        }
        inflightParts.delete(id);
        if (inflightIds.get(parts[0]) === id) {
            inflightIds.delete(parts[0]);
        }
    }

    function drainQueue() {
        while (queued.length > 0) {
            const q = queued;
            queued = [];
            for (const [id, msg, autoDone] of q) {
                process(id, msg, autoDone, false);
            }
        }
    }

    function failInit(info) {
        state = FAILED;
        const q = queued;
        queued = [];
        for (const [id] of q) {
            h.drop(id);
        }
        h.error(info, undefined);
    }

    // ---- msg.req, converted as the script reads it ------------------------
    //
    // An input message's `msg.req` (Express's request in Node-RED, a host
    // object there too) is a proxy over an empty target: reading a property
    // converts just that property from the Rust side (h.lazyGet) and keeps it
    // on the target; anything that changes the object, lists its keys or
    // freezes it converts the rest first (`lazyFill`), after which the proxy
    // only forwards. Writing back, the Rust side reads the target, never the
    // proxy (see lazy_req.rs). `made` holds the objects converted for it, in
    // the order the Rust side recorded them.
    const WeakRefCtor = WeakRef;
    const lazyOf = new WeakMap();      // target -> state
    const lazyByProxy = new WeakMap(); // proxy -> target
    const lazyLive = [];               // id, WeakRef(target), id, WeakRef(target), ...

    // An own data property `k` on target `t` (a plain object): assigning
    // makes one, except for `__proto__`, whose setter is on the prototype.
    function lazyDefine(t, k, v) {
        if (k === "__proto__") {
            Object.defineProperty(t, k, { value: v, writable: true, enumerable: true, configurable: true });
        } else {
            t[k] = v;
        }
    }

    // Converts property `k` onto the target when the Rust object has it and
    // the target does not (h.lazyGet defines it and appends the objects it
    // converted to `made`).
    function lazyOne(t, k) {
        const st = lazyOf.get(t);
        if (!st.full && typeof k === "string" && !hasOwn.call(t, k)) {
            h.lazyGet(st.id, k, t, st.made);
        }
    }

    // Converts every property, in the Rust object's order.
    function lazyFill(t) {
        const st = lazyOf.get(t);
        if (st.full) {
            return;
        }
        st.full = true;
        const had = new Map();
        for (const k of Object.keys(t)) {
            had.set(k, t[k]);
            delete t[k];
        }
        for (const k of h.lazyKeys(st.id)) {
            if (had.has(k)) {
                lazyDefine(t, k, had.get(k));
            } else {
                h.lazyGet(st.id, k, t, st.made);
            }
        }
    }

    const lazyHandler = {
        get: function (t, k, r) { lazyOne(t, k); return Reflect.get(t, k, r); },
        has: function (t, k) { lazyOne(t, k); return Reflect.has(t, k); },
        getOwnPropertyDescriptor: function (t, k) {
            lazyOne(t, k);
            return Reflect.getOwnPropertyDescriptor(t, k);
        },
        set: function (t, k, v, r) { lazyFill(t); return Reflect.set(t, k, v, r); },
        deleteProperty: function (t, k) { lazyFill(t); return Reflect.deleteProperty(t, k); },
        defineProperty: function (t, k, d) { lazyFill(t); return Reflect.defineProperty(t, k, d); },
        ownKeys: function (t) { lazyFill(t); return Reflect.ownKeys(t); },
        preventExtensions: function (t) { lazyFill(t); return Reflect.preventExtensions(t); },
        setPrototypeOf: function (t, p) { lazyFill(t); return Reflect.setPrototypeOf(t, p); },
    };

    // `preset`: [key, value, ...] of properties already converted elsewhere
    // in the message (msg.payload is msg.req.query or msg.req.body), so the
    // script sees one object, as in Node-RED.
    function mkLazy(id, preset) {
        const t = {};
        // No reference from the state to the target: a WeakMap value
        // holding its own key would keep the target alive until a GC cycle.
        const st = { id: id, full: false, made: [] };
        for (let i = 0; i < preset.length; i += 2) {
            lazyDefine(t, preset[i], preset[i + 1]);
            st.made.push(preset[i + 1]);
        }
        const p = new Proxy(t, lazyHandler);
        lazyOf.set(t, st);
        lazyByProxy.set(p, t);
        lazyLive.push(id, new WeakRefCtor(t));
        return p;
    }

    // The state ({id, full, made}) of a msg.req proxy, else undefined.
    function lazyInfo(p) {
        const t = lazyByProxy.get(p);
        return t === undefined ? undefined : lazyOf.get(t);
    }

    // The target of a msg.req proxy, read back once the proxy is `full`.
    function lazyTarget(p) {
        return lazyByProxy.get(p);
    }

    // Ids of the proxies no longer reachable, forgotten here too (the
    // live ones are moved down over them, in order).
    function lazySweep() {
        const gone = [];
        let kept = 0;
        for (let i = 0; i < lazyLive.length; i += 2) {
            if (lazyLive[i + 1].deref() === undefined) {
                gone.push(lazyLive[i]);
            } else {
                lazyLive[kept] = lazyLive[i];
                lazyLive[kept + 1] = lazyLive[i + 1];
                kept += 2;
            }
        }
        lazyLive.length = kept;
        return gone;
    }

    const rd = {
        mkLazy: mkLazy,
        lazyInfo: lazyInfo,
        lazyTarget: lazyTarget,
        lazySweep: lazySweep,
        HandleProto: HandleProto,
        BufferProto: Buffer.prototype,
        latin1Of: bufmod.latin1Of,
        getTime: Date.prototype.getTime,
        DateCtor: Date,
        ObjectProto: Object.prototype,
        setCode: function (b, i, f) {
            body = b;
            bodySync = typeof b === "function" && Object.getPrototypeOf(b) !== AsyncFunctionProto;
            // A body declaring only `msg` has no `node` to send with (compile.rs).
            bodySends = typeof b === "function" && b.length > 1;
            init = i;
            fin = f;
            state = init ? RESOLVING : RESOLVED;
        },
        // Returns false when the message is dropped (On Start failed), `pend`
        // when a plain body returned and `settle` must follow, else true.
        input: function (id, msg, autoDone, parts) {
            if (state === FAILED) {
                return false;
            }
            inflightParts.set(id, parts);
            inflightIds.set(msg, id);
            if (state === RESOLVING) {
                queued.push([id, msg, autoDone]);
                return true;
            }
            return process(id, msg, autoDone, true);
        },
        // Settles what `input` left in `pend`: `direct` when no job is
        // pending and resolving with the value would not look into it (the
        // Rust side checks both), so the settling job would run next anyway
        // and can run now; else as a job, as the async function's would.
        settle: function (direct) {
            const threw = pend[0], result = pend[1], msg = pend[2], msgid = pend[3];
            const done = pend[4], autoDone = pend[5];
            pend[1] = pend[2] = pend[3] = pend[4] = undefined;
            if (!direct) {
                settleLater(threw, result, msg, msgid, done, autoDone);
                return;
            }
            try {
                if (threw) {
                    fail(msg, result, done);
                } else {
                    deliver(msgid, result, autoDone, done);
                }
            } catch (err) {
                // As from a promise callback: nobody sees it.
            }
        },
        // The parts of `id` (the message first), no longer in flight.
        take: function (id) {
            const parts = inflightParts.get(id);
            forget(id);
            return parts;
        },
        // Forgets message `id` (sent on as itself, so nothing to read back).
        forget: forget,
        twins: twins,
        // Context values read or stored this turn (see host.rs `bind`).
        boundList: function () {
            return bound;
        },
        takeBound: function () {
            const b = bound;
            bound = [];
            return b;
        },
        takeLive: function () {
            const l = live;
            live = [];
            return l;
        },
        fire: function (id) {
            const t = timers.get(id);
            if (t === undefined) {
                return;
            }
            if (!t.repeat) {
                timers.delete(id);
            }
            try {
                t.fn.apply(null, t.args);
            } catch (err) {
                h.error(errorInfo(err), {});
            }
        },
        init: function () {
            if (!init) {
                state = RESOLVED;
                return;
            }
            const send = function (msgs, clone) {
                sendResults(h.generateId(), msgs, clone);
            };
            let p;
            try {
                p = init(send);
            } catch (err) {
                failInit(errorInfo(err));
                return;
            }
            p.then(function () {
                state = RESOLVED;
                drainQueue();
            }, function (err) {
                failInit(errorInfo(err));
            });
        },
        failInit: failInit,
        close: function (removed) {
            if (fin) {
                try {
                    fin();
                } catch (err) {
                    h.error(errorInfo(err), undefined);
                }
            }
            for (const f of closeHandlers) {
                try {
                    // As Node-RED calls close listeners: (), (done) or (removed, done).
                    const done = function () {};
                    if (f.length === 0) {
                        f.call(null);
                    } else if (f.length === 1) {
                        f.call(null, done);
                    } else {
                        f.call(null, removed, done);
                    }
                } catch (err) {
                    h.error(errorInfo(err), undefined);
                }
            }
            timers.clear();
        },
    };

    Object.freeze(rd);
    const builtins = {
        __node__: Object.freeze({
            make: function (send, done) { return makeNode(send, done, "body"); },
            makeInit: function (send) { return makeNode(send, null, "init"); },
            makeFin: function () { return makeNode(null, null, "close"); },
        }),
        __rd__: rd,
        Buffer: Buffer,
        RED: { util: REDutil },
        context: nodeContext,
        flow: flowContext,
        global: globalContext,
        env: { get: function (name) { return h.env(String(name)); } },
        util: {
            format: format,
            inspect: inspect,
            isDeepStrictEqual: compareObjects,
        },
        console: {
            log: function () { h.log("console", format.apply(null, arguments)); },
            info: function () { h.log("console", format.apply(null, arguments)); },
            debug: function () { h.log("console", format.apply(null, arguments)); },
            warn: function () { h.log("console-warn", format.apply(null, arguments)); },
            error: function () { h.log("console-warn", format.apply(null, arguments)); },
            trace: function () { h.log("console", format.apply(null, arguments)); },
        },
        setTimeout: function (fn, delay) {
            return addTimer(fn, delay, Array.prototype.slice.call(arguments, 2), false);
        },
        clearTimeout: clearTimer,
        setInterval: function (fn, delay) {
            return addTimer(fn, delay, Array.prototype.slice.call(arguments, 2), true);
        },
        clearInterval: clearTimer,
    };
    for (const k of Object.keys(builtins)) {
        const fixed = k === "__rd__" || k === "__node__";
        Object.defineProperty(G, k, { value: builtins[k], writable: !fixed, configurable: !fixed, enumerable: false });
    }
    return rd;
})
