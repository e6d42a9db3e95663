//! Ferric's domain vocabulary: typed ids, validated values (MAC addresses, logical names,
//! microversions, traits), the resources the API serves (nodes, ports, port groups,
//! chassis), provision and power states, hardware types, LLDP, and secret masking.
//! No I/O.

pub mod agent_keys;
pub mod allocation;
pub mod boot_config;
pub mod chassis;
pub mod conductor;
pub mod crypt;
pub mod deploy_template;
pub mod dhcp;
pub mod firmware;
pub mod fsm;
pub mod hardware;
pub mod history;
pub mod identity;
pub mod ids;
pub mod inspection_data;
pub mod inspection_rules;
pub mod ipam;
pub mod lldp;
pub mod mac;
pub mod management;
pub mod microversion;
pub mod name;
pub mod net;
pub mod net_validate;
pub mod node;
pub mod port;
pub mod portgroup;
pub mod power;
pub mod provision;
pub mod runbook;
pub mod secrets;
pub mod timestamp;
pub mod traits;
pub mod volume;

/// A JSON object, the shape of Ironic's free-form dictionaries (`extra`, `properties`…).
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

pub use allocation::Allocation;
pub use chassis::Chassis;
pub use ids::{
    AllocationId, ChassisId, DeployTemplateId, NetworkId, NodeId, PortGroupId, PortId, RunbookId,
    SubnetId, VifPortId, VolumeConnectorId, VolumeTargetId,
};
pub use mac::MacAddress;
pub use microversion::Microversion;
pub use node::Node;
pub use port::Port;
pub use portgroup::PortGroup;
pub use timestamp::Timestamp;
