// `require('os')` in a settings.js: the few OS facts the host object carries.
//
// An expression: a function taking the host object, returning the module.
// Compiled the first time a settings.js requires the module (prelude.js
// `require`), not at every start.
(function (host) {
    "use strict";

    const os = {
        EOL: host.eol,
        hostname() { return host.hostname(); },
        homedir() { return host.homedir(); },
        tmpdir() { return host.tmpdir(); },
        platform() { return host.platform; },
        type() { return host.osType; },
        arch() { return host.arch; },
    };

    return os;
})
