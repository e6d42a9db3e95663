//! `/v1/conductors` (API 1.49): the registered conductors, their group, hardware
//! types and whether their heartbeat is recent.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::{Extension, Json};
use ferric_types::conductor::ConductorRecord;
use ferric_types::{Microversion, Timestamp};
use serde_json::{json, Value};

use super::common::{params, show_selection};
use crate::access::Access;
use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::links::{base_url, self_and_bookmark};
use crate::listing::parse_bool;
use crate::AppState;

static CONDUCTOR_FIELDS: FieldSet = FieldSet::new(
    &[
        ("hostname", 49),
        ("conductor_group", 49),
        ("alive", 49),
        ("drivers", 49),
        ("created_at", 49),
        ("updated_at", 49),
    ],
    &["hostname", "conductor_group", "alive"],
);

/// `alive_at`: the database's clock now, and the heartbeat timeout in seconds.
fn render(
    c: &ConductorRecord,
    (now, timeout_secs): (Timestamp, i64),
    base: &str,
    version: Microversion,
    selection: &Selection,
) -> Value {
    let mut obj = super::common::to_object(c);
    obj.remove("online");
    // Where its RPC listener answers is for Ferric's processes, not for clients.
    obj.remove("rpc_url");
    obj.insert("alive".into(), Value::Bool(c.is_alive(now, timeout_secs)));
    obj.insert(
        "links".into(),
        self_and_bookmark(base, &format!("conductors/{}", c.hostname)),
    );
    Value::Object(CONDUCTOR_FIELDS.shape(obj, version, selection))
}

pub async fn list(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    access.require_system("baremetal:conductor:get")?;
    super::common::require(version, 49)?;
    let mut params = params(q)?;
    let limit = match params.take("limit") {
        None => state.config.max_limit,
        Some(t) => match t.parse::<i64>() {
            Ok(n) if n > 0 => n.min(state.config.max_limit),
            Ok(_) => return Err(ApiError::bad_request("Limit must be positive")),
            Err(_) => {
                return Err(ApiError::bad_request(format!(
                    "Expected an integer for limit: {t}"
                )))
            }
        },
    };
    let marker = params.take("marker");
    let detail = params
        .take("detail")
        .map(|v| parse_bool("detail", &v))
        .transpose()?;
    let fields = params.take("fields");
    params.finish()?;
    let selection = match (fields, detail) {
        (Some(_), Some(true)) => {
            return Err(ApiError::bad_request(
                "Can not specify ?detail=True and fields in the same request.",
            ))
        }
        (Some(csv), _) => Selection::Only(CONDUCTOR_FIELDS.parse_selection(&csv, version)?),
        (None, Some(true)) => Selection::Full,
        (None, _) => Selection::Short,
    };
    let all = state.db.conductor_list().await?;
    let start = match &marker {
        None => 0,
        Some(m) => {
            all.iter()
                .position(|c| &c.hostname == m)
                .ok_or_else(|| ApiError::not_found(format!("Conductor {m} could not be found.")))?
                + 1
        }
    };
    let page: Vec<&ConductorRecord> = all.iter().skip(start).take(limit as usize).collect();
    let base = base_url(&state, &headers);
    let alive_at = (
        state.db.clock().await?,
        state.rings.heartbeats().timeout_secs(),
    );
    let mut body = json!({
        "conductors": page.iter().map(|c| render(c, alive_at, &base, version, &selection)).collect::<Vec<_>>(),
    });
    if let (true, Some(last)) = (page.len() as i64 == limit, page.last()) {
        body["next"] = Value::String(format!(
            "{base}/v1/conductors?limit={limit}&marker={}",
            last.hostname
        ));
    }
    Ok(Json(body))
}

pub async fn show(
    access: Access,
    State(state): State<AppState>,
    Extension(version): Extension<Microversion>,
    headers: HeaderMap,
    Path(hostname): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    access.require_system("baremetal:conductor:get")?;
    super::common::require(version, 49)?;
    let selection = show_selection(q, &CONDUCTOR_FIELDS, version)?;
    let c = state
        .db
        .conductor_get(&hostname)
        .await
        .map_err(|e| match e {
            ferric_db::DbError::NotFound => {
                ApiError::not_found(format!("Conductor {hostname} could not be found."))
            }
            other => other.into(),
        })?;
    let alive_at = (
        state.db.clock().await?,
        state.rings.heartbeats().timeout_secs(),
    );
    Ok(Json(render(
        &c,
        alive_at,
        &base_url(&state, &headers),
        version,
        &selection,
    )))
}
