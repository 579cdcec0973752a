//! `redoubt admin gen-cert`: a self-signed certificate for a LAN deployment.
//! An ECDSA P-256 key (aws-lc-rs through rcgen), valid for the given DNS
//! names and IP addresses, for 825 days (the longest lifetime Apple
//! platforms accept for a locally trusted TLS certificate).

use anyhow::{Context, Result, bail};
use clap::Args;
use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Days the certificate stays valid.
const VALID_DAYS: i64 = 825;

/// Arguments of `gen-cert`.
#[derive(Debug, Args)]
pub(crate) struct GenCertArgs {
    /// DNS name the certificate is valid for (repeatable).
    #[arg(long = "host")]
    pub(crate) hosts: Vec<String>,
    /// IP address the certificate is valid for (repeatable).
    #[arg(long = "ip")]
    pub(crate) ips: Vec<String>,
    /// Output directory (default: certs/ in the user directory).
    #[arg(long = "out")]
    pub(crate) out: Option<PathBuf>,
    /// User directory (default: ~/.redoubt).
    #[arg(short = 'u', long = "userDir")]
    pub(crate) user_dir: Option<PathBuf>,
    /// Replace cert.pem and key.pem if they exist (a running redoubt picks
    /// up the new pair by itself).
    #[arg(long = "force")]
    pub(crate) force: bool,
}

/// What [`generate_cert`] wrote.
#[derive(Debug)]
pub(crate) struct GeneratedCert {
    pub(crate) cert_path: PathBuf,
    pub(crate) key_path: PathBuf,
    /// SHA-256 of the DER certificate, as colon-separated upper-case hex.
    pub(crate) fingerprint: String,
    /// The lines to put into settings.js to serve HTTPS with this pair.
    pub(crate) settings_lines: String,
}

/// Writes `cert.pem` and `key.pem` (0600) into `out`; refuses to replace
/// existing files.
pub(crate) fn generate_cert(hosts: &[String], ips: &[String], out: &Path) -> Result<GeneratedCert> {
    write_cert(hosts, ips, out, false)
}

/// Checks a DNS name: letters, digits, `-`, `.`, and a leading `*.`.
fn check_host(h: &str) -> Result<()> {
    let name = h.strip_prefix("*.").unwrap_or(h);
    let ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !ok {
        bail!("--host {h:?} is not a valid DNS name");
    }
    Ok(())
}

/// The PEM certificate and key for `hosts` and `ips`.
fn build(hosts: &[String], ips: &[String]) -> Result<(String, String)> {
    let (hosts, ips): (Vec<String>, Vec<String>) = if hosts.is_empty() && ips.is_empty() {
        (
            vec!["localhost".into()],
            vec!["127.0.0.1".into(), "::1".into()],
        )
    } else {
        (hosts.to_vec(), ips.to_vec())
    };
    let mut sans = Vec::new();
    for h in &hosts {
        check_host(h)?;
        sans.push(SanType::DnsName(h.clone().try_into().with_context(
            || format!("--host {h:?} is not a valid DNS name"),
        )?));
    }
    for ip in &ips {
        let addr: IpAddr = ip
            .parse()
            .with_context(|| format!("--ip {ip:?} is not an IP address"))?;
        sans.push(SanType::IpAddress(addr));
    }
    let mut params = CertificateParams::default();
    params.subject_alt_names = sans;
    let mut dn = DistinguishedName::new();
    let common_name = hosts.first().or(ips.first()).cloned().unwrap_or_default();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "redoubt (self-signed)");
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = chrono::Utc::now();
    let (y, m, d) = ymd(now - chrono::Duration::days(1))?;
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = ymd(now + chrono::Duration::days(VALID_DAYS))?;
    params.not_after = rcgen::date_time_ymd(y, m, d);
    let key = KeyPair::generate().context("cannot generate a key")?;
    let cert = params
        .self_signed(&key)
        .context("cannot sign the certificate")?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn ymd(t: chrono::DateTime<chrono::Utc>) -> Result<(i32, u8, u8)> {
    use chrono::Datelike;
    let month = u8::try_from(t.month()).context("month out of range")?;
    let day = u8::try_from(t.day()).context("day out of range")?;
    Ok((t.year(), month, day))
}

/// The settings.js lines that serve HTTPS with `cert` and `key`.
fn settings_lines(cert: &Path, key: &Path) -> String {
    let js = |p: &Path| serde_json::Value::String(p.to_string_lossy().into_owned()).to_string();
    format!(
        "    https: {{\n        key: require(\"fs\").readFileSync({}),\n        cert: require(\"fs\").readFileSync({})\n    }},\n    requireHttps: true,\n",
        js(key),
        js(cert)
    )
}

fn write_cert(hosts: &[String], ips: &[String], out: &Path, force: bool) -> Result<GeneratedCert> {
    let out = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
    let cert_path = out.join("cert.pem");
    let key_path = out.join("key.pem");
    if !force {
        for p in [&cert_path, &key_path] {
            if p.exists() {
                bail!("{} already exists; pass --force to replace it", p.display());
            }
        }
    }
    let (cert_pem, key_pem) = build(hosts, ips)?;
    let fingerprint = redoubt_http::tls::fingerprint_sha256(&cert_pem)?;
    let mut dir = std::fs::DirBuilder::new();
    dir.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
    dir.create(&out)
        .with_context(|| format!("cannot create {}", out.display()))?;
    // Key first: a running redoubt that sees the key change before the
    // certificate rejects the mismatched pair and keeps the old one until
    // the certificate follows.
    redoubt_storage::write_file_atomic(&key_path, key_pem.as_bytes(), 0o600)?;
    redoubt_storage::write_file_atomic(&cert_path, cert_pem.as_bytes(), 0o644)?;
    Ok(GeneratedCert {
        settings_lines: settings_lines(&cert_path, &key_path),
        cert_path,
        key_path,
        fingerprint,
    })
}

pub(crate) fn run(args: GenCertArgs) -> Result<()> {
    let out = match args.out {
        Some(o) => o,
        None => super::user_dir(args.user_dir.as_deref())?.join("certs"),
    };
    let g = if args.force {
        write_cert(&args.hosts, &args.ips, &out, true)?
    } else {
        generate_cert(&args.hosts, &args.ips, &out)?
    };
    println!("Wrote {}", g.cert_path.display());
    println!("Wrote {} (mode 0600)", g.key_path.display());
    println!("SHA-256 fingerprint: {}", g.fingerprint);
    println!();
    println!("Add to module.exports in settings.js:");
    println!();
    print!("{}", g.settings_lines);
    println!();
    println!(
        "Browsers will warn about a self-signed certificate: compare the fingerprint above before accepting it, or import cert.pem as trusted."
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_pair_that_serves_tls_for_the_names_given() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("certs");
        let g =
            generate_cert(&["pi.local".into()], &["192.168.1.5".into()], &out).expect("generated");
        let cert = std::fs::read_to_string(&g.cert_path).expect("cert");
        let key = std::fs::read_to_string(&g.key_path).expect("key");
        assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(key.contains("PRIVATE KEY"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&g.key_path)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // The pair builds a rustls server config (key matches certificate).
        let material = redoubt_http::tls::TlsMaterial {
            key_pem: key,
            cert_pem: cert.clone(),
            ca_pem: None,
        };
        redoubt_http::tls::server_config(&material).expect("usable pair");
        assert_eq!(g.fingerprint.len(), 32 * 3 - 1);
        assert_eq!(
            g.fingerprint,
            redoubt_http::tls::fingerprint_sha256(&cert).expect("fp")
        );
        assert!(g.settings_lines.contains("readFileSync("));
        assert!(g.settings_lines.contains(&*g.key_path.to_string_lossy()));
        // Refuses to overwrite.
        let err = generate_cert(&["pi.local".into()], &[], &out).expect_err("exists");
        assert!(err.to_string().contains("--force"), "{err}");
        // The settings lines evaluate to an https object redoubt accepts.
        let settings = dir.path().join("settings.js");
        std::fs::write(
            &settings,
            format!("module.exports = {{\n{}}};\n", g.settings_lines),
        )
        .expect("write settings");
        let (s, files) = crate::settings::load_traced(&settings, &[]).expect("settings");
        assert!(s.require_https);
        let https = s.https.expect("https set");
        crate::listen::tls_material(&https).expect("material");
        assert_eq!(files, vec![g.key_path.clone(), g.cert_path.clone()]);
    }

    #[test]
    fn rejects_bad_names_and_addresses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = generate_cert(&["bad host".into()], &[], dir.path()).expect_err("bad host");
        assert!(e.to_string().contains("bad host"), "{e}");
        let e = generate_cert(&[], &["300.1.1.1".into()], dir.path()).expect_err("bad ip");
        assert!(e.to_string().contains("300.1.1.1"), "{e}");
        assert!(!dir.path().join("key.pem").exists());
    }

    #[test]
    fn defaults_to_localhost() {
        let (cert, _) = build(&[], &[]).expect("built");
        assert!(cert.contains("BEGIN CERTIFICATE"));
    }
}
