//! The `ipxe` and `pxe` boot interfaces: the node network-boots iPXE, which loads
//! the deploy ramdisk. `prepare_ramdisk` checks that the node's `deploy_kernel` and
//! `deploy_ramdisk` (http(s) URLs or local paths) can be fetched — caching them —
//! renders its iPXE script with the agent's kernel parameters, and records both in
//! the database as the node's boot config. Every process with the boot role serves
//! it as `<node uuid>/config`, `deploy_kernel` and `deploy_ramdisk` over HTTP
//! (`/boot/…`) and TFTP, whichever conductor prepared it. The two interfaces render
//! the same files; the DHCP server points `ipxe` nodes at them over HTTP and `pxe`
//! nodes over TFTP. `prepare_instance` removes the config (whole-disk images boot
//! from their disk); `clean_up_*` removes it too.

use std::sync::Arc;

use ferric_db::Datastore;
use ferric_types::boot_config::{BootConfig, SCRIPT_FILE};
use ferric_types::provision::ProvisionState;
use ferric_types::Node;
use serde_json::Value;

use crate::image_cache::ImageCache;
use crate::interfaces::{BootInterface, BoxFuture, DriverError};

/// What rendered boot scripts point the ramdisk at.
#[derive(Debug, Clone)]
pub struct NetbootSettings {
    /// The URL the agent reaches the API at (`ipa-api-url`); empty when unknown.
    pub api_url: String,
    /// Kernel parameters added before the agent's (`[boot] kernel_append_params`;
    /// a node's `driver_info/kernel_append_params` replaces them).
    pub kernel_append: String,
}

/// The rendered script of a node, relative to the boot root.
pub fn config_path(node_uuid: &str) -> String {
    format!("{node_uuid}/{SCRIPT_FILE}")
}

/// `ipxe` (files over HTTP) or `pxe` (over TFTP); they differ only in what the DHCP
/// server tells the node, so one implementation serves both.
pub struct NetBoot {
    /// None when network boot is not configured on this conductor.
    pub settings: Option<NetbootSettings>,
    pub cache: Option<Arc<ImageCache>>,
    /// Where boot configs are recorded.
    pub store: Option<Datastore>,
}

fn driver_info_str<'a>(node: &'a Node, key: &str) -> Result<&'a str, DriverError> {
    node.driver_info
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            DriverError::Config(format!(
                "node {} needs driver_info/{key} (an http(s) URL or a local path) to network-boot the deploy ramdisk",
                node.uuid
            ))
        })
}

/// The iPXE script that boots the deploy ramdisk; `deploy_kernel` and
/// `deploy_ramdisk` sit next to it, so the names resolve against the script's own
/// URL whichever protocol fetched it.
fn render(api_url: &str, append: &str) -> String {
    format!(
        "#!ipxe\n\
         :retry\n\
         kernel --name kernel deploy_kernel {append} ipa-api-url={api_url} BOOTIF=${{mac}} initrd=ramdisk || goto failed\n\
         initrd --name ramdisk deploy_ramdisk || goto failed\n\
         boot || goto failed\n\
         :failed\n\
         echo Ferric: loading the deploy ramdisk failed; retrying in 10 seconds\n\
         sleep 10\n\
         goto retry\n"
    )
}

/// The `driver_info` keys of the kernel and ramdisk the node boots now: the rescue
/// ones while it is being rescued (when given; the deploy ramdisk rescues too).
fn ramdisk_keys(node: &Node) -> (&'static str, &'static str) {
    let rescuing = matches!(
        node.provision_state,
        ProvisionState::Rescuing | ProvisionState::RescueWait
    );
    if rescuing && node.driver_info.contains_key("rescue_kernel") {
        ("rescue_kernel", "rescue_ramdisk")
    } else {
        ("deploy_kernel", "deploy_ramdisk")
    }
}

impl NetBoot {
    fn store(&self) -> Result<&Datastore, DriverError> {
        self.store.as_ref().ok_or_else(not_configured)
    }

    /// Forgets the node's boot config: it network-boots nothing any more.
    async fn remove(&self, node: &Node) -> Result<(), DriverError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        store.boot_config_delete(node.uuid).await.map_err(|e| {
            DriverError::Hardware(format!(
                "removing the boot config of node {}: {e}",
                node.uuid
            ))
        })?;
        Ok(())
    }

    async fn prepare(&self, node: &Node) -> Result<(), DriverError> {
        self.validate(node)?;
        let s = self.settings.as_ref().ok_or_else(not_configured)?;
        if s.api_url.is_empty() {
            return Err(DriverError::Config(
                "the deploy ramdisk needs the API's URL: set [deploy] http_url or --public-endpoint".into(),
            ));
        }
        let cache = self.cache.as_ref().ok_or_else(|| {
            DriverError::Config("network boot needs the conductor's image cache".into())
        })?;
        let store = self.store()?;
        let (kernel_key, ramdisk_key) = ramdisk_keys(node);
        let kernel = driver_info_str(node, kernel_key)?;
        let ramdisk = driver_info_str(node, ramdisk_key)?;
        // Fetched now, so a bad source fails the preparation, not the boot.
        cache.local_copy(kernel).await?;
        cache.local_copy(ramdisk).await?;
        let append = node
            .driver_info
            .get("kernel_append_params")
            .and_then(Value::as_str)
            .unwrap_or(&s.kernel_append);
        if append.chars().any(char::is_control) {
            return Err(DriverError::Config(
                "kernel_append_params may not contain control characters (they would end the iPXE command)".into(),
            ));
        }
        let api_url = s.api_url.trim_end_matches('/');
        let mut append = append.to_string();
        let inspecting = matches!(
            node.provision_state,
            ProvisionState::Inspecting | ProvisionState::InspectWait
        );
        if inspecting && !append.contains("ipa-inspection-callback-url=") {
            // The agent posts what it finds before it looks its node up.
            let base = api_url.trim_end_matches("/v1");
            append.push_str(&format!(
                " ipa-inspection-callback-url={base}/v1/continue_inspection"
            ));
        }
        let config = BootConfig {
            node_uuid: node.uuid,
            script: render(api_url, append.trim_start()),
            kernel: kernel.to_string(),
            ramdisk: ramdisk.to_string(),
        };
        store.boot_config_put(&config).await.map_err(|e| {
            DriverError::Hardware(format!(
                "recording the boot config of node {}: {e}",
                node.uuid
            ))
        })?;
        tracing::info!(node = %node.uuid, "deploy ramdisk boot config recorded");
        Ok(())
    }
}

fn not_configured() -> DriverError {
    DriverError::Config("network boot is not configured on this conductor".into())
}

impl BootInterface for NetBoot {
    fn prepare_ramdisk<'a>(&'a self, node: &'a mut Node) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(self.prepare(node))
    }

    fn clean_up_ramdisk<'a>(
        &'a self,
        node: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(self.remove(node))
    }

    fn prepare_instance<'a>(
        &'a self,
        node: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        // Whole-disk images boot from their disk (the deploy sets the boot device);
        // the ramdisk config must not catch the next network boot.
        Box::pin(async move {
            let has = |k: &str| {
                node.instance_info
                    .get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.is_empty())
            };
            if has("kernel") || has("ramdisk") {
                return Err(DriverError::Unsupported(
                    "network-booting a partition image's kernel and ramdisk is not supported; deploy a whole-disk image".into(),
                ));
            }
            self.remove(node).await
        })
    }

    fn clean_up_instance<'a>(
        &'a self,
        node: &'a mut Node,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(self.remove(node))
    }

    fn validate(&self, node: &Node) -> Result<(), DriverError> {
        let (kernel, ramdisk) = ramdisk_keys(node);
        driver_info_str(node, kernel)?;
        driver_info_str(node, ramdisk)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_loads_the_neighbouring_files_with_the_agent_parameters() {
        let s = render("http://10.0.0.1:6385", "nofb vga=normal");
        assert!(s.starts_with("#!ipxe\n"));
        assert!(s.contains(
            "kernel --name kernel deploy_kernel nofb vga=normal ipa-api-url=http://10.0.0.1:6385 BOOTIF=${mac} initrd=ramdisk"
        ));
        assert!(s.contains("initrd --name ramdisk deploy_ramdisk"));
        assert!(s.contains("goto retry"));
    }
}
