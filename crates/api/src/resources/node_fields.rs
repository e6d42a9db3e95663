//! The node's wire form: which fields exist at which microversion, which may be set on
//! create or by PATCH, how a node renders (secrets masked, old-version spellings), and
//! how one field of a request document is validated and applied to a node.

use ferric_types::hardware::{hardware_type, InterfaceKind};
use ferric_types::name::is_valid_node_name;
use ferric_types::provision::ProvisionState;
use ferric_types::secrets::masked;
use ferric_types::{Microversion, Node};
use serde_json::Value;

use super::values::{opt_uuid_field, Schema};
use crate::error::ApiError;
use crate::fields::{FieldSet, Selection};
use crate::shaped::{Replacement, Shaped};

pub const SCHEMA: Schema = Schema("node");

pub static NODE_FIELDS: FieldSet = FieldSet::new(
    &[
        ("uuid", 1),
        ("name", 5),
        ("driver", 1),
        ("driver_info", 1),
        ("driver_internal_info", 3),
        ("properties", 1),
        ("extra", 1),
        ("instance_info", 1),
        ("chassis_uuid", 1),
        ("instance_uuid", 1),
        ("power_state", 1),
        ("target_power_state", 1),
        ("provision_state", 1),
        ("target_provision_state", 1),
        ("provision_updated_at", 1),
        ("last_error", 1),
        ("reservation", 1),
        ("maintenance", 1),
        ("maintenance_reason", 1),
        ("console_enabled", 1),
        ("created_at", 1),
        ("updated_at", 1),
        ("inspection_started_at", 6),
        ("inspection_finished_at", 6),
        ("clean_step", 7),
        ("raid_config", 12),
        ("target_raid_config", 12),
        ("network_interface", 20),
        ("resource_class", 21),
        ("boot_interface", 31),
        ("console_interface", 31),
        ("deploy_interface", 31),
        ("inspect_interface", 31),
        ("management_interface", 31),
        ("power_interface", 31),
        ("raid_interface", 31),
        ("vendor_interface", 31),
        ("storage_interface", 33),
        ("traits", 37),
        ("rescue_interface", 38),
        ("bios_interface", 40),
        ("fault", 42),
        ("deploy_step", 44),
        ("conductor_group", 46),
        ("automated_clean", 47),
        ("protected", 48),
        ("protected_reason", 48),
        ("conductor", 49),
        ("owner", 50),
        ("description", 51),
        ("allocation_uuid", 52),
        ("retired", 61),
        ("retired_reason", 61),
        ("lessee", 65),
        ("network_data", 66),
        ("boot_mode", 75),
        ("secure_boot", 75),
        ("shard", 82),
        ("parent_node", 83),
        ("service_step", 87),
        ("firmware_interface", 86),
        ("disable_power_off", 95),
        ("instance_name", 104),
        ("health", 109),
    ],
    &[
        "instance_uuid",
        "maintenance",
        "power_state",
        "provision_state",
        "uuid",
        "name",
    ],
);

/// Fields a create document may carry, and the version that introduced each. Those
/// newer than the served maximum are listed so that sending them is a 406, as Ironic
/// answers for fields of a newer version.
pub const CREATABLE: &[(&str, u16)] = &[
    ("uuid", 1),
    ("name", 5),
    ("driver", 1),
    ("driver_info", 1),
    ("properties", 1),
    ("extra", 1),
    ("instance_info", 1),
    ("chassis_uuid", 1),
    ("instance_uuid", 1),
    ("maintenance", 1),
    ("network_interface", 20),
    ("resource_class", 21),
    ("boot_interface", 31),
    ("console_interface", 31),
    ("deploy_interface", 31),
    ("inspect_interface", 31),
    ("management_interface", 31),
    ("power_interface", 31),
    ("raid_interface", 31),
    ("vendor_interface", 31),
    ("storage_interface", 33),
    ("rescue_interface", 38),
    ("bios_interface", 40),
    ("conductor_group", 46),
    ("automated_clean", 47),
    ("owner", 50),
    ("description", 51),
    ("retired", 61),
    ("retired_reason", 61),
    ("lessee", 65),
    ("network_data", 66),
    ("boot_mode", 75),
    ("secure_boot", 75),
    ("shard", 82),
    ("parent_node", 83),
    ("firmware_interface", 86),
    ("disable_power_off", 95),
    ("instance_name", 104),
];

/// Fields PATCH may touch, and the version that introduced each.
pub const PATCHABLE: &[(&str, u16)] = &[
    ("automated_clean", 47),
    ("bios_interface", 40),
    ("boot_interface", 31),
    ("chassis_uuid", 1),
    ("conductor_group", 46),
    ("console_interface", 31),
    ("deploy_interface", 31),
    ("description", 51),
    ("disable_power_off", 95),
    ("driver", 1),
    ("driver_info", 1),
    ("extra", 1),
    ("firmware_interface", 86),
    ("inspect_interface", 31),
    ("instance_info", 1),
    ("instance_name", 104),
    ("instance_uuid", 1),
    ("lessee", 65),
    ("maintenance", 1),
    ("management_interface", 31),
    ("name", 5),
    ("network_data", 66),
    ("network_interface", 20),
    ("owner", 50),
    ("parent_node", 83),
    ("power_interface", 31),
    ("properties", 1),
    ("protected", 48),
    ("protected_reason", 48),
    ("raid_interface", 31),
    ("rescue_interface", 38),
    ("resource_class", 21),
    ("retired", 61),
    ("retired_reason", 61),
    ("shard", 82),
    ("storage_interface", 33),
    ("vendor_interface", 31),
];

/// Sub-resource link sets of a full node view, and the version that added each.
const SUB_RESOURCES: &[(&str, u16)] = &[
    ("ports", 1),
    ("states", 14),
    ("portgroups", 24),
    ("volume", 32),
];

/// JSON fields that cannot be sort keys.
pub const NOT_SORTABLE: &[&str] = &[
    "properties",
    "driver_info",
    "extra",
    "instance_info",
    "driver_internal_info",
    "clean_step",
    "deploy_step",
    "raid_config",
    "target_raid_config",
    "traits",
    "network_data",
    "service_step",
];

/// The `instance_info` keys masked whatever their names: a config drive and an
/// image URL can carry credentials.
pub const INSTANCE_INFO_MASKED: &[&str] = &["configdrive", "image_url"];

/// The node as the API shows it at `version`: secrets masked, states as older
/// versions name them, links to itself and its sub-resources.
pub fn shaped<'a>(
    node: &'a Node,
    base: &'a str,
    version: Microversion,
    selection: &'a Selection,
) -> Shaped<'a, Node> {
    let mut shaped = Shaped::new(
        node,
        &NODE_FIELDS,
        version,
        selection,
        base,
        format!("nodes/{}", node.uuid),
    );
    shaped
        .replace(
            "driver_info",
            Replacement::Masked(masked(
                &node.driver_info,
                &["snmp_auth_key", "snmp_priv_key"],
            )),
        )
        .replace(
            "instance_info",
            Replacement::Masked(masked(&node.instance_info, INSTANCE_INFO_MASKED)),
        )
        .replace(
            "driver_internal_info",
            Replacement::Masked(masked(&node.driver_internal_info, &[])),
        );
    let states = [
        ("provision_state", Some(node.provision_state)),
        ("target_provision_state", node.target_provision_state),
    ];
    for (field, state) in states {
        if let Some(older) = state.and_then(|s| older_state_name(s, version)) {
            shaped.replace(field, Replacement::Value(older));
        }
    }
    for (sub, since) in SUB_RESOURCES {
        if version.at_least(*since) {
            shaped.sub_resource(sub);
        }
    }
    shaped
}

/// How a version before the state existed names it: `available` was `null` before
/// 1.2, `inspect wait` was `inspecting` before 1.39.
fn older_state_name(state: ProvisionState, version: Microversion) -> Option<Value> {
    match state {
        ProvisionState::Available if !version.at_least(2) => Some(Value::Null),
        ProvisionState::InspectWait if !version.at_least(39) => Some(Value::from("inspecting")),
        _ => None,
    }
}

/// [`shaped`] as a JSON value, for single-node answers.
pub fn render(node: &Node, base: &str, version: Microversion, selection: &Selection) -> Value {
    shaped(node, base, version, selection).to_value()
}

/// Whether a value comes from a create or an update (only changes some messages).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Create,
    Update,
}

/// Validates one creatable/patchable field and stores it on the node.
pub fn apply_field(
    node: &mut Node,
    field: &str,
    value: Value,
    origin: Origin,
) -> Result<(), ApiError> {
    let s = SCHEMA;
    match field {
        "uuid" => node.uuid = super::values::uuid_field("uuid", &value)?,
        "name" => {
            let name = s.opt_string(value, 255)?;
            if let Some(n) = &name {
                if !is_valid_node_name(n) {
                    return Err(ApiError::bad_request(match origin {
                        Origin::Create => format!("Cannot create node with invalid name '{n}'"),
                        Origin::Update => format!(
                            "Node {}: Cannot change name to invalid name '{n}'",
                            node.name.clone().unwrap_or_else(|| node.uuid.to_string())
                        ),
                    }));
                }
            }
            node.name = name;
        }
        "driver" => {
            let driver = s.string(value, 255)?;
            if hardware_type(&driver).is_none() {
                return Err(ApiError::bad_request(format!(
                    "No valid host was found. Reason: No conductor service registered which supports \
                     driver {driver} for conductor group \"{}\". Ensure the driver is valid and enabled.",
                    node.conductor_group
                )));
            }
            node.driver = driver;
        }
        "driver_info" => node.driver_info = s.object(value)?,
        "properties" => node.properties = s.object(value)?,
        "extra" => node.extra = s.object(value)?,
        "instance_info" => node.instance_info = s.object(value)?,
        "chassis_uuid" => node.chassis_uuid = opt_uuid_field("chassis_uuid", &value)?,
        "instance_uuid" => node.instance_uuid = opt_uuid_field("instance_uuid", &value)?,
        "maintenance" => {
            node.maintenance = s.boolean(value)?;
            if !node.maintenance {
                node.maintenance_reason = None;
                node.fault = None;
            }
        }
        "resource_class" => node.resource_class = s.opt_string(value, 80)?,
        "conductor_group" => {
            let group = s.opt_string(value, 255)?.unwrap_or_default();
            if !group
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
            {
                return Err(s.error(format!("'{group}' does not match '^[a-zA-Z0-9_\\-\\.]*$'")));
            }
            node.conductor_group = group.to_ascii_lowercase();
        }
        "automated_clean" => node.automated_clean = s.opt_bool(value)?,
        "protected" => {
            node.protected = s.boolean(value)?;
            if !node.protected {
                node.protected_reason = None;
            }
        }
        "protected_reason" => node.protected_reason = s.opt_string(value, 255)?,
        "owner" => node.owner = s.opt_string(value, 255)?,
        "lessee" => node.lessee = s.opt_string(value, 255)?,
        "description" => node.description = s.opt_string(value, 4096)?,
        "retired" => {
            node.retired = s.boolean(value)?;
            if !node.retired {
                node.retired_reason = None;
            }
        }
        "retired_reason" => node.retired_reason = s.opt_string(value, 255)?,
        "network_data" => node.network_data = s.object(value)?,
        "boot_mode" => {
            node.boot_mode = s.opt_string(value, 16)?;
            if let Some(mode) = node
                .boot_mode
                .as_deref()
                .filter(|m| !matches!(*m, "uefi" | "bios"))
            {
                return Err(s.error(format!("'{mode}' is not one of ['uefi', 'bios']")));
            }
        }
        "secure_boot" => node.secure_boot = s.opt_bool(value)?,
        "shard" => node.shard = s.opt_string(value, 255)?,
        "parent_node" => node.parent_node = opt_uuid_field("parent_node", &value)?,
        "disable_power_off" => node.disable_power_off = s.boolean(value)?,
        "instance_name" => {
            let name = s.opt_string(value, 255)?;
            if name.as_deref() == Some("") {
                return Err(s.error("'' is too short"));
            }
            node.instance_name = name;
        }
        other => match InterfaceKind::ALL.iter().find(|k| k.field() == other) {
            Some(kind) => node.set_interface(*kind, s.opt_string(value, 255)?),
            // Fields of newer versions were refused by the version check already.
            None => return Err(ApiError::not_acceptable("Request not acceptable.")),
        },
    }
    Ok(())
}

/// Checks explicitly chosen interfaces and fills the others with the hardware type's
/// defaults. `reset` lists the interfaces to recompute even when set.
pub fn resolve_interfaces(node: &mut Node, reset: &[InterfaceKind]) -> Result<(), ApiError> {
    let hw = hardware_type(&node.driver).ok_or_else(|| {
        ApiError::bad_request(format!(
            "The hardware type {} is not known to this Ferric.",
            node.driver
        ))
    })?;
    for kind in InterfaceKind::ALL {
        if reset.contains(&kind) {
            node.set_interface(kind, None);
        }
        match node.interface(kind).map(str::to_string) {
            Some(chosen) => hw
                .check_interface(kind, &chosen)
                .map_err(ApiError::bad_request)?,
            None => node.set_interface(kind, hw.default_interface(kind).map(str::to_string)),
        }
    }
    Ok(())
}

/// Checks rules that tie fields together, after a create or an update.
pub fn check_consistency(node: &Node) -> Result<(), ApiError> {
    if node.protected_reason.is_some() && !node.protected {
        return Err(ApiError::bad_request(
            "The protected_reason field can only be set when protected is True",
        ));
    }
    if node.retired_reason.is_some() && !node.retired {
        return Err(ApiError::bad_request(
            "The retired_reason field can only be set when retired is True",
        ));
    }
    Ok(())
}

/// The initial provision state of a node created at `version`.
pub fn initial_state(version: Microversion) -> ProvisionState {
    if version.at_least(11) {
        ProvisionState::Enroll
    } else {
        ProvisionState::Available
    }
}
