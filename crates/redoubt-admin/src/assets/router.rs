//! The editor's page and static routes, relative to the admin root
//! (`editor-api/lib/editor/index.js`, `ui.js`, `theme.js`, `locales.js`,
//! and the `/debug/view/*` routes of `nodes/core/common/21-debug.js`):
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | `index.mst`, rendered once at startup (see [`mount_at`] for `…/admin` → `…/admin/`) |
//! | `GET /favicon.ico`, `/red/*`, `/vendor/*`, `/types/*` | files of `editor-client/public` |
//! | `GET /theme` | the theme context JSON |
//! | `GET /locales/{ns}[.json]?lng=` | a message catalog, `{}` when there is none |
//! | `GET /icons` | `{"node-red": [icon file names]}` |
//! | `GET /icons/{module}/{icon}`, `/icons/{scope}/{module}/{icon}` | a core icon, else the default `arrow-in.svg` |
//! | `GET /debug/view/view.html`, `/debug/view/*` | the debug pop-out and `debug-utils.js` |
//!
//! Not here (admin API): `GET /nodes` (fed by
//! [`CoreNodeCatalog`](super::CoreNodeCatalog)), `/settings`, `/comms`, ….

use super::files::{self, Rejection};
use super::locales::DEFAULT_LANG;
use super::{EditorAssets, EditorPageConfig};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

struct AssetsState {
    assets: Arc<EditorAssets>,
    public_dir: PathBuf,
    index: String,
    theme: Vec<u8>,
    debug_view: Option<String>,
}

/// The editor page and asset routes, to be merged into the admin router
/// (they never overlap the admin API's routes).
pub fn assets_router(assets: Arc<EditorAssets>, cfg: EditorPageConfig) -> Router {
    let index = assets
        .template()
        .render(&cfg.template_view(assets.version()));
    let theme = serde_json::to_vec(&cfg.theme_json()).unwrap_or_default();
    let debug_view = std::fs::read_to_string(assets.debug_dir.join("view.html"))
        .map(|v| cfg.debug_view(&v))
        .map_err(|e| tracing::warn!(error = %e, "Cannot read the debug pop-out page."))
        .ok();
    let state = Arc::new(AssetsState {
        public_dir: assets.public_dir.clone(),
        assets,
        index,
        theme,
        debug_view,
    });
    Router::new()
        .route("/", get(index_page))
        .route("/favicon.ico", get(favicon))
        .route(
            "/red/{*path}",
            get(|s: AppState, p: Path<String>, h: HeaderMap| public_file("red", s, p, h)),
        )
        .route(
            "/vendor/{*path}",
            get(|s: AppState, p: Path<String>, h: HeaderMap| public_file("vendor", s, p, h)),
        )
        .route(
            "/types/{*path}",
            get(|s: AppState, p: Path<String>, h: HeaderMap| public_file("types", s, p, h)),
        )
        .route("/theme", get(theme_json))
        .route("/locales/{*namespace}", get(locale))
        .route("/icons", get(icon_list))
        .route("/icons/{module}/{icon}", get(icon))
        .route("/icons/{scope}/{module}/{icon}", get(scoped_icon))
        .route("/debug/view/view.html", get(debug_view_page))
        .route("/debug/view/{*path}", get(debug_file))
        .with_state(state)
}

type AppState = State<Arc<AssetsState>>;

/// Mounts the admin router (API and [`assets_router`]) at `admin_root`
/// (`/`, `/admin`, `/admin/`): nested at `<root>/`, with `GET <root>`
/// redirected to `<root>/` (301, query kept) as Node-RED's `ui.ensureSlash`
/// does, because every editor URL is relative to the page.
pub fn mount_at(admin_root: &str, admin: Router) -> Router {
    let root = admin_root.trim_end_matches('/');
    if root.is_empty() {
        return admin;
    }
    let root = if root.starts_with('/') {
        root.to_string()
    } else {
        format!("/{root}")
    };
    Router::new()
        .route(&root, get(ensure_slash))
        .nest(&format!("{root}/"), admin)
}

async fn ensure_slash(uri: Uri) -> Response {
    let location = match uri.query() {
        Some(q) => format!("{}/?{q}", uri.path()),
        None => format!("{}/", uri.path()),
    };
    match HeaderValue::from_str(&location) {
        Ok(v) => (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, v)]).into_response(),
        Err(_) => Rejection::NotFound.into_response(),
    }
}

/// `ui.editor`: the page rendered at startup.
async fn index_page(State(st): AppState) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        st.index.clone(),
    )
        .into_response()
}

async fn favicon(State(st): AppState, headers: HeaderMap) -> Response {
    files::send_file(&st.public_dir.join("favicon.ico"), &headers).await
}

async fn public_file(
    prefix: &'static str,
    State(st): AppState,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    files::serve(&st.public_dir, &format!("{prefix}/{path}"), &headers).await
}

async fn theme_json(State(st): AppState) -> Response {
    json_response(st.theme.clone())
}

#[derive(Deserialize)]
struct LangQuery {
    lng: Option<String>,
}

/// `locales.get`: `.json` suffix allowed; odd languages give `{}`.
async fn locale(
    State(st): AppState,
    Path(namespace): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let namespace = namespace.strip_suffix(".json").unwrap_or(&namespace);
    let lang = q.lng.as_deref().unwrap_or(DEFAULT_LANG);
    let allowed = lang
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'=' || b == b'-' || b == b'*');
    let catalog = if allowed {
        st.assets.locale(namespace, lang)
    } else {
        None
    };
    let body = match catalog {
        Some(c) => serde_json::to_vec(&*c).unwrap_or_else(|_| b"{}".to_vec()),
        None => b"{}".to_vec(),
    };
    json_response(body)
}

/// `GET /icons` (`nodes.getIcons`): icon file names by module.
async fn icon_list(State(st): AppState) -> Response {
    let list = serde_json::json!({ "node-red": st.assets.icons() });
    json_response(serde_json::to_vec(&list).unwrap_or_default())
}

async fn icon(
    State(st): AppState,
    Path((_module, icon)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    send_icon(&st, &icon, &headers).await
}

async fn scoped_icon(
    State(st): AppState,
    Path((_scope, _module, icon)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    send_icon(&st, &icon, &headers).await
}

/// `ui.icon`: only the core module has icons here, and every module falls
/// back to the core ones (`registry.getNodeIconPath`); an unknown icon is
/// answered with the default node icon, 200. `..` is an error (400).
async fn send_icon(st: &AssetsState, icon: &str, headers: &HeaderMap) -> Response {
    if icon.contains("..") {
        let body = serde_json::json!({"code": "unexpected_error", "message": "Error"});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    let icons_dir = st.assets.nodes_dir().join("icons");
    if let Ok(candidate) = files::safe_join(&icons_dir, icon)
        && let Some(file) = files::contained_file(&icons_dir, &candidate).await
    {
        return files::send_file(&file, headers).await;
    }
    files::send_file(
        &st.public_dir.join("red/images/icons/arrow-in.svg"),
        headers,
    )
    .await
}

async fn debug_view_page(State(st): AppState) -> Response {
    match &st.debug_view {
        Some(html) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html.clone(),
        )
            .into_response(),
        None => Rejection::NotFound.into_response(),
    }
}

/// `21-debug.js` serves `lib/debug/*` and answers 404 to anything it cannot send.
async fn debug_file(State(st): AppState, Path(path): Path<String>, headers: HeaderMap) -> Response {
    let response = files::serve(&st.assets.debug_dir, &path, &headers).await;
    if response.status() == StatusCode::FORBIDDEN {
        return Rejection::NotFound.into_response();
    }
    response
}

fn json_response(body: Vec<u8>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        Body::from(body),
    )
        .into_response()
}
