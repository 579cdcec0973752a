//! HTTPS through the real binary: a certificate from `redoubt admin
//! gen-cert`, real TLS handshakes from reqwest, curl and openssl, the
//! plain-HTTP redirect on the HTTPS port, and certificate rotation while
//! redoubt runs.

use crate::support::Redoubt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A flow with `GET /hello` answering "hi", and `GET /proto` answering
/// with `msg.req.protocol`.
fn hello_flow() -> Value {
    json!([
        {"id":"t","type":"tab","label":"T"},
        {"id":"pin","type":"http in","z":"t","url":"/proto","method":"get","x":1,"y":1,"wires":[["pch"]]},
        {"id":"pch","type":"change","z":"t","rules":[{"t":"set","p":"payload","pt":"msg","to":"req.protocol","tot":"msg"}],"x":1,"y":1,"wires":[["out"]]},
        {"id":"in","type":"http in","z":"t","url":"/hello","method":"get","x":1,"y":1,"wires":[["ch"]]},
        {"id":"ch","type":"change","z":"t","rules":[{"t":"set","p":"payload","pt":"msg","to":"hi","tot":"str"}],"x":1,"y":1,"wires":[["out"]]},
        {"id":"out","type":"http response","z":"t","statusCode":"","headers":{},"x":1,"y":1,"wires":[]}
    ])
}

/// Runs `redoubt admin gen-cert`, returns the printed fingerprint.
fn gen_cert(out: &Path, force: bool) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redoubt"));
    cmd.args([
        "admin",
        "gen-cert",
        "--host",
        "localhost",
        "--ip",
        "127.0.0.1",
        "--out",
    ])
    .arg(out);
    if force {
        cmd.arg("--force");
    }
    let o = cmd.output().expect("run gen-cert");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "gen-cert failed: {stdout} {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("readFileSync("), "{stdout}");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("SHA-256 fingerprint: "))
        .expect("fingerprint line")
        .trim()
        .to_string()
}

/// Settings serving HTTPS from `<dir>/certs`, polling the files every 100 ms.
fn https_settings(dir: &Path, extra: &str) -> String {
    let certs = dir.join("certs");
    let js = |name: &str| Value::String(certs.join(name).display().to_string()).to_string();
    format!(
        r#"module.exports = {{
    uiHost: "127.0.0.1",
    credentialSecret: "test-secret",
    httpsWatchInterval: 0.1,
    https: {{
        key: require("fs").readFileSync({}),
        cert: require("fs").readFileSync({})
    }},
    {extra}
    logging: {{ console: {{ level: "info" }} }}
}};
"#,
        js("key.pem"),
        js("cert.pem")
    )
}

/// Starts redoubt with a fresh self-signed certificate; returns it, the
/// certificate path and its fingerprint.
fn start_https(extra: &str) -> (Redoubt, std::path::PathBuf, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let fp = gen_cert(&dir.path().join("certs"), false);
    let settings = https_settings(dir.path(), extra);
    let cert = dir.path().join("certs/cert.pem");
    (Redoubt::start_in(dir, &hello_flow(), &settings), cert, fp)
}

/// A client that trusts only `cert`.
fn trusting(cert: &Path) -> reqwest::blocking::Client {
    let pem = std::fs::read(cert).expect("cert");
    reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("pem")])
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

fn https_url(r: &Redoubt, path: &str) -> String {
    format!("https://127.0.0.1:{}{path}", r.port)
}

/// SHA-256 of the certificate a new connection is served.
fn served_fingerprint(r: &Redoubt) -> String {
    let c = reqwest::blocking::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .tls_info(true)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let resp = c.get(https_url(r, "/hello")).send().expect("https request");
    let info = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .expect("tls info");
    let der = info.peer_certificate().expect("peer certificate");
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Waits (polling) until `f` holds, up to 15 s.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn generated_certificate_is_trusted_and_every_app_is_served_over_tls_with_hsts() {
    let (r, cert, fp) = start_https("");
    assert!(
        r.lines().iter().any(|l| l.contains(&fp)),
        "fingerprint logged"
    );
    let c = trusting(&cert);
    let hello = c
        .get(https_url(&r, "/hello"))
        .send()
        .expect("http-in over TLS");
    assert_eq!(hello.status(), 200);
    assert_eq!(
        hello.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    assert_eq!(hello.text().expect("body"), "hi");
    // Express's req.protocol over TLS.
    let proto = c.get(https_url(&r, "/proto")).send().expect("proto");
    assert_eq!(proto.text().expect("body"), "https");
    for path in ["/", "/settings", "/flows"] {
        let resp = c.get(https_url(&r, path)).send().expect("admin over TLS");
        assert!(
            resp.headers().contains_key("strict-transport-security"),
            "{path}: {:?}",
            resp.status()
        );
    }
    // The editor page itself.
    let page = c.get(https_url(&r, "/")).send().expect("editor");
    assert_eq!(page.status(), 200);
    // curl, trusting the same file, agrees.
    let out = Command::new("curl")
        .args(["-sS", "--cacert"])
        .arg(&cert)
        .arg(https_url(&r, "/hello"))
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi");
    // The editor's websocket upgrades over TLS (HTTP/1.1 101).
    let out = Command::new("curl")
        .args(["-sS", "-i", "--http1.1", "--max-time", "1", "--cacert"])
        .arg(&cert)
        .args([
            "-H",
            "Connection: Upgrade",
            "-H",
            "Upgrade: websocket",
            "-H",
            "Sec-WebSocket-Version: 13",
            "-H",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        ])
        .arg(https_url(&r, "/comms"))
        .output()
        .expect("curl");
    let head = String::from_utf8_lossy(&out.stdout);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "accept key: {head}"
    );
    // A client that does not trust the certificate is refused.
    let untrusting = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    assert!(untrusting.get(https_url(&r, "/hello")).send().is_err());
}

/// `openssl s_client` with one protocol version; returns (success, output).
fn s_client(port: u16, version_flag: &str, extra: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            version_flag,
        ])
        // Let the client itself offer old protocols, so a refusal is the server's.
        .args(["-cipher", "DEFAULT:@SECLEVEL=0"])
        .args(extra)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn only_tls_1_2_and_1_3_are_spoken_and_h2_is_negotiated() {
    let (r, cert, _) = start_https("");
    let (ok, text) = s_client(r.port, "-tls1_1", &[]);
    assert!(!ok, "TLS 1.1 was accepted:\n{text}");
    assert!(
        // rustls answers an offer without 1.2/1.3 with a fatal alert.
        text.contains("alert protocol version") || text.contains("alert handshake failure"),
        "refused by the server, not the client:\n{text}"
    );
    let (ok, text) = s_client(r.port, "-tls1_2", &[]);
    assert!(ok && text.contains("TLSv1.2"), "{text}");
    let (ok, text) = s_client(r.port, "-tls1_3", &["-alpn", "h2,http/1.1"]);
    assert!(ok && text.contains("TLSv1.3"), "{text}");
    assert!(text.contains("ALPN protocol: h2"), "{text}");
    // HTTP/2 end to end with curl.
    let out = Command::new("curl")
        .args([
            "-sS",
            "--http2",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version}",
            "--cacert",
        ])
        .arg(&cert)
        .arg(https_url(&r, "/hello"))
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2");
    // And HTTP/1.1 when the client offers only that.
    let out = Command::new("curl")
        .args([
            "-sS",
            "--http1.1",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version}",
            "--cacert",
        ])
        .arg(&cert)
        .arg(https_url(&r, "/hello"))
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1.1");
}

#[test]
fn plain_http_to_the_https_port_is_redirected() {
    let (r, _, _) = start_https("requireHttps: true,");
    let c = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let plain = |p: &str| format!("http://127.0.0.1:{}{p}", r.port);
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/hello?x=1"),
        ("POST", "/auth/token"),
        ("GET", "/flows"),
    ] {
        let resp = c
            .request(method.parse().expect("method"), plain(path))
            .send()
            .expect("plain request");
        assert_eq!(resp.status(), 308, "{method} {path}");
        assert_eq!(
            resp.headers()["location"],
            format!("https://127.0.0.1:{}{path}", r.port).as_str(),
            "{method} {path}"
        );
    }
}

#[test]
fn certificate_files_replaced_while_running_are_picked_up_and_bad_ones_are_not() {
    let (r, cert, first) = start_https("");
    assert_eq!(served_fingerprint(&r), first);
    let certs = cert.parent().expect("certs dir").to_path_buf();
    let second = gen_cert(&certs, true);
    assert_ne!(first, second);
    eventually("the renewed certificate to be served", || {
        served_fingerprint(&r) == second
    });
    // A broken renewal: a certificate that does not match key.pem.
    let other = tempfile::tempdir().expect("tempdir");
    gen_cert(other.path(), false);
    // Forget what was logged so far (gen-cert writes the key before the
    // certificate, so the renewal above may have logged a transient mismatch).
    let _ = r.log.try_iter().count();
    std::fs::copy(other.path().join("cert.pem"), &cert).expect("replace cert");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let line = r
            .log
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a log line about the rejected certificate");
        if line.contains("New HTTPS certificate not used") {
            break;
        }
    }
    assert_eq!(served_fingerprint(&r), second, "the good one stays");
}
