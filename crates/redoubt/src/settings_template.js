/**
 * redoubt settings file.
 *
 * redoubt reads the same settings.js format as Node-RED, and Node-RED can
 * read this file too. It is JavaScript, evaluated once at startup: you may
 * use process.env, require('path'), require('fs') and require('os').
 * Other modules cannot be required, and functions are only accepted where
 * redoubt can honour them (adminAuth.users / authenticate / tokens / default).
 *
 * redoubt is secure by default. Compared with Node-RED's stock settings:
 *  - it listens on 127.0.0.1 (this machine only) unless you change uiHost;
 *  - it has no built-in user and no default password: set up adminAuth
 *    before exposing the editor to a network;
 *  - the exec node is disabled unless you enable it below.
 *
 * Option reference: https://nodered.org/docs/user-guide/runtime/configuration
 **/

module.exports = {

/*******************************************************************************
 * Flow file and user directory
 ******************************************************************************/

    /** The file containing the flows, relative to the user directory. */
    flowFile: 'flows.json',

    /** Pretty-print the flow file, which makes version control diffs readable. */
    flowFilePretty: true,

    /** Node credentials are encrypted with a generated key by default, kept
     * in .config.runtime.json beside them. Better: set the secret in the
     * environment (REDOUBT_CREDENTIAL_SECRET, or REDOUBT_CREDENTIAL_SECRET_FILE
     * naming a file outside this directory) rather than here, and change it
     * with `redoubt admin rotate-credential-secret`. `false` disables
     * encryption.
     */
    //credentialSecret: "a-secret-key",

    /** Where user data is kept. Defaults to ~/.node-red, as in Node-RED. */
    //userDir: '/home/nol/.node-red/',

/*******************************************************************************
 * Security
 ******************************************************************************/

    /** Password-protect the editor and admin API. Generate a bcrypt hash of
     * your password (for example with `node-red admin hash-pw`) and paste it
     * below. There is deliberately no default user and no default password.
     */
    //adminAuth: {
    //    type: "credentials",
    //    users: [{
    //        username: "admin",
    //        password: "<bcrypt hash of your password>",
    //        permissions: "*"
    //    }]
    //},

    /** Serve everything over HTTPS (TLS 1.2/1.3, HTTP/2). Either an object
     * with the key and certificate, or a function returning one.
     * `redoubt admin gen-cert --host NAME --ip ADDR` writes a self-signed
     * pair and prints these lines. Files read here are watched: a renewed
     * certificate is picked up without a restart (see httpsWatchInterval).
     */
    //https: {
    //    key: require("fs").readFileSync('/path/to/privkey.pem'),
    //    cert: require("fs").readFileSync('/path/to/cert.pem')
    //},

    /** Redirect plain HTTP requests to HTTPS. Behind a TLS-terminating
     * proxy, also set trustProxy: true so X-Forwarded-Proto is believed.
     */
    //requireHttps: true,
    //trustProxy: true,

    /** Basic authentication for HTTP-in endpoints and static content.
     * `pass` is a bcrypt hash.
     */
    //httpNodeAuth: {user:"user", pass:"<bcrypt hash>"},
    //httpStaticAuth: {user:"user", pass:"<bcrypt hash>"},

/*******************************************************************************
 * Server
 ******************************************************************************/

    /** The TCP port the web server listens on. To take it from the
     * environment instead, use: uiPort: process.env.PORT || 1880,
     */
    uiPort: 1880,

    /** The interface the web server listens on. Loopback by default: only
     * this machine can reach the editor. Use "0.0.0.0" (all IPv4
     * interfaces) or "::" (all IPv6) only once adminAuth is set up.
     */
    uiHost: "127.0.0.1",

    /** redoubt will not serve the editor to other machines without adminAuth.
     * Set this to true only if something else (a VPN, an authenticating
     * reverse proxy) already protects it. (Node-RED ignores this setting.)
     */
    //allowRemoteEditorWithoutAuth: false,

    /** URL paths of the editor/admin API and of HTTP-in nodes. `false`
     * disables them.
     */
    //httpAdminRoot: '/admin',
    //httpNodeRoot: '/api',

    /** Serve a directory of static files. */
    //httpStatic: '/home/nol/node-red-static/',

/*******************************************************************************
 * Runtime
 ******************************************************************************/

    /** Logging. Levels: fatal, error, warn, info, debug, trace, off. */
    logging: {
        console: {
            level: "info",
            metrics: false,
            audit: false
        }
    },

    /** Context storage. Context is kept in memory by default and lost on
     * restart. To keep it on disk, add a file store, for example:
     *
     *   contextStorage: {
     *       default: { module: "memory" },
     *       file: { module: "localfilesystem", config: { flushInterval: 30 } }
     *   },
     */
    contextStorage: {
        default: { module: "memory" }
    },

    /** Hide functionGlobalContext keys from global.keys() and the editor. */
    exportGlobalContextKeys: false,

/*******************************************************************************
 * Nodes
 ******************************************************************************/

    /** Default timeout, in seconds, for new Function nodes; 0 means none. */
    functionTimeout: 0,

    /** Function nodes cannot load npm modules in redoubt. */
    functionExternalModules: false,

    /** Values made available to Function nodes through global.get(). Only
     * plain JSON values are supported (no functions or modules).
     */
    functionGlobalContext: {
    },

    /** The exec node runs shell commands, so it is disabled by default in
     * redoubt: exec nodes report an error instead of running. Set this to
     * true to allow them. (Node-RED ignores this setting.)
     */
    execNodeEnabled: false,

    /** The maximum length, in characters, of messages shown in the debug
     * sidebar.
     */
    debugMaxLength: 1000,
}
