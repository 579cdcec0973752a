'use strict';
// Starting and stopping a redoubt binary for the editor tests.
//
// Each test file starts its own redoubt on port 0 in a fresh temporary user
// directory (redoubt writes its default settings.js there on first run, unless
// the caller passes its own `settings`), with the given flows written to
// <userDir>/flows.json, and stops it with SIGTERM.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

/** The repository root (tests/editor/lib -> ../../..). */
const REPO = path.resolve(__dirname, '..', '..', '..');

/** The binary under test: $REDOUBT_BIN, or the dev build. */
const BIN = path.resolve(REPO, process.env.REDOUBT_BIN || 'target/debug/redoubt');

/** Where screenshots go (CI keeps this folder). */
const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');

const READY_TIMEOUT_MS = 30000;
const STOP_TIMEOUT_MS = 15000;

/** A fresh temporary directory, removed by `removeDir`. */
function tempDir(prefix) {
    return fs.mkdtempSync(path.join(os.tmpdir(), `redoubt-editor-${prefix}-`));
}

function removeDir(dir) {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Starts redoubt with `flows` and resolves once it serves HTTP and has
 * started (or loaded) the flows. Rejects with the log so far when it exits
 * or does not get there within READY_TIMEOUT_MS.
 *
 * Options: `name` prefixes the temporary user directory; `settings`, when
 * given, is the text of a settings.js written to <userDir>/settings.js (0600)
 * before redoubt starts, so it is used instead of the generated default.
 */
async function startRedoubt(flows, { name = 'run', settings } = {}) {
    if (!fs.existsSync(BIN)) {
        throw new Error(`redoubt binary ${BIN} not found: build it with 'cargo build -p redoubt' or set REDOUBT_BIN`);
    }
    const userDir = tempDir(name);
    const flowsFile = path.join(userDir, 'flows.json');
    fs.writeFileSync(flowsFile, JSON.stringify(flows, null, 4));
    if (settings !== undefined) {
        fs.writeFileSync(path.join(userDir, 'settings.js'), settings, { mode: 0o600 });
    }
    const child = spawn(BIN, ['-u', userDir, '-p', '0', flowsFile], {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
    });
    const log = [];
    const waiters = new Set();
    const onLine = (line) => {
        log.push(line);
        for (const w of waiters) w(line);
    };
    readline.createInterface({ input: child.stdout }).on('line', onLine);
    readline.createInterface({ input: child.stderr }).on('line', onLine);
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

    const server = {
        child,
        userDir,
        flowsFile,
        log,
        exited,
        port: 0,
        get base() {
            return `http://127.0.0.1:${this.port}`;
        },
        url(p = '/') {
            return this.base + p;
        },
        /** Resolves with the first log line (already seen or future) matching `re`. */
        waitForLog(re, timeoutMs = 10000) {
            const seen = log.find((l) => re.test(l));
            if (seen) return Promise.resolve(seen);
            return new Promise((resolve, reject) => {
                const timer = setTimeout(() => {
                    waiters.delete(w);
                    reject(new Error(`no log line matching ${re} within ${timeoutMs} ms`));
                }, timeoutMs);
                const w = (line) => {
                    if (re.test(line)) {
                        clearTimeout(timer);
                        waiters.delete(w);
                        resolve(line);
                    }
                };
                waiters.add(w);
            });
        },
        /** SIGTERM, wait for exit (SIGKILL after STOP_TIMEOUT_MS), remove the user dir. */
        async stop({ keepDir = false } = {}) {
            if (child.exitCode === null && child.signalCode === null) {
                child.kill('SIGTERM');
                const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
                await exited;
                clearTimeout(timer);
            }
            if (!keepDir) removeDir(userDir);
        },
    };

    const ready = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`redoubt not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
        let flowsUp = false;
        const w = (line) => {
            const m = /Server now running at http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
            if (m) server.port = Number(m[1]);
            if (/Started flows|Flows not started/.test(line)) flowsUp = true;
            if (server.port && flowsUp) {
                clearTimeout(timer);
                waiters.delete(w);
                resolve();
            }
        };
        waiters.add(w);
        exited.then(({ code, signal }) => {
            clearTimeout(timer);
            reject(new Error(`redoubt exited early (code ${code}, signal ${signal})`));
        });
    });
    try {
        await ready;
    } catch (err) {
        await server.stop();
        err.message += `\n--- redoubt log ---\n${log.join('\n')}`;
        throw err;
    }
    return server;
}

/** Reads and parses the flows file of a running server. */
function readFlowsFile(server) {
    return JSON.parse(fs.readFileSync(server.flowsFile, 'utf8'));
}

module.exports = { REPO, BIN, ARTIFACTS, startRedoubt, readFlowsFile, tempDir, removeDir };
