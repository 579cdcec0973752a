// Settings for bench/bench.py, used by both runtimes:
//   node red.js --settings bench/settings.js --userDir DIR --port PORT
//   redoubt -s bench/settings.js -u DIR -p PORT DIR/flows.json
// Plain values only (redoubt refuses settings that are JS functions outside adminAuth).
// Everything lives in the per-run user dir; no outbound network (telemetry, update
// checks and palette installs off). The editor is off unless BENCH_EDITOR=1; the admin
// API (GET/POST /flows, used by the deploy workload) stays on at httpAdminRoot "/".
module.exports = {
    flowFile: 'flows.json',
    flowFilePretty: false,
    credentialSecret: 'bench-not-secret',
    uiHost: '127.0.0.1',
    uiPort: process.env.BENCH_PORT || 27880,
    disableEditor: process.env.BENCH_EDITOR !== '1',
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    exportGlobalContextKeys: false,
    functionExternalModules: false,
    externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
    editorTheme: { tours: false, palette: { catalogues: [] }, projects: { enabled: false } },
    functionGlobalContext: {},
    debugMaxLength: 1000,
};
