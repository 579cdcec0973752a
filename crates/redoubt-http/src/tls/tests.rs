//! Building, reloading and change detection, with real keys from rcgen.

use super::*;

fn pair(name: &str) -> TlsMaterial {
    let c = rcgen::generate_simple_self_signed(vec![name.to_string()]).expect("rcgen");
    TlsMaterial {
        key_pem: c.signing_key.serialize_pem(),
        cert_pem: c.cert.pem(),
        ca_pem: None,
    }
}

#[test]
fn config_speaks_h2_and_http1_and_rejects_mismatched_or_garbage_pems() {
    let a = pair("a.test");
    let cfg = server_config(&a).expect("config");
    assert_eq!(
        cfg.alpn_protocols,
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    );
    let b = pair("b.test");
    let mismatched = TlsMaterial {
        key_pem: a.key_pem.clone(),
        ..b.clone()
    };
    let err = server_config(&mismatched).expect_err("key of another cert");
    assert!(matches!(err, TlsError::Rustls(_)), "{err}");
    let no_key = TlsMaterial {
        key_pem: "not a key".into(),
        ..a.clone()
    };
    assert!(matches!(
        server_config(&no_key),
        Err(TlsError::Missing { field: "key", .. })
    ));
    let no_cert = TlsMaterial {
        cert_pem: String::new(),
        ..a.clone()
    };
    assert!(matches!(
        server_config(&no_cert),
        Err(TlsError::Missing { field: "cert", .. })
    ));
    // The CA chain is appended; a broken one is an error naming `ca`.
    let with_ca = TlsMaterial {
        ca_pem: Some(b.cert_pem.clone()),
        ..a.clone()
    };
    server_config(&with_ca).expect("chain");
    let bad_ca = TlsMaterial {
        ca_pem: Some("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n".into()),
        ..a.clone()
    };
    let err = server_config(&bad_ca).expect_err("bad ca");
    assert!(err.to_string().starts_with("https.ca"), "{err}");
    // Debug output never shows the key.
    assert!(!format!("{a:?}").contains("PRIVATE"));
}

#[test]
fn reload_swaps_good_material_and_keeps_the_old_on_error() {
    let a = pair("a.test");
    let b = pair("b.test");
    let holder = TlsConfigHolder::new(a.clone()).expect("holder");
    let fp_a = fingerprint_sha256(&a.cert_pem).expect("fp");
    assert_eq!(holder.fingerprint(), fp_a);
    assert!(
        !holder.reload(a.clone()).expect("same"),
        "unchanged is no reload"
    );
    assert!(holder.reload(b.clone()).expect("swap"));
    let fp_b = fingerprint_sha256(&b.cert_pem).expect("fp");
    assert_eq!(holder.fingerprint(), fp_b);
    let before = holder.config();
    let broken = TlsMaterial {
        key_pem: a.key_pem.clone(),
        ..b.clone()
    };
    let err = holder.reload(broken).expect_err("mismatch");
    assert!(!err.to_string().contains("PRIVATE KEY"), "{err}");
    assert_eq!(holder.fingerprint(), fp_b);
    assert!(std::sync::Arc::ptr_eq(&before, &holder.config()));
}

#[test]
fn stamps_notice_rewrites_and_ignore_a_file_briefly_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("cert.pem");
    std::fs::write(&f, "one").expect("write");
    let mut s = FileStamps::new([f.clone()]);
    assert!(!s.changed());
    std::fs::write(&f, "three").expect("rewrite");
    assert!(s.changed());
    assert!(!s.changed(), "reported once");
    std::fs::remove_file(&f).expect("rm");
    assert!(!s.changed(), "missing is not a change");
    std::fs::write(&f, "four!").expect("recreate");
    assert!(s.changed());
}
