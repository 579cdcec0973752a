//! The deploy pipeline behind `POST /flows` and `/flow`: check the
//! revision, take the credentials out of the nodes, have the engine check
//! and start the flows, and save flows.json and flows_cred.json once the
//! engine has accepted them.
//!
//! Accepting before saving is what keeps a bad deploy harmless: when the
//! engine rejects the flows (invalid structure, missing node types) the old
//! flows keep running and nothing on disk changes. The new flows.json is
//! written and synced to its temp file while the engine checks the flows,
//! and renamed into place once it has accepted them, while the old nodes
//! stop and the new ones start (rejected, the temp file is removed). The
//! answer waits for both; background work (building the new function
//! engines, freeing the old ones) waits for the answer. If saving fails
//! after a successful start, the previous flows are started again so the
//! runtime and the files never disagree.

use super::credentials;
use crate::error::ApiError;
use crate::state::{AdminState, Deployed};
use redoubt_core::background;
use redoubt_core::engine::{DeployKind, FlowsError};
use redoubt_storage::credentials::{CredMap, load_credentials, stage_credentials};
use redoubt_storage::flows_file::{load_flows, stage_flows};
use serde_json::{Map, Value as Json, json};
use std::sync::Arc;

/// A deploy request.
pub(crate) struct Deploy {
    /// The new flows, credentials still inside the nodes.
    pub(crate) flows: Vec<Json>,
    /// A complete credential set to use instead of the stored one
    /// (`POST /flows` v2 `credentials`).
    pub(crate) credentials: Option<Map<String, Json>>,
    /// Node-RED's deployment type.
    pub(crate) kind: DeployKind,
    /// The revision the editor based its changes on, if it sent one.
    pub(crate) rev: Option<String>,
}

/// What the engine's rejection means for the client.
fn flows_error(e: FlowsError) -> ApiError {
    match e {
        FlowsError::Invalid(m) => ApiError::bad_request("invalid_flows", m),
        FlowsError::MissingTypes(types) => ApiError::bad_request(
            "missing_types",
            format!(
                "Flows not deployed: unknown node types: {}",
                types.join(", ")
            ),
        ),
        FlowsError::Stopped => ApiError::unavailable("The runtime is stopping"),
    }
}

fn to_engine_creds(c: &CredMap) -> Map<String, Json> {
    c.iter()
        .map(|(k, v)| (k.clone(), Json::Object(v.clone())))
        .collect()
}

/// Runs a deploy; returns the new revision.
pub(crate) async fn deploy(state: &AdminState, req: Deploy) -> Result<String, ApiError> {
    let _guard = state.0.deploy_lock.lock().await;
    // Building the new function engines and freeing the old ones wait
    // until the answer: they slowed the save's fsync (see `background`).
    let _quiet = background::hold_off().await;
    let old = state.deployed();
    if let Some(rev) = &req.rev
        && *rev != old.rev
    {
        return Err(ApiError::version_mismatch());
    }
    let (flows, creds) = prepare(&old, req.flows, req.credentials)?;
    // One array for the saved file, the engine and the deployed state.
    let flows = Arc::new(flows);
    let changed_creds = (creds != *old.credentials).then(|| creds.clone());
    let (accepted, on_accept) = tokio::sync::oneshot::channel();
    let saving = save_when_accepted(state, flows.clone(), changed_creds, on_accept);
    let started = state
        .engine()
        .deploy_accepting(flows.clone(), to_engine_creds(&creds), req.kind, accepted)
        .await;
    let report = match started {
        Ok(report) => report,
        Err(e) => {
            // Rejected: the temp file is gone once `saving` ends.
            let _ = saving.await;
            return Err(flows_error(e));
        }
    };
    tracing::info!(
        started = report.started,
        kept = report.kept,
        invalid = report.errors.len(),
        "Flows deployed."
    );
    // The engine runs the new flows, so it accepted them and they were saved.
    let saved = saving
        .await
        .and_then(|rev| rev.ok_or_else(|| ApiError::internal("the flows were not saved")));
    let rev = match saved {
        Ok(rev) => rev,
        Err(e) => {
            rollback(state, &old).await;
            return Err(e);
        }
    };
    commit(state, flows, rev.clone(), creds).await;
    // The previous flows (and, when this was their last holder, all their
    // JSON) are freed off the answer's path, once it has been answered.
    background::spawn(move || drop(old));
    Ok(rev)
}

/// `Node-RED-Deployment-Type: reload`: starts the flows and credentials
/// stored on disk again.
pub(crate) async fn reload(state: &AdminState) -> Result<String, ApiError> {
    let _guard = state.0.deploy_lock.lock().await;
    let _quiet = background::hold_off().await;
    let flows_path = state.0.flows_path.clone();
    let cred_path = state.0.credentials_path.clone();
    let secret = state.0.secret.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let doc = load_flows(&flows_path)?;
        let creds = load_credentials(&cred_path, &secret)?;
        Ok::<_, redoubt_storage::StorageError>((doc, creds))
    })
    .await
    .map_err(ApiError::internal)?;
    let (doc, creds) = loaded.map_err(|e| {
        ApiError::bad_request("load_failed", format!("Cannot reload the flows: {e}"))
    })?;
    let flows = Arc::new(doc.flows);
    state
        .engine()
        .deploy(flows.clone(), to_engine_creds(&creds), DeployKind::Reload)
        .await
        .map_err(flows_error)?;
    commit(state, flows, doc.rev.clone(), creds).await;
    Ok(doc.rev)
}

/// Strips and merges credentials. Returns the flows to run and save, and
/// the credential set.
fn prepare(
    old: &Deployed,
    mut flows: Vec<Json>,
    given: Option<Map<String, Json>>,
) -> Result<(Vec<Json>, CredMap), ApiError> {
    let mut creds: CredMap = (*old.credentials).clone();
    if let Some(given) = given {
        if given.contains_key("$") {
            return Err(ApiError::bad_request(
                "invalid_credentials",
                "Encrypted credential sets cannot be deployed; send the credentials inside the nodes",
            ));
        }
        credentials::clean(&mut creds, &flows);
        for (id, c) in given {
            match c {
                Json::Object(m) => {
                    creds.insert(id, m);
                }
                _ => {
                    return Err(ApiError::bad_request(
                        "invalid_credentials",
                        format!("Credentials of node {id} are not an object"),
                    ));
                }
            }
        }
    }
    for (i, node) in flows.iter_mut().enumerate() {
        let Json::Object(n) = node else {
            return Err(ApiError::bad_request(
                "invalid_flows",
                format!("Flow item {i} is not an object"),
            ));
        };
        let Some(c) = n.shift_remove("credentials") else {
            continue;
        };
        let id = n
            .get("id")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        let ty = n
            .get("type")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string();
        if let Json::Object(c) = c
            && !id.is_empty()
        {
            credentials::merge_node(&mut creds, &id, &ty, c);
        }
    }
    credentials::clean(&mut creds, &flows);
    Ok((flows, creds))
}

/// Saves the new flows.json (and flows_cred.json when the credentials
/// changed) on the blocking pool while the engine starts the flows: both
/// are written and synced to their temp files at once and put in place
/// when the engine accepts the flows (`accepted`); rejected flows remove
/// them unseen (`Ok(None)`). Returns the new revision.
fn save_when_accepted(
    state: &AdminState,
    flows: Arc<Vec<Json>>,
    creds: Option<CredMap>,
    accepted: tokio::sync::oneshot::Receiver<()>,
) -> impl std::future::Future<Output = Result<Option<String>, ApiError>> + use<> {
    let flows_path = state.0.flows_path.clone();
    let cred_path = state.0.credentials_path.clone();
    let secret = state.0.secret.clone();
    let pretty = state.settings().flow_file_pretty;
    let task = tokio::task::spawn_blocking(move || {
        // Both files are written and synced before either is renamed, so a
        // failed write leaves both as they were.
        let (staged, rev) = stage_flows(&flows_path, &flows, pretty)?;
        let staged_creds = match &creds {
            Some(c) => Some(stage_credentials(&cred_path, c, &secret, pretty)?),
            None => None,
        };
        if accepted.blocking_recv().is_err() {
            // Dropping the staged files removes their temp files.
            return Ok(None);
        }
        staged.commit()?;
        if let Some(c) = staged_creds {
            c.commit()?;
        }
        Ok::<_, redoubt_storage::StorageError>(Some(rev))
    });
    async move {
        task.await
            .map_err(ApiError::internal)?
            .map_err(|e| ApiError::internal(format!("the flows were not saved: {e}")))
    }
}

/// Starts the previous flows again after a failed save.
async fn rollback(state: &AdminState, old: &Deployed) {
    let flows = old.flows.clone();
    match state
        .engine()
        .deploy(flows, to_engine_creds(&old.credentials), DeployKind::Full)
        .await
    {
        Ok(_) => {
            tracing::warn!("Saving the new flows failed; the previous flows were started again.")
        }
        Err(e) => tracing::error!(
            "Saving the new flows failed and the previous flows could not be restarted: {e}."
        ),
    }
}

/// Records the new deployment and tells the editors: stale statuses are
/// cleared and `runtime-deploy` carries the new revision.
async fn commit(state: &AdminState, flows: Arc<Vec<Json>>, rev: String, creds: CredMap) {
    *state.0.deployed.write() = Deployed {
        flows,
        rev: rev.clone(),
        credentials: Arc::new(creds),
    };
    let live: std::collections::HashSet<String> = state
        .engine()
        .statuses()
        .await
        .into_iter()
        .filter(|(_, s)| !s.is_clear())
        .map(|(id, _)| format!("status/{id}"))
        .collect();
    for topic in state.0.comms.retained_topics() {
        if topic.starts_with("status/") && !live.contains(&topic) {
            state.0.comms.publish(&topic, json!({}), false);
        }
    }
    state.0.comms.publish(
        "notification/runtime-deploy",
        json!({"revision": rev}),
        true,
    );
}
