'use strict';
// Flows used by the editor tests. Ids are fixed so the tests can find the
// nodes on the canvas (the editor gives each node's <g> the node's id).

/** The flow redoubt starts with: one tab, an inject wired to a debug. */
const STARTUP_FLOWS = [
    { id: 'start-tab', type: 'tab', label: 'Startup', disabled: false, info: '' },
    {
        id: 'start-inject', type: 'inject', z: 'start-tab', name: 'startup inject',
        props: [{ p: 'payload' }], repeat: '', crontab: '', once: false, onceDelay: 0.1,
        topic: '', payload: 'startup', payloadType: 'str', x: 140, y: 80, wires: [['start-debug']],
    },
    {
        id: 'start-debug', type: 'debug', z: 'start-tab', name: 'startup debug', active: true,
        tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg',
        x: 360, y: 80, wires: [],
    },
];

/** The payload the imported flow's inject sends. */
const IMPORTED_PAYLOAD = 'hello from the editor test';

/**
 * The flow the browser test deploys through the admin API (POST /flows):
 * inject -> function (upper-cases the payload) -> debug.
 */
const IMPORTED_FLOWS = [
    { id: 'e2e-tab', type: 'tab', label: 'Editor test', disabled: false, info: '' },
    {
        id: 'e2e-inject', type: 'inject', z: 'e2e-tab', name: 'e2e inject',
        props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], repeat: '', crontab: '', once: false,
        onceDelay: 0.1, topic: 'e2e', payload: IMPORTED_PAYLOAD, payloadType: 'str',
        x: 150, y: 100, wires: [['e2e-function']],
    },
    {
        id: 'e2e-function', type: 'function', z: 'e2e-tab', name: 'e2e shout',
        func: 'msg.payload = msg.payload.toUpperCase();\nreturn msg;', outputs: 1, timeout: 0,
        noerr: 0, initialize: '', finalize: '', libs: [], x: 380, y: 100, wires: [['e2e-debug']],
    },
    {
        id: 'e2e-debug', type: 'debug', z: 'e2e-tab', name: 'e2e debug', active: true,
        tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg',
        statusVal: '', statusType: 'auto', x: 610, y: 100, wires: [],
    },
];

/** The password of both adminAuth users below. */
const AUTH_PASSWORD = 'password';

/**
 * A settings.js turning on Node-RED's adminAuth with two users: `admin`
 * (every permission, "*") and `reader` ("read": may look, may not change).
 * The hash is bcrypt (cost 8) of AUTH_PASSWORD.
 */
const AUTH_SETTINGS = `module.exports = {
    adminAuth: {
        type: "credentials",
        users: [
            { username: "admin", password: "$2a$08$zZWtXTja0fB1pzD4sHCMyOCMYz2Z6dNbM6tl8sJogENOMcxWV9DN.", permissions: "*" },
            { username: "reader", password: "$2a$08$zZWtXTja0fB1pzD4sHCMyOCMYz2Z6dNbM6tl8sJogENOMcxWV9DN.", permissions: "read" }
        ]
    }
};
`;

module.exports = { STARTUP_FLOWS, IMPORTED_FLOWS, IMPORTED_PAYLOAD, AUTH_SETTINGS, AUTH_PASSWORD };
