//! Hardware types and their interfaces, as data: which interface implementations each
//! hardware type supports, which ones this Ferric build enables, and how a node's
//! interface fields get their defaults (the first supported implementation that is
//! enabled). The implementations themselves live with the conductor's drivers.

use std::fmt;

/// The kinds of hardware interface a node has, one `<kind>_interface` field each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InterfaceKind {
    Bios,
    Boot,
    Console,
    Deploy,
    Firmware,
    Inspect,
    Management,
    Network,
    Power,
    Raid,
    Rescue,
    Storage,
    Vendor,
}

impl InterfaceKind {
    pub const ALL: [InterfaceKind; 13] = [
        InterfaceKind::Bios,
        InterfaceKind::Boot,
        InterfaceKind::Console,
        InterfaceKind::Deploy,
        InterfaceKind::Firmware,
        InterfaceKind::Inspect,
        InterfaceKind::Management,
        InterfaceKind::Network,
        InterfaceKind::Power,
        InterfaceKind::Raid,
        InterfaceKind::Rescue,
        InterfaceKind::Storage,
        InterfaceKind::Vendor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InterfaceKind::Bios => "bios",
            InterfaceKind::Boot => "boot",
            InterfaceKind::Console => "console",
            InterfaceKind::Deploy => "deploy",
            InterfaceKind::Firmware => "firmware",
            InterfaceKind::Inspect => "inspect",
            InterfaceKind::Management => "management",
            InterfaceKind::Network => "network",
            InterfaceKind::Power => "power",
            InterfaceKind::Raid => "raid",
            InterfaceKind::Rescue => "rescue",
            InterfaceKind::Storage => "storage",
            InterfaceKind::Vendor => "vendor",
        }
    }

    /// The node field holding this interface (`boot_interface`…).
    pub fn field(self) -> &'static str {
        match self {
            InterfaceKind::Bios => "bios_interface",
            InterfaceKind::Boot => "boot_interface",
            InterfaceKind::Console => "console_interface",
            InterfaceKind::Deploy => "deploy_interface",
            InterfaceKind::Firmware => "firmware_interface",
            InterfaceKind::Inspect => "inspect_interface",
            InterfaceKind::Management => "management_interface",
            InterfaceKind::Network => "network_interface",
            InterfaceKind::Power => "power_interface",
            InterfaceKind::Raid => "raid_interface",
            InterfaceKind::Rescue => "rescue_interface",
            InterfaceKind::Storage => "storage_interface",
            InterfaceKind::Vendor => "vendor_interface",
        }
    }
}

impl fmt::Display for InterfaceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hardware type: a name and, per interface kind, the implementations it supports
/// in order of preference.
#[derive(Debug)]
pub struct HardwareType {
    pub name: &'static str,
    supported: &'static [(InterfaceKind, &'static [&'static str])],
}

impl HardwareType {
    /// A new node of this hardware type in `state`, each interface its default.
    pub fn new_node(&self, state: crate::provision::ProvisionState) -> crate::Node {
        let mut n = crate::Node::new(
            crate::NodeId::new_v4(),
            self.name.into(),
            state,
            crate::Timestamp::now(),
        );
        for kind in InterfaceKind::ALL {
            n.set_interface(kind, self.default_interface(kind).map(str::to_string));
        }
        n
    }

    /// The implementations of `kind` this hardware type supports, preferred first.
    pub fn supported(&self, kind: InterfaceKind) -> &'static [&'static str] {
        self.supported
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, list)| *list)
            .unwrap_or(&[])
    }

    /// The default implementation of `kind`: the first supported one that is enabled.
    pub fn default_interface(&self, kind: InterfaceKind) -> Option<&'static str> {
        self.supported(kind)
            .iter()
            .copied()
            .find(|name| is_enabled(kind, name))
    }

    /// Checks an explicitly chosen implementation.
    pub fn check_interface(&self, kind: InterfaceKind, name: &str) -> Result<(), String> {
        if !is_enabled(kind, name) {
            return Err(format!(
                "The {kind} interface '{name}' is not enabled in this Ferric. Enabled {kind} interfaces: {}.",
                enabled(kind).join(", ")
            ));
        }
        if !self.supported(kind).contains(&name) {
            return Err(format!(
                "The {kind} interface '{name}' is not supported by hardware type {}. Supported: {}.",
                self.name,
                self.supported(kind).join(", ")
            ));
        }
        Ok(())
    }
}

/// Every boot device Ironic's API names (what a driver supports is narrower).
pub const BOOT_DEVICES: &[&str] = &[
    "pxe",
    "disk",
    "cdrom",
    "bios",
    "safe",
    "wanboot",
    "iscsiboot",
    "floppy",
    "uefihttp",
];

use InterfaceKind::*;

/// `fake-hardware`: every interface has a working fake, for tests and simulations.
pub const FAKE_HARDWARE: HardwareType = HardwareType {
    name: "fake-hardware",
    supported: &[
        (Bios, &["fake", "no-bios"]),
        (Boot, &["fake", "ipxe", "pxe", "http-ipxe", "http"]),
        (Console, &["fake", "no-console"]),
        (Deploy, &["fake", "direct", "ramdisk"]),
        (Firmware, &["fake", "no-firmware"]),
        (Inspect, &["fake", "agent", "no-inspect"]),
        (Management, &["fake", "noop"]),
        (Network, &["noop", "flat", "neutron"]),
        (Power, &["fake"]),
        (Raid, &["fake", "no-raid", "agent"]),
        (Rescue, &["fake", "no-rescue", "agent"]),
        (Storage, &["noop", "fake"]),
        (Vendor, &["fake", "no-vendor"]),
    ],
};

/// `redfish`: a server managed through its BMC's Redfish service.
pub const REDFISH: HardwareType = HardwareType {
    name: "redfish",
    supported: &[
        (Bios, &["no-bios"]),
        (Boot, &["ipxe", "pxe", "redfish-virtual-media"]),
        (Console, &["no-console"]),
        (Deploy, &["direct", "ramdisk"]),
        (Firmware, &["no-firmware"]),
        (Inspect, &["no-inspect", "agent"]),
        (Management, &["redfish", "noop"]),
        (Network, &["noop", "flat", "neutron"]),
        (Power, &["redfish"]),
        (Raid, &["no-raid", "agent"]),
        (Rescue, &["no-rescue", "agent"]),
        (Storage, &["noop"]),
        (Vendor, &["no-vendor"]),
    ],
};

/// `ipmi`: a server managed through its BMC over IPMI (ipmitool).
pub const IPMI: HardwareType = HardwareType {
    name: "ipmi",
    supported: &[
        (Bios, &["no-bios"]),
        (Boot, &["ipxe", "pxe"]),
        (Console, &["no-console"]),
        (Deploy, &["direct", "ramdisk"]),
        (Firmware, &["no-firmware"]),
        (Inspect, &["no-inspect", "agent"]),
        (Management, &["ipmitool", "noop"]),
        (Network, &["noop", "flat", "neutron"]),
        (Power, &["ipmitool"]),
        (Raid, &["no-raid", "agent"]),
        (Rescue, &["no-rescue", "agent"]),
        (Storage, &["noop"]),
        (Vendor, &["no-vendor"]),
    ],
};

/// Every hardware type this build knows.
pub const HARDWARE_TYPES: &[&HardwareType] = &[&FAKE_HARDWARE, &IPMI, &REDFISH];

/// Finds a hardware type by name.
pub fn hardware_type(name: &str) -> Option<&'static HardwareType> {
    HARDWARE_TYPES.iter().copied().find(|h| h.name == name)
}

/// Names of every known hardware type.
pub fn hardware_type_names() -> Vec<&'static str> {
    HARDWARE_TYPES.iter().map(|h| h.name).collect()
}

/// The interface implementations this build enables, per kind.
pub fn enabled(kind: InterfaceKind) -> &'static [&'static str] {
    match kind {
        Bios => &["fake", "no-bios"],
        Boot => &["fake", "ipxe", "pxe"],
        Console => &["fake", "no-console"],
        Deploy => &["fake", "direct"],
        Firmware => &["fake", "no-firmware"],
        Inspect => &["fake", "no-inspect", "agent"],
        Management => &["fake", "ipmitool", "redfish", "noop"],
        Network => &["noop", "flat", "neutron"],
        Power => &["fake", "ipmitool", "redfish"],
        Raid => &["fake", "no-raid"],
        Rescue => &["fake", "no-rescue", "agent"],
        Storage => &["fake", "noop"],
        Vendor => &["fake", "no-vendor"],
    }
}

fn is_enabled(kind: InterfaceKind, name: &str) -> bool {
    enabled(kind).contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_hardware_has_a_default_for_every_interface() {
        for kind in InterfaceKind::ALL {
            assert!(FAKE_HARDWARE.default_interface(kind).is_some(), "{kind}");
        }
        assert_eq!(FAKE_HARDWARE.default_interface(Network), Some("noop"));
        assert_eq!(FAKE_HARDWARE.default_interface(Boot), Some("fake"));
    }

    #[test]
    fn explicit_choices_are_checked() {
        assert!(FAKE_HARDWARE.check_interface(Console, "no-console").is_ok());
        assert!(FAKE_HARDWARE.check_interface(Power, "ipmitool").is_err());
        assert!(hardware_type("nope").is_none());
    }
}
