//! The port's wire form: versioned fields, creatable and patchable sets, rendering,
//! and validation of each field (MAC address, local link connection, physical
//! network, smart NIC rules).

use ferric_types::{Microversion, Port};
use serde_json::{Map, Value};

use super::values::{mac_field, opt_uuid_field, uuid_field, Schema};
use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::shaped::{Replacement, Shaped};

pub const SCHEMA: Schema = Schema("port");

pub static PORT_FIELDS: FieldSet = FieldSet::new(
    &[
        ("uuid", 1),
        ("address", 1),
        ("node_uuid", 1),
        ("extra", 1),
        ("created_at", 1),
        ("updated_at", 1),
        ("internal_info", 18),
        ("local_link_connection", 19),
        ("pxe_enabled", 19),
        ("portgroup_uuid", 24),
        ("physical_network", 34),
        ("is_smartnic", 53),
        ("name", 88),
        ("description", 97),
        ("vendor", 100),
        ("category", 101),
        ("available_for_dynamic_portgroup", 111),
    ],
    &["uuid", "address"],
);

/// Creatable fields; newer-than-served ones are listed so that they answer 406.
pub const CREATABLE: &[(&str, u16)] = &[
    ("uuid", 1),
    ("address", 1),
    ("node_uuid", 1),
    ("extra", 1),
    ("local_link_connection", 19),
    ("pxe_enabled", 19),
    ("portgroup_uuid", 24),
    ("physical_network", 34),
    ("is_smartnic", 53),
    ("name", 88),
    ("node_ident", 94),
    ("description", 97),
    ("vendor", 100),
    ("category", 101),
    ("available_for_dynamic_portgroup", 111),
];

pub const PATCHABLE: &[(&str, u16)] = &[
    ("address", 1),
    ("node_uuid", 1),
    ("extra", 1),
    ("local_link_connection", 19),
    ("pxe_enabled", 19),
    ("portgroup_uuid", 24),
    ("physical_network", 34),
    ("is_smartnic", 53),
    ("name", 88),
    ("description", 97),
    ("vendor", 100),
    ("category", 101),
    ("available_for_dynamic_portgroup", 111),
];

pub const NOT_SORTABLE: &[&str] = &["extra", "internal_info", "local_link_connection"];

pub fn shaped<'a>(
    port: &'a Port,
    base: &'a str,
    version: Microversion,
    selection: &'a Selection,
) -> Shaped<'a, Port> {
    let mut shaped = Shaped::new(
        port,
        &PORT_FIELDS,
        version,
        selection,
        base,
        format!("ports/{}", port.uuid),
    );
    let has_vtep = port
        .local_link_connection
        .keys()
        .any(|k| VTEP_KEYS.contains(&k.as_str()));
    if has_vtep && !version.at_least(90) {
        // Older clients would not understand the OVN keys: they see none.
        shaped.replace(
            "local_link_connection",
            Replacement::Value(Value::Object(Map::new())),
        );
    }
    shaped
}

/// [`shaped`] as a JSON value, for single-port answers.
pub fn render(port: &Port, base: &str, version: Microversion, selection: &Selection) -> Value {
    shaped(port, base, version, selection).to_value()
}

/// Validates one field and stores it on the port.
pub fn apply_field(
    port: &mut Port,
    field: &str,
    value: Value,
    version: Microversion,
) -> Result<(), ApiError> {
    let s = SCHEMA;
    match field {
        "uuid" => port.uuid = uuid_field("uuid", &value)?,
        "address" => port.address = mac_field("address", &value)?,
        "node_uuid" => port.node_uuid = uuid_field("node_uuid", &value)?,
        "extra" => port.extra = s.object(value)?,
        "local_link_connection" => {
            port.local_link_connection = local_link_connection(s.object(value)?, version)?;
        }
        "pxe_enabled" => {
            port.pxe_enabled = if value.is_null() {
                true
            } else {
                s.boolean(value)?
            }
        }
        "portgroup_uuid" => port.portgroup_uuid = opt_uuid_field("portgroup_uuid", &value)?,
        "physical_network" => {
            let net = s.opt_string(value, 64)?;
            if net.as_deref() == Some("") {
                return Err(s.error("'' is too short"));
            }
            port.physical_network = net;
        }
        "is_smartnic" => port.is_smartnic = s.boolean(value)?,
        "name" => {
            port.name = s.opt_string(value, 255)?;
            if let Some(n) = port
                .name
                .as_deref()
                .filter(|n| !ferric_types::name::is_valid_logical_name(n))
            {
                return Err(ApiError::bad_request(format!("Invalid port name '{n}'")));
            }
        }
        "description" => port.description = s.opt_string(value, 255)?,
        "vendor" => port.vendor = s.opt_string(value, 32)?,
        "category" => port.category = s.opt_string(value, 80)?,
        "available_for_dynamic_portgroup" => {
            port.available_for_dynamic_portgroup = if value.is_null() {
                true
            } else {
                s.boolean(value)?
            }
        }
        _ => return Err(ApiError::not_acceptable("Request not acceptable.")),
    }
    Ok(())
}

/// Checks rules that tie the port's fields together.
pub fn check_consistency(port: &Port) -> Result<(), ApiError> {
    let llc = &port.local_link_connection;
    if port.is_smartnic && !(llc.contains_key("port_id") && llc.contains_key("hostname")) {
        return Err(ApiError::bad_request(
            "Smart NIC port must have port_id and hostname in local_link_connection",
        ));
    }
    Ok(())
}

/// The OVN VTEP switch keys of a local link connection (API 1.90 to 1.104).
const VTEP_KEYS: [&str; 2] = ["vtep-logical-switch", "vtep-physical-switch"];

/// True for a MAC address or a 16-hex-digit OpenFlow datapath id.
fn valid_switch_id(id: &str) -> bool {
    id.parse::<ferric_types::MacAddress>().is_ok()
        || (id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Validates a local link connection: known keys, string values, and one of the
/// complete combinations (port_id + switch_id, port_id + hostname, unmanaged, or none).
fn local_link_connection(
    llc: Map<String, Value>,
    version: Microversion,
) -> Result<Map<String, Value>, ApiError> {
    let mut keys = vec!["switch_id", "port_id", "switch_info"];
    if version.at_least(53) {
        keys.push("hostname");
    }
    if version.at_least(64) {
        keys.push("network_type");
    }
    let vtep_allowed = version.at_least(90) && !version.at_least(105);
    if vtep_allowed {
        keys.extend(VTEP_KEYS);
    } else if llc.keys().any(|k| VTEP_KEYS.contains(&k.as_str())) {
        return Err(ApiError::not_acceptable(
            "Request not acceptable. The OVN VTEP keys of local_link_connection are \
             accepted from API version 1.90 to 1.104 only.",
        ));
    }
    let invalid =
        |why: String| ApiError::bad_request(format!("Invalid local_link_connection: {why}"));
    for (key, value) in &llc {
        if !keys.contains(&key.as_str()) {
            return Err(invalid(format!(
                "unknown key '{key}'; allowed: {}",
                keys.join(", ")
            )));
        }
        if !value.is_string() {
            return Err(invalid(format!("'{key}' must be a string")));
        }
    }
    let has = |k: &str| {
        llc.get(k)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    if let Some(switch_id) = llc.get("switch_id").and_then(Value::as_str) {
        if !valid_switch_id(switch_id) {
            return Err(invalid(format!(
                "switch_id '{switch_id}' is neither a MAC address nor an OpenFlow datapath id"
            )));
        }
    }
    let network_type = llc.get("network_type").and_then(Value::as_str);
    if let Some(t) = network_type {
        if t != "managed" && t != "unmanaged" {
            return Err(invalid(format!(
                "network_type must be 'managed' or 'unmanaged', not '{t}'"
            )));
        }
    }
    let vteps = VTEP_KEYS.iter().filter(|k| llc.contains_key(**k)).count();
    if vteps == 1 || (vteps == 2 && !has("port_id")) {
        return Err(invalid(
            "vtep-logical-switch and vtep-physical-switch go together, with port_id".into(),
        ));
    }
    let complete = llc.is_empty()
        || vteps == 2
        || (has("port_id") && has("switch_id"))
        || (has("port_id") && has("hostname"))
        || network_type == Some("unmanaged");
    if !complete {
        return Err(invalid(
            "it needs port_id with switch_id, port_id with hostname, or network_type 'unmanaged'"
                .into(),
        ));
    }
    Ok(llc)
}
