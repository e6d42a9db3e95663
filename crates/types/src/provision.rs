//! Provision states, byte for byte as Ironic names them. The transition table arrives
//! with the conductor; this module knows the states and the groups the API checks.

use std::fmt;
use std::str::FromStr;

macro_rules! states {
    ($($variant:ident => $text:literal,)*) => {
        /// A node's provision state.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProvisionState { $($variant,)* }

        /// States in which a node boots from the network (into the deploy ramdisk): the
/// DHCP server answers its ports and its boot script loads the ramdisk.
pub const NETBOOT_STATES: &[ProvisionState] = &[
    Deploying,
    WaitCallBack,
    Cleaning,
    CleanWait,
    Inspecting,
    InspectWait,
    Rescuing,
    RescueWait,
    Servicing,
    ServiceWait,
];

impl ProvisionState {
            /// Every state, in declaration order.
            pub const ALL: &'static [ProvisionState] = &[$(ProvisionState::$variant,)*];

            /// The wire name (`wait call-back`, `deploy failed`…).
            pub fn as_str(self) -> &'static str {
                match self { $(ProvisionState::$variant => $text,)* }
            }
        }

        impl FromStr for ProvisionState {
            type Err = UnknownState;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(ProvisionState::$variant),)*
                    _ => Err(UnknownState(s.to_string())),
                }
            }
        }
    };
}

states! {
    Enroll => "enroll",
    Verifying => "verifying",
    Manageable => "manageable",
    Available => "available",
    Active => "active",
    Error => "error",
    Deploying => "deploying",
    WaitCallBack => "wait call-back",
    DeployFailed => "deploy failed",
    DeployHold => "deploy hold",
    Deleting => "deleting",
    Cleaning => "cleaning",
    CleanWait => "clean wait",
    CleanFailed => "clean failed",
    CleanHold => "clean hold",
    Inspecting => "inspecting",
    InspectWait => "inspect wait",
    InspectFailed => "inspect failed",
    Adopting => "adopting",
    AdoptFailed => "adopt failed",
    Rescue => "rescue",
    Rescuing => "rescuing",
    RescueWait => "rescue wait",
    RescueFailed => "rescue failed",
    Unrescuing => "unrescuing",
    UnrescueFailed => "unrescue failed",
    Servicing => "servicing",
    ServiceWait => "service wait",
    ServiceFailed => "service failed",
    ServiceHold => "service hold",
}

/// A string that names no provision state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid provision state {0:?}")]
pub struct UnknownState(pub String);

impl fmt::Display for ProvisionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

use ProvisionState::*;

impl ProvisionState {
    /// States in which a node's general fields may be patched although a provision
    /// action is in progress (`target_provision_state` set).
    pub fn allows_update_while_busy(self) -> bool {
        matches!(
            self,
            DeployFailed
                | Inspecting
                | InspectFailed
                | InspectWait
                | CleanFailed
                | Error
                | Verifying
                | AdoptFailed
                | RescueFailed
                | UnrescueFailed
                | ServiceHold
                | ServiceFailed
        )
    }

    /// States in which the hardware interfaces of a node may be changed.
    pub fn allows_interface_update(self) -> bool {
        matches!(
            self,
            Enroll | Inspecting | InspectWait | Manageable | Available
        )
    }

    /// States in which a node that already has a resource class may change it.
    pub fn allows_resource_class_update(self) -> bool {
        matches!(
            self,
            Enroll | Manageable | Available | Inspecting | InspectWait | InspectFailed
        )
    }

    /// States from which a node may be deleted without being in maintenance.
    pub fn allows_delete(self) -> bool {
        matches!(self, Manageable | Enroll | AdoptFailed | Available)
    }

    /// States Ferric moves a node on from by itself (work or a wait for the ramdisk
    /// agent in progress); a node in any other state rests until asked.
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            Verifying
                | Deploying
                | WaitCallBack
                | Deleting
                | Cleaning
                | CleanWait
                | Inspecting
                | InspectWait
                | Adopting
                | Rescuing
                | RescueWait
                | Unrescuing
                | Servicing
                | ServiceWait
        )
    }

    /// States in which the `protected` flag may be set.
    pub fn allows_protection(self) -> bool {
        matches!(self, Active | Rescue)
    }
}

impl serde::Serialize for ProvisionState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ProvisionState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in ProvisionState::ALL {
            assert_eq!(s.as_str().parse::<ProvisionState>().unwrap(), *s);
        }
        assert_eq!(ProvisionState::ALL.len(), 30);
        assert!("deleted".parse::<ProvisionState>().is_err());
    }
}
