//! The `noop` management interface (Ironic's): for machines whose boot order an
//! operator set by hand once — network first, then disk — usually with `fake` or
//! manual power. It accepts any boot device and changes nothing; what the
//! machine boots is not known. Everything else a BMC would do is refused.

use ferric_types::hardware::BOOT_DEVICES;
use ferric_types::Node;

use crate::interfaces::{
    BootDevice, BoxFuture, DriverError, Indicator, ManagementInterface, VirtualMedia,
};

/// The `noop` management interface.
pub struct NoopManagement;

fn unsupported<T: Send + 'static>(what: &str) -> BoxFuture<'static, Result<T, DriverError>> {
    let why = format!("the noop management interface cannot {what}");
    Box::pin(async move { Err(DriverError::Unsupported(why)) })
}

impl ManagementInterface for NoopManagement {
    fn supported_boot_devices(&self, _node: &Node) -> Vec<&'static str> {
        BOOT_DEVICES.to_vec()
    }

    fn get_boot_device<'a>(
        &'a self,
        _node: &'a Node,
    ) -> BoxFuture<'a, Result<Option<BootDevice>, DriverError>> {
        Box::pin(async { Ok(None) })
    }

    fn set_boot_device<'a>(
        &'a self,
        node: &'a mut Node,
        device: BootDevice,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async move {
            if !BOOT_DEVICES.contains(&device.device.as_str()) {
                return Err(DriverError::Unsupported(format!(
                    "{} is not a known boot device",
                    device.device
                )));
            }
            tracing::debug!(node = %node.uuid, device = %device.device, "noop management: boot device left as it is");
            Ok(())
        })
    }

    fn inject_nmi<'a>(&'a self, _node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        unsupported("inject an NMI")
    }

    fn set_boot_mode<'a>(
        &'a self,
        _node: &'a mut Node,
        _mode: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        unsupported("change the boot mode")
    }

    fn set_secure_boot<'a>(
        &'a self,
        _node: &'a mut Node,
        _enabled: bool,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        unsupported("change secure boot")
    }

    fn attach_virtual_media<'a>(
        &'a self,
        _node: &'a mut Node,
        _device: &'a str,
        _url: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        unsupported("attach virtual media")
    }

    fn detach_virtual_media<'a>(
        &'a self,
        _node: &'a mut Node,
        _devices: &'a [String],
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        unsupported("detach virtual media")
    }

    fn virtual_media<'a>(
        &'a self,
        _node: &'a Node,
    ) -> BoxFuture<'a, Result<Vec<VirtualMedia>, DriverError>> {
        unsupported("read virtual media")
    }

    fn firmware<'a>(
        &'a self,
        _node: &'a Node,
    ) -> BoxFuture<'a, Result<Vec<ferric_types::firmware::FirmwareReading>, DriverError>> {
        unsupported("read firmware")
    }

    fn health<'a>(&'a self, _node: &'a Node) -> BoxFuture<'a, Result<Option<String>, DriverError>> {
        Box::pin(async { Ok(None) })
    }

    fn indicators(&self, _node: &Node) -> Vec<Indicator> {
        Vec::new()
    }

    fn set_indicator<'a>(
        &'a self,
        _node: &'a mut Node,
        _name: &'a str,
        _state: &'a str,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        unsupported("set indicators")
    }

    fn validate<'a>(&'a self, _node: &'a Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(async { Ok(()) })
    }
}
