//! adminAuth end to end: the route-by-role matrix, the login protocol as
//! the editor and `node-red-admin` speak it, the comms handshake, session
//! storage, throttling and the audit log.

use crate::support::{Redoubt, client};
use reqwest::StatusCode;
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};
use std::time::Duration;

/// bcrypt (cost 8, made by Node-RED's `hash-pw`) of "password".
const HASH: &str = "$2a$08$zZWtXTja0fB1pzD4sHCMyOCMYz2Z6dNbM6tl8sJogENOMcxWV9DN.";

/// A token persisted as already expired (its hash is stored, never itself).
const EXPIRED: &str = "expired-token-for-the-matrix";

fn settings() -> String {
    format!(
        r#"module.exports = {{
    uiHost: "127.0.0.1",
    credentialSecret: "test-secret",
    adminAuth: {{
        type: "credentials",
        users: [
            {{ username: "admin", password: "{HASH}", permissions: "*" }},
            {{ username: "reader", password: "{HASH}", permissions: "read" }},
            {{ username: "flowsonly", password: "{HASH}", permissions: "flows.read" }}
        ]
    }}
}};
"#
    )
}

fn flows() -> Value {
    json!([
        {"id": "t1", "type": "tab", "label": "One"},
        {"id": "i1", "type": "inject", "z": "t1", "props": [{"p": "payload"}], "payload": "x", "payloadType": "str", "repeat": "", "once": false, "wires": [["d1"]]},
        {"id": "d1", "type": "debug", "z": "t1", "active": true, "tosidebar": true, "complete": "payload", "targetType": "msg", "wires": []},
        {"id": "u1", "type": "udp in", "z": "t1", "iface": "", "port": "0", "ipv": "udp4", "multicast": "false", "group": "", "datatype": "buffer", "wires": [[]]}
    ])
}

fn start() -> Redoubt {
    let dir = tempfile::tempdir().expect("tempdir");
    let hash = sha256_hex(EXPIRED);
    std::fs::write(
        dir.path().join(".sessions.redoubt.json"),
        format!(r#"{{"{hash}": {{"user": "admin", "client": "node-red-admin", "scope": "*", "expires": 1000}}}}"#),
    )
    .expect("sessions");
    Redoubt::start_in(dir, &flows(), &settings())
}

fn sha256_hex(s: &str) -> String {
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("stdin").write_all(s.as_bytes())?;
            c.wait_with_output()
        })
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Logs in as the editor does (form body, `scope` empty = own permissions).
fn login(r: &Redoubt, user: &str, scope: &str) -> String {
    let resp = client()
        .post(r.url("/auth/token"))
        .form(&[
            ("client_id", "node-red-editor"),
            ("grant_type", "password"),
            ("scope", scope),
            ("username", user),
            ("password", "password"),
        ])
        .send()
        .expect("token");
    assert_eq!(resp.status(), StatusCode::OK, "login {user}");
    assert_eq!(
        resp.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let body: Value = resp.json().expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 604800);
    body["access_token"].as_str().expect("token").to_string()
}

/// Who calls, in the matrix's column order.
#[derive(Clone, Copy, Debug)]
enum Who {
    NoToken,
    Garbage,
    Expired,
    Revoked,
    Read,
    FlowsRead,
    Star,
}

const WHO: [Who; 7] = [
    Who::NoToken,
    Who::Garbage,
    Who::Expired,
    Who::Revoked,
    Who::Read,
    Who::FlowsRead,
    Who::Star,
];

/// Every admin route, with the status each caller must get.
/// Columns: no token, garbage token, expired token, revoked token,
/// `read` user, a user holding only `flows.read`, `*` user.
/// (`POST /flows` from `*` redeploys the current flows, so nothing
/// changes; the node routes come before `PUT /flow/t1` empties that tab.)
#[rustfmt::skip]
const MATRIX: &[(&str, &str, Option<&str>, [u16; 7])] = &[
    //  method    path                                   JSON body                          none garb  exp  rev  read flows star
    ("GET",    "/flows",                                None,                               [401, 401, 401, 401, 200, 200, 200]),
    ("POST",   "/inject/i1",                            None,                               [401, 401, 401, 401, 403, 403, 200]),
    ("POST",   "/debug/d1/disable",                     None,                               [401, 401, 401, 401, 403, 403, 201]),
    ("POST",   "/debug/enable",                         Some(r#"{"nodes":["d1"]}"#),        [401, 401, 401, 401, 403, 403, 200]),
    ("POST",   "/flows",                                Some("CURRENT_FLOWS"),              [401, 401, 401, 401, 403, 403, 204]),
    ("GET",    "/flows/state",                          None,                               [401, 401, 401, 401, 200, 200, 200]),
    ("POST",   "/flow",                                 Some(r#"{"label":"x","nodes":[]}"#), [401, 401, 401, 401, 403, 403, 200]),
    ("GET",    "/flow/t1",                              None,                               [401, 401, 401, 401, 200, 200, 200]),
    ("PUT",    "/flow/t1",                              Some(r#"{"id":"t1","label":"One","nodes":[]}"#), [401, 401, 401, 401, 403, 403, 200]),
    ("DELETE", "/flow/nope",                            None,                               [401, 401, 401, 401, 403, 403, 404]),
    ("GET",    "/credentials/inject/i1",                None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/nodes",                                None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/nodes/messages",                       None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/nodes/node-red",                       None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/nodes/node-red/inject",                None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/nodes/node-red/inject/messages",       None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/plugins",                              None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/plugins/messages",                     None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/settings",                             None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/settings/user",                        None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("POST",   "/settings/user",                        Some(r#"{"view":{"x":1}}"#),        [401, 401, 401, 401, 403, 403, 204]),
    ("GET",    "/diagnostics",                          None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/context/global",                       None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/context/global/k",                     None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("DELETE", "/context/global/k",                     None,                               [401, 401, 401, 401, 403, 403, 204]),
    ("GET",    "/context/flow/t1",                      None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/context/node/i1/k",                    None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("DELETE", "/context/node/i1/k",                    None,                               [401, 401, 401, 401, 403, 403, 204]),
    ("GET",    "/library/local/flows",                  None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("GET",    "/library/local/functions/x.js",         None,                               [401, 401, 401, 401, 404, 403, 404]),
    ("POST",   "/library/local/functions/x.js",         Some(r#"{"text":"return msg;"}"#),  [401, 401, 401, 401, 403, 403, 204]),
    ("GET",    "/udp-ports/u1",                         None,                               [401, 401, 401, 401, 200, 403, 200]),
    ("POST",   "/auth/revoke",                          None,                               [401, 401, 401, 401, 200, 200, 200]),
    ("GET",    "/auth/login",                           None,                               [200, 200, 200, 200, 200, 200, 200]),
];

#[test]
fn every_admin_route_by_role() {
    let r = start();
    let c = client();
    let star = login(&r, "admin", "");
    let read = login(&r, "reader", "");
    let flows_read = login(&r, "flowsonly", "");
    let revoked = login(&r, "admin", "");
    let resp = c
        .post(r.url("/auth/revoke"))
        .bearer_auth(&star)
        .form(&[("token", revoked.as_str())])
        .send()
        .expect("revoke");
    assert_eq!(resp.status(), StatusCode::OK);
    let current_flows = c
        .get(r.url("/flows"))
        .bearer_auth(&star)
        .send()
        .expect("flows")
        .text()
        .expect("text");
    let mut failures = Vec::new();
    for (method, path, body, expected) in MATRIX {
        for (i, who) in WHO.iter().enumerate() {
            let mut req: RequestBuilder = c.request(method.parse().expect("method"), r.url(path));
            req = match who {
                Who::NoToken => req,
                Who::Garbage => req.bearer_auth("not-a-real-token"),
                Who::Expired => req.bearer_auth(EXPIRED),
                Who::Revoked => req.bearer_auth(&revoked),
                Who::Read => req.bearer_auth(&read),
                Who::FlowsRead => req.bearer_auth(&flows_read),
                Who::Star => req.bearer_auth(&star),
            };
            if let Some(b) = body {
                let text = if *b == "CURRENT_FLOWS" {
                    current_flows.clone()
                } else {
                    b.to_string()
                };
                req = req.header("content-type", "application/json").body(text);
            }
            let resp = req.send().expect("send");
            let got = resp.status().as_u16();
            if got != expected[i] {
                failures.push(format!(
                    "{method} {path} as {who:?}: got {got}, expected {}",
                    expected[i]
                ));
            }
            if got == 403 && !path.starts_with("/auth") {
                let v: Value = resp.json().unwrap_or(Value::Null);
                if v["code"] != "permission_denied" {
                    failures.push(format!(
                        "{method} {path} as {who:?}: 403 without a JSON reason: {v}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_comms_websocket_by_role() {
    let r = start();
    let star = login(&r, "admin", "");
    let read = login(&r, "reader", "");
    let flows_read = login(&r, "flowsonly", "");
    let url = format!("ws://127.0.0.1:{}/comms", r.port);
    let handshake = |first: &str| -> String {
        let (mut ws, _) = tungstenite::connect(url.as_str()).expect("connect");
        ws.send(tungstenite::Message::Text(first.to_string().into()))
            .expect("send");
        match ws.read().expect("reply") {
            tungstenite::Message::Text(t) => t.to_string(),
            other => format!("{other:?}"),
        }
    };
    let auth = |t: &str| json!({"auth": t}).to_string();
    assert_eq!(handshake(&auth(&star)), r#"{"auth":"ok"}"#);
    assert_eq!(handshake(&auth(&read)), r#"{"auth":"ok"}"#);
    assert_eq!(
        handshake(&auth(&flows_read)),
        r#"{"auth":"fail"}"#,
        "needs status.read"
    );
    assert_eq!(handshake(&auth("garbage")), r#"{"auth":"fail"}"#);
    assert_eq!(handshake(&auth(EXPIRED)), r#"{"auth":"fail"}"#);
    assert_eq!(
        handshake(r#"{"subscribe":"status/#"}"#),
        r#"{"auth":"fail"}"#,
        "no token, no default user"
    );
    // A cross-site page cannot open it.
    let mut req =
        tungstenite::client::IntoClientRequest::into_client_request(url.as_str()).expect("request");
    req.headers_mut()
        .insert("origin", "http://evil.example".parse().expect("header"));
    assert!(
        tungstenite::connect(req).is_err(),
        "cross-site upgrade refused"
    );
}

#[test]
fn revoking_a_token_closes_its_websocket() {
    let r = start();
    let star = login(&r, "admin", "");
    let mine = login(&r, "reader", "");
    let url = format!("ws://127.0.0.1:{}/comms", r.port);
    let (mut ws, _) = tungstenite::connect(url.as_str()).expect("connect");
    ws.send(tungstenite::Message::Text(
        json!({"auth": mine}).to_string().into(),
    ))
    .expect("send");
    assert_eq!(
        ws.read().expect("ok").to_text().expect("text"),
        r#"{"auth":"ok"}"#
    );
    // The reader may not revoke someone else's token...
    let resp = client()
        .post(r.url("/auth/revoke"))
        .bearer_auth(&mine)
        .form(&[("token", star.as_str())])
        .send()
        .expect("revoke");
    assert_eq!(resp.status(), StatusCode::OK);
    let still = client()
        .get(r.url("/flows"))
        .bearer_auth(&star)
        .send()
        .expect("flows");
    assert_eq!(
        still.status(),
        StatusCode::OK,
        "another user's token survives"
    );
    // ...but logs itself out, which closes its socket.
    client()
        .post(r.url("/auth/revoke"))
        .bearer_auth(&mine)
        .form(&[("token", mine.as_str())])
        .send()
        .expect("revoke");
    let saw_fail = told_to_log_in_again(&mut ws);
    assert!(saw_fail, "the socket was told before it closed");
}

#[test]
fn the_login_protocol_matches_node_red() {
    let r = start();
    let c = client();
    let v: Value = c
        .get(r.url("/auth/login"))
        .send()
        .expect("login")
        .json()
        .expect("json");
    assert_eq!(v["type"], "credentials");
    assert_eq!(v["prompts"][1]["type"], "password");
    // node-red-admin sends JSON with scope "*".
    let post = |body: Value| {
        c.post(r.url("/auth/token"))
            .json(&body)
            .send()
            .expect("token")
    };
    let ok = post(
        json!({"client_id": "node-red-admin", "grant_type": "password", "scope": "*", "username": "admin", "password": "password"}),
    );
    assert_eq!(ok.status(), StatusCode::OK);
    // A read user cannot ask for more than it has (so `node-red admin login` fails for it, as in Node-RED).
    let more = post(
        json!({"client_id": "node-red-admin", "grant_type": "password", "scope": "*", "username": "reader", "password": "password"}),
    );
    assert_eq!(more.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        more.json::<Value>().expect("json")["error"],
        "invalid_grant"
    );
    // Down-scoping works.
    let down = post(
        json!({"client_id": "node-red-admin", "grant_type": "password", "scope": "flows.read", "username": "admin", "password": "password"}),
    );
    let t = down.json::<Value>().expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(
        c.get(r.url("/flows"))
            .bearer_auth(&t)
            .send()
            .expect("flows")
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        c.get(r.url("/settings"))
            .bearer_auth(&t)
            .send()
            .expect("settings")
            .status(),
        StatusCode::FORBIDDEN
    );
    let bad_client = post(
        json!({"client_id": "other", "grant_type": "password", "username": "admin", "password": "password"}),
    );
    assert_eq!(bad_client.status(), StatusCode::UNAUTHORIZED);
    let bad_grant =
        post(json!({"client_id": "node-red-admin", "grant_type": "client_credentials"}));
    assert_eq!(bad_grant.status(), StatusCode::NOT_IMPLEMENTED);
    let missing =
        post(json!({"client_id": "node-red-admin", "grant_type": "password", "username": "admin"}));
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    // GET /settings tells the editor who is logged in.
    let reader = login(&r, "reader", "");
    let s: Value = c
        .get(r.url("/settings"))
        .bearer_auth(&reader)
        .send()
        .expect("settings")
        .json()
        .expect("json");
    assert_eq!(
        s["user"],
        json!({"username": "reader", "permissions": "read"})
    );
    // Tokens never ride in the URL, and a malformed header is refused.
    let q = c
        .get(r.url(&format!("/flows?access_token={reader}")))
        .send()
        .expect("query");
    assert_eq!(q.status(), StatusCode::BAD_REQUEST);
    let m = c
        .get(r.url("/flows"))
        .header("authorization", "Bearer a b")
        .send()
        .expect("malformed");
    assert_eq!(m.status(), StatusCode::BAD_REQUEST);
    // Sessions are stored hashed, in a private file.
    let (_, dir) = r.stop();
    let path = dir.path().join(".sessions.redoubt.json");
    let text = std::fs::read_to_string(&path).expect("sessions file");
    assert!(!text.contains(&reader) && text.contains(&sha256_hex(&reader)));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn sessions_survive_a_restart() {
    let r = start();
    let t = login(&r, "admin", "");
    let (_, dir) = r.stop();
    let r = Redoubt::spawn(dir, &[]);
    let resp = client()
        .get(r.url("/flows"))
        .bearer_auth(&t)
        .send()
        .expect("flows");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[test]
fn logins_are_throttled_without_locking_out_for_good() {
    let r = start();
    let c = client();
    let attempt = |user: &str, pw: &str| {
        c.post(r.url("/auth/token"))
            .form(&[
                ("client_id", "node-red-editor"),
                ("grant_type", "password"),
                ("scope", ""),
                ("username", user),
                ("password", pw),
            ])
            .send()
            .expect("token")
    };
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(attempt("admin", "wrong").status().as_u16());
    }
    assert_eq!(&statuses[..5], &[403; 5], "{statuses:?}");
    let throttled = attempt("admin", "password");
    assert_eq!(
        throttled.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let wait: u64 = throttled
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&wait), "the wait is bounded: {wait}");
    // The owner gets in after the wait.
    std::thread::sleep(Duration::from_secs(wait + 1));
    assert_eq!(attempt("admin", "password").status(), StatusCode::OK);
}

#[test]
fn the_audit_log_records_logins_and_changes_without_secrets() {
    let r = start();
    let c = client();
    let t = login(&r, "admin", "");
    let _ = c
        .post(r.url("/auth/token"))
        .form(&[
            ("client_id", "node-red-editor"),
            ("grant_type", "password"),
            ("scope", ""),
            ("username", "admin"),
            ("password", "wrong-secret"),
        ])
        .send();
    let flows = c
        .get(r.url("/flows"))
        .bearer_auth(&t)
        .send()
        .expect("flows")
        .text()
        .expect("text");
    let resp = c
        .post(r.url("/flows"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(flows)
        .send()
        .expect("deploy");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let _ = c.get(r.url("/context/global")).bearer_auth(&t).send();
    let _ = c
        .get(r.url("/credentials/inject/i1"))
        .bearer_auth(&t)
        .send();
    let (_, dir) = r.stop();
    let text = std::fs::read_to_string(dir.path().join("audit.log")).expect("audit.log");
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    let names: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    for want in [
        "auth.login",
        "auth.login.fail.credentials",
        "flows.set",
        "context.get",
        "credentials.get",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let login = events
        .iter()
        .find(|e| e["event"] == "auth.login")
        .expect("login");
    assert_eq!(login["user"], "admin");
    assert_eq!(login["ip"], "127.0.0.1");
    assert!(login["timestamp"].as_u64().is_some());
    assert!(!text.contains("wrong-secret") && !text.contains(&t) && !text.contains("\"password\""));
}

#[test]
fn an_expired_session_closes_its_websocket_and_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = settings().replace(
        "type: \"credentials\",",
        "type: \"credentials\", sessionExpiryTime: 2,",
    );
    let r = Redoubt::start_in(dir, &flows(), &settings);
    let t = login_with_expiry(&r, 2);
    let url = format!("ws://127.0.0.1:{}/comms", r.port);
    let (mut ws, _) = tungstenite::connect(url.as_str()).expect("connect");
    ws.send(tungstenite::Message::Text(
        json!({"auth": t}).to_string().into(),
    ))
    .expect("send");
    assert_eq!(
        ws.read().expect("ok").to_text().expect("text"),
        r#"{"auth":"ok"}"#
    );
    let saw_fail = told_to_log_in_again(&mut ws);
    assert!(saw_fail, "told before closing");
    let resp = client()
        .get(r.url("/flows"))
        .bearer_auth(&t)
        .send()
        .expect("flows");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

fn login_with_expiry(r: &Redoubt, expires_in: u64) -> String {
    let body: Value = client()
        .post(r.url("/auth/token"))
        .json(&json!({"client_id": "node-red-admin", "grant_type": "password", "scope": "*", "username": "admin", "password": "password"}))
        .send()
        .expect("token")
        .json()
        .expect("json");
    assert_eq!(body["expires_in"], expires_in);
    body["access_token"].as_str().expect("token").to_string()
}

/// adminAuth given as settings.js functions, run in the embedded engine:
/// users read from a file at each call (so a user can be deleted while
/// redoubt runs), API tokens through `tokens` and `tokenHeader`, and an
/// anonymous user from `default`.
#[test]
fn admin_auth_functions_run_in_the_embedded_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let users = dir.path().join("users.json");
    std::fs::write(
        &users,
        json!({"alice": {"password": HASH, "permissions": "*"}, "bob": {"password": HASH, "permissions": "read"}}).to_string(),
    )
    .expect("users");
    let settings = format!(
        r#"const fs = require("fs");
const USERS = {users:?};
function lookup(name) {{
    const all = JSON.parse(fs.readFileSync(USERS));
    const u = all[name];
    return u ? {{ username: name, password: u.password, permissions: u.permissions }} : null;
}}
module.exports = {{
    uiHost: "127.0.0.1",
    adminAuth: {{
        type: "credentials",
        users: function(username) {{ return Promise.resolve(lookup(username)); }},
        tokens: async function(token) {{ return token === "api-key-1" ? {{ username: "api", permissions: "flows.read" }} : null; }},
        tokenHeader: "x-api-key",
        default: function() {{ return {{ anonymous: true, permissions: "nodes.read" }}; }}
    }}
}};
"#
    );
    let r = Redoubt::start_in(dir, &flows(), &settings);
    let c = client();
    let bob = login(&r, "bob", "");
    assert_eq!(
        c.get(r.url("/flows"))
            .bearer_auth(&bob)
            .send()
            .expect("flows")
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        c.post(r.url("/flows"))
            .bearer_auth(&bob)
            .header("content-type", "application/json")
            .body("[]")
            .send()
            .expect("deploy")
            .status(),
        StatusCode::FORBIDDEN
    );
    // API token in its own header; the anonymous user for no token.
    let api = c
        .get(r.url("/flows"))
        .header("x-api-key", "api-key-1")
        .send()
        .expect("api");
    assert_eq!(api.status(), StatusCode::OK);
    let api_nodes = c
        .get(r.url("/nodes"))
        .header("x-api-key", "api-key-1")
        .send()
        .expect("api");
    assert_eq!(api_nodes.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        c.get(r.url("/nodes")).send().expect("anon").status(),
        StatusCode::OK
    );
    assert_eq!(
        c.get(r.url("/flows")).send().expect("anon").status(),
        StatusCode::FORBIDDEN
    );
    // Deleting bob from the file ends his session and closes his websocket.
    let url = format!("ws://127.0.0.1:{}/comms", r.port);
    let (mut ws, _) = tungstenite::connect(url.as_str()).expect("connect");
    ws.send(tungstenite::Message::Text(
        json!({"auth": bob}).to_string().into(),
    ))
    .expect("send");
    assert_eq!(
        ws.read().expect("ok").to_text().expect("text"),
        r#"{"auth":"ok"}"#
    );
    std::fs::write(
        &users,
        json!({"alice": {"password": HASH, "permissions": "*"}}).to_string(),
    )
    .expect("users");
    assert_eq!(
        c.get(r.url("/flows"))
            .bearer_auth(&bob)
            .send()
            .expect("flows")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let saw_fail = told_to_log_in_again(&mut ws);
    assert!(saw_fail, "bob's socket was told and closed");
    assert!(!login(&r, "alice", "").is_empty());
}

#[test]
fn udp_ports_lists_the_ports_of_udp_in_nodes() {
    let r = start();
    let t = login(&r, "reader", "");
    let v: Value = client()
        .get(r.url("/udp-ports/u1"))
        .bearer_auth(&t)
        .send()
        .expect("udp-ports")
        .json()
        .expect("json");
    assert_eq!(v, json!(["0"]));
}

/// Reads `ws` until it closes; whether `{"auth":"fail"}` came first.
fn told_to_log_in_again<S: std::io::Read + std::io::Write>(
    ws: &mut tungstenite::WebSocket<S>,
) -> bool {
    let mut told = false;
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Text(t)) if t.as_str() == r#"{"auth":"fail"}"# => told = true,
            Ok(tungstenite::Message::Close(_)) | Err(_) => return told,
            Ok(_) => {}
        }
    }
}
