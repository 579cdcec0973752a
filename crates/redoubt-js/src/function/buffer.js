// A minimal Node.js `Buffer` for function node code: a Uint8Array subclass
// with the encodings and helpers flows use (utf8, hex, base64, base64url,
// latin1/binary, ascii, utf16le), `toJSON`, integer and float accessors.
// `h` is the host object: `h.utf8Encode(string)` gives a Uint8Array and
// `h.utf8Decode(latin1)` decodes bytes (one char per byte) leniently.
(function (h) {
    "use strict";
    const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const B64REV = new Int16Array(128).fill(-1);
    for (let i = 0; i < 64; i++) {
        B64REV[B64.charCodeAt(i)] = i;
    }
    B64REV[45] = 62; // '-'
    B64REV[95] = 63; // '_'
    const LONE_SURROGATE = /[\uD800-\uDFFF]/;

    function normEnc(enc) {
        if (enc === undefined || enc === null) {
            return "utf8";
        }
        switch (String(enc).toLowerCase()) {
            case "utf8": case "utf-8": return "utf8";
            case "hex": return "hex";
            case "base64": return "base64";
            case "base64url": return "base64url";
            case "latin1": case "binary": return "latin1";
            case "ascii": return "ascii";
            case "ucs2": case "ucs-2": case "utf16le": case "utf-16le": return "utf16le";
            default: return null;
        }
    }

    function wellFormed(s) {
        if (!LONE_SURROGATE.test(s)) {
            return s;
        }
        let out = "";
        for (let i = 0; i < s.length; i++) {
            const c = s.charCodeAt(i);
            if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
                const d = s.charCodeAt(i + 1);
                if (d >= 0xdc00 && d <= 0xdfff) {
                    out += s[i] + s[i + 1];
                    i++;
                    continue;
                }
            }
            out += (c >= 0xd800 && c <= 0xdfff) ? "\uFFFD" : s[i];
        }
        return out;
    }

    function bytesOf(str, enc) {
        str = String(str);
        switch (enc) {
            case "utf8": return h.utf8Encode(wellFormed(str));
            case "hex": {
                const n = str.length >>> 1;
                const out = new Uint8Array(n);
                let i = 0;
                for (; i < n; i++) {
                    const v = parseInt(str.substr(i * 2, 2), 16);
                    if (Number.isNaN(v) || !/^[0-9a-fA-F]{2}$/.test(str.substr(i * 2, 2))) {
                        break;
                    }
                    out[i] = v;
                }
                return out.subarray(0, i);
            }
            case "base64": case "base64url": {
                const out = new Uint8Array(Math.ceil(str.length * 3 / 4));
                let bits = 0, acc = 0, n = 0;
                for (let i = 0; i < str.length; i++) {
                    const c = str.charCodeAt(i);
                    if (c === 61) {
                        break; // '='
                    }
                    const v = c < 128 ? B64REV[c] : -1;
                    if (v < 0) {
                        continue;
                    }
                    acc = (acc << 6) | v;
                    bits += 6;
                    if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (acc >> bits) & 0xff;
                    }
                }
                return out.subarray(0, n);
            }
            case "latin1": case "ascii": {
                const out = new Uint8Array(str.length);
                for (let i = 0; i < str.length; i++) {
                    out[i] = str.charCodeAt(i) & 0xff;
                }
                return out;
            }
            case "utf16le": {
                const out = new Uint8Array(str.length * 2);
                for (let i = 0; i < str.length; i++) {
                    const c = str.charCodeAt(i);
                    out[i * 2] = c & 0xff;
                    out[i * 2 + 1] = c >> 8;
                }
                return out;
            }
        }
        throw new TypeError("Unknown encoding: " + enc);
    }

    function latin1Of(u8) {
        let s = "";
        for (let i = 0; i < u8.length; i += 8192) {
            s += String.fromCharCode.apply(null, u8.subarray(i, Math.min(u8.length, i + 8192)));
        }
        return s;
    }

    function stringOf(u8, enc) {
        switch (enc) {
            case "utf8": return u8.length === 0 ? "" : h.utf8Decode(latin1Of(u8));
            case "hex": {
                let s = "";
                for (let i = 0; i < u8.length; i++) {
                    s += (u8[i] < 16 ? "0" : "") + u8[i].toString(16);
                }
                return s;
            }
            case "base64": case "base64url": {
                const abc = enc === "base64" ? B64 : B64URL;
                let s = "";
                let i = 0;
                for (; i + 2 < u8.length; i += 3) {
                    const n = (u8[i] << 16) | (u8[i + 1] << 8) | u8[i + 2];
                    s += abc[n >> 18] + abc[(n >> 12) & 63] + abc[(n >> 6) & 63] + abc[n & 63];
                }
                const rest = u8.length - i;
                if (rest === 1) {
                    const n = u8[i] << 16;
                    s += abc[n >> 18] + abc[(n >> 12) & 63] + (enc === "base64" ? "==" : "");
                } else if (rest === 2) {
                    const n = (u8[i] << 16) | (u8[i + 1] << 8);
                    s += abc[n >> 18] + abc[(n >> 12) & 63] + abc[(n >> 6) & 63] + (enc === "base64" ? "=" : "");
                }
                return s;
            }
            case "latin1": return latin1Of(u8);
            case "ascii": {
                const c = new Uint8Array(u8.length);
                for (let i = 0; i < u8.length; i++) {
                    c[i] = u8[i] & 0x7f;
                }
                return latin1Of(c);
            }
            case "utf16le": {
                let s = "";
                for (let i = 0; i + 1 < u8.length; i += 2) {
                    s += String.fromCharCode(u8[i] | (u8[i + 1] << 8));
                }
                return s;
            }
        }
        throw new TypeError("Unknown encoding: " + enc);
    }

    function asBuffer(u8) {
        Object.setPrototypeOf(u8, Buffer.prototype);
        return u8;
    }

    function checkEnc(enc) {
        const e = normEnc(enc);
        if (e === null) {
            throw new TypeError("Unknown encoding: " + enc);
        }
        return e;
    }

    class Buffer extends Uint8Array {
        constructor(a, b, c) {
            if (typeof a === "string" || Array.isArray(a)) {
                return Buffer.from(a, b);
            }
            super(a, b, c);
        }

        static from(value, encOrOffset, length) {
            if (typeof value === "string") {
                return asBuffer(new Uint8Array(bytesOf(value, checkEnc(encOrOffset))));
            }
            if (value instanceof ArrayBuffer) {
                const off = encOrOffset === undefined ? 0 : Number(encOrOffset);
                const len = length === undefined ? value.byteLength - off : Number(length);
                return asBuffer(new Uint8Array(value, off, len));
            }
            if (ArrayBuffer.isView(value)) {
                return asBuffer(new Uint8Array(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)));
            }
            if (value !== null && typeof value === "object") {
                if (value.type === "Buffer" && Array.isArray(value.data)) {
                    return asBuffer(Uint8Array.from(value.data, (x) => x & 0xff));
                }
                if (typeof value.length === "number" || Array.isArray(value)) {
                    const out = new Uint8Array(value.length >>> 0);
                    for (let i = 0; i < out.length; i++) {
                        out[i] = value[i] & 0xff;
                    }
                    return asBuffer(out);
                }
                const prim = value.valueOf();
                if (prim !== value && prim !== null && prim !== undefined) {
                    return Buffer.from(prim, encOrOffset, length);
                }
            }
            throw new TypeError("The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received " + (value === null ? "null" : typeof value));
        }

        static alloc(size, fill, enc) {
            const b = asBuffer(new Uint8Array(checkSize(size)));
            if (fill !== undefined && fill !== 0) {
                b.fill(fill, 0, b.length, enc);
            }
            return b;
        }

        static allocUnsafe(size) {
            return asBuffer(new Uint8Array(checkSize(size)));
        }

        static allocUnsafeSlow(size) {
            return Buffer.allocUnsafe(size);
        }

        static isBuffer(x) {
            return x instanceof Buffer;
        }

        static isEncoding(enc) {
            return typeof enc === "string" && normEnc(enc) !== null;
        }

        static byteLength(value, enc) {
            if (typeof value !== "string") {
                return value.byteLength;
            }
            return bytesOf(value, checkEnc(enc)).length;
        }

        static concat(list, total) {
            if (!Array.isArray(list)) {
                throw new TypeError("The \"list\" argument must be an instance of Array");
            }
            if (total === undefined) {
                total = 0;
                for (const b of list) {
                    total += b.length;
                }
            }
            const out = Buffer.alloc(total);
            let pos = 0;
            for (const b of list) {
                if (pos >= total) {
                    break;
                }
                const part = b.length > total - pos ? b.subarray(0, total - pos) : b;
                out.set(part, pos);
                pos += part.length;
            }
            return out;
        }

        static compare(a, b) {
            return a.compare(b);
        }

        toString(enc, start, end) {
            const e = checkEnc(enc);
            const s = start === undefined ? 0 : Math.max(0, start | 0);
            const en = end === undefined ? this.length : Math.min(this.length, end | 0);
            if (en <= s) {
                return "";
            }
            const view = (s === 0 && en === this.length) ? this : this.subarray(s, en);
            return stringOf(view, e);
        }

        toLocaleString(enc, start, end) {
            return this.toString(enc, start, end);
        }

        toJSON() {
            return { type: "Buffer", data: Array.from(this) };
        }

        equals(other) {
            return this.compare(other) === 0;
        }

        compare(other) {
            const n = Math.min(this.length, other.length);
            for (let i = 0; i < n; i++) {
                if (this[i] !== other[i]) {
                    return this[i] < other[i] ? -1 : 1;
                }
            }
            return this.length === other.length ? 0 : (this.length < other.length ? -1 : 1);
        }

        subarray(start, end) {
            return asBuffer(Uint8Array.prototype.subarray.call(this, start, end));
        }

        slice(start, end) {
            return this.subarray(start, end);
        }

        write(str, offset, length, enc) {
            if (typeof offset === "string") {
                enc = offset;
                offset = 0;
                length = undefined;
            } else if (typeof length === "string") {
                enc = length;
                length = undefined;
            }
            offset = offset === undefined ? 0 : offset >>> 0;
            const bytes = bytesOf(str, checkEnc(enc));
            const n = Math.min(bytes.length, this.length - offset, length === undefined ? Infinity : length >>> 0);
            if (n <= 0) {
                return 0;
            }
            this.set(bytes.subarray(0, n), offset);
            return n;
        }

        fill(value, offset, end, enc) {
            if (typeof offset === "string") {
                enc = offset;
                offset = 0;
                end = this.length;
            } else if (typeof end === "string") {
                enc = end;
                end = this.length;
            }
            offset = offset === undefined ? 0 : offset;
            end = end === undefined ? this.length : end;
            if (typeof value === "number" || typeof value === "boolean") {
                Uint8Array.prototype.fill.call(this, Number(value) & 0xff, offset, end);
                return this;
            }
            const pattern = typeof value === "string" ? bytesOf(value, checkEnc(enc)) : value;
            if (pattern.length === 0) {
                Uint8Array.prototype.fill.call(this, 0, offset, end);
                return this;
            }
            for (let i = offset, j = 0; i < end; i++, j = (j + 1) % pattern.length) {
                this[i] = pattern[j];
            }
            return this;
        }

        indexOf(value, byteOffset, enc) {
            if (typeof value === "number") {
                return Uint8Array.prototype.indexOf.call(this, value & 0xff, byteOffset);
            }
            if (typeof byteOffset === "string") {
                enc = byteOffset;
                byteOffset = 0;
            }
            const needle = typeof value === "string" ? bytesOf(value, checkEnc(enc)) : value;
            let from = byteOffset === undefined ? 0 : byteOffset | 0;
            if (from < 0) {
                from = Math.max(0, this.length + from);
            }
            if (needle.length === 0) {
                return Math.min(from, this.length);
            }
            outer: for (let i = from; i + needle.length <= this.length; i++) {
                for (let j = 0; j < needle.length; j++) {
                    if (this[i + j] !== needle[j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }

        includes(value, byteOffset, enc) {
            return this.indexOf(value, byteOffset, enc) !== -1;
        }

        copy(target, targetStart, sourceStart, sourceEnd) {
            targetStart = targetStart === undefined ? 0 : targetStart;
            sourceStart = sourceStart === undefined ? 0 : sourceStart;
            sourceEnd = sourceEnd === undefined ? this.length : Math.min(sourceEnd, this.length);
            const n = Math.max(0, Math.min(sourceEnd - sourceStart, target.length - targetStart));
            if (n > 0) {
                target.set(this.subarray(sourceStart, sourceStart + n), targetStart);
            }
            return n;
        }

        readUIntBE(offset, len) {
            let v = 0;
            for (let i = 0; i < len; i++) {
                v = v * 256 + at8(this, offset + i);
            }
            return v;
        }

        readUIntLE(offset, len) {
            let v = 0;
            for (let i = len - 1; i >= 0; i--) {
                v = v * 256 + at8(this, offset + i);
            }
            return v;
        }

        readIntBE(offset, len) {
            const v = this.readUIntBE(offset, len);
            const lim = Math.pow(2, 8 * len - 1);
            return v >= lim ? v - lim * 2 : v;
        }

        readIntLE(offset, len) {
            const v = this.readUIntLE(offset, len);
            const lim = Math.pow(2, 8 * len - 1);
            return v >= lim ? v - lim * 2 : v;
        }

        writeUIntBE(value, offset, len) {
            let v = Number(value);
            for (let i = len - 1; i >= 0; i--) {
                put8(this, offset + i, v & 0xff);
                v = Math.floor(v / 256);
            }
            return offset + len;
        }

        writeUIntLE(value, offset, len) {
            let v = Number(value);
            for (let i = 0; i < len; i++) {
                put8(this, offset + i, v & 0xff);
                v = Math.floor(v / 256);
            }
            return offset + len;
        }

        writeIntBE(value, offset, len) {
            const v = Number(value);
            return this.writeUIntBE(v < 0 ? v + Math.pow(2, 8 * len) : v, offset, len);
        }

        writeIntLE(value, offset, len) {
            const v = Number(value);
            return this.writeUIntLE(v < 0 ? v + Math.pow(2, 8 * len) : v, offset, len);
        }
    }

    function at8(b, i) {
        if (i < 0 || i >= b.length || !Number.isInteger(i)) {
            throw new RangeError("The value of \"offset\" is out of range. Received " + i);
        }
        return b[i];
    }

    function put8(b, i, v) {
        if (i < 0 || i >= b.length || !Number.isInteger(i)) {
            throw new RangeError("The value of \"offset\" is out of range. Received " + i);
        }
        b[i] = v;
    }

    function viewOf(b) {
        return new DataView(b.buffer, b.byteOffset, b.byteLength);
    }

    function checkSize(size) {
        if (typeof size !== "number" || size < 0 || !Number.isFinite(size)) {
            throw new RangeError("The argument 'size' is invalid. Received " + size);
        }
        return Math.floor(size);
    }

    // DataView-backed accessors: [name, DataView method, size, littleEndian].
    const ACCESSORS = [
        ["UInt8", "Uint8", 1, false], ["Int8", "Int8", 1, false],
        ["UInt16LE", "Uint16", 2, true], ["UInt16BE", "Uint16", 2, false],
        ["Int16LE", "Int16", 2, true], ["Int16BE", "Int16", 2, false],
        ["UInt32LE", "Uint32", 4, true], ["UInt32BE", "Uint32", 4, false],
        ["Int32LE", "Int32", 4, true], ["Int32BE", "Int32", 4, false],
        ["FloatLE", "Float32", 4, true], ["FloatBE", "Float32", 4, false],
        ["DoubleLE", "Float64", 8, true], ["DoubleBE", "Float64", 8, false],
    ];
    for (const [name, dv, size, le] of ACCESSORS) {
        const read = function (offset) {
            offset = offset === undefined ? 0 : offset;
            if (!Number.isInteger(offset) || offset < 0 || offset + size > this.length) {
                throw new RangeError("The value of \"offset\" is out of range. Received " + offset);
            }
            return viewOf(this)["get" + dv](offset, le);
        };
        const write = function (value, offset) {
            offset = offset === undefined ? 0 : offset;
            if (!Number.isInteger(offset) || offset < 0 || offset + size > this.length) {
                throw new RangeError("The value of \"offset\" is out of range. Received " + offset);
            }
            viewOf(this)["set" + dv](offset, Number(value), le);
            return offset + size;
        };
        Buffer.prototype["read" + name] = read;
        Buffer.prototype["write" + name] = write;
        if (name.startsWith("UInt")) {
            Buffer.prototype["readUint" + name.slice(4)] = read;
            Buffer.prototype["writeUint" + name.slice(4)] = write;
        }
    }
    Buffer.prototype.readUintBE = Buffer.prototype.readUIntBE;
    Buffer.prototype.readUintLE = Buffer.prototype.readUIntLE;
    Buffer.prototype.writeUintBE = Buffer.prototype.writeUIntBE;
    Buffer.prototype.writeUintLE = Buffer.prototype.writeUIntLE;
    Buffer.poolSize = 8192;
    return { Buffer: Buffer, latin1Of: latin1Of };
})
