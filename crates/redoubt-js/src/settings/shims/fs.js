// `require('fs')` in a settings.js: a synchronous subset, strings only (no
// Buffers), over the host's file operations (host.rs).
//
// An expression: a function taking the host object and the prelude's
// argument check, returning the module. Compiled the first time a settings.js
// requires the module (prelude.js `require`), not at every start.
(function (host, assertPath) {
    "use strict";

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

    return fs;
})
