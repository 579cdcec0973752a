'use strict';
// Browser test of adminAuth: the real Node-RED editor, served by redoubt
// with a settings.js holding adminAuth users `admin` ("*") and `reader`
// ("read"), driven in headless Debian Chromium by playwright-core.
//
// Steps, each a test, run in order on one page; a screenshot of each is
// saved to tests/editor/artifacts/auth-<step>.png:
//   01-login-dialog   opening the editor (no token yet) shows the login dialog
//                     with username and password fields, and no editor
//   02-wrong-password a wrong password is refused (POST /auth/token 403): the
//                     dialog stays, shows its error, no token is stored
//   03-admin          admin's password opens the editor: palette, workspace and
//                     the flow's nodes on the canvas, comms answers {auth: ok},
//                     the user menu names admin, Deploy is not read-only
//   04-logout         user menu -> Logout revokes the token (POST /auth/revoke;
//                     the old token then gets 401) and brings the dialog back
//   05-reader         reader logs in, sees the flow, and the editor is read-only
//                     (deploy button group .readOnly, Deploy .disabled, as
//                     Node-RED 5's red.js does when !hasPermission("flows.write"))
//   06-reader-deploy  POST /flows with the reader's token (from the page's
//                     localStorage) answers 403 permission_denied, and a GET
//                     /flows with it answers 200; flows.json is unchanged
// and a last check: no Content-Security-Policy violation (console messages and
// securitypolicyviolation events), no uncaught page error, no failed request
// other than MAY_ABORT and no HTTP error response other than EXPECTED_ERRORS
// (both below; each EXPECTED_ERRORS entry must have happened).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { chromium } = require('playwright-core');

const { startRedoubt, readFlowsFile, tempDir, removeDir, ARTIFACTS } = require('./lib/redoubt');
const { STARTUP_FLOWS, IMPORTED_FLOWS, AUTH_SETTINGS, AUTH_PASSWORD } = require('./lib/fixtures');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const STEP_TIMEOUT_MS = 90000;
const UI_TIMEOUT_MS = 30000;

const CHART = '#red-ui-workspace-chart svg';
const node = (id) => `${CHART} g.red-ui-flow-node[id="${id}"]`;
const LOGIN = {
    dialog: '#node-dialog-login',
    username: '#node-dialog-login-username',
    password: '#node-dialog-login-password',
    submit: '#node-dialog-login-submit',
    failed: '#node-dialog-login-failed',
};

/**
 * HTTP error responses the editor gets by design, each with the step it may
 * happen in; any other error response fails the last check.
 *  - GET /settings 401 while no token is stored: the editor asks for its
 *    settings first and shows the login dialog when that answers 401
 *    (red.js refreshSettings). It happens on the first load (01) and on the
 *    reload after the logout (04); the retry after a login carries the token.
 *  - POST /auth/token 403 for the wrong password (02): Node-RED answers a
 *    refused password grant with 403 invalid_grant, which makes the dialog
 *    show its error.
 */
const EXPECTED_ERRORS = [
    { steps: ['01-login-dialog', '04-logout'], method: 'GET', path: '/settings', status: 401 },
    { steps: ['02-wrong-password'], method: 'POST', path: '/auth/token', status: 403 },
];

/**
 * Requests the page may abort by design (a race, so they need not happen):
 *  - GET /auth/login, net::ERR_ABORTED, in 04-logout: revoking the token makes
 *    redoubt send {"auth":"fail"} on the open /comms socket
 *    (crates/redoubt-admin/src/comms/socket.rs); red.js answers that by
 *    starting RED.user.login(), whose GET auth/login is then cut off by the
 *    reload that logout() does once POST auth/revoke has answered.
 *  - GET /red/images/node-red-256.svg, net::ERR_ABORTED, in 04-logout: the
 *    same race one step later. When GET auth/login answers before the reload,
 *    login() builds its dialog and loads the login image (red.js: `data.image
 *    || "red/images/node-red-256.svg"`), and the reload cuts that off instead
 *    (seen once in a CI run on 2026-12-06).
 */
const MAY_ABORT = [
    { steps: ['04-logout'], method: 'GET', path: '/auth/login', errorText: 'net::ERR_ABORTED' },
    { steps: ['04-logout'], method: 'GET', path: '/red/images/node-red-256.svg', errorText: 'net::ERR_ABORTED' },
];

let server;
let context;
let page;
let profileDir;
/** Failed requests, unexpected HTTP error responses and uncaught page errors. */
const problems = [];
/** HTTP error responses matching EXPECTED_ERRORS and aborts matching MAY_ABORT (diagnostics). */
const expectedErrors = [];
/** Content-Security-Policy violations: console messages and securitypolicyviolation events. */
const cspViolations = [];
/** The page's console warnings and errors, saved to artifacts/browser-auth-console.log. */
const consoleLines = [];
/** Text frames the editor received on /comms, and who waits for them. */
const commsFrames = [];
const commsWaiters = new Set();
let currentStep = 'start';
let broken = false;

/** The files this test writes to artifacts/ (auth-<step>.png and logs). */
const OWN_ARTIFACT = /^(auth-[\w-]+\.png|browser-auth-(console|comms)\.log|redoubt-browser-auth\.log)$/;

async function shot(name) {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `auth-${name}.png`), animations: 'disabled' });
}

/** One ordered step, skipped once an earlier one failed; auth-<name>-FAILED.png on failure. */
function step(name, title, fn) {
    it(`${name}: ${title}`, { timeout: STEP_TIMEOUT_MS }, async (t) => {
        if (broken) {
            t.skip('an earlier step failed');
            return;
        }
        currentStep = name;
        try {
            await fn();
            await shot(name);
        } catch (err) {
            broken = true;
            if (page) await shot(`${name}-FAILED`).catch(() => {});
            if (problems.length) err.message += `\nproblems seen so far:\n${problemText(problems)}`;
            throw err;
        }
    });
}

function problemText(list) {
    return list.map((p) => `[${p.step}] ${p.what}`).join('\n');
}

/** An admin-API request from the test itself (not the browser). */
async function api(method, p, { body, token, headers = {} } = {}) {
    const res = await fetch(server.url(p), {
        method,
        headers: {
            'Content-Type': 'application/json', Accept: 'application/json', 'Node-RED-API-Version': 'v2',
            ...(token ? { Authorization: `Bearer ${token}` } : {}),
            ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
        json = text ? JSON.parse(text) : undefined;
    } catch {
        json = undefined;
    }
    return { status: res.status, text, json };
}

/** The editor's stored token: localStorage key "auth-tokens<suffix>" (red.js settings.set). */
async function storedToken() {
    const stored = await page.evaluate(() => {
        const keys = Object.keys(localStorage).filter((k) => k.startsWith('auth-tokens'));
        return keys.map((k) => ({ key: k, value: localStorage.getItem(k) }));
    });
    if (stored.length === 0) return null;
    assert.equal(stored.length, 1, `more than one auth-tokens key in localStorage: ${JSON.stringify(stored.map((s) => s.key))}`);
    return JSON.parse(stored[0].value);
}

/** Waits for the login dialog with its two fields. */
async function waitForLoginDialog() {
    await page.locator(LOGIN.dialog).waitFor({ state: 'visible' });
    await page.locator(LOGIN.username).waitFor({ state: 'visible' });
    await page.locator(LOGIN.password).waitFor({ state: 'visible' });
    await page.locator(LOGIN.submit).waitFor({ state: 'visible' });
}

/** Fills the dialog and submits; resolves with the POST /auth/token response. */
async function submitLogin(username, password) {
    await page.locator(LOGIN.username).fill(username);
    await page.locator(LOGIN.password).fill(password);
    const [res] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/auth/token'),
        page.locator(LOGIN.submit).click(),
    ]);
    return res;
}

/** Waits until the editor has finished its boot sequence and shows the flow. */
async function waitForEditor() {
    await page.locator(LOGIN.dialog).waitFor({ state: 'detached' });
    await page.locator('#red-ui-palette .red-ui-palette-node').first().waitFor({ state: 'visible' });
    await page.locator('#red-ui-header-toolbar:not(.hide)').waitFor({ state: 'visible' });
    await page.locator('#red-ui-loading-progress').waitFor({ state: 'hidden' });
    for (const id of ['start-inject', 'start-debug']) {
        await page.locator(node(id)).waitFor({ state: 'visible' });
    }
    await page.waitForLoadState('networkidle');
}

/** Asserts the editor is not shown (nothing in the palette or on the canvas). */
async function assertNoEditor() {
    assert.equal(await page.locator('#red-ui-palette .red-ui-palette-node:visible').count(), 0, 'the palette is shown');
    assert.equal(await page.locator(`${CHART} g.red-ui-flow-node`).count(), 0, 'flow nodes are on the canvas');
}

/** Opens the user menu (the header's user icon) and shows its entries. */
async function openUserMenu() {
    await page.locator('#red-ui-header-button-user').click();
    await page.locator('#red-ui-header-button-user-submenu').waitFor({ state: 'visible' });
}

function isCspMessage(text) {
    return /Content[- ]Security[- ]Policy/i.test(text);
}

describe('the Node-RED editor with adminAuth in headless Chromium', () => {
    before(async () => {
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        // Only this file's artifacts: browser.test.js shares the folder.
        for (const f of fs.readdirSync(ARTIFACTS)) {
            if (OWN_ARTIFACT.test(f)) fs.rmSync(path.join(ARTIFACTS, f), { force: true });
        }
        assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) or set CHROMIUM_BIN`);
        server = await startRedoubt(STARTUP_FLOWS, { name: 'browser-auth', settings: AUTH_SETTINGS });
        profileDir = tempDir('chromium-auth-profile');
        context = await chromium.launchPersistentContext(profileDir, {
            executablePath: CHROMIUM,
            headless: true,
            args: CHROMIUM_ARGS,
            viewport: { width: 1400, height: 900 },
            locale: 'en-US',
            timeout: UI_TIMEOUT_MS,
        });
        context.setDefaultTimeout(UI_TIMEOUT_MS);
        // CSP violations are reported twice on purpose: as console messages
        // (what a developer sees) and as securitypolicyviolation events (the
        // DOM's own report, which needs no message wording).
        await context.exposeBinding('__redoubtCspViolation', (_source, v) => {
            cspViolations.push({ step: currentStep, what: `securitypolicyviolation: ${v.directive} blocked ${v.blocked} (${v.source})` });
        });
        await context.addInitScript(() => {
            document.addEventListener('securitypolicyviolation', (e) => {
                window.__redoubtCspViolation({
                    directive: e.violatedDirective, blocked: e.blockedURI,
                    source: `${e.sourceFile}:${e.lineNumber}`,
                });
            });
        });
        context.on('requestfailed', (req) => {
            const errorText = req.failure()?.errorText;
            const entry = { step: currentStep, what: `request failed: ${req.method()} ${req.url()} (${errorText})` };
            const allowed = MAY_ABORT.some((a) => a.method === req.method() && a.path === new URL(req.url()).pathname
                && a.errorText === errorText && a.steps.includes(currentStep));
            (allowed ? expectedErrors : problems).push(entry);
        });
        context.on('response', (res) => {
            if (res.status() < 400) return;
            const method = res.request().method();
            const p = new URL(res.url()).pathname;
            const entry = { step: currentStep, what: `HTTP ${res.status()}: ${method} ${res.url()}` };
            const expected = EXPECTED_ERRORS.some((e) => e.method === method && e.path === p
                && e.status === res.status() && e.steps.includes(currentStep));
            (expected ? expectedErrors : problems).push(entry);
        });
        page = context.pages()[0] || (await context.newPage());
        page.on('console', (m) => {
            if (isCspMessage(m.text())) cspViolations.push({ step: currentStep, what: `console ${m.type()}: ${m.text()}` });
            if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`[${currentStep}] ${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (err) => {
            problems.push({ step: currentStep, what: `page error: ${err.stack || err.message}` });
        });
        page.on('websocket', (ws) => {
            ws.on('framereceived', (f) => {
                if (typeof f.payload !== 'string') return;
                commsFrames.push({ step: currentStep, url: ws.url(), payload: f.payload });
                for (const w of commsWaiters) w();
            });
        });
    });

    after(async () => {
        if (context) await context.close().catch(() => {});
        removeDir(profileDir);
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        fs.writeFileSync(path.join(ARTIFACTS, 'browser-auth-console.log'), consoleLines.map((l) => l + '\n').join(''));
        fs.writeFileSync(path.join(ARTIFACTS, 'browser-auth-comms.log'),
            commsFrames.map((f) => `[${f.step}] ${f.url} ${f.payload.slice(0, 300)}\n`).join(''));
        if (server) {
            await server.stop();
            fs.writeFileSync(path.join(ARTIFACTS, 'redoubt-browser-auth.log'), server.log.join('\n') + '\n');
        }
    });

    step('01-login-dialog', 'opening the editor without a token shows the login dialog', async () => {
        const [res, settings] = await Promise.all([
            page.goto(server.url('/')),
            page.waitForResponse((r) => new URL(r.url()).pathname === '/settings'),
        ]);
        assert.equal(res.status(), 200);
        // The no-violation check at the end means something only under a policy.
        assert.match(res.headers()['content-security-policy'] || '', /default-src 'self'/, 'the editor page has no Content-Security-Policy');
        assert.equal(settings.status(), 401, 'GET /settings without a token must answer 401');
        await waitForLoginDialog();
        assert.equal(await page.locator(LOGIN.password).getAttribute('type'), 'password');
        assert.equal(await page.locator(LOGIN.failed).isVisible(), false, 'the error shows before any attempt');
        assert.equal(await storedToken(), null);
        await assertNoEditor();
    });

    step('02-wrong-password', 'a wrong password is refused and the dialog stays with its error', async () => {
        const res = await submitLogin('admin', 'not-the-password');
        assert.equal(res.status(), 403, `POST /auth/token with a wrong password answered ${res.status()}`);
        assert.equal((await res.json()).error, 'invalid_grant');
        await page.locator(LOGIN.failed).waitFor({ state: 'visible' });
        // The submit button is enabled again for the next attempt.
        await page.locator(`${LOGIN.submit}:not([disabled])`).waitFor({ state: 'visible' });
        await page.locator(LOGIN.dialog).waitFor({ state: 'visible' });
        assert.equal(await storedToken(), null, 'a token is stored after a refused login');
        await assertNoEditor();
    });

    step('03-admin', "admin's password opens the editor with the flow on the canvas", async () => {
        const [res, settings] = await Promise.all([
            submitLogin('admin', AUTH_PASSWORD),
            page.waitForResponse((r) => new URL(r.url()).pathname === '/settings' && r.status() === 200),
        ]);
        assert.equal(res.status(), 200, `POST /auth/token answered ${res.status()}`);
        const grant = await res.json();
        assert.equal(grant.token_type, 'Bearer');
        assert.equal(typeof grant.access_token, 'string');
        const body = await settings.json();
        assert.deepEqual({ username: body.user?.username, permissions: body.user?.permissions }, { username: 'admin', permissions: '*' });
        await waitForEditor();
        assert.equal((await storedToken()).access_token, grant.access_token);
        // The comms socket authenticated with its first frame.
        await waitForCommsAuthOk('03-admin');
        await openUserMenu();
        await page.locator('#usermenu-item-username', { hasText: 'admin' }).waitFor({ state: 'visible' });
        await page.locator('#usermenu-item-logout').waitFor({ state: 'visible' });
        await page.keyboard.press('Escape');
        await page.locator('#red-ui-header').click({ position: { x: 5, y: 5 } });
        assert.equal(await page.locator('.red-ui-deploy-button-group.readOnly').count(), 0, 'admin sees a read-only Deploy');
        assert.equal(await page.evaluate(() => RED.user.hasPermission('flows.write')), true);
    });

    step('04-logout', 'Logout revokes the token and brings the login dialog back', async () => {
        const token = (await storedToken()).access_token;
        assert.equal((await api('GET', '/settings', { token })).status, 200, 'the token works before the logout');
        await openUserMenu();
        const [revoked] = await Promise.all([
            page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/auth/revoke'),
            page.locator('#usermenu-item-logout').click(),
        ]);
        assert.equal(revoked.status(), 200, `POST /auth/revoke answered ${revoked.status()}`);
        // The editor reloads itself, gets 401 from /settings, and asks again.
        await waitForLoginDialog();
        await assertNoEditor();
        assert.equal(await storedToken(), null, 'the token is still in localStorage after the logout');
        const after = await api('GET', '/settings', { token });
        assert.equal(after.status, 401, `GET /settings with the revoked token answered ${after.status}: ${after.text}`);
    });

    step('05-reader', 'a read user sees the flow in a read-only editor', async () => {
        const res = await submitLogin('reader', AUTH_PASSWORD);
        assert.equal(res.status(), 200, `POST /auth/token for reader answered ${res.status()}`);
        await waitForEditor();
        assert.deepEqual(await page.evaluate(() => RED.settings.user), { username: 'reader', permissions: 'read' });
        assert.equal(await page.evaluate(() => RED.user.hasPermission('flows.write')), false);
        // red.js updateLockedState: !hasPermission("flows.write") marks the
        // deploy button group readOnly and the Deploy button disabled.
        await page.locator('.red-ui-deploy-button-group.readOnly').waitFor({ state: 'visible' });
        await page.locator('#red-ui-header-button-deploy.disabled').waitFor({ state: 'visible' });
        await openUserMenu();
        await page.locator('#usermenu-item-username', { hasText: 'reader' }).waitFor({ state: 'visible' });
        await page.keyboard.press('Escape');
        await page.locator('#red-ui-header').click({ position: { x: 5, y: 5 } });
        await waitForCommsAuthOk('05-reader');
    });

    step('06-reader-deploy', "POST /flows with the reader's token answers 403", async () => {
        const { access_token: token } = await storedToken();
        assert.equal(typeof token, 'string');
        const read = await api('GET', '/flows', { token });
        assert.equal(read.status, 200, `GET /flows with the reader's token answered ${read.status}: ${read.text}`);
        assert.deepEqual(read.json.flows.map((n) => n.id).sort(), STARTUP_FLOWS.map((n) => n.id).sort());
        const before = fs.readFileSync(server.flowsFile, 'utf8');
        const denied = await api('POST', '/flows', { token, body: { flows: IMPORTED_FLOWS }, headers: { 'Node-RED-Deployment-Type': 'full' } });
        assert.equal(denied.status, 403, `POST /flows with the reader's token answered ${denied.status}: ${denied.text}`);
        assert.equal(denied.json?.code, 'permission_denied', `403 body: ${denied.text}`);
        assert.equal(typeof denied.json?.message, 'string');
        assert.equal(fs.readFileSync(server.flowsFile, 'utf8'), before, 'flows.json changed');
        assert.deepEqual(readFlowsFile(server).map((n) => n.id).sort(), STARTUP_FLOWS.map((n) => n.id).sort());
    });

    it('no CSP violation, failed request, page error or unexpected HTTP error', (t) => {
        for (const e of expectedErrors) t.diagnostic(`expected: [${e.step}] ${e.what}`);
        assert.deepEqual(cspViolations, [], `Content-Security-Policy violations:\n${problemText(cspViolations)}`);
        assert.deepEqual(problems, [], `problems:\n${problemText(problems)}`);
        // Each expected error did happen (the allow-list holds nothing stale).
        for (const e of EXPECTED_ERRORS) {
            for (const s of e.steps) {
                assert.ok(expectedErrors.some((x) => x.step === s && x.what.startsWith(`HTTP ${e.status}: ${e.method} `)
                    && new URL(x.what.split(' ').pop()).pathname === e.path),
                    `expected ${e.method} ${e.path} ${e.status} in step ${s} did not happen`);
            }
        }
    });
});

/** Waits until the editor's /comms socket has received {"auth":"ok"} during `stepName`. */
function waitForCommsAuthOk(stepName) {
    const seen = () => commsFrames.some((f) => f.step === stepName && new URL(f.url).pathname === '/comms'
        && safeJson(f.payload)?.auth === 'ok');
    return new Promise((resolve, reject) => {
        const check = () => {
            if (!seen()) return;
            clearTimeout(timer);
            commsWaiters.delete(check);
            resolve();
        };
        const timer = setTimeout(() => {
            commsWaiters.delete(check);
            reject(new Error(`no {"auth":"ok"} on /comms in ${stepName}; last frames: ${JSON.stringify(commsFrames.slice(-5))}`));
        }, UI_TIMEOUT_MS);
        commsWaiters.add(check);
        check();
    });
}

function safeJson(text) {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}
