//! The interface traits drivers implement, and the values they exchange.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use ferric_types::management::{
    BootDevice, Indicator, PowerTarget, VendorMethod, VirtualMedia,
};
use ferric_types::Node;

/// A boxed future, so interfaces can be used as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a driver call failed, in words for `last_error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    /// The node's driver settings are incomplete or wrong.
    #[error("{0}")]
    Config(String),
    /// The hardware refused or failed the operation.
    #[error("{0}")]
    Hardware(String),
    /// The operation is not possible on this hardware.
    #[error("{0}")]
    Unsupported(String),
}

/// Power control.
pub trait PowerInterface: Send + Sync {
    /// Reads the node's power state from the hardware.
    fn get_power_state<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<String, DriverError>>;
    /// Changes it, returning once the hardware reports the new state or `timeout` passes.
    fn set_power_state<'a>(
        &'a self,
        node: &'a mut Node,
        target: PowerTarget,
        timeout: Option<Duration>,
    ) -> BoxFuture<'a, Result<(), DriverError>>;
    /// Checks the node's power settings.
    fn validate<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>>;
}

/// Boot devices and other out-of-band management.
pub trait ManagementInterface: Send + Sync {
    fn supported_boot_devices(&self, node: &Node) -> Vec<&'static str>;
    fn get_boot_device<'a>(
        &'a self,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<Option<BootDevice>, DriverError>>;
    fn set_boot_device<'a>(
        &'a self,
        node: &'a mut Node,
        device: BootDevice,
    ) -> BoxFuture<'a, Result<(), DriverError>>;
    fn inject_nmi<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>>;
    /// Switches the firmware between `uefi` and `bios` boot.
    fn set_boot_mode<'a>(
        &'a self,
        node: &'a mut Node,
        mode: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>>;
    fn set_secure_boot<'a>(
        &'a self,
        node: &'a mut Node,
        enabled: bool,
    ) -> BoxFuture<'a, Result<(), DriverError>>;
    /// Inserts an image as a virtual `cdrom`, `disk` or `floppy`.
    fn attach_virtual_media<'a>(
        &'a self,
        node: &'a mut Node,
        device: &'a str,
        url: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>>;
    /// Ejects the virtual media of the given device types (all when empty).
    fn detach_virtual_media<'a>(
        &'a self,
        node: &'a mut Node,
        devices: &'a [String],
    ) -> BoxFuture<'a, Result<(), DriverError>>;
    /// The node's virtual media devices and what they hold (API 1.93).
    fn virtual_media<'a>(
        &'a self,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<Vec<VirtualMedia>, DriverError>>;
    /// The firmware components the BMC reports (BIOS, BMC, NICs).
    fn firmware<'a>(
        &'a self,
        node: &'a Node,
    ) -> BoxFuture<'a, Result<Vec<ferric_types::firmware::FirmwareReading>, DriverError>>;
    /// What the BMC says of the machine's health (`OK`, `Warning`, `Critical`),
    /// `None` when it cannot tell (API 1.109).
    fn health<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<Option<String>, DriverError>>;
    /// The node's indicators (LEDs): `(name@component, read-only, allowed states, state)`.
    fn indicators(&self, node: &Node) -> Vec<Indicator>;
    /// Sets an indicator's state.
    fn set_indicator<'a>(
        &'a self,
        node: &'a mut Node,
        name: &'a str,
        state: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>>;
    fn validate<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>>;
}

/// The serial console.
pub trait ConsoleInterface: Send + Sync {
    fn start<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>>;
    fn stop<'a>(&'a self, node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>>;
    /// How to reach the console while it is enabled (`{"type", "url"}`).
    fn info(&self, node: &Node) -> Option<serde_json::Value>;
}

/// BIOS settings as the hardware reports them.
pub trait BiosInterface: Send + Sync {
    fn settings(&self, node: &Node) -> Result<Vec<(String, serde_json::Value)>, DriverError>;
}

/// Vendor passthru: driver-specific calls.
pub trait VendorInterface: Send + Sync {
    fn methods(&self) -> Vec<VendorMethod>;
    /// Runs a method; the value is what the API returns.
    fn call<'a>(
        &'a self,
        node: &'a Node,
        method: &'a str,
        body: serde_json::Value,
    ) -> BoxFuture<'a, Result<Option<serde_json::Value>, DriverError>>;
}

/// The kinds of provisioning work a conductor asks a driver to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkKind {
    Verify,
    Clean,
    Inspect,
    Deploy,
    TearDown,
    Adopt,
    Rescue,
    Unrescue,
    Service,
}

impl WorkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkKind::Verify => "verify",
            WorkKind::Clean => "clean",
            WorkKind::Inspect => "inspect",
            WorkKind::Deploy => "deploy",
            WorkKind::TearDown => "tear_down",
            WorkKind::Adopt => "adopt",
            WorkKind::Rescue => "rescue",
            WorkKind::Unrescue => "unrescue",
            WorkKind::Service => "service",
        }
    }
}

/// Provisioning work that is not steps: verify, inspect, adopt, rescue, unrescue,
/// tear down. `Done` when finished; `Wait` when it waits for the ramdisk agent's
/// heartbeat, after which it runs again to finish.
pub trait WorkInterface: Send + Sync {
    fn run<'a>(
        &'a self,
        node: &'a mut Node,
        kind: WorkKind,
    ) -> BoxFuture<'a, Result<crate::steps::StepOutcome, DriverError>>;
}

/// How a node boots while Ferric works on it: the deploy ramdisk from the network,
/// then its instance.
pub trait BootInterface: Send + Sync {
    /// Prepares the node's next boot to start the deploy ramdisk (renders its
    /// network-boot config, caches the kernel and ramdisk).
    fn prepare_ramdisk<'a>(&'a self, node: &'a mut Node) -> BoxFuture<'a, Result<(), DriverError>>;
    /// Removes what `prepare_ramdisk` left.
    fn clean_up_ramdisk<'a>(&'a self, node: &'a mut Node)
        -> BoxFuture<'a, Result<(), DriverError>>;
    /// Prepares the node to boot its deployed instance.
    fn prepare_instance<'a>(&'a self, node: &'a mut Node)
        -> BoxFuture<'a, Result<(), DriverError>>;
    /// Removes everything kept for the node's instance boot.
    fn clean_up_instance<'a>(
        &'a self,
        node: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>>;
    /// Checks the node's boot settings.
    fn validate(&self, node: &Node) -> Result<(), DriverError>;
}
