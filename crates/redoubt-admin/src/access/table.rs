//! Which scope each admin route needs: Node-RED's route table
//! (`@node-red/editor-api/lib/admin/index.js` and `editor/index.js`), and
//! the audit event a use of the route records. A route missing from this
//! table is refused whenever adminAuth is on (fail closed).

use axum::http::Method;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone, no principal (the login routes, and `/comms`, which
    /// authenticates in its own handshake).
    Public,
    /// A principal allowed this scope (`""`: any principal, including the
    /// anonymous default user).
    Scope(&'static str),
}

/// One row: method, path pattern (relative to `httpAdminRoot`, as
/// registered with axum), what it needs, and its audit event.
pub type Row = (&'static str, &'static str, Need, Option<&'static str>);

use Need::{Public, Scope};

/// The table.
pub const ROUTES: &[Row] = &[
    ("GET", "/auth/login", Public, None),
    ("POST", "/auth/token", Public, None),
    ("POST", "/auth/revoke", Scope(""), None),
    ("GET", "/comms", Public, None),
    ("GET", "/flows", Scope("flows.read"), Some("flows.get")),
    ("POST", "/flows", Scope("flows.write"), Some("flows.set")),
    (
        "GET",
        "/flows/state",
        Scope("flows.read"),
        Some("flows.getState"),
    ),
    (
        "POST",
        "/flows/state",
        Scope("flows.write"),
        Some("flows.setState"),
    ),
    ("POST", "/flow", Scope("flows.write"), Some("flow.add")),
    ("GET", "/flow/{id}", Scope("flows.read"), Some("flow.get")),
    (
        "PUT",
        "/flow/{id}",
        Scope("flows.write"),
        Some("flow.update"),
    ),
    (
        "DELETE",
        "/flow/{id}",
        Scope("flows.write"),
        Some("flow.remove"),
    ),
    (
        "GET",
        "/credentials/{type}/{id}",
        Scope("credentials.read"),
        Some("credentials.get"),
    ),
    ("GET", "/nodes", Scope("nodes.read"), None),
    ("GET", "/nodes/messages", Scope("nodes.read"), None),
    ("GET", "/nodes/{module}", Scope("nodes.read"), None),
    ("GET", "/nodes/{module}/{set}", Scope("nodes.read"), None),
    (
        "GET",
        "/nodes/{module}/{set}/messages",
        Scope("nodes.read"),
        None,
    ),
    ("GET", "/plugins", Scope("plugins.read"), None),
    ("GET", "/plugins/messages", Scope("plugins.read"), None),
    ("GET", "/settings", Scope("settings.read"), None),
    ("GET", "/settings/user", Scope("settings.read"), None),
    (
        "POST",
        "/settings/user",
        Scope("settings.write"),
        Some("settings.update"),
    ),
    (
        "GET",
        "/diagnostics",
        Scope("diagnostics.read"),
        Some("diagnostics.get"),
    ),
    (
        "GET",
        "/context/global",
        Scope("context.read"),
        Some("context.get"),
    ),
    (
        "DELETE",
        "/context/global",
        Scope("context.write"),
        Some("context.delete"),
    ),
    (
        "GET",
        "/context/global/{*key}",
        Scope("context.read"),
        Some("context.get"),
    ),
    (
        "DELETE",
        "/context/global/{*key}",
        Scope("context.write"),
        Some("context.delete"),
    ),
    (
        "GET",
        "/context/{scope}/{id}",
        Scope("context.read"),
        Some("context.get"),
    ),
    (
        "DELETE",
        "/context/{scope}/{id}",
        Scope("context.write"),
        Some("context.delete"),
    ),
    (
        "GET",
        "/context/{scope}/{id}/{*key}",
        Scope("context.read"),
        Some("context.get"),
    ),
    (
        "DELETE",
        "/context/{scope}/{id}/{*key}",
        Scope("context.write"),
        Some("context.delete"),
    ),
    (
        "GET",
        "/library/{lib}/{type}",
        Scope("library.read"),
        Some("library.get"),
    ),
    (
        "GET",
        "/library/{lib}/{type}/",
        Scope("library.read"),
        Some("library.get"),
    ),
    (
        "GET",
        "/library/{lib}/{type}/{*path}",
        Scope("library.read"),
        Some("library.get"),
    ),
    (
        "POST",
        "/library/{lib}/{type}/{*path}",
        Scope("library.write"),
        Some("library.set"),
    ),
    ("POST", "/inject/{id}", Scope("inject.write"), None),
    ("POST", "/debug/{state}", Scope("debug.write"), None),
    ("POST", "/debug/{id}/{state}", Scope("debug.write"), None),
    ("GET", "/udp-ports/{id}", Scope("udp-ports.read"), None),
];

/// The row for `method` on the route registered as `pattern`. HEAD is
/// treated as GET.
pub fn lookup(method: &Method, pattern: &str) -> Option<&'static Row> {
    let m = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES
        .iter()
        .find(|(rm, rp, _, _)| *rm == m && *rp == pattern)
}
