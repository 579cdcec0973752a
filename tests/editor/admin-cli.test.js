'use strict';
// node-red-admin (the Node-RED admin command line, pinned in package.json)
// against redoubt: `target`, `list`, `list --json`, `info <set>` and
// `info <module>` must succeed and show redoubt's node sets.
// node-red-admin keeps its target in ~/.node-red/.cli-config.json, so HOME
// points at a temporary directory for every run.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { startRedoubt, tempDir, removeDir } = require('./lib/redoubt');
const { STARTUP_FLOWS } = require('./lib/fixtures');

const CLI = path.join(__dirname, 'node_modules', 'node-red-admin', 'node-red-admin.js');
const CLI_TIMEOUT_MS = 30000;

let server;
let home;

/** Runs node-red-admin with `args`; resolves { code, stdout, stderr }. */
function admin(...args) {
    return new Promise((resolve) => {
        execFile(process.execPath, [CLI, ...args], {
            env: { ...process.env, HOME: home, USERPROFILE: home, NO_COLOR: '1', FORCE_COLOR: '0' },
            timeout: CLI_TIMEOUT_MS,
        }, (err, stdout, stderr) => {
            resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
        });
    });
}

/** Runs node-red-admin and asserts exit code 0. */
async function adminOk(...args) {
    const r = await admin(...args);
    assert.equal(r.code, 0, `node-red-admin ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
}

/** Rows of a node-red-admin table whose first column is a set id. */
function setIds(stdout) {
    return stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((c) => /^node-red\//.test(c));
}

describe('node-red-admin against redoubt', () => {
    before(async () => {
        assert.ok(fs.existsSync(CLI), `${CLI} missing: run npm ci in tests/editor`);
        home = tempDir('admin-home');
        server = await startRedoubt(STARTUP_FLOWS, { name: 'admin' });
    });

    after(async () => {
        if (server) await server.stop();
        removeDir(home);
    });

    it('target sets the admin URL and stores it in ~/.node-red/.cli-config.json', async () => {
        const r = await adminOk('target', server.base);
        assert.match(r.stdout, new RegExp(`Target: ${server.base.replace(/\./g, '\\.')}`));
        const config = JSON.parse(fs.readFileSync(path.join(home, '.node-red', '.cli-config.json'), 'utf8'));
        assert.equal(config.target, server.base);
    });

    it('list shows the node sets', async () => {
        const r = await adminOk('list');
        const ids = setIds(r.stdout);
        for (const want of ['node-red/inject', 'node-red/debug', 'node-red/function', 'node-red/change']) {
            assert.ok(ids.includes(want), `list does not show ${want}:\n${r.stdout}`);
        }
        assert.match(r.stdout, /node-red\/inject\s+inject\s+enabled/);
    });

    it('list --json answers the same sets as GET /nodes', async () => {
        const r = await adminOk('list', '--json');
        const listed = JSON.parse(r.stdout).map((s) => s.id).sort();
        const res = await fetch(server.url('/nodes'), { headers: { Accept: 'application/json' } });
        assert.equal(res.status, 200);
        const api = (await res.json()).map((s) => s.id).sort();
        assert.deepEqual(listed, api);
    });

    it('info node-red/inject shows the inject set', async () => {
        const r = await adminOk('info', 'node-red/inject');
        assert.match(r.stdout, /Name:\s+node-red\/inject/);
        assert.match(r.stdout, /Module:\s+node-red/);
        assert.match(r.stdout, /Types:\s+inject/);
        assert.match(r.stdout, /State:\s+enabled/);
    });

    it('info node-red shows the core module and its sets', async () => {
        const r = await adminOk('info', 'node-red');
        assert.match(r.stdout, /Module:\s+node-red/);
        assert.match(r.stdout, /Version:\s+\S+/);
        assert.ok(setIds(r.stdout).includes('node-red/debug'), `info node-red does not list node-red/debug:\n${r.stdout}`);
    });

    it('info of an unknown set fails with a message', async () => {
        const r = await admin('info', 'node-red/no-such-set');
        assert.notEqual(r.code, 0, 'expected a non-zero exit code');
        assert.match(r.stdout + r.stderr, /404|not found|No node set/i);
    });
});
