'use strict';
// A minimal WebSocket client (RFC 6455) for the /comms contract test.
// Node 20 has no WebSocket global without a flag, and the test needs only:
// the upgrade, sending text frames, and reading text frames as JSON.

const crypto = require('node:crypto');
const http = require('node:http');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Opens ws://host:port/path. Resolves with
 * { response, send(obj), next(predicate, timeoutMs), close() }.
 * `next` resolves with the first received message (already queued or future)
 * for which `predicate(message)` is true; messages are parsed JSON.
 */
function connect(url, { timeoutMs = 10000 } = {}) {
    const u = new URL(url);
    const key = crypto.randomBytes(16).toString('base64');
    return new Promise((resolve, reject) => {
        const req = http.request({
            host: u.hostname,
            port: u.port,
            path: u.pathname + u.search,
            headers: {
                Connection: 'Upgrade',
                Upgrade: 'websocket',
                'Sec-WebSocket-Version': '13',
                'Sec-WebSocket-Key': key,
            },
            timeout: timeoutMs,
        });
        req.on('timeout', () => req.destroy(new Error(`no upgrade from ${url} within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.on('response', (res) => {
            reject(new Error(`GET ${url}: expected 101 Switching Protocols, got ${res.statusCode}`));
            res.resume();
        });
        req.on('upgrade', (res, socket, head) => {
            req.setTimeout(0);
            const expected = crypto.createHash('sha1').update(key + GUID).digest('base64');
            if (res.headers['sec-websocket-accept'] !== expected) {
                socket.destroy();
                reject(new Error(`bad Sec-WebSocket-Accept: ${res.headers['sec-websocket-accept']}`));
                return;
            }
            resolve(wrap(res, socket, head));
        });
        req.end();
    });
}

function wrap(response, socket, head) {
    let buf = head && head.length ? Buffer.from(head) : Buffer.alloc(0);
    let fragments = [];
    const messages = [];
    const waiters = new Set();
    let closed = false;

    const deliver = (text) => {
        let msg;
        try {
            msg = JSON.parse(text);
        } catch {
            msg = { unparsable: text };
        }
        messages.push(msg);
        for (const w of waiters) w();
    };

    const parse = () => {
        for (;;) {
            if (buf.length < 2) return;
            const fin = (buf[0] & 0x80) !== 0;
            const opcode = buf[0] & 0x0f;
            const masked = (buf[1] & 0x80) !== 0;
            let len = buf[1] & 0x7f;
            let off = 2;
            if (len === 126) {
                if (buf.length < 4) return;
                len = buf.readUInt16BE(2);
                off = 4;
            } else if (len === 127) {
                if (buf.length < 10) return;
                len = Number(buf.readBigUInt64BE(2));
                off = 10;
            }
            const maskOff = off;
            if (masked) off += 4;
            if (buf.length < off + len) return;
            let payload = buf.subarray(off, off + len);
            if (masked) {
                const mask = buf.subarray(maskOff, maskOff + 4);
                payload = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
            }
            buf = buf.subarray(off + len);
            if (opcode === 0x8) {
                closed = true;
                socket.end();
                for (const w of waiters) w();
                return;
            } else if (opcode === 0x9) {
                sendFrame(0xa, payload);
            } else if (opcode === 0x1 || opcode === 0x0) {
                fragments.push(payload);
                if (fin) {
                    deliver(Buffer.concat(fragments).toString('utf8'));
                    fragments = [];
                }
            }
        }
    };

    const sendFrame = (opcode, payload) => {
        const mask = crypto.randomBytes(4);
        let header;
        if (payload.length < 126) {
            header = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
        } else if (payload.length < 65536) {
            header = Buffer.alloc(4);
            header[0] = 0x80 | opcode;
            header[1] = 0x80 | 126;
            header.writeUInt16BE(payload.length, 2);
        } else {
            header = Buffer.alloc(10);
            header[0] = 0x80 | opcode;
            header[1] = 0x80 | 127;
            header.writeBigUInt64BE(BigInt(payload.length), 2);
        }
        const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
        socket.write(Buffer.concat([header, mask, body]));
    };

    socket.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        parse();
    });
    socket.on('close', () => {
        closed = true;
        for (const w of waiters) w();
    });
    socket.on('error', () => {});
    parse();

    return {
        response,
        messages,
        send(obj) {
            sendFrame(0x1, Buffer.from(JSON.stringify(obj), 'utf8'));
        },
        next(predicate, timeoutMs = 10000) {
            let from = 0;
            return new Promise((resolve, reject) => {
                const check = () => {
                    for (; from < messages.length; from++) {
                        if (predicate(messages[from])) {
                            const m = messages[from];
                            cleanup();
                            resolve(m);
                            return;
                        }
                    }
                    if (closed) {
                        cleanup();
                        reject(new Error('websocket closed before the expected message arrived'));
                    }
                };
                const timer = setTimeout(() => {
                    cleanup();
                    reject(new Error(`expected message not received within ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
                }, timeoutMs);
                const cleanup = () => {
                    clearTimeout(timer);
                    waiters.delete(check);
                };
                waiters.add(check);
                check();
            });
        },
        close() {
            if (!closed) {
                try {
                    sendFrame(0x8, Buffer.from([0x03, 0xe8]));
                } catch {
                    // already gone
                }
            }
            socket.destroy();
        },
    };
}

module.exports = { connect };
