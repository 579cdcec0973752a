// `require('path')` in a settings.js: POSIX semantics, as Node's path on Linux.
//
// An expression: a function taking the host object (host.rs) and the
// prelude's argument check, returning the module. Compiled the first time a
// settings.js requires the module (prelude.js `require`), not at every start.
(function (host, assertPath) {
    "use strict";

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

    return path;
})
