//! Liveness and readiness for whoever runs Postkasse.

use crate::{http::ApiError, sql::Database};
use axum::{extract::State, Json};
use serde_json::{json, Value};

/// The process is up. Checks nothing else, so a slow database never gets a
/// healthy process restarted.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve requests: the database answers.
pub async fn readyz(State(database): State<Database>) -> Result<Json<Value>, ApiError> {
    database.ping().await.map_err(|error| {
        ApiError::Unavailable(anyhow::Error::new(error).context("database ping failed"))
    })?;
    Ok(Json(json!({ "status": "ready", "database": "ok" })))
}
