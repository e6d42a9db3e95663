//! Out-of-band management through the node's driver: boot device, boot mode, secure
//! boot, virtual media, NMI, indicators, the console, BIOS settings, the target RAID
//! configuration, vendor passthru, and validation. Reads need no lock; changes take
//! a worker and the node's lock, and save the node only when the driver succeeded.

use ferric_drivers::{BootDevice, BoxFuture, Driver, Indicator, VendorMethod};
use ferric_types::{JsonObject, Node, NodeId};
use serde_json::Value;

use ferric_conductor_api::BootSetting;

use crate::lock::NodeLock;
use crate::{Conductor, ConductorError};

impl Conductor {
    /// The node and its driver, for reads.
    pub(crate) async fn read_node(&self, uuid: NodeId) -> Result<(Node, Driver), ConductorError> {
        let node = self.db.node_get(uuid).await.map_err(|e| match e {
            ferric_db::DbError::NotFound => ConductorError::NodeNotFound(uuid.to_string()),
            other => other.into(),
        })?;
        let driver = self
            .driver_for(&node)
            .map_err(|e| ConductorError::Invalid(e.to_string()))?;
        Ok((node, driver))
    }

    /// Runs `change` on the locked node with its driver; saves the node if it worked.
    async fn change_locked<F>(&self, uuid: NodeId, change: F) -> Result<(), ConductorError>
    where
        F: for<'a> FnOnce(&'a mut Node, &'a Driver) -> BoxFuture<'a, Result<(), ConductorError>>,
    {
        let _permit = self.worker()?;
        let (lock, mut node) = NodeLock::acquire(&self.db, uuid, &self.host).await?;
        let result = match self.driver_for(&node) {
            Ok(driver) => change(&mut node, &driver).await,
            Err(e) => Err(ConductorError::Invalid(e.to_string())),
        };
        let saved = match result {
            Ok(()) => lock.save(&node).await,
            Err(e) => Err(e),
        };
        lock.release().await;
        saved
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
        self.change_locked(uuid, |node, driver| {
            Box::pin(async move { Ok(driver.management.set_boot_device(node, device).await?) })
        })
        .await
    }

    pub(crate) async fn nmi(&self, uuid: NodeId) -> Result<(), ConductorError> {
        self.change_locked(uuid, |node, driver| {
            Box::pin(async move { Ok(driver.management.inject_nmi(node).await?) })
        })
        .await
    }

    pub(crate) async fn apply_boot_setting(
        &self,
        uuid: NodeId,
        setting: BootSetting,
    ) -> Result<(), ConductorError> {
        self.change_locked(uuid, |node, driver| {
            Box::pin(async move {
                let m = &driver.management;
                Ok(match &setting {
                    BootSetting::Mode(mode) => m.set_boot_mode(node, mode).await,
                    BootSetting::SecureBoot(on) => m.set_secure_boot(node, *on).await,
                    BootSetting::AttachMedia { device, url } => {
                        m.attach_virtual_media(node, device, url).await
                    }
                    BootSetting::DetachMedia(devices) => {
                        m.detach_virtual_media(node, devices).await
                    }
                }?)
            })
        })
        .await
    }

    pub(crate) async fn indicator_list(
        &self,
        uuid: NodeId,
    ) -> Result<Vec<Indicator>, ConductorError> {
        let (node, driver) = self.read_node(uuid).await?;
        Ok(driver.management.indicators(&node))
    }

    pub(crate) async fn virtual_media(
        &self,
        uuid: NodeId,
    ) -> Result<Vec<ferric_drivers::VirtualMedia>, ConductorError> {
        let (node, driver) = self.read_node(uuid).await?;
        driver.management.validate(&node).await?;
        Ok(driver.management.virtual_media(&node).await?)
    }

    pub(crate) async fn indicator_set(
        &self,
        uuid: NodeId,
        name: String,
        state: String,
    ) -> Result<(), ConductorError> {
        self.change_locked(uuid, |node, driver| {
            Box::pin(async move { Ok(driver.management.set_indicator(node, &name, &state).await?) })
        })
        .await
    }

    pub(crate) async fn validation(
        &self,
        uuid: NodeId,
    ) -> Result<Vec<ferric_drivers::Validation>, ConductorError> {
        let (node, driver) = self.read_node(uuid).await?;
        Ok(driver.validate(&node).await)
    }

    pub(crate) async fn console_info(
        &self,
        uuid: NodeId,
    ) -> Result<(bool, Option<Value>), ConductorError> {
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
        self.change_locked(uuid, |node, driver| {
            Box::pin(async move {
                if enabled {
                    driver.console.start(node).await?;
                } else {
                    driver.console.stop(node).await?;
                }
                node.console_enabled = enabled;
                Ok(())
            })
        })
        .await
    }

    pub(crate) async fn bios_settings(
        &self,
        uuid: NodeId,
    ) -> Result<Vec<(String, Value)>, ConductorError> {
        let (node, driver) = self.read_node(uuid).await?;
        Ok(driver.bios.settings(&node)?)
    }

    /// Records the RAID layout the next `raid.create_configuration` step builds.
    pub(crate) async fn store_target_raid(
        &self,
        uuid: NodeId,
        target: JsonObject,
    ) -> Result<(), ConductorError> {
        self.change_locked(uuid, |node, _driver| {
            Box::pin(async move {
                node.target_raid_config = target;
                Ok(())
            })
        })
        .await
    }

    pub(crate) async fn vendor_methods(
        &self,
        uuid: NodeId,
    ) -> Result<Vec<VendorMethod>, ConductorError> {
        let (_, driver) = self.read_node(uuid).await?;
        Ok(driver.vendor.methods())
    }

    /// Runs a vendor method; `(true, None)` when it was started asynchronously.
    pub(crate) async fn vendor_call(
        &self,
        uuid: NodeId,
        method: String,
        http_method: String,
        body: Value,
    ) -> Result<(bool, Option<Value>), ConductorError> {
        let (node, driver) = self.read_node(uuid).await?;
        let known = driver.vendor.methods();
        let Some(spec) = known.iter().find(|m| m.name == method) else {
            if known.is_empty() {
                return Err(ConductorError::Invalid(format!(
                    "Node {uuid} has no vendor methods."
                )));
            }
            let names: Vec<&str> = known.iter().map(|m| m.name.as_str()).collect();
            return Err(ConductorError::Invalid(format!(
                "No handler for method {method}; node {uuid} offers {}",
                names.join(", ")
            )));
        };
        if !spec.http_methods.contains(&http_method) {
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
            self.spawn_work(permit, async move {
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
