'use strict';
// Contract test: replays the Node-RED editor's boot sequence
// (shared/docs/editor-contract.md §2.2) against redoubt with plain HTTP and
// one WebSocket, in the order the editor sends it, with the headers it sends
// (Node-RED-API-Version: v2, exact Accept values). Every request must answer
// 2xx: the editor's boot callbacks are success-only, so any other answer
// leaves its loading bar stuck. Every asset the index page links and every
// <script src> inside the node HTML must resolve too (a 404 there hangs the
// editor, which has no onerror for it). A last step deploys the way the
// editor does and checks the revision handshake of §2.4.5.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startRedoubt } = require('./lib/redoubt');
const { STARTUP_FLOWS } = require('./lib/fixtures');
const ws = require('./lib/ws');

const LANG = 'en-US';
/** The editor asks for its language and then for the bare language as fallback. */
const LANGS = [LANG, 'en'];
/** jQuery's cache buster: the editor adds `_=<timestamp>` to its JSON/HTML XHRs. */
const bust = () => `_=${Date.now()}`;

let server;

/** GET `path` like the editor does; returns { status, type, text, json }. */
async function get(path, { accept = 'application/json', headers = {} } = {}) {
    const res = await fetch(server.url(path), {
        headers: { Accept: accept, 'Node-RED-API-Version': 'v2', 'Accept-Language': LANG, ...headers },
    });
    const text = await res.text();
    let json;
    if (/json/.test(res.headers.get('content-type') || '')) {
        try {
            json = JSON.parse(text);
        } catch {
            json = undefined;
        }
    }
    return { status: res.status, type: res.headers.get('content-type') || '', text, json };
}

/** GET `path` and assert 2xx, with the body in the message when not. */
async function get2xx(path, opts) {
    const r = await get(path, opts);
    assert.ok(r.status >= 200 && r.status < 300, `GET /${path.replace(/^\//, '')} answered ${r.status}: ${r.text.slice(0, 300)}`);
    return r;
}

/** A JSON GET that must answer 2xx with a JSON body of the given kind. */
async function getJson(path, kind) {
    const r = await get2xx(path);
    assert.match(r.type, /application\/json/, `GET ${path}: content-type ${r.type}`);
    assert.notEqual(r.json, undefined, `GET ${path}: body is not JSON: ${r.text.slice(0, 200)}`);
    if (kind === 'array') assert.ok(Array.isArray(r.json), `GET ${path}: expected an array, got ${r.text.slice(0, 200)}`);
    if (kind === 'object') {
        assert.ok(r.json !== null && typeof r.json === 'object' && !Array.isArray(r.json),
            `GET ${path}: expected an object, got ${r.text.slice(0, 200)}`);
    }
    return r.json;
}

/** The relative src/href values of `tag`s in `html` (absolute URLs are left out). */
function relativeRefs(html, tag, attr) {
    const re = new RegExp(`<${tag}\\b[^>]*\\b${attr}\\s*=\\s*["']([^"']+)["']`, 'gi');
    const out = [];
    for (const m of html.matchAll(re)) {
        if (!/^([a-z]+:)?\/\//i.test(m[1]) && !m[1].startsWith('data:')) out.push(m[1]);
    }
    return out;
}

describe('editor boot sequence over plain HTTP', () => {
    let comms;
    let settings;
    let deployRevision;

    before(async () => {
        server = await startRedoubt(STARTUP_FLOWS, { name: 'contract' });
    });

    after(async () => {
        if (comms) comms.close();
        if (server) await server.stop();
    });

    it('1. GET / renders the editor page, and every stylesheet, script and icon it links answers 2xx', async () => {
        const page = await get2xx('/', { accept: 'text/html' });
        assert.match(page.type, /text\/html/);
        const scripts = relativeRefs(page.text, 'script', 'src');
        const links = relativeRefs(page.text, 'link', 'href');
        assert.ok(scripts.some((s) => s.startsWith('red/red.min.js')), `no red/red.min.js in ${scripts}`);
        assert.ok(scripts.some((s) => s.startsWith('red/main.min.js')), `no red/main.min.js in ${scripts}`);
        assert.ok(links.some((s) => s.startsWith('red/style.min.css')), `no red/style.min.css in ${links}`);
        for (const ref of [...scripts, ...links, 'favicon.ico']) {
            await get2xx(`/${ref}`, { accept: '*/*' });
        }
    });

    it('2. GET theme answers the theme context', async () => {
        const theme = await getJson('/theme', 'object');
        assert.ok(theme.header && typeof theme.header === 'object', `theme.header missing: ${JSON.stringify(theme)}`);
    });

    it('3. GET locales/{editor,node-red,jsonata,infotips}?lng= answer catalogs', async () => {
        for (const lng of LANGS) {
            for (const ns of ['editor', 'node-red', 'jsonata', 'infotips']) {
                await getJson(`/locales/${ns}?lng=${lng}`, 'object');
            }
        }
        const editor = await getJson(`/locales/editor?lng=${LANG}`, 'object');
        assert.ok(editor.deploy, 'the editor catalog has no "deploy" section');
        const nodes = await getJson(`/locales/node-red?lng=${LANG}`, 'object');
        assert.ok(nodes.inject && nodes.debug, 'the node-red catalog has no inject/debug sections');
        // An unknown language is not an error: the editor falls back to en-US.
        await getJson('/locales/editor?lng=xx-XX', 'object');
    });

    it('4. GET settings answers the fields the editor relies on', async () => {
        settings = await getJson(`/settings?${bust()}`, 'object');
        assert.equal(typeof settings.httpNodeRoot, 'string', 'settings.httpNodeRoot');
        assert.equal(typeof settings.version, 'string', 'settings.version');
        assert.ok(settings.context && Array.isArray(settings.context.stores), 'settings.context.stores');
        assert.ok(settings.editorTheme && Array.isArray(settings.editorTheme.languages),
            'settings.editorTheme.languages must be an array');
        for (const lng of settings.editorTheme.languages) {
            await getJson(`/locales/editor?lng=${encodeURIComponent(lng)}`, 'object');
            await getJson(`/locales/node-red?lng=${encodeURIComponent(lng)}`, 'object');
        }
    });

    it('5. GET settings/user answers an object', async () => {
        await getJson(`/settings/user?${bust()}`, 'object');
    });

    it('6. GET red/keymap.json answers the key map', async () => {
        await getJson('/red/keymap.json', 'object');
    });

    it('7. the comms websocket opens and replays the retained runtime state and deploy revision', async () => {
        comms = await ws.connect(server.url('/comms').replace(/^http/, 'ws'));
        assert.equal(comms.response.statusCode, 101);
        comms.send({ subscribe: 'notification/#' });
        const topic = (name, pred = () => true) => (frame) =>
            Array.isArray(frame) && frame.some((m) => m && m.topic === name && pred(m.data));
        const started = await comms.next(topic('notification/runtime-state', (d) => d && d.state === 'start'));
        assert.ok(started);
        const deploy = await comms.next(topic('notification/runtime-deploy', (d) => d && typeof d.revision === 'string'));
        deployRevision = deploy.find((m) => m.topic === 'notification/runtime-deploy').data.revision;
        comms.send({ subscribe: 'status/#' });
        comms.send({ subscribe: 'debug' });
    });

    it('8. GET plugins (JSON), plugins/messages and plugins (HTML) answer', async () => {
        await getJson(`/plugins?${bust()}`, 'array');
        for (const lng of LANGS) await getJson(`/plugins/messages?lng=${lng}&${bust()}`, 'object');
        const html = await get2xx(`/plugins?${bust()}`, { accept: 'text/html' });
        for (const src of relativeRefs(html.text, 'script', 'src')) {
            await get2xx(`/${src}`, { accept: '*/*' });
        }
    });

    it('9. GET nodes (JSON), nodes/messages, icons and nodes (HTML) answer and agree; every <script src> in the node HTML resolves', async () => {
        const sets = await getJson(`/nodes?${bust()}`, 'array');
        assert.ok(sets.length > 0, 'no node sets');
        for (const set of sets) {
            assert.equal(typeof set.id, 'string', `node set without id: ${JSON.stringify(set)}`);
            assert.ok(Array.isArray(set.types), `node set ${set.id} has no types array`);
            assert.equal(typeof set.module, 'string', `node set ${set.id} has no module`);
        }
        for (const want of ['node-red/inject', 'node-red/debug', 'node-red/function']) {
            assert.ok(sets.some((s) => s.id === want && s.enabled), `${want} is not listed as enabled`);
        }
        for (const lng of LANGS) await getJson(`/nodes/messages?lng=${lng}&${bust()}`, 'object');

        const icons = await getJson('/icons', 'object');
        for (const [module, files] of Object.entries(icons)) {
            assert.ok(Array.isArray(files), `icons.${module} is not an array`);
            for (const file of files) {
                const r = await get2xx(`/icons/${module}/${encodeURIComponent(file)}`, { accept: 'image/*' });
                if (file.endsWith('.svg')) assert.match(r.type, /image\/svg\+xml/, `icons/${module}/${file}`);
            }
        }

        const html = await get2xx(`/nodes?${bust()}`, { accept: 'text/html' });
        assert.match(html.type, /text\/html/);
        const markers = [...html.text.matchAll(/<!-- --- \[red-module:([^\]]+)\] --- -->/g)].map((m) => m[1]);
        const enabled = sets.filter((s) => s.enabled);
        for (const set of enabled) {
            assert.ok(markers.includes(set.id), `GET /nodes (HTML) has no section for ${set.id}`);
        }
        for (const id of markers) {
            assert.ok(enabled.some((s) => s.id === id), `GET /nodes (HTML) has a section for ${id}, which the JSON does not list as enabled`);
        }
        // The editor refuses a registered type that no listed set declares.
        const declared = new Set(enabled.flatMap((s) => s.types));
        const registered = [...html.text.matchAll(/RED\.nodes\.registerType\(\s*(['"])([^'"]+)\1/g)].map((m) => m[2]);
        assert.ok(registered.length > 0, 'no RED.nodes.registerType in the node HTML');
        for (const type of registered) {
            assert.ok(declared.has(type), `the node HTML registers "${type}", which no enabled set declares`);
        }
        const scripts = relativeRefs(html.text, 'script', 'src');
        assert.ok(scripts.includes('debug/view/debug-utils.js'), 'the debug set no longer loads debug/view/debug-utils.js?');
        for (const src of scripts) {
            await get2xx(`/${src}`, { accept: '*/*' });
        }
    });

    it('10. GET flows (v2) answers {flows, rev} with the revision the comms deploy notification carried', async () => {
        const body = await getJson(`/flows?${bust()}`, 'object');
        assert.ok(Array.isArray(body.flows), 'flows is not an array');
        assert.equal(typeof body.rev, 'string', 'rev is not a string');
        const ids = body.flows.map((n) => n.id).sort();
        assert.deepEqual(ids, STARTUP_FLOWS.map((n) => n.id).sort());
        assert.ok(deployRevision, 'no revision from notification/runtime-deploy (step 7)');
        assert.equal(body.rev, deployRevision, 'GET /flows rev differs from notification/runtime-deploy revision');
    });

    it('11. a deploy like the editor\'s (POST /flows v2 with rev) answers the new rev, which comms announces; a stale rev answers 409', async () => {
        const current = await getJson(`/flows?${bust()}`, 'object');
        const flows = current.flows.map((n) => (n.id === 'start-debug' ? { ...n, name: 'contract renamed' } : n));
        const post = (rev) => fetch(server.url('/flows'), {
            method: 'POST',
            headers: {
                'Content-Type': 'application/json; charset=utf-8', Accept: 'application/json',
                'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full',
            },
            body: JSON.stringify({ flows, rev }),
        });
        const res = await post(current.rev);
        const text = await res.text();
        assert.equal(res.status, 200, `POST /flows answered ${res.status}: ${text}`);
        const { rev } = JSON.parse(text);
        assert.equal(typeof rev, 'string');
        assert.notEqual(rev, current.rev, 'the rev did not change although the flows did');
        await comms.next((frame) => Array.isArray(frame) && frame.some((m) =>
            m && m.topic === 'notification/runtime-deploy' && m.data && m.data.revision === rev));
        const after = await getJson(`/flows?${bust()}`, 'object');
        assert.equal(after.rev, rev, 'GET /flows rev differs from the POST /flows answer');
        const stale = await post(current.rev);
        const staleText = await stale.text();
        assert.equal(stale.status, 409, `a stale rev answered ${stale.status}: ${staleText}`);
        assert.equal(JSON.parse(staleText).code, 'version_mismatch');
    });
});
