//! `GET /v1/shards` (API 1.82): every shard and how many nodes it holds, largest
//! first; nodes without a shard count under `"None"`.

use axum::extract::State;
use axum::{Extension, Json};
use ferric_types::Microversion;
use serde_json::{json, Value};

use crate::access::Access;
use crate::error::ApiError;
use crate::AppState;

pub async fn list(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
) -> Result<Json<Value>, ApiError> {
    access.require_system("baremetal:shards:get")?;
    super::common::require(version, 82)?;
    let shards: Vec<Value> = state
        .db
        .node_shard_counts()
        .await?
        .into_iter()
        .map(|(name, count)| json!({"name": name.unwrap_or_else(|| "None".into()), "count": count}))
        .collect();
    Ok(Json(json!({ "shards": shards })))
}
