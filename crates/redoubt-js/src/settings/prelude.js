// redoubt settings.js prelude: the Node.js surface a settings.js may use.
//
// Evaluated once per settings evaluation, before the user's file. It is an
// expression: a function that takes the Rust host object (see host.rs) and
// returns { require, process, console, introspect }. Only `path`, `fs` and
// `os` can be required; everything else throws an Error naming the module.
(function (host) {
    "use strict";

    function hideTag(obj, name) {
        Object.defineProperty(obj, "__redoubtModule", { value: name, enumerable: false });
        return obj;
    }

    function assertPath(p, name) {
        if (typeof p !== "string") {
            throw new TypeError("The \"" + name + "\" argument must be of type string. Received " + typeof p);
        }
    }

    // Each module is compiled on first use (host.shim evaluates shims/<name>.js),
    // so a settings.js that requires nothing does not pay for parsing them.
    const modules = { path: undefined, fs: undefined, os: undefined };

    function require(name) {
        if (typeof name !== "string") {
            throw new TypeError("require() expects a module name string");
        }
        const bare = name.startsWith("node:") ? name.slice(5) : name;
        if (!Object.prototype.hasOwnProperty.call(modules, bare)) {
            throw new Error("require('" + name + "') is not available in redoubt settings.js " +
                "(only 'path', 'fs' and 'os' are provided)");
        }
        if (modules[bare] === undefined) {
            modules[bare] = hideTag(host.shim(bare)(host, assertPath), bare);
        }
        return modules[bare];
    }

    const process = {
        env: host.env(),
        platform: host.platform,
        arch: host.arch,
        cwd() { return host.cwd(); },
    };

    function render(args) {
        return args.map(function (a) {
            if (typeof a === "string") return a;
            try {
                const s = JSON.stringify(a);
                return s === undefined ? String(a) : s;
            } catch (e) {
                return String(a);
            }
        }).join(" ");
    }
    const console = {};
    for (const level of ["log", "info", "warn", "error", "debug", "trace"]) {
        console[level] = function (...args) { host.log(level, render(args)); };
    }

    // Captured before user code runs, so a settings.js cannot redefine them.
    const objToString = Object.prototype.toString;
    const fnToString = Function.prototype.toString;
    const reToString = RegExp.prototype.toString;
    const dateToISO = Date.prototype.toISOString;
    const dateGetTime = Date.prototype.getTime;
    const introspect = {
        kind(v) { return objToString.call(v); },
        functionSource(f) { return fnToString.call(f); },
        regexpSource(r) { return reToString.call(r); },
        dateString(d) { return isNaN(dateGetTime.call(d)) ? null : dateToISO.call(d); },
    };

    return { require, process, console, introspect };
})
