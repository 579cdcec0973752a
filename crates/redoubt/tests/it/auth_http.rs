//! The rest of the lock-down, end to end: the editor only on loopback
//! without adminAuth, cross-site requests, security headers,
//! `disableEditor`, `httpAdminRoot: false`, `httpNodeAuth`,
//! `httpStatic`/`httpStaticAuth`, and the `hash-pw` and `init` commands.

use crate::support::{Redoubt, client};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

/// bcrypt of "password" (Node-RED's sample hash).
const HASH: &str = "$2a$08$zZWtXTja0fB1pzD4sHCMyOCMYz2Z6dNbM6tl8sJogENOMcxWV9DN.";

fn hello_flow() -> Value {
    json!([
        {"id": "t1", "type": "tab", "label": "One"},
        {"id": "in", "type": "http in", "z": "t1", "url": "/hello", "method": "get", "wires": [["ch"]]},
        {"id": "ch", "type": "change", "z": "t1", "rules": [{"t": "set", "p": "payload", "pt": "msg", "to": "hi", "tot": "str"}], "wires": [["out"]]},
        {"id": "out", "type": "http response", "z": "t1", "wires": []}
    ])
}

/// An address of this machine other than loopback (the one it would use
/// to reach the outside; no packet is sent).
fn lan_address() -> std::net::IpAddr {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").expect("udp");
    s.connect("192.0.2.1:9")
        .expect("route to a documentation address");
    let ip = s.local_addr().expect("local").ip();
    assert!(
        !ip.is_loopback() && !ip.is_unspecified(),
        "this test needs a non-loopback interface, got {ip}"
    );
    ip
}

#[test]
fn without_admin_auth_the_editor_answers_only_on_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = Redoubt::start_in(
        dir,
        &hello_flow(),
        r#"module.exports = { uiHost: "0.0.0.0" };"#,
    );
    assert!(
        r.lines()
            .iter()
            .any(|l| l.contains("answer only requests from this machine")),
        "startup says so"
    );
    let c = client();
    assert_eq!(
        c.get(r.url("/flows")).send().expect("local").status(),
        StatusCode::OK
    );
    let lan = lan_address();
    let remote = c
        .get(format!("http://{lan}:{}/flows", r.port))
        .send()
        .expect("lan");
    assert_eq!(remote.status(), StatusCode::FORBIDDEN);
    // http-in endpoints stay reachable from the network.
    let hello = c
        .get(format!("http://{lan}:{}/hello", r.port))
        .send()
        .expect("lan hello");
    assert_eq!(hello.text().expect("text"), "hi");
}

#[test]
fn the_opt_out_serves_the_editor_remotely_and_says_it_is_unsafe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = Redoubt::start_in(
        dir,
        &hello_flow(),
        r#"module.exports = { uiHost: "0.0.0.0", allowRemoteEditorWithoutAuth: true };"#,
    );
    assert!(r.lines().iter().any(|l| l.contains("UNSAFE")));
    let lan = lan_address();
    let remote = client()
        .get(format!("http://{lan}:{}/flows", r.port))
        .send()
        .expect("lan");
    assert_eq!(remote.status(), StatusCode::OK);
}

#[test]
fn cross_site_requests_are_refused_and_headers_are_set() {
    let r = Redoubt::start(&hello_flow());
    let c = client();
    let evil = c
        .post(r.url("/inject/in"))
        .header("origin", "http://evil.example")
        .send()
        .expect("post");
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let site = c
        .post(r.url("/flows"))
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/json")
        .body("[]")
        .send()
        .expect("post");
    assert_eq!(site.status(), StatusCode::FORBIDDEN);
    let page = c.get(r.url("/")).send().expect("editor");
    assert_eq!(page.status(), StatusCode::OK);
    let h = page.headers();
    assert_eq!(
        h.get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    assert_eq!(
        h.get("x-frame-options").and_then(|v| v.to_str().ok()),
        Some("SAMEORIGIN")
    );
    assert_eq!(
        h.get("referrer-policy").and_then(|v| v.to_str().ok()),
        Some("same-origin")
    );
    let csp = h
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        csp.contains("frame-ancestors 'self'") && csp.contains("object-src 'none'"),
        "{csp}"
    );
    let api = c.get(r.url("/settings")).send().expect("settings");
    assert!(api.headers().contains_key("content-security-policy"));
}

#[test]
fn disable_editor_keeps_the_api_and_drops_editor_routes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = format!(
        r#"module.exports = {{ disableEditor: true, adminAuth: {{ type: "credentials", users: [{{ username: "admin", password: "{HASH}", permissions: "*" }}] }} }};"#
    );
    let r = Redoubt::start_in(dir, &hello_flow(), &settings);
    let c = client();
    let t: Value = c
        .post(r.url("/auth/token"))
        .json(&json!({"client_id": "node-red-admin", "grant_type": "password", "scope": "*", "username": "admin", "password": "password"}))
        .send()
        .expect("token")
        .json()
        .expect("json");
    let t = t["access_token"].as_str().expect("token").to_string();
    assert_eq!(
        c.get(r.url("/flows"))
            .bearer_auth(&t)
            .send()
            .expect("flows")
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        c.get(r.url("/")).send().expect("page").status(),
        StatusCode::NOT_FOUND
    );
    for editor_only in [
        "/comms",
        "/settings/user",
        "/library/local/flows",
        "/credentials/inject/x",
    ] {
        let s = c
            .get(r.url(editor_only))
            .bearer_auth(&t)
            .send()
            .expect("get")
            .status();
        assert_eq!(s, StatusCode::NOT_FOUND, "{editor_only}");
    }
}

#[test]
fn http_admin_root_false_turns_off_editor_and_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = Redoubt::start_in(
        dir,
        &hello_flow(),
        r#"module.exports = { httpAdminRoot: false };"#,
    );
    let c = client();
    assert_eq!(
        c.get(r.url("/flows")).send().expect("flows").status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get(r.url("/")).send().expect("page").status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.get(r.url("/hello"))
            .send()
            .expect("hello")
            .text()
            .expect("text"),
        "hi"
    );
}

#[test]
fn http_node_auth_guards_endpoints_including_options() {
    let dir = tempfile::tempdir().expect("tempdir");
    // "password" as bcrypt for one user, and Node-RED's legacy MD5 form is covered below.
    let settings =
        format!(r#"module.exports = {{ httpNodeAuth: {{ user: "node", pass: "{HASH}" }} }};"#);
    let r = Redoubt::start_in(dir, &hello_flow(), &settings);
    let c = client();
    let none = c.get(r.url("/hello")).send().expect("none");
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Basic realm=\"Authorization Required\"")
    );
    let wrong = c
        .get(r.url("/hello"))
        .basic_auth("node", Some("nope"))
        .send()
        .expect("wrong");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let ok = c
        .get(r.url("/hello"))
        .basic_auth("node", Some("password"))
        .send()
        .expect("ok");
    assert_eq!(ok.text().expect("text"), "hi");
    let options = c
        .request(reqwest::Method::OPTIONS, r.url("/hello"))
        .send()
        .expect("options");
    assert_eq!(
        options.status(),
        StatusCode::UNAUTHORIZED,
        "OPTIONS is checked too"
    );
    // The editor is not behind httpNodeAuth.
    assert_eq!(
        c.get(r.url("/settings")).send().expect("settings").status(),
        StatusCode::OK
    );
}

#[test]
fn http_static_serves_its_root_only_behind_its_auth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let public = dir.path().join("public");
    std::fs::create_dir_all(&public).expect("public");
    std::fs::write(public.join("index.html"), "<h1>home</h1>").expect("index");
    std::fs::write(public.join(".secret"), "dot").expect("dotfile");
    std::fs::write(dir.path().join("settings.txt"), "outside").expect("outside");
    let settings = format!(
        r#"module.exports = {{ httpStatic: [{{ path: "{}", root: "/files/" }}], httpStaticAuth: {{ user: "s", pass: "5f4dcc3b5aa765d61d8327deb882cf99" }} }};"#,
        public.display()
    );
    let r = Redoubt::start_in(dir, &hello_flow(), &settings);
    let c = client();
    assert_eq!(
        c.get(r.url("/files/")).send().expect("noauth").status(),
        StatusCode::UNAUTHORIZED
    );
    let home = c
        .get(r.url("/files/"))
        .basic_auth("s", Some("password"))
        .send()
        .expect("home");
    assert_eq!(home.text().expect("text"), "<h1>home</h1>");
    for bad in [
        "/files/../settings.txt",
        "/files/%2e%2e/settings.txt",
        "/files/.secret",
        "/files/..%2fsettings.txt",
    ] {
        let resp = c
            .get(r.url(bad))
            .basic_auth("s", Some("password"))
            .send()
            .expect("bad");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    // http-in routes outside the static root need no static credentials.
    assert_eq!(
        c.get(r.url("/hello"))
            .send()
            .expect("hello")
            .text()
            .expect("text"),
        "hi"
    );
}

fn redoubt_cmd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_redoubt"))
}

#[test]
fn hash_pw_prints_a_hash_node_red_accepts() {
    let mut child = redoubt_cmd()
        .args(["admin", "hash-pw"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"s3cret-pass\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(hash.starts_with("$2b$10$") && hash.len() == 60, "{hash}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("s3cret-pass"));
    // The hash logs in.
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = format!(
        r#"module.exports = {{ adminAuth: {{ type: "credentials", users: [{{ username: "me", password: "{hash}", permissions: "*" }}] }} }};"#
    );
    let r = Redoubt::start_in(dir, &hello_flow(), &settings);
    let resp = client()
        .post(r.url("/auth/token"))
        .json(&json!({"client_id": "node-red-admin", "grant_type": "password", "scope": "*", "username": "me", "password": "s3cret-pass"}))
        .send()
        .expect("token");
    assert_eq!(resp.status(), StatusCode::OK);
    // Empty input hashes nothing.
    let empty = redoubt_cmd()
        .args(["admin", "hash-pw"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!empty.status.success());
}

#[test]
fn init_writes_a_settings_file_that_logs_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    // admin name, password twice, a read-only user with password twice,
    // port 0, loopback, no HTTPS.
    let out = run_init(
        dir.path(),
        "boss\nshort\nlong-enough-1\nlong-enough-1\ny\nviewer\nviewer-pass-2\nviewer-pass-2\n0\n127.0.0.1\n1\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("at least 8 characters"),
        "a short password is refused: {err}"
    );
    assert!(!err.contains("long-enough-1"));
    let path = dir.path().join("settings.js");
    let text = std::fs::read_to_string(&path).expect("settings.js");
    assert!(!text.contains("long-enough-1"), "only the hash is written");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
            0o600
        );
    }
    std::fs::write(dir.path().join("flows.json"), hello_flow().to_string()).expect("flows");
    let r = Redoubt::spawn(dir, &[]);
    let c = client();
    let login = |user: &str, pw: &str, scope: &str| {
        c.post(r.url("/auth/token"))
            .json(&json!({"client_id": "node-red-admin", "grant_type": "password", "scope": scope, "username": user, "password": pw}))
            .send()
            .expect("token")
            .status()
    };
    assert_eq!(login("boss", "long-enough-1", "*"), StatusCode::OK);
    assert_eq!(login("viewer", "viewer-pass-2", "read"), StatusCode::OK);
    assert_eq!(login("viewer", "viewer-pass-2", "*"), StatusCode::FORBIDDEN);
}

#[test]
fn init_can_set_up_https_with_a_generated_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    // admin and password, no read-only user, port 0, loopback, HTTPS with
    // a generated certificate for localhost and 127.0.0.1.
    let out = run_init(
        dir.path(),
        "admin\nlong-enough-1\nlong-enough-1\nn\n0\n127.0.0.1\n2\nlocalhost\n127.0.0.1\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("SHA-256 fingerprint"), "{err}");
    let cert = dir.path().join("certs/cert.pem");
    let key = dir.path().join("certs/key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).expect("key").permissions().mode() & 0o777,
            0o600
        );
    }
    let text = std::fs::read_to_string(dir.path().join("settings.js")).expect("settings");
    assert!(text.contains("requireHttps: true"), "{text}");
    std::fs::write(dir.path().join("flows.json"), hello_flow().to_string()).expect("flows");
    let pem = std::fs::read(&cert).expect("cert");
    let r = Redoubt::spawn(dir, &[]);
    let tls = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("pem")])
        .build()
        .expect("client");
    let login = tls
        .post(format!("https://localhost:{}/auth/token", r.port))
        .json(&json!({"client_id": "node-red-admin", "grant_type": "password", "scope": "*", "username": "admin", "password": "long-enough-1"}))
        .send()
        .expect("login over TLS");
    assert_eq!(login.status(), StatusCode::OK);
    // Plain HTTP to the same port is sent to HTTPS.
    let plain = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(r.url("/auth/login"))
        .send()
        .expect("plain");
    assert!(plain.status().is_redirection(), "{}", plain.status());
}

#[test]
fn http_node_auth_covers_websocket_endpoints() {
    let flows = json!([
        {"id": "t", "type": "tab", "label": "WS"},
        {"id": "l", "type": "websocket-listener", "path": "/ws/echo", "wholemsg": "false"},
        {"id": "in", "type": "websocket in", "z": "t", "server": "l", "client": "", "wires": [["out"]]},
        {"id": "out", "type": "websocket out", "z": "t", "server": "l", "client": "", "wires": []}
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let settings =
        format!(r#"module.exports = {{ httpNodeAuth: {{ user: "node", pass: "{HASH}" }} }};"#);
    let r = Redoubt::start_in(dir, &flows, &settings);
    let url = format!("ws://127.0.0.1:{}/ws/echo", r.port);
    match tungstenite::connect(url.as_str()) {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 401),
        other => panic!(
            "expected 401 without credentials, got {:?}",
            other.map(|(_, resp)| resp.status())
        ),
    }
    let mut req =
        tungstenite::client::IntoClientRequest::into_client_request(url.as_str()).expect("request");
    let basic = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "node:password");
    req.headers_mut().insert(
        "authorization",
        format!("Basic {basic}").parse().expect("header"),
    );
    let (mut ws, _) = tungstenite::connect(req).expect("connects with credentials");
    ws.send(tungstenite::Message::Text("hi".into()))
        .expect("send");
    assert_eq!(ws.read().expect("echo").to_text().expect("text"), "hi");
}

/// Runs `redoubt admin init -u dir`, answering its questions with `answers`.
fn run_init(dir: &std::path::Path, answers: &str) -> std::process::Output {
    let mut child = redoubt_cmd()
        .args(["admin", "init", "-u"])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(answers.as_bytes())
        .expect("write");
    child.wait_with_output().expect("wait")
}
