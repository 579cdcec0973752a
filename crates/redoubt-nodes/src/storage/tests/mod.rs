//! Ported from `test/nodes/core/storage/10-file_spec.js` and
//! `23-watch_spec.js`, against real files in temporary directories.

mod file_in;
mod file_out;
mod watch;

use crate::testing::{Harness, HarnessOptions};
use redoubt_core::engine::{LogLevel, RuntimeEvent, RuntimeSettings};
use serde_json::{Value as Json, json};
use std::path::Path;

/// A flow of node `n1` (with `node`'s properties) wired to helper `out`,
/// plus a catch node wired to helper `caught`.
pub(super) fn flow(node: Json) -> Json {
    let mut n = node;
    n["id"] = json!("n1");
    n["wires"] = json!([["out"]]);
    json!([
        n,
        {"id": "out", "type": "helper"},
        {"id": "c", "type": "catch", "scope": null, "wires": [["caught"]]},
        {"id": "caught", "type": "helper"}
    ])
}

pub(super) async fn start(node: Json) -> Harness {
    Harness::start(flow(node)).await
}

/// `p` as the text a flow's `filename` property holds.
pub(super) fn path_str(p: &Path) -> String {
    p.to_str().expect("test step").to_string()
}

/// Settings with `fileWorkingDirectory` and, optionally, the restriction.
pub(super) fn in_dir(dir: &Path, restrict: bool) -> HarnessOptions {
    let mut settings = RuntimeSettings {
        file_working_directory: Some(dir.to_path_buf()),
        ..Default::default()
    };
    if restrict {
        settings
            .raw
            .insert("fileRestrictToWorkingDirectory".into(), json!(true));
    }
    HarnessOptions {
        settings,
        ..Default::default()
    }
}

pub(super) fn warnings(h: &mut Harness) -> Vec<String> {
    h.drain_events()
        .into_iter()
        .filter_map(|e| match e {
            RuntimeEvent::Log {
                level: LogLevel::Warn,
                text,
                ..
            } => Some(text),
            _ => None,
        })
        .collect()
}
