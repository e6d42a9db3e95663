//! `/v1/nodes/{node}/firmware` (API 1.86; vendor, model and serial number 1.114):
//! the firmware components cached from the node's BMC.

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use ferric_types::Microversion;
use serde_json::{json, Value};

use super::common::to_object;
use crate::access::Access;
use crate::error::ApiError;
use crate::fields::FieldSet;
use crate::AppState;

static FIRMWARE_FIELDS: FieldSet = FieldSet::new(
    &[
        ("component", 86),
        ("initial_version", 86),
        ("current_version", 86),
        ("last_version_flashed", 86),
        ("created_at", 86),
        ("updated_at", 86),
        ("vendor", 114),
        ("model", 114),
        ("serial_number", 114),
    ],
    &[
        "component",
        "initial_version",
        "current_version",
        "last_version_flashed",
        "vendor",
        "model",
        "serial_number",
    ],
);

/// `GET /v1/nodes/{node}/firmware` (API 1.86; vendor, model and serial number
/// 1.114): the firmware components cached from the node's BMC.
pub async fn firmware(
    State(state): State<AppState>,
    access: Access,
    Extension(version): Extension<Microversion>,
    Path(node_ident): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<Value>, ApiError> {
    super::common::require(version, 86)?;
    let mut params = super::common::params(q)?;
    let fields = params.take("fields");
    let detail = params.take("detail");
    params.finish()?;
    let node = access
        .node(&state, &node_ident, version, "baremetal:node:firmware:get")
        .await?;
    let wanted = match fields {
        Some(csv) => {
            // Ironic answers 400, not 406, for these below their version.
            let identity: Vec<&str> = csv
                .split(',')
                .map(str::trim)
                .filter(|f| matches!(*f, "vendor" | "model" | "serial_number"))
                .collect();
            if !identity.is_empty() && !version.at_least(114) {
                return Err(ApiError::bad_request(format!(
                    "Fields {} are not allowed in this API version. They require at least API version 1.114.",
                    identity.join(", ")
                )));
            }
            Some(FIRMWARE_FIELDS.parse_selection(&csv, version)?)
        }
        None => None,
    };
    let everything = detail
        .as_deref()
        .map(|d| crate::listing::parse_bool("detail", d))
        .transpose()?
        .unwrap_or(false);
    let keep: Vec<&str> = match &wanted {
        Some(w) => w.iter().map(String::as_str).collect(),
        None if everything => FIRMWARE_FIELDS.all.iter().map(|(n, _)| *n).collect(),
        None => FIRMWARE_FIELDS.list_default.to_vec(),
    };
    let components = state.db.firmware_list(node.uuid).await?;
    let items = components
        .iter()
        .map(|c| {
            let mut obj = to_object(c);
            obj.retain(|k, _| keep.contains(&k.as_str()) && FIRMWARE_FIELDS.visible(k, version));
            Value::Object(obj)
        })
        .collect::<Vec<_>>();
    Ok(Json(json!({ "firmware": items })))
}
