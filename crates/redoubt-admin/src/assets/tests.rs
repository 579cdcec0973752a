//! Tests against the real, fetched editor assets. They FAIL (never skip)
//! when the assets are missing: run `scripts/fetch-editor-assets.sh` first
//! (CI does), or set `REDOUBT_EDITOR_ASSETS`.
#![allow(clippy::unwrap_used)] // Tests may unwrap.

use super::*;
use crate::state::{NodeCatalog, served_sets};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::json;
use std::sync::OnceLock;
use tower::ServiceExt;

fn real_assets() -> Arc<EditorAssets> {
    static ASSETS: OnceLock<Arc<EditorAssets>> = OnceLock::new();
    ASSETS
        .get_or_init(|| match EditorAssets::discover(None) {
            Ok(a) => Arc::new(a),
            Err(e) => panic!("the editor-asset tests need the real assets: {e}"),
        })
        .clone()
}

fn app() -> axum::Router {
    assets_router(real_assets(), EditorPageConfig::default())
}

/// Every type of every core set: the catalog then offers all of them.
fn all_types() -> Vec<String> {
    real_assets()
        .node_sets()
        .iter()
        .flat_map(|s| s.types.clone())
        .collect()
}

fn core_catalog() -> CoreNodeCatalog {
    CoreNodeCatalog::new(real_assets())
}

fn all_ids() -> Vec<String> {
    core_catalog().sets().into_iter().map(|s| s.id).collect()
}

struct Got {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn request(app: &axum::Router, method: Method, uri: &str, headers: &[(&str, &str)]) -> Got {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Got {
        status,
        headers,
        body,
    }
}

async fn get(app: &axum::Router, uri: &str) -> Got {
    request(app, Method::GET, uri, &[]).await
}

/// The values of `attr="…"` in `html`.
fn attr_values(html: &str, attr: &str) -> Vec<String> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .collect()
}

/// The `src` of every `<script … src="…">` in `html`.
fn script_srcs(html: &str) -> Vec<String> {
    html.match_indices("<script")
        .filter_map(|(i, _)| {
            let tag = &html[i..i + html[i..].find('>')?];
            attr_values(tag, "src").into_iter().next()
        })
        .collect()
}

#[test]
fn fetched_assets_are_the_pinned_version_of_the_manifest() {
    let assets = real_assets();
    assert_eq!(assets.version(), PINNED_VERSION);
    let manifest = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../editor-assets.json"
    ))
    .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["version"], PINNED_VERSION);
    for p in manifest["packages"].as_array().unwrap() {
        assert_eq!(p["version"], PINNED_VERSION, "{p}");
    }
    assert_eq!(
        assets.languages(),
        [
            "de", "en-US", "es-ES", "fr", "ja", "ko", "pt-BR", "ru", "zh-CN", "zh-TW"
        ]
    );
    assert!(assets.icons().len() >= 40 && assets.icons().contains(&"inject.svg".to_string()));
}

#[tokio::test]
async fn index_renders_and_every_script_and_stylesheet_resolves() {
    let app = app();
    let page = get(&app, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.content_type(), "text/html; charset=utf-8");
    let html = page.text();
    assert!(html.contains("<title>Node-RED</title>"), "{html}");
    assert!(!html.contains("{{"), "unrendered Mustache: {html}");
    let buster = EditorPageConfig::default().cache_buster(PINNED_VERSION);
    let scripts = script_srcs(&html);
    let expected = [
        "vendor/vendor.js",
        "vendor/monaco/monaco-bootstrap.js",
        "red/red.min.js",
        "red/main.min.js",
    ];
    assert_eq!(scripts, expected.map(|s| format!("{s}?v={buster}")));
    let hrefs = attr_values(&html, "href");
    assert_eq!(hrefs.len(), 6, "2 icons + 4 stylesheets: {hrefs:?}");
    for url in scripts.iter().chain(&hrefs) {
        let got = get(&app, &format!("/{url}")).await;
        assert_eq!(got.status, StatusCode::OK, "{url}");
        assert!(!got.body.is_empty(), "{url}");
    }
    assert_eq!(
        get(&app, &format!("/red/red.min.js?v={buster}"))
            .await
            .content_type(),
        "application/javascript; charset=utf-8"
    );
    assert_eq!(
        get(&app, "/red/style.min.css").await.content_type(),
        "text/css; charset=utf-8"
    );
    assert_eq!(get(&app, "/red/keymap.json").await.status, StatusCode::OK);
    assert_eq!(
        get(&app, "/types/node/fs.d.ts").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn index_honours_the_page_config() {
    let cfg = EditorPageConfig {
        title: "Box <1>".into(),
        code_editor: CodeEditor::Ace,
        css: vec!["theme/css/x.css".into()],
        ..Default::default()
    };
    let html = get(&assets_router(real_assets(), cfg), "/").await.text();
    assert!(html.contains("<title>Box &lt;1&gt;</title>"), "{html}");
    assert!(html.contains("vendor/ace/ace-bootstrap.js?v="), "{html}");
    assert!(!html.contains("monaco"), "{html}");
    // mustache.js escapes `/` in `{{.}}`, as Node-RED's page has it.
    assert!(
        html.contains("<link rel=\"stylesheet\" href=\"theme&#x2F;css&#x2F;x.css\">\n"),
        "{html}"
    );
}

#[tokio::test]
async fn every_script_src_in_the_node_html_resolves() {
    let app = app();
    let html = core_catalog().html(&all_ids(), "en-US");
    let srcs = script_srcs(&html);
    assert!(
        srcs.contains(&"debug/view/debug-utils.js".to_string()),
        "{srcs:?}"
    );
    for src in srcs {
        let got = get(&app, &format!("/{src}")).await;
        assert_eq!(got.status, StatusCode::OK, "{src}");
        assert_eq!(
            got.content_type(),
            "application/javascript; charset=utf-8",
            "{src}"
        );
    }
}

#[test]
fn catalog_lists_every_core_set_in_node_red_order() {
    let catalog = core_catalog();
    let sets = catalog.sets();
    assert_eq!(sets.len(), 37);
    assert_eq!(
        served_sets(&catalog, &all_types()),
        sets,
        "all implemented: all served"
    );
    assert_eq!(
        (sets[0].id.as_str(), &sets[0].types[..]),
        ("node-red/junction", &["junction".to_string()][..])
    );
    let link = sets.iter().find(|s| s.id == "node-red/link").unwrap();
    assert_eq!(
        serde_json::to_value(link).unwrap(),
        json!({"id": "node-red/link", "name": "link", "types": ["link in", "link out", "link call"],
               "enabled": true, "local": false, "user": false, "module": "node-red", "version": "5.0.7"})
    );
    let names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    for n in ["CSV", "rbe", "httpin", "tcpin", "global-config", "split"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let split = sets.iter().find(|s| s.id == "node-red/split").unwrap();
    assert_eq!(split.types, ["split", "join"]);
    // Every type is listed by exactly one set.
    let types = all_types();
    let mut unique = types.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(types.len(), unique.len());
    let html = catalog.html(&all_ids(), "en-US");
    assert_eq!(html.matches("<!-- --- [red-module:").count(), 37);
    assert!(html.starts_with("\n<!-- --- [red-module:node-red/junction] --- -->\n"));
    assert!(
        html.contains("data-help-name=\"inject\""),
        "en-US help is appended"
    );
    assert_eq!(catalog.messages("en-US", "node-red"), None);
}

#[test]
fn partly_implemented_sets_are_held_back_and_editor_sets_always_served() {
    let catalog = core_catalog();
    let implemented: Vec<String> = ["inject", "debug", "link in", "change"]
        .map(String::from)
        .to_vec();
    let ids: Vec<String> = served_sets(&catalog, &implemented)
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        ids,
        [
            "node-red/junction",
            "node-red/inject",
            "node-red/debug",
            "node-red/comment",
            "node-red/global-config",
            "node-red/unknown",
            "node-red/change"
        ]
    );
    let html = catalog.html(&ids, "en-US");
    assert!(!html.contains("[red-module:node-red/link]"));
    assert!(html.contains("\n<!-- --- [red-module:node-red/change] --- -->\n"));
    assert_eq!(catalog.html(&["node-red/nope".into()], "en-US"), "");
    let one = catalog.set_html("node-red/inject", "en-US").unwrap();
    assert!(one.starts_with("<!-- --- [red-module:node-red/inject] --- -->\n<!--\n  Copyright"));
    assert!(catalog.set_html("node-red/nope", "en-US").is_none());
}

#[test]
fn node_help_follows_the_language_with_en_us_fallback() {
    let catalog = core_catalog();
    let de = catalog.set_html("node-red/inject", "de-DE").unwrap();
    let en = catalog.set_html("node-red/inject", "en-US").unwrap();
    assert_ne!(de, en, "de-DE falls back to the de help");
    assert_eq!(catalog.set_html("node-red/inject", "xx").unwrap(), en);
    assert_eq!(catalog.set_html("node-red/inject", "../../..").unwrap(), en);
}

#[test]
fn icon_list_and_node_red_messages() {
    assert!(
        core_catalog().icons()["node-red"]
            .as_array()
            .unwrap()
            .contains(&json!("debug.svg"))
    );
    let en = real_assets().locale("node-red", "en-US").unwrap();
    assert!(en["inject"]["inject"].is_string(), "{}", en["inject"]);
    assert_eq!(real_assets().locale("node-red", "!!"), None);
    assert_eq!(real_assets().locale("nope", "en-US"), None);
}

#[tokio::test]
async fn locales_load_with_fallbacks() {
    let app = app();
    let en = get(&app, "/locales/editor?lng=en-US").await;
    assert_eq!(
        (en.status, en.content_type()),
        (StatusCode::OK, "application/json; charset=utf-8")
    );
    let en = en.json();
    assert!(
        en["common"]["label"]["name"].is_string(),
        "{}",
        en["common"]
    );
    let text = serde_json::to_string(&en).unwrap();
    assert!(
        !text.contains("_plural\"") && text.contains("_other\""),
        "v3 plurals migrated"
    );

    let de = get(&app, "/locales/editor.json?lng=de").await.json();
    assert_eq!(
        (
            &en["common"]["label"]["delete"],
            &de["common"]["label"]["delete"]
        ),
        (&json!("Delete"), &json!("Löschen"))
    );
    assert_eq!(get(&app, "/locales/editor?lng=de-DE").await.json(), de);
    // Keys the German catalog lacks are filled from en-US.
    assert_eq!(
        de["common"]["label"]["unlock"],
        en["common"]["label"]["unlock"]
    );
    assert!(de["common"]["label"]["unlock"].is_string());

    assert_eq!(
        get(&app, "/locales/editor").await.json(),
        en,
        "no lng means en-US"
    );
    for ns in ["jsonata", "infotips", "node-red"] {
        let c = get(&app, &format!("/locales/{ns}?lng=en-US")).await.json();
        assert!(c.as_object().is_some_and(|o| !o.is_empty()), "{ns}");
    }
    assert!(get(&app, "/locales/node-red?lng=ja").await.json()["inject"].is_object());
    for uri in [
        "/locales/editor?lng=xx",
        "/locales/editor?lng=en",
        "/locales/editor?lng=..%2F..%2Fpackage",
        "/locales/editor?lng=en-US%2F..",
        "/locales/nope?lng=en-US",
        "/locales/..%2Fpackage?lng=en-US",
    ] {
        let got = get(&app, uri).await;
        assert_eq!(
            (got.status, got.json()),
            (StatusCode::OK, json!({})),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn icons_resolve_and_unknown_icons_get_the_default() {
    let app = app();
    let assets = real_assets();
    let inject = get(&app, "/icons/node-red/inject.svg").await;
    assert_eq!(
        (inject.status, inject.content_type()),
        (StatusCode::OK, "image/svg+xml")
    );
    assert_eq!(
        inject.body,
        std::fs::read(assets.nodes_dir().join("icons/inject.svg")).unwrap()
    );
    let default = std::fs::read(assets.public_dir.join("red/images/icons/arrow-in.svg")).unwrap();
    assert_ne!(inject.body, default);
    for uri in [
        "/icons/node-red/nope.svg",
        "/icons/node-red-contrib-x/x.png",
        "/icons/@scope/mod/y.svg",
        "/icons/node-red/.hidden",
    ] {
        let got = get(&app, uri).await;
        assert_eq!((got.status, &got.body), (StatusCode::OK, &default), "{uri}");
    }
    assert_eq!(
        get(&app, "/icons/other-module/debug.svg").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&app, "/icons/node-red/..%2F..%2Fpackage.json")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn traversal_and_directories_are_refused() {
    let app = app();
    for uri in [
        "/red/../../package.json",
        "/red/%2e%2e/%2e%2e/package.json",
        "/vendor/..%2F..%2Fpackage.json",
        "/types/node/..%5C..%5Cpackage.json",
        "/red/%2E%2E%2F%2E%2E%2F%2E%2E%2Fnodes%2Fpackage.json",
    ] {
        assert_eq!(get(&app, uri).await.status, StatusCode::FORBIDDEN, "{uri}");
    }
    for uri in [
        "/red/",
        "/red/images",
        "/vendor/monaco/",
        "/red/nope.js",
        "/red/%252e%252e/package.json",
        "/debug/view/..%2F..%2F21-debug.js",
        "/debug/view/%2e%2e/debug.js",
        "/debug/view/nope.js",
        "/package.json",
        "/templates/index.mst",
    ] {
        assert_eq!(get(&app, uri).await.status, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn theme_debug_view_and_favicon() {
    let app = app();
    assert_eq!(
        get(&app, "/theme").await.json(),
        EditorPageConfig::default().theme_json()
    );
    let view = get(&app, "/debug/view/view.html").await;
    assert_eq!(
        (view.status, view.content_type()),
        (StatusCode::OK, "text/html; charset=utf-8")
    );
    assert!(!view.text().contains("INSERT-THEME-CSS") && view.text().contains("debug-utils.js"));
    assert_eq!(
        get(&app, "/debug/view/debug.js").await.status,
        StatusCode::OK
    );
    let icon = get(&app, "/favicon.ico").await;
    assert_eq!(
        (icon.status, icon.content_type()),
        (StatusCode::OK, "image/x-icon")
    );
}

#[tokio::test]
async fn static_files_have_validators_and_answer_conditional_and_head_requests() {
    let app = app();
    let first = get(&app, "/vendor/vendor.js?v=1").await;
    assert_eq!(first.headers[header::CACHE_CONTROL], "public, max-age=0");
    assert!(first.headers.contains_key(header::LAST_MODIFIED));
    let etag = first.headers[header::ETAG].to_str().unwrap().to_string();
    let again = request(
        &app,
        Method::GET,
        "/vendor/vendor.js",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(
        (again.status, again.body.len()),
        (StatusCode::NOT_MODIFIED, 0)
    );
    let head = request(&app, Method::HEAD, "/red/red.min.js", &[]).await;
    assert_eq!((head.status, head.body.len()), (StatusCode::OK, 0));
}

#[tokio::test]
async fn nested_under_an_admin_root_redirects_to_the_slash_and_merges_with_admin_routes() {
    let admin = axum::Router::new()
        .route(
            "/debug/{id}/{action}",
            axum::routing::post(|| async { "admin" }),
        )
        .merge(app());
    let root = mount_at("/admin/", admin);
    let redirect = get(&root, "/admin?x=1").await;
    assert_eq!(redirect.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(redirect.headers[header::LOCATION], "/admin/?x=1");
    assert_eq!(get(&root, "/admin/").await.status, StatusCode::OK);
    assert_eq!(
        get(&root, "/admin/red/red.min.js?v=1").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&root, "/admin/red/..%2F..%2Fpackage.json").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(get(&root, "/").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&mount_at("admin", app()), "/admin").await.headers[header::LOCATION],
        "/admin/"
    );
    assert_eq!(get(&mount_at("/", app()), "/").await.status, StatusCode::OK);
    assert_eq!(
        get(&root, "/admin/debug/view/debug-utils.js").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&root, "/admin/icons").await.json()["node-red"]
            .as_array()
            .map(Vec::len),
        Some(real_assets().icons().len())
    );
    assert_eq!(
        request(&root, Method::POST, "/admin/debug/n1/enable", &[])
            .await
            .text(),
        "admin"
    );
}

/// Writes the smallest directory `load` accepts.
fn fake_assets(dir: &Path) {
    for f in REQUIRED {
        let path = dir.join(f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let body = if f.ends_with(".json") { "{}" } else { "x" };
        std::fs::write(path, body).unwrap();
    }
    for (sub, name) in [
        ("editor-client", "@node-red/editor-client"),
        ("nodes", "@node-red/nodes"),
    ] {
        std::fs::write(
            dir.join(sub).join("package.json"),
            json!({"name": name, "version": "5.0.7"}).to_string(),
        )
        .unwrap();
    }
}

#[test]
fn a_fake_minimal_directory_loads() {
    let tmp = tempfile::tempdir().unwrap();
    fake_assets(tmp.path());
    let assets = EditorAssets::load(tmp.path()).unwrap();
    assert_eq!(assets.version(), "5.0.7");
}

#[test]
fn missing_files_are_named_in_one_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = EditorAssets::load(&tmp.path().join("nothing-here")).unwrap_err();
    assert!(matches!(&err, AssetsError::Incomplete { missing, .. } if missing.len() == 2));
    let nothing = tmp.path().join("nothing-here");
    assert_eq!(
        err.to_string(),
        format!(
            "editor assets at {} are incomplete: missing editor-client/, nodes/; run scripts/fetch-editor-assets.sh",
            nothing.display()
        )
    );
    fake_assets(tmp.path());
    std::fs::remove_file(tmp.path().join("editor-client/public/red/red.min.js")).unwrap();
    std::fs::remove_dir_all(tmp.path().join("nodes/locales")).unwrap();
    let msg = EditorAssets::load(tmp.path()).unwrap_err().to_string();
    let dir = tmp.path().display();
    assert_eq!(
        msg,
        format!(
            "editor assets at {dir} are incomplete: missing editor-client/public/red/red.min.js, \
             nodes/locales/en-US/messages.json, nodes/locales/en-US/common/20-inject.html; \
             run scripts/fetch-editor-assets.sh"
        )
    );
}

#[test]
fn corrupt_files_are_named_in_one_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    fake_assets(tmp.path());
    std::fs::write(tmp.path().join("editor-client/public/vendor/vendor.js"), "").unwrap();
    std::fs::write(
        tmp.path().join("editor-client/locales/en-US/editor.json"),
        "{ truncated",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("editor-client/templates/index.mst"),
        "{{#page}}",
    )
    .unwrap();
    let nodes_pkg = json!({"name": "@node-red/nodes", "version": "4.1.15"}).to_string();
    std::fs::write(tmp.path().join("nodes/package.json"), nodes_pkg).unwrap();
    let err = EditorAssets::load(tmp.path()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "editor assets at {} are corrupt: ",
            tmp.path().display()
        )),
        "{msg}"
    );
    for part in [
        "editor-client/public/vendor/vendor.js is empty",
        "editor-client is 5.0.7 but nodes is 4.1.15",
        "index.mst: unclosed section",
        "editor.json is not valid JSON",
        "run scripts/fetch-editor-assets.sh --force",
    ] {
        assert!(msg.contains(part), "{part} in {msg}");
    }
    std::fs::write(
        tmp.path().join("nodes/package.json"),
        r#"{"name":"left-pad","version":"1.0.0"}"#,
    )
    .unwrap();
    assert!(
        EditorAssets::load(tmp.path())
            .unwrap_err()
            .to_string()
            .contains("is not the @node-red/nodes package")
    );
}

#[test]
fn an_explicit_directory_wins_and_is_not_second_guessed() {
    let dir = Path::new("/nonexistent/editor");
    assert_eq!(resolve_dir(Some(dir)).unwrap(), dir);
    let err = EditorAssets::discover(Some(dir)).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/editor are incomplete"), "{err}");
}
