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

    // --- path (POSIX semantics, as Node's path on Linux) ---------------------
    function normalizeString(p, allowAboveRoot) {
        const out = [];
        for (const seg of p.split("/")) {
            if (seg === "" || seg === ".") continue;
            if (seg === "..") {
                if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
                else if (allowAboveRoot) out.push("..");
            } else {
                out.push(seg);
            }
        }
        return out.join("/");
    }

    const path = {
        sep: "/",
        delimiter: ":",
        normalize(p) {
            assertPath(p, "path");
            if (p.length === 0) return ".";
            const abs = p[0] === "/";
            const trailing = p[p.length - 1] === "/";
            let r = normalizeString(p, !abs);
            if (r.length === 0) {
                if (abs) return "/";
                return trailing ? "./" : ".";
            }
            if (trailing) r += "/";
            return abs ? "/" + r : r;
        },
        join(...parts) {
            parts.forEach(function (p) { assertPath(p, "path"); });
            const joined = parts.filter(function (p) { return p.length > 0; }).join("/");
            return joined.length === 0 ? "." : path.normalize(joined);
        },
        resolve(...parts) {
            let resolved = "";
            let abs = false;
            for (let i = parts.length - 1; i >= -1 && !abs; i--) {
                const p = i >= 0 ? parts[i] : host.cwd();
                assertPath(p, "paths[" + i + "]");
                if (p.length === 0) continue;
                resolved = p + "/" + resolved;
                abs = p[0] === "/";
            }
            resolved = normalizeString(resolved, !abs);
            if (abs) return "/" + resolved;
            return resolved.length > 0 ? resolved : ".";
        },
        isAbsolute(p) {
            assertPath(p, "path");
            return p.length > 0 && p[0] === "/";
        },
        dirname(p) {
            assertPath(p, "path");
            if (p.length === 0) return ".";
            const hasRoot = p[0] === "/";
            let end = -1;
            let matchedSlash = true;
            for (let i = p.length - 1; i >= 1; --i) {
                if (p[i] === "/") {
                    if (!matchedSlash) { end = i; break; }
                } else {
                    matchedSlash = false;
                }
            }
            if (end === -1) return hasRoot ? "/" : ".";
            if (hasRoot && end === 1) return "//";
            return p.slice(0, end);
        },
        basename(p, ext) {
            assertPath(p, "path");
            let end = p.length;
            while (end > 1 && p[end - 1] === "/") end--;
            const trimmed = p.slice(0, end);
            let base = trimmed.slice(trimmed.lastIndexOf("/") + 1);
            if (typeof ext === "string" && ext.length > 0 && base !== ext && base.endsWith(ext)) {
                base = base.slice(0, base.length - ext.length);
            }
            return base;
        },
        extname(p) {
            const base = path.basename(p);
            const dot = base.lastIndexOf(".");
            if (dot <= 0) return "";
            return base.slice(dot);
        },
    };
    path.posix = path;

    // --- fs (synchronous subset; strings only, no Buffers) -----------------
    function encodingOf(options) {
        if (options === undefined || options === null) return null;
        if (typeof options === "string") return options;
        if (typeof options === "object") return options.encoding === undefined ? null : options.encoding;
        throw new TypeError("fs options must be a string or an object");
    }

    const fs = {
        readFileSync(p, options) {
            assertPath(p, "path");
            const enc = encodingOf(options);
            if (enc !== null && !/^utf-?8$/i.test(enc)) {
                throw new Error("fs.readFileSync: encoding '" + enc + "' is not supported in redoubt settings.js (only utf8)");
            }
            return host.readFile(p);
        },
        existsSync(p) {
            return typeof p === "string" && host.exists(p);
        },
        statSync(p, options) {
            assertPath(p, "path");
            if (options && options.throwIfNoEntry === false && !host.exists(p)) return undefined;
            const s = host.stat(p);
            return {
                size: s.size,
                mode: s.mode,
                mtimeMs: s.mtimeMs,
                mtime: new Date(s.mtimeMs),
                isFile() { return s.isFile; },
                isDirectory() { return s.isDirectory; },
                isSymbolicLink() { return false; },
            };
        },
        mkdirSync(p, options) {
            assertPath(p, "path");
            const recursive = !!(options && typeof options === "object" && options.recursive);
            host.mkdir(p, recursive);
            return undefined;
        },
    };

    // --- os -------------------------------------------------------------------
    const os = {
        EOL: host.eol,
        hostname() { return host.hostname(); },
        homedir() { return host.homedir(); },
        tmpdir() { return host.tmpdir(); },
        platform() { return host.platform; },
        type() { return host.osType; },
        arch() { return host.arch; },
    };

    const modules = {
        path: hideTag(path, "path"),
        fs: hideTag(fs, "fs"),
        os: hideTag(os, "os"),
    };

    function require(name) {
        if (typeof name !== "string") {
            throw new TypeError("require() expects a module name string");
        }
        const bare = name.startsWith("node:") ? name.slice(5) : name;
        if (Object.prototype.hasOwnProperty.call(modules, bare)) return modules[bare];
        throw new Error("require('" + name + "') is not available in redoubt settings.js " +
            "(only 'path', 'fs' and 'os' are provided)");
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
