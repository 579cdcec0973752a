//! Credentials file: Node-RED-compatible encryption and secret handling.

use redoubt_storage::StorageError;
use redoubt_storage::credentials::{
    CredMap, EncryptionType, Secret, SecretSource, load_credentials, resolve_secret,
    save_credentials,
};
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn sample() -> CredMap {
    let v = json!({"n1": {"user": "u", "password": "p"}, "n2": {"token": "tök😀\n"}});
    serde_json::from_value(v).expect("map")
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(p).expect("read")).expect("json")
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).expect("meta").permissions().mode() & 0o777
}

#[test]
fn round_trip_encrypted_mode_0600_with_backup() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("flows_cred.json");
    let secret = Secret::from_secret("s3cret");
    save_credentials(&path, &sample(), &secret, false).expect("save");
    let file = read_json(&path);
    let payload = file["$"].as_str().expect("$ string");
    assert_eq!(file.as_object().map(|m| m.len()), Some(1));
    assert!(payload[..32].chars().all(|c| c.is_ascii_hexdigit()));
    assert!(!payload.contains("password"));
    assert_eq!(load_credentials(&path, &secret).expect("load"), sample());
    save_credentials(&path, &CredMap::new(), &secret, true).expect("save again");
    assert!(
        fs::read_to_string(&path)
            .expect("read")
            .starts_with("{\n    \"$\": \"")
    );
    let backup = dir.path().join(".flows_cred.json.backup");
    assert_eq!(
        load_credentials(&backup, &secret).expect("backup"),
        sample()
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&backup), 0o600);
    }
}

#[test]
fn decrypts_a_file_written_by_node_crypto() {
    let creds = load_credentials(
        &data("flows_cred.node.json"),
        &Secret::from_secret("test-secret"),
    )
    .expect("load");
    assert_eq!(
        serde_json::to_value(&creds).expect("v"),
        json!({"n1": {"user": "u", "password": "p"}})
    );
}

/// Recorded from real Node-RED 5.0.7 by `tests/data/record_node_red.sh`
/// (an `http request` node deployed with credentials through its admin API).
#[test]
fn decrypts_a_file_written_by_node_red_5_0_7() {
    let secret = Secret::from_secret("test-secret");
    let path = data("flows_cred.node-red-5.0.7.json");
    let before = fs::read(&path).expect("fixture");
    let creds = load_credentials(&path, &secret).expect("load");
    assert_eq!(
        serde_json::to_value(&creds).expect("v"),
        json!({"n1": {"user": "u", "password": "p"}})
    );
    // The wrong key is an error and the file is left exactly as it was.
    assert!(load_credentials(&path, &Secret::from_secret("other")).is_err());
    assert_eq!(fs::read(&path).expect("fixture"), before);
}

#[test]
fn node_decrypts_a_file_written_by_rust() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("flows_cred.json");
    save_credentials(&path, &sample(), &Secret::from_secret("test-secret"), false).expect("save");
    // Requires node on PATH: fails (does not skip) without it.
    let out = Command::new("node")
        .arg(data("node_decrypt.js"))
        .arg(&path)
        .arg("test-secret")
        .output()
        .expect("this test needs `node` (v18+) on PATH");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert_eq!(
        text,
        r#"{"n1":{"user":"u","password":"p"},"n2":{"token":"tök😀\n"}}"#
    );
}

#[test]
fn wrong_key_is_an_error_and_the_file_is_untouched() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("flows_cred.json");
    fs::copy(data("flows_cred.node.json"), &path).expect("copy");
    let before = fs::read(&path).expect("read");
    for secret in [Secret::from_secret("wrong"), Secret::disabled()] {
        match load_credentials(&path, &secret) {
            Err(StorageError::CredentialsUndecryptable { path: p }) => assert_eq!(p, path),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(fs::read(&path).expect("read"), before);
    assert_eq!(fs::read_dir(dir.path()).expect("dir").count(), 1);
}

#[test]
fn malformed_file_is_an_error_not_empty() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("flows_cred.json");
    fs::write(&path, "{\"$\":").expect("write");
    assert!(matches!(
        load_credentials(&path, &Secret::from_secret("x")),
        Err(StorageError::Json { .. })
    ));
    fs::write(&path, r#"{"$":42}"#).expect("write");
    assert!(matches!(
        load_credentials(&path, &Secret::from_secret("x")),
        Err(StorageError::CredentialsUndecryptable { .. })
    ));
}

#[test]
fn disabled_writes_plain_json_and_plain_files_load_when_encrypting() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("flows_cred.json");
    assert!(
        load_credentials(&path, &Secret::disabled())
            .expect("missing")
            .is_empty()
    );
    save_credentials(&path, &sample(), &Secret::disabled(), false).expect("save");
    assert_eq!(read_json(&path), serde_json::to_value(sample()).expect("v"));
    assert_eq!(
        load_credentials(&path, &Secret::disabled()).expect("load"),
        sample()
    );
    // Encryption switched on later: the plain file is still read.
    assert_eq!(
        load_credentials(&path, &Secret::from_secret("k")).expect("load"),
        sample()
    );
}

#[test]
fn system_key_is_generated_once_and_kept_with_other_settings() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join(".config.runtime.json");
    fs::write(
        &cfg,
        "{\n    \"instanceId\": \"abc\",\n    \"telemetryEnabled\": false\n}",
    )
    .expect("write");
    let s1 = resolve_secret(&SecretSource::System, dir.path()).expect("resolve");
    assert_eq!(s1.encryption_type(), EncryptionType::System);
    let conf = read_json(&cfg);
    let key = conf["_credentialSecret"].as_str().expect("generated");
    assert_eq!(key.len(), 64);
    assert_eq!(conf["instanceId"], "abc");
    assert_eq!(
        conf.as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .expect("obj"),
        ["instanceId", "telemetryEnabled", "_credentialSecret"]
    );
    #[cfg(unix)]
    assert_eq!(mode(&cfg), 0o600);

    let path = dir.path().join("flows_cred.json");
    save_credentials(&path, &sample(), &s1, false).expect("save");
    let s2 = resolve_secret(&SecretSource::System, dir.path()).expect("resolve again");
    assert_eq!(read_json(&cfg)["_credentialSecret"], key);
    assert_eq!(load_credentials(&path, &s2).expect("load"), sample());
    assert_eq!(
        load_credentials(&path, &Secret::from_secret(key)).expect("load"),
        sample()
    );
}

#[test]
fn node_red_system_key_decrypts_node_red_file() {
    let dir = tempfile::tempdir().expect("tmp");
    // .config.runtime.json as Node-RED writes it (JSON.stringify(x, null, 4)).
    fs::write(
        dir.path().join(".config.runtime.json"),
        "{\n    \"_credentialSecret\": \"test-secret\",\n    \"instanceId\": \"0a1b2c\"\n}",
    )
    .expect("write");
    let secret = resolve_secret(&SecretSource::System, dir.path()).expect("resolve");
    let creds = load_credentials(&data("flows_cred.node.json"), &secret).expect("load");
    assert_eq!(creds["n1"]["password"], "p");
}

#[test]
fn user_secret_migrates_away_from_the_system_key() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join(".config.runtime.json");
    fs::write(
        &cfg,
        "{\n    \"_credentialSecret\": \"test-secret\",\n    \"instanceId\": \"x\"\n}",
    )
    .expect("write");
    let path = dir.path().join("flows_cred.json");
    fs::copy(data("flows_cred.node.json"), &path).expect("copy");

    let secret =
        resolve_secret(&SecretSource::Setting("mine".into()), dir.path()).expect("resolve");
    assert_eq!(secret.encryption_type(), EncryptionType::User);
    assert!(secret.migrating());
    let creds = load_credentials(&path, &secret).expect("decrypts with the old system key");
    save_credentials(&path, &creds, &secret, false).expect("save");
    assert_eq!(read_json(&cfg), json!({"instanceId": "x"}));
    let after = resolve_secret(&SecretSource::Setting("mine".into()), dir.path()).expect("resolve");
    assert!(!after.migrating());
    assert_eq!(load_credentials(&path, &after).expect("load"), creds);
    assert!(load_credentials(&path, &Secret::from_secret("test-secret")).is_err());
}

#[test]
fn disabling_encryption_migrates_to_plain_text() {
    let dir = tempfile::tempdir().expect("tmp");
    fs::write(
        dir.path().join(".config.runtime.json"),
        r#"{"_credentialSecret":"test-secret"}"#,
    )
    .expect("write");
    let path = dir.path().join("flows_cred.json");
    fs::copy(data("flows_cred.node.json"), &path).expect("copy");
    let secret = resolve_secret(&SecretSource::Disabled, dir.path()).expect("resolve");
    assert_eq!(secret.encryption_type(), EncryptionType::Disabled);
    let creds = load_credentials(&path, &secret).expect("load");
    save_credentials(&path, &creds, &secret, false).expect("save");
    assert_eq!(
        read_json(&path),
        json!({"n1": {"user": "u", "password": "p"}})
    );
}

#[test]
fn env_and_file_sources() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("secret.txt");
    fs::write(&file, "test-secret\n").expect("write");
    let s = resolve_secret(&SecretSource::File(file), dir.path()).expect("file");
    assert_eq!(s.encryption_type(), EncryptionType::User);
    assert_eq!(
        load_credentials(&data("flows_cred.node.json"), &s).expect("load")["n1"]["user"],
        "u"
    );

    let empty = dir.path().join("empty.txt");
    fs::write(&empty, "\n").expect("write");
    assert!(matches!(
        resolve_secret(&SecretSource::File(empty), dir.path()),
        Err(StorageError::SecretFile { .. })
    ));
    assert!(matches!(
        resolve_secret(
            &SecretSource::Env("REDOUBT_TEST_SURELY_UNSET_VAR".into()),
            dir.path()
        ),
        Err(StorageError::SecretEnv { .. })
    ));
    // PATH is always set: the env source uses the variable's value as the secret.
    let path_value = std::env::var("PATH").expect("PATH");
    let via_env = resolve_secret(&SecretSource::Env("PATH".into()), dir.path()).expect("env");
    let cred = dir.path().join("c.json");
    save_credentials(&cred, &sample(), &via_env, false).expect("save");
    assert_eq!(
        load_credentials(&cred, &Secret::from_secret(&path_value)).expect("load"),
        sample()
    );
    assert_eq!(
        fs::read_dir(dir.path()).expect("dir").count(),
        3,
        "no settings file was created"
    );
}

#[test]
fn pre_1_2_config_json_key_is_used_and_its_sections_stay_out() {
    let dir = tempfile::tempdir().expect("tmp");
    fs::write(
        dir.path().join(".config.json"),
        r#"{"_credentialSecret":"test-secret","nodes":{"x":1},"users":{}}"#,
    )
    .expect("write");
    let secret = resolve_secret(&SecretSource::System, dir.path()).expect("resolve");
    let creds = load_credentials(&data("flows_cred.node.json"), &secret).expect("load");
    assert_eq!(creds["n1"]["user"], "u");
    let config = redoubt_storage::runtime_config::read_runtime_config(dir.path()).expect("read");
    assert_eq!(
        serde_json::Value::Object(config),
        json!({"_credentialSecret": "test-secret"})
    );
}
