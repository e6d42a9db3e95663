//! Resolving identifiers in URLs and bodies: nodes and port groups by UUID or name,
//! chassis and ports by UUID, and the "could not be found" answers.

use ferric_db::DbError;
use ferric_types::ids::parse_uuid;
use ferric_types::name::is_valid_logical_name;
use ferric_types::{
    Chassis, ChassisId, Microversion, Node, NodeId, Port, PortGroup, PortGroupId, PortId,
};

use crate::error::ApiError;
use crate::AppState;

pub fn node_not_found(ident: &str) -> ApiError {
    ApiError::not_found(format!("Node {ident} could not be found."))
}

pub fn port_not_found(ident: &str) -> ApiError {
    ApiError::not_found(format!("Port {ident} could not be found."))
}

pub fn portgroup_not_found(ident: &str) -> ApiError {
    ApiError::not_found(format!("Portgroup {ident} could not be found."))
}

/// Finds a node by UUID, or by name from API 1.5 on.
pub async fn node(state: &AppState, ident: &str, version: Microversion) -> Result<Node, ApiError> {
    let result = if let Ok(uuid) = parse_uuid(ident) {
        state.db.node_get(NodeId(uuid)).await
    } else if !is_valid_logical_name(ident) {
        return Err(ApiError::bad_request(format!(
            "Expected UUID or name for node: {ident}"
        )));
    } else if !version.at_least(5) {
        Err(DbError::NotFound)
    } else {
        state.db.node_get_by_name(ident).await
    };
    result.map_err(|e| match e {
        DbError::NotFound => node_not_found(ident),
        other => other.into(),
    })
}

/// Finds a port by UUID, or by name from API 1.88 on.
pub async fn port(state: &AppState, ident: &str, version: Microversion) -> Result<Port, ApiError> {
    let result = match parse_uuid(ident) {
        Ok(uuid) => state.db.port_get(PortId(uuid)).await,
        Err(_) if version.at_least(88) && is_valid_logical_name(ident) => {
            state.db.port_get_by_name(ident).await
        }
        Err(_) => {
            return Err(ApiError::bad_request(format!(
                "Expected UUID or name for port_ident: {ident}"
            )))
        }
    };
    result.map_err(|e| match e {
        DbError::NotFound => port_not_found(ident),
        other => other.into(),
    })
}

/// Finds a port group by UUID or name.
pub async fn portgroup(state: &AppState, ident: &str) -> Result<PortGroup, ApiError> {
    let result = if let Ok(uuid) = parse_uuid(ident) {
        state.db.portgroup_get(PortGroupId(uuid)).await
    } else if is_valid_logical_name(ident) {
        state.db.portgroup_get_by_name(ident).await
    } else {
        return Err(ApiError::bad_request(format!(
            "Expected UUID or name for portgroup: {ident}"
        )));
    };
    result.map_err(|e| match e {
        DbError::NotFound => portgroup_not_found(ident),
        other => other.into(),
    })
}

/// Finds a chassis by UUID.
pub async fn chassis(state: &AppState, ident: &str) -> Result<Chassis, ApiError> {
    let uuid = parse_uuid(ident)
        .map_err(|_| ApiError::bad_request(format!("Expected UUID for chassis_uuid: {ident}")))?;
    state
        .db
        .chassis_get(ChassisId(uuid))
        .await
        .map_err(|e| match e {
            DbError::NotFound => chassis_not_found(ident),
            other => other.into(),
        })
}

pub fn chassis_not_found(ident: &str) -> ApiError {
    ApiError::not_found(format!("Chassis {ident} could not be found."))
}

/// A referenced object named in a request body must exist: 400, not 404.
pub fn as_bad_reference(err: ApiError) -> ApiError {
    if err.status == axum::http::StatusCode::NOT_FOUND {
        ApiError::bad_request(err.message)
    } else {
        err
    }
}
