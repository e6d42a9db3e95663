//! Builds the network service's switches from `[[network.switches]]`.

use std::sync::Arc;

use ferric_net::service::Switch;
use ferric_net::switch::linux_bridge::{LinuxBridge, Mode};

use crate::config::SwitchConfig;

pub fn build(configs: &[SwitchConfig]) -> Result<Vec<Switch>, String> {
    configs
        .iter()
        .map(|c| {
            let mode = Mode::parse(c.mode.as_deref().unwrap_or("bridge-per-vlan"))
                .map_err(|e| format!("switch {}: {e}", c.name))?;
            let bridge = c.bridge.clone().unwrap_or_else(|| "fbr".into());
            let driver = LinuxBridge::new(mode, bridge, c.netns.clone())
                .map_err(|e| format!("switch {}: {e}", c.name))?;
            Ok(Switch {
                name: c.name.clone(),
                switch_id: c.switch_id.clone(),
                switch_info: c.switch_info.clone(),
                driver: Arc::new(driver),
            })
        })
        .collect()
}
