//! Power changes and boot-device management through the node's driver.

use std::time::Duration;

use ferric_drivers::{driver_for, BootDevice, Driver, PowerTarget};
use ferric_types::{Node, NodeId};

use crate::lock::NodeLock;
use crate::{Conductor, ConductorError};

impl Conductor {
    async fn read_node(&self, uuid: NodeId) -> Result<(Node, Driver), ConductorError> {
        let node = self.db.node_get(uuid).await.map_err(|e| match e {
            ferric_db::DbError::NotFound => ConductorError::NodeNotFound(uuid.to_string()),
            other => other.into(),
        })?;
        let driver = driver_for(&node).map_err(|e| ConductorError::Invalid(e.to_string()))?;
        Ok((node, driver))
    }

    pub(crate) async fn start_power_change(
        &self,
        uuid: NodeId,
        target: PowerTarget,
        timeout: Option<Duration>,
    ) -> Result<(), ConductorError> {
        let permit = self.worker()?;
        let (lock, mut node) = NodeLock::acquire(&self.db, uuid, &self.host).await?;
        let driver = match driver_for(&node) {
            Ok(d) => d,
            Err(e) => {
                lock.release().await;
                return Err(ConductorError::Invalid(e.to_string()));
            }
        };
        node.target_power_state = Some(target.final_state().to_string());
        node.last_error = None;
        lock.save(&node).await?;
        let this = self.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let result = driver
                .power
                .set_power_state(&mut node, target, timeout)
                .await;
            node.target_power_state = None;
            if let Err(e) = result {
                tracing::warn!(node = %node.uuid, error = %e, "power change failed");
                node.last_error = Some(format!(
                    "Failed to change power state to '{}' of node {}: {e}",
                    target.final_state(),
                    node.uuid
                ));
            }
            if let Err(e) = lock.save(&node).await {
                tracing::error!(node = %node.uuid, error = %e, "could not record the power state");
            }
            let (severity, event) = match &node.last_error {
                Some(err) => (ferric_types::history::ERROR, err.clone()),
                None => (
                    ferric_types::history::INFO,
                    format!("Power state changed to \"{}\"", target.final_state()),
                ),
            };
            this.record(node.uuid, severity, "power", event).await;
            lock.release().await;
        });
        Ok(())
    }

    pub(crate) async fn boot_device(
        &self,
        uuid: NodeId,
    ) -> Result<Option<BootDevice>, ConductorError> {
        let (node, driver) = self.read_node(uuid).await?;
        Ok(driver.management.get_boot_device(&node).await?)
    }

    pub(crate) async fn boot_devices(&self, uuid: NodeId) -> Result<Vec<String>, ConductorError> {
        let (node, driver) = self.read_node(uuid).await?;
        Ok(driver
            .management
            .supported_boot_devices(&node)
            .into_iter()
            .map(str::to_string)
            .collect())
    }

    pub(crate) async fn apply_boot_device(
        &self,
        uuid: NodeId,
        device: BootDevice,
    ) -> Result<(), ConductorError> {
        let _permit = self.worker()?;
        let (lock, mut node) = NodeLock::acquire(&self.db, uuid, &self.host).await?;
        let result = match driver_for(&node) {
            Ok(driver) => driver
                .management
                .set_boot_device(&mut node, device)
                .await
                .map_err(ConductorError::from),
            Err(e) => Err(ConductorError::Invalid(e.to_string())),
        };
        let saved = match result {
            Ok(()) => lock.save(&node).await,
            Err(e) => Err(e),
        };
        lock.release().await;
        saved
    }

    pub(crate) async fn nmi(&self, uuid: NodeId) -> Result<(), ConductorError> {
        let _permit = self.worker()?;
        let (lock, node) = NodeLock::acquire(&self.db, uuid, &self.host).await?;
        let result = match driver_for(&node) {
            Ok(driver) => driver
                .management
                .inject_nmi(&node)
                .await
                .map_err(ConductorError::from),
            Err(e) => Err(ConductorError::Invalid(e.to_string())),
        };
        lock.release().await;
        result
    }
}

impl Conductor {
    pub(crate) async fn validation(
        &self,
        uuid: NodeId,
    ) -> Result<Vec<ferric_drivers::Validation>, ConductorError> {
        let node = self.db.node_get(uuid).await.map_err(|e| match e {
            ferric_db::DbError::NotFound => ConductorError::NodeNotFound(uuid.to_string()),
            other => other.into(),
        })?;
        match driver_for(&node) {
            Ok(driver) => Ok(driver.validate(&node)),
            Err(e) => Err(ConductorError::Invalid(e.to_string())),
        }
    }

    pub(crate) async fn console_info(
        &self,
        uuid: NodeId,
    ) -> Result<(bool, Option<serde_json::Value>), ConductorError> {
        let (node, driver) = self.read_node(uuid).await?;
        let info = if node.console_enabled {
            driver.console.info(&node)
        } else {
            None
        };
        Ok((node.console_enabled, info))
    }

    pub(crate) async fn switch_console(
        &self,
        uuid: NodeId,
        enabled: bool,
    ) -> Result<(), ConductorError> {
        let _permit = self.worker()?;
        let (lock, mut node) = NodeLock::acquire(&self.db, uuid, &self.host).await?;
        let result = match driver_for(&node) {
            Ok(driver) if enabled => driver
                .console
                .start(&node)
                .await
                .map_err(ConductorError::from),
            Ok(driver) => driver
                .console
                .stop(&node)
                .await
                .map_err(ConductorError::from),
            Err(e) => Err(ConductorError::Invalid(e.to_string())),
        };
        let saved = match result {
            Ok(()) => {
                node.console_enabled = enabled;
                lock.save(&node).await
            }
            Err(e) => Err(e),
        };
        lock.release().await;
        saved
    }
}

/// A firmware boot setting or virtual media change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootSetting {
    Mode(String),
    SecureBoot(bool),
    /// Insert an image as a virtual device (`cdrom`, `disk`, `floppy`).
    AttachMedia {
        device: String,
        url: String,
    },
    /// Eject the given virtual devices (all when empty).
    DetachMedia(Vec<String>),
}

impl Conductor {
    pub(crate) async fn apply_boot_setting(
        &self,
        uuid: NodeId,
        setting: BootSetting,
    ) -> Result<(), ConductorError> {
        let _permit = self.worker()?;
        let (lock, mut node) = NodeLock::acquire(&self.db, uuid, &self.host).await?;
        let result = match driver_for(&node) {
            Ok(driver) => match &setting {
                BootSetting::Mode(mode) => driver.management.set_boot_mode(&mut node, mode).await,
                BootSetting::SecureBoot(on) => {
                    driver.management.set_secure_boot(&mut node, *on).await
                }
                BootSetting::AttachMedia { device, url } => {
                    driver
                        .management
                        .attach_virtual_media(&mut node, device, url)
                        .await
                }
                BootSetting::DetachMedia(devices) => {
                    driver
                        .management
                        .detach_virtual_media(&mut node, devices)
                        .await
                }
            }
            .map_err(ConductorError::from),
            Err(e) => Err(ConductorError::Invalid(e.to_string())),
        };
        let saved = match result {
            Ok(()) => lock.save(&node).await,
            Err(e) => Err(e),
        };
        lock.release().await;
        saved
    }
}

impl Conductor {
    pub(crate) async fn bios_settings(
        &self,
        uuid: NodeId,
    ) -> Result<Vec<(String, serde_json::Value)>, ConductorError> {
        let (node, driver) = self.read_node(uuid).await?;
        Ok(driver.bios.settings(&node)?)
    }

    /// Records the RAID layout the next `raid.create_configuration` step builds.
    pub(crate) async fn store_target_raid(
        &self,
        uuid: NodeId,
        target: ferric_types::JsonObject,
    ) -> Result<(), ConductorError> {
        let _permit = self.worker()?;
        let (lock, mut node) = NodeLock::acquire(&self.db, uuid, &self.host).await?;
        node.target_raid_config = target;
        let saved = lock.save(&node).await;
        lock.release().await;
        saved
    }
}

impl Conductor {
    pub(crate) async fn vendor_methods(
        &self,
        uuid: NodeId,
    ) -> Result<Vec<ferric_drivers::VendorMethod>, ConductorError> {
        let (_, driver) = self.read_node(uuid).await?;
        Ok(driver.vendor.methods())
    }

    /// Runs a vendor method; `(true, None)` when it was started asynchronously.
    pub(crate) async fn vendor_call(
        &self,
        uuid: NodeId,
        method: String,
        http_method: String,
        body: serde_json::Value,
    ) -> Result<(bool, Option<serde_json::Value>), ConductorError> {
        let (node, driver) = self.read_node(uuid).await?;
        let known = driver.vendor.methods();
        let Some(spec) = known.iter().find(|m| m.name == method) else {
            if known.is_empty() {
                return Err(ConductorError::Invalid(format!(
                    "Node {uuid} has no vendor methods."
                )));
            }
            let names: Vec<&str> = known.iter().map(|m| m.name).collect();
            return Err(ConductorError::Invalid(format!(
                "No handler for method {method}; node {uuid} offers {}",
                names.join(", ")
            )));
        };
        if !spec.http_methods.contains(&http_method.as_str()) {
            return Err(ConductorError::Invalid(format!(
                "The method {method} does not support HTTP {http_method}; use {}",
                spec.http_methods.join(", ")
            )));
        }
        let permit = self.worker()?;
        let lock = if spec.require_exclusive_lock {
            Some(NodeLock::acquire(&self.db, uuid, &self.host).await?.0)
        } else {
            None
        };
        if spec.is_async {
            tokio::spawn(async move {
                let _permit = permit;
                if let Err(e) = driver.vendor.call(&node, &method, body).await {
                    tracing::warn!(node = %uuid, method, error = %e, "vendor method failed");
                }
                if let Some(lock) = lock {
                    lock.release().await;
                }
            });
            return Ok((true, None));
        }
        let result = driver.vendor.call(&node, &method, body).await;
        if let Some(lock) = lock {
            lock.release().await;
        }
        drop(permit);
        Ok((false, result?))
    }
}

impl Conductor {
    pub(crate) async fn indicator_list(
        &self,
        uuid: NodeId,
    ) -> Result<Vec<ferric_drivers::Indicator>, ConductorError> {
        let (node, driver) = self.read_node(uuid).await?;
        Ok(driver.management.indicators(&node))
    }

    pub(crate) async fn indicator_set(
        &self,
        uuid: NodeId,
        name: String,
        state: String,
    ) -> Result<(), ConductorError> {
        let _permit = self.worker()?;
        let (lock, mut node) = NodeLock::acquire(&self.db, uuid, &self.host).await?;
        let result = match driver_for(&node) {
            Ok(driver) => driver
                .management
                .set_indicator(&mut node, &name, &state)
                .await
                .map_err(ConductorError::from),
            Err(e) => Err(ConductorError::Invalid(e.to_string())),
        };
        let saved = match result {
            Ok(()) => lock.save(&node).await,
            Err(e) => Err(e),
        };
        lock.release().await;
        saved
    }
}
