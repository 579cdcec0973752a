//! The authority's decisions, with settings data and with hooks (a Rust
//! stand-in for the settings.js functions; the JavaScript path is tested
//! end to end in the binary's tests).

use super::*;
use crate::config::AdminAuthConfig;
use serde_json::json;

/// bcrypt of "password", cost 8 (Node-RED's sample).
const HASH: &str = "$2a$08$zZWtXTja0fB1pzD4sHCMyOCMYz2Z6dNbM6tl8sJogENOMcxWV9DN.";

fn authority(cfg: Json, hooks: Option<Arc<dyn Hooks>>) -> Authority {
    let config = AdminAuthConfig::from_json(cfg.as_object().expect("object")).expect("valid");
    Authority::new(
        Some(config),
        hooks,
        Sessions::in_memory(),
        Arc::new(AuditLog::console_only(false)),
    )
}

fn users() -> Json {
    json!({"type": "credentials", "users": [
        {"username": "admin", "password": HASH, "permissions": "*"},
        {"username": "ro", "password": HASH, "permissions": "read"}
    ]})
}

fn grant(user: &str, pw: &str, scope: &str) -> PasswordGrant {
    PasswordGrant {
        client_id: Some("node-red-editor".into()),
        grant_type: Some("password".into()),
        username: Some(user.into()),
        password: Some(pw.into()),
        scope: Some(scope.into()),
        ..PasswordGrant::default()
    }
}

/// Answers hook calls from a table of (key, first argument) -> result.
struct Table(Vec<(&'static str, Json, Json)>);

impl Hooks for Table {
    fn call<'a>(
        &'a self,
        key: &'a str,
        args: Vec<Json>,
    ) -> crate::BoxFuture<'a, Result<Json, String>> {
        let first = args.first().cloned().unwrap_or(Json::Null);
        let hit = self
            .0
            .iter()
            .find(|(k, a, _)| *k == key && (*a == first || a.is_null()))
            .map(|(_, _, r)| r.clone());
        Box::pin(async move { hit.ok_or_else(|| format!("{key}: no answer")) })
    }
}

#[tokio::test]
async fn a_login_yields_a_session_limited_by_the_users_permissions() {
    let a = authority(users(), None);
    let g = a
        .password_grant(grant("ro", "password", ""), None)
        .await
        .expect("login");
    assert_eq!(g.expires_in, Some(604_800));
    let p = a.resolve(Some(&g.access_token), None).await.expect("valid");
    assert_eq!(p.username.as_deref(), Some("ro"));
    assert!(p.permits("flows.read") && !p.permits("flows.write"));
    assert_eq!(
        p.to_json(),
        json!({"username": "ro", "permissions": "read"})
    );
    assert!(matches!(
        a.password_grant(grant("ro", "password", "*"), None).await,
        Err(GrantError::InvalidGrant)
    ));
    assert!(matches!(
        a.password_grant(grant("nobody", "password", ""), None)
            .await,
        Err(GrantError::InvalidGrant)
    ));
    assert_eq!(
        a.resolve(Some("nope"), None).await,
        Err(Rejection::InvalidToken)
    );
    assert_eq!(a.resolve(None, None).await, Err(Rejection::NoToken));
}

#[tokio::test]
async fn the_default_user_serves_requests_without_a_token_only() {
    let mut cfg = users();
    cfg["default"] = json!({"permissions": "read"});
    let a = authority(cfg, None);
    let anon = a.resolve(None, None).await.expect("anonymous");
    assert!(anon.is_anonymous() && anon.permits("flows.read") && !anon.permits("flows.write"));
    assert_eq!(
        anon.to_json(),
        json!({"anonymous": true, "permissions": "read"})
    );
    // A bad token is refused rather than silently made anonymous.
    assert_eq!(
        a.resolve(Some("garbage"), None).await,
        Err(Rejection::InvalidToken)
    );
}

#[tokio::test]
async fn revoking_is_for_ones_own_tokens_unless_star() {
    let a = authority(users(), None);
    let admin = a
        .password_grant(grant("admin", "password", ""), None)
        .await
        .expect("admin");
    let ro = a
        .password_grant(grant("ro", "password", ""), None)
        .await
        .expect("ro");
    let ro_p = a.resolve(Some(&ro.access_token), None).await.expect("ro");
    assert!(!a.revoke(&ro_p, &admin.access_token, None).expect("revoke"));
    assert!(a.resolve(Some(&admin.access_token), None).await.is_ok());
    let admin_p = a
        .resolve(Some(&admin.access_token), None)
        .await
        .expect("admin");
    assert!(a.revoke(&admin_p, &ro.access_token, None).expect("revoke"));
    assert_eq!(
        a.resolve(Some(&ro.access_token), None).await,
        Err(Rejection::InvalidToken)
    );
}

#[tokio::test]
async fn client_ids_grant_types_and_fields_are_checked() {
    let a = authority(users(), None);
    let mut g = grant("admin", "password", "");
    g.client_id = Some("evil".into());
    assert!(matches!(
        a.password_grant(g, None).await,
        Err(GrantError::InvalidClient)
    ));
    let mut g = grant("admin", "password", "");
    g.client_secret = Some("x".into());
    assert!(matches!(
        a.password_grant(g, None).await,
        Err(GrantError::InvalidClient)
    ));
    let mut g = grant("admin", "password", "");
    g.client_secret = Some("not_available".into());
    assert!(a.password_grant(g, None).await.is_ok());
    let mut g = grant("admin", "password", "");
    g.grant_type = Some("client_credentials".into());
    assert!(matches!(
        a.password_grant(g, None).await,
        Err(GrantError::UnsupportedGrant(_))
    ));
    let mut g = grant("admin", "password", "");
    g.password = None;
    assert!(matches!(
        a.password_grant(g, None).await,
        Err(GrantError::MissingField("password"))
    ));
}

#[tokio::test]
async fn hook_users_authenticate_default_and_tokens() {
    let f = json!({"__function__": "function(){}"});
    let cfg =
        json!({"type": "credentials", "users": f, "authenticate": f, "default": f, "tokens": f});
    let hooks: Arc<dyn Hooks> = Arc::new(Table(vec![
        (
            "adminAuth.authenticate",
            json!("alice"),
            json!({"username": "alice", "permissions": "*"}),
        ),
        (
            "adminAuth.users",
            json!("alice"),
            json!({"username": "alice", "permissions": "*"}),
        ),
        ("adminAuth.users", json!("bob"), Json::Null),
        (
            "adminAuth.default",
            Json::Null,
            json!({"anonymous": true, "permissions": "flows.read"}),
        ),
        (
            "adminAuth.tokens",
            json!("api-key"),
            json!({"username": "api", "permissions": "nodes.read"}),
        ),
        ("adminAuth.tokens", Json::Null, Json::Null),
    ]));
    let a = authority(cfg, Some(hooks));
    let g = a
        .password_grant(grant("alice", "whatever", ""), None)
        .await
        .expect("authenticated");
    let p = a
        .resolve(Some(&g.access_token), None)
        .await
        .expect("session");
    assert_eq!(p.username.as_deref(), Some("alice"));
    let api = a.resolve(Some("api-key"), None).await.expect("api token");
    assert!(api.permits("nodes.read") && !api.permits("flows.read"));
    let anon = a.resolve(None, None).await.expect("default");
    assert!(anon.permits("flows.read"));
    assert_eq!(
        a.resolve(Some("other"), None).await,
        Err(Rejection::InvalidToken)
    );
}

#[tokio::test]
async fn a_user_who_disappears_loses_every_session() {
    let f = json!({"__function__": "function(){}"});
    let cfg = json!({"type": "credentials", "users": f, "authenticate": f});
    let hooks: Arc<dyn Hooks> = Arc::new(Table(vec![
        (
            "adminAuth.authenticate",
            json!("gone"),
            json!({"username": "gone", "permissions": "*"}),
        ),
        ("adminAuth.users", json!("gone"), Json::Null),
    ]));
    let a = authority(cfg, Some(hooks));
    let mut ended = a.sessions().ended();
    let g = a
        .password_grant(grant("gone", "x", ""), None)
        .await
        .expect("login");
    assert_eq!(
        a.resolve(Some(&g.access_token), None).await,
        Err(Rejection::InvalidToken)
    );
    assert_eq!(
        ended.try_recv().expect("ended").reason,
        EndReason::UserRemoved
    );
}

#[tokio::test]
async fn static_api_tokens_act_as_their_user_within_their_scope() {
    let mut cfg = users();
    cfg["tokens"] = json!([{"token": "k-123", "user": "admin", "scope": ["flows.read"]}]);
    let a = authority(cfg, None);
    let p = a.resolve(Some("k-123"), None).await.expect("token");
    assert!(p.permits("flows.read") && !p.permits("flows.write"));
}

#[tokio::test]
async fn token_guessing_is_throttled_per_address_when_api_tokens_exist() {
    let mut cfg = users();
    cfg["tokens"] = json!([{"token": "k-123", "user": "admin", "scope": "*"}]);
    let a = authority(cfg, None);
    let ip = "10.9.9.9".parse().ok();
    let mut throttled = false;
    for i in 0..10 {
        if let Err(Rejection::Throttled(_)) = a.resolve(Some(&format!("guess-{i}")), ip).await {
            throttled = true;
        }
    }
    assert!(throttled);
    // Another address is unaffected, and a real session always works.
    assert!(
        a.resolve(Some("k-123"), "10.0.0.1".parse().ok())
            .await
            .is_ok()
    );
    let g = a
        .password_grant(grant("admin", "password", ""), None)
        .await
        .expect("login");
    assert!(a.resolve(Some(&g.access_token), ip).await.is_ok());
}

#[tokio::test]
async fn without_admin_auth_everything_is_open() {
    let a = Authority::new(
        None,
        None,
        Sessions::in_memory(),
        Arc::new(AuditLog::console_only(false)),
    );
    assert!(!a.enabled());
    assert_eq!(a.login_scheme(), json!({}));
    let p = a.resolve(None, None).await.expect("open");
    assert!(p.open && p.permits("flows.write"));
    assert!(matches!(
        a.password_grant(grant("a", "b", ""), None).await,
        Err(GrantError::NotEnabled)
    ));
}

#[tokio::test]
async fn sessions_of_removed_users_are_swept() {
    let a = authority(users(), None);
    let g = a
        .password_grant(grant("ro", "password", ""), None)
        .await
        .expect("login");
    assert_eq!(a.sweep_users().await, 0, "ro still exists");
    // The same sessions under settings that no longer list "ro".
    let cfg = AdminAuthConfig::from_json(
        json!({"type": "credentials", "users": [{"username": "admin", "password": HASH, "permissions": "*"}]})
            .as_object()
            .expect("object"),
    )
    .expect("valid");
    let b = Authority::new(
        Some(cfg),
        None,
        a.into_sessions(),
        Arc::new(AuditLog::console_only(false)),
    );
    let mut ended = b.sessions().ended();
    assert_eq!(b.sweep_users().await, 1);
    assert_eq!(
        ended.try_recv().expect("ended").reason,
        EndReason::UserRemoved
    );
    assert_eq!(
        b.resolve(Some(&g.access_token), None).await,
        Err(Rejection::InvalidToken)
    );
}
