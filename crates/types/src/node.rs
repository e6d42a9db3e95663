//! The node: one physical machine Ferric manages, with every field of Ironic's node
//! resource under Ironic's names.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::hardware::InterfaceKind;
use crate::provision::ProvisionState;
use crate::{ChassisId, JsonObject, NodeId, Timestamp};

/// A node as stored and served. Field names are the API's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub uuid: NodeId,
    pub name: Option<String>,
    pub driver: String,
    #[serde(default)]
    pub driver_info: JsonObject,
    #[serde(default)]
    pub driver_internal_info: JsonObject,
    #[serde(default)]
    pub properties: JsonObject,
    #[serde(default)]
    pub extra: JsonObject,
    #[serde(default)]
    pub instance_info: JsonObject,
    pub chassis_uuid: Option<ChassisId>,
    pub instance_uuid: Option<Uuid>,
    pub power_state: Option<String>,
    pub target_power_state: Option<String>,
    pub provision_state: ProvisionState,
    pub target_provision_state: Option<ProvisionState>,
    pub provision_updated_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub reservation: Option<String>,
    pub maintenance: bool,
    pub maintenance_reason: Option<String>,
    pub fault: Option<String>,
    pub console_enabled: bool,
    pub inspection_started_at: Option<Timestamp>,
    pub inspection_finished_at: Option<Timestamp>,
    #[serde(default)]
    pub clean_step: JsonObject,
    #[serde(default)]
    pub deploy_step: JsonObject,
    #[serde(default)]
    pub raid_config: JsonObject,
    #[serde(default)]
    pub target_raid_config: JsonObject,
    pub bios_interface: Option<String>,
    pub boot_interface: Option<String>,
    pub console_interface: Option<String>,
    pub deploy_interface: Option<String>,
    pub firmware_interface: Option<String>,
    pub inspect_interface: Option<String>,
    pub management_interface: Option<String>,
    pub network_interface: Option<String>,
    pub power_interface: Option<String>,
    pub raid_interface: Option<String>,
    pub rescue_interface: Option<String>,
    pub storage_interface: Option<String>,
    pub vendor_interface: Option<String>,
    pub resource_class: Option<String>,
    #[serde(default)]
    pub traits: Vec<String>,
    pub conductor_group: String,
    pub automated_clean: Option<bool>,
    pub protected: bool,
    pub protected_reason: Option<String>,
    /// The conductor that owns the node on the hash ring (computed, not stored).
    #[serde(default)]
    pub conductor: Option<String>,
    pub owner: Option<String>,
    pub lessee: Option<String>,
    pub description: Option<String>,
    pub allocation_uuid: Option<Uuid>,
    pub retired: bool,
    pub retired_reason: Option<String>,
    /// Network configuration for the instance's config drive (API 1.66).
    #[serde(default)]
    pub network_data: JsonObject,
    /// `uefi` or `bios` (API 1.75); changed through `/states/boot_mode`.
    pub boot_mode: Option<String>,
    pub secure_boot: Option<bool>,
    /// A label splitting nodes between consumers (API 1.82).
    pub shard: Option<String>,
    /// The node this one is a part of (API 1.83).
    pub parent_node: Option<NodeId>,
    /// The service step running now (API 1.87), `{}` when idle.
    #[serde(default)]
    pub service_step: JsonObject,
    /// Never power the machine off (API 1.95): reboots stand in for power-offs.
    #[serde(default)]
    pub disable_power_off: bool,
    /// The instance's name, as the user knows it (API 1.104).
    #[serde(default)]
    pub instance_name: Option<String>,
    /// What the BMC says of the machine's health: `OK`, `Warning`, `Critical`
    /// (API 1.109); read-only.
    #[serde(default)]
    pub health: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

impl Node {
    /// A node of `driver` in the given initial state, every other field empty.
    pub fn new(
        uuid: NodeId,
        driver: String,
        provision_state: ProvisionState,
        now: Timestamp,
    ) -> Self {
        Node {
            uuid,
            name: None,
            driver,
            driver_info: JsonObject::new(),
            driver_internal_info: JsonObject::new(),
            properties: JsonObject::new(),
            extra: JsonObject::new(),
            instance_info: JsonObject::new(),
            chassis_uuid: None,
            instance_uuid: None,
            power_state: None,
            target_power_state: None,
            provision_state,
            target_provision_state: None,
            provision_updated_at: None,
            last_error: None,
            reservation: None,
            maintenance: false,
            maintenance_reason: None,
            fault: None,
            console_enabled: false,
            inspection_started_at: None,
            inspection_finished_at: None,
            clean_step: JsonObject::new(),
            deploy_step: JsonObject::new(),
            raid_config: JsonObject::new(),
            target_raid_config: JsonObject::new(),
            bios_interface: None,
            boot_interface: None,
            console_interface: None,
            deploy_interface: None,
            firmware_interface: None,
            inspect_interface: None,
            management_interface: None,
            network_interface: None,
            power_interface: None,
            raid_interface: None,
            rescue_interface: None,
            storage_interface: None,
            vendor_interface: None,
            resource_class: None,
            traits: Vec::new(),
            conductor_group: String::new(),
            automated_clean: None,
            protected: false,
            protected_reason: None,
            conductor: None,
            owner: None,
            lessee: None,
            description: None,
            allocation_uuid: None,
            retired: false,
            retired_reason: None,
            network_data: JsonObject::new(),
            boot_mode: None,
            secure_boot: None,
            shard: None,
            parent_node: None,
            service_step: JsonObject::new(),
            disable_power_off: false,
            instance_name: None,
            health: None,
            created_at: now,
            updated_at: None,
        }
    }

    /// The node's chosen implementation of an interface kind.
    pub fn interface(&self, kind: InterfaceKind) -> Option<&str> {
        self.interface_slot(kind).as_deref()
    }

    /// Sets the node's implementation of an interface kind.
    pub fn set_interface(&mut self, kind: InterfaceKind, value: Option<String>) {
        *self.interface_slot_mut(kind) = value;
    }

    fn interface_slot(&self, kind: InterfaceKind) -> &Option<String> {
        match kind {
            InterfaceKind::Bios => &self.bios_interface,
            InterfaceKind::Boot => &self.boot_interface,
            InterfaceKind::Console => &self.console_interface,
            InterfaceKind::Deploy => &self.deploy_interface,
            InterfaceKind::Firmware => &self.firmware_interface,
            InterfaceKind::Inspect => &self.inspect_interface,
            InterfaceKind::Management => &self.management_interface,
            InterfaceKind::Network => &self.network_interface,
            InterfaceKind::Power => &self.power_interface,
            InterfaceKind::Raid => &self.raid_interface,
            InterfaceKind::Rescue => &self.rescue_interface,
            InterfaceKind::Storage => &self.storage_interface,
            InterfaceKind::Vendor => &self.vendor_interface,
        }
    }

    fn interface_slot_mut(&mut self, kind: InterfaceKind) -> &mut Option<String> {
        match kind {
            InterfaceKind::Bios => &mut self.bios_interface,
            InterfaceKind::Boot => &mut self.boot_interface,
            InterfaceKind::Console => &mut self.console_interface,
            InterfaceKind::Deploy => &mut self.deploy_interface,
            InterfaceKind::Firmware => &mut self.firmware_interface,
            InterfaceKind::Inspect => &mut self.inspect_interface,
            InterfaceKind::Management => &mut self.management_interface,
            InterfaceKind::Network => &mut self.network_interface,
            InterfaceKind::Power => &mut self.power_interface,
            InterfaceKind::Raid => &mut self.raid_interface,
            InterfaceKind::Rescue => &mut self.rescue_interface,
            InterfaceKind::Storage => &mut self.storage_interface,
            InterfaceKind::Vendor => &mut self.vendor_interface,
        }
    }
}
