//! `/auth/*` (Node-RED's editor-api `auth/index.js`). Without `adminAuth`
//! the login scheme is empty (`{}`), which tells the editor no login is
//! needed. Token exchange arrives with the security work.

use axum::Json;
use serde_json::{Value, json};

/// `GET /auth/login`: `{}` (no adminAuth configured).
pub async fn get_login() -> Json<Value> {
    Json(json!({}))
}
