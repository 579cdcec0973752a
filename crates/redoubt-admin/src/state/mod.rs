//! [`AdminState`]: what the admin routes and `/comms` share: the engine,
//! the deployed flows and credentials and where they are stored, the
//! editor settings, the node catalog and the comms hub.

mod catalog;
mod settings;

pub use catalog::{
    ALWAYS_SERVED, CORE_SETS, NodeCatalog, NodeSetInfo, StaticCatalog, served_sets, set_marker,
};
pub use settings::{EDITOR_LANGUAGES, EditorSettings, PALETTE_EXPLANATION, extend};

use crate::access::Exposure;
use crate::comms::CommsHub;
use redoubt_auth::Authority;
use redoubt_core::engine::{DeployReport, Engine, FlowsError};
use redoubt_storage::credentials::{CredMap, Secret};
use redoubt_storage::flows_file::flows_rev;
use serde_json::{Value as Json, json};
use std::path::PathBuf;
use std::sync::Arc;

/// Everything [`AdminState::new`] needs.
pub struct AdminConfig {
    /// The running engine.
    pub engine: Engine,
    /// The flows file (`flows.json`).
    pub flows_path: PathBuf,
    /// The flows as loaded from the flows file (without credentials); the
    /// engine can run the same array (see `Engine::deploy`).
    pub flows: Arc<Vec<Json>>,
    /// The credentials file (`flows_cred.json`).
    pub credentials_path: PathBuf,
    /// The credential secret the credentials file is written with.
    pub secret: Secret,
    /// The credentials as loaded.
    pub credentials: CredMap,
    /// The node types the engine implements (the registry's names).
    pub node_types: Vec<String>,
    /// What the editor is told.
    pub settings: EditorSettings,
    /// The user directory (the library lives in `<userDir>/lib`, user
    /// settings in `<userDir>/.config.users.json`).
    pub user_dir: PathBuf,
    /// Node sets, node HTML and node message catalogs.
    pub catalog: Arc<dyn NodeCatalog>,
    /// Who may use the admin API (adminAuth, sessions, audit).
    pub authority: Arc<Authority>,
    /// Loopback-only and editor routes.
    pub exposure: Exposure,
}

/// The authority and how the admin API is exposed.
pub(crate) struct Access {
    pub(crate) authority: Arc<Authority>,
    pub(crate) exposure: Exposure,
}

/// The deployed configuration: flows (credentials stripped), their
/// revision, and the credentials by node id.
#[derive(Clone)]
pub(crate) struct Deployed {
    pub(crate) flows: Arc<Vec<Json>>,
    pub(crate) rev: String,
    pub(crate) credentials: Arc<CredMap>,
}

pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) flows_path: PathBuf,
    pub(crate) credentials_path: PathBuf,
    pub(crate) secret: Secret,
    pub(crate) node_types: Vec<String>,
    pub(crate) settings: EditorSettings,
    pub(crate) user_dir: PathBuf,
    pub(crate) catalog: Arc<dyn NodeCatalog>,
    pub(crate) deployed: parking_lot::RwLock<Deployed>,
    /// Serializes deploys (Node-RED's flows API mutex): rev check, engine
    /// deploy and save happen as one step.
    pub(crate) deploy_lock: tokio::sync::Mutex<()>,
    /// Serializes read-modify-write of the user settings file.
    pub(crate) user_settings_lock: tokio::sync::Mutex<()>,
    pub(crate) comms: CommsHub,
    pub(crate) access: Access,
}

/// The admin API's shared state. Cheap to clone.
#[derive(Clone)]
pub struct AdminState(pub(crate) Arc<Inner>);

impl AdminState {
    /// Builds the state and starts forwarding the engine's runtime events
    /// (debug output, node status, node warnings and errors, flow start and
    /// stop) to `/comms`. Must be called inside a tokio runtime.
    ///
    /// Build it before the first deploy so the editor sees that deploy's
    /// `runtime-state`; otherwise report the result with
    /// [`AdminState::report_deploy_result`].
    pub fn new(cfg: AdminConfig) -> AdminState {
        let rev = flows_rev(&cfg.flows);
        let events = cfg.engine.events();
        let keepalive =
            std::time::Duration::from_millis(cfg.settings.web_socket_keep_alive_ms.max(1));
        let inner = Arc::new(Inner {
            engine: cfg.engine,
            flows_path: cfg.flows_path,
            credentials_path: cfg.credentials_path,
            secret: cfg.secret,
            node_types: cfg.node_types,
            settings: cfg.settings,
            user_dir: cfg.user_dir,
            catalog: cfg.catalog,
            deployed: parking_lot::RwLock::new(Deployed {
                flows: cfg.flows,
                rev: rev.clone(),
                credentials: Arc::new(cfg.credentials),
            }),
            deploy_lock: tokio::sync::Mutex::new(()),
            user_settings_lock: tokio::sync::Mutex::new(()),
            comms: CommsHub::new(keepalive),
            access: Access {
                authority: cfg.authority,
                exposure: cfg.exposure,
            },
        });
        inner.comms.publish(
            "notification/runtime-deploy",
            json!({"revision": rev}),
            true,
        );
        crate::comms::spawn_event_pump(Arc::downgrade(&inner), events);
        AdminState(inner)
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.0.engine
    }

    /// The revision of the deployed flows.
    pub fn rev(&self) -> String {
        self.0.deployed.read().rev.clone()
    }

    /// The deployed flows (credentials stripped).
    pub fn flows(&self) -> Arc<Vec<Json>> {
        self.0.deployed.read().flows.clone()
    }

    /// Publishes `data` on `/comms` under `topic`; retained messages are
    /// replayed to clients that subscribe later.
    pub fn publish(&self, topic: &str, data: Json, retain: bool) {
        self.0.comms.publish(topic, data, retain);
    }

    /// Tells the editor how a deploy done outside the admin API (the one at
    /// startup) went: flows started, or stopped with the reason (missing
    /// node types get Node-RED's `missing-types` warning, which lists them).
    pub fn report_deploy_result(&self, result: &Result<DeployReport, FlowsError>) {
        let data = match result {
            Ok(_) => json!({"state": "start"}),
            Err(FlowsError::MissingTypes(types)) => json!({
                "state": "stop",
                "error": "missing-types",
                "type": "warning",
                "text": "notification.warnings.missing-types",
                "types": types,
            }),
            Err(e) => {
                json!({"state": "stop", "error": "flows-invalid", "type": "error", "text": e.to_string()})
            }
        };
        self.publish("notification/runtime-state", data, true);
        if result.is_ok() {
            self.publish(
                "notification/runtime-deploy",
                json!({"revision": self.rev()}),
                true,
            );
        }
    }

    /// Tells the editor the flows were not started (safe mode).
    pub fn report_safe_mode(&self) {
        let data = json!({
            "state": "safe",
            "error": "safe-mode",
            "type": "warning",
            "text": "notification.warnings.safe-mode"
        });
        self.publish("notification/runtime-state", data, true);
    }

    pub(crate) fn deployed(&self) -> Deployed {
        self.0.deployed.read().clone()
    }

    pub(crate) fn settings(&self) -> &EditorSettings {
        &self.0.settings
    }

    pub(crate) fn access(&self) -> &Access {
        &self.0.access
    }

    /// The authority deciding who may use the admin API.
    pub fn authority(&self) -> &Arc<Authority> {
        &self.0.access.authority
    }
}
