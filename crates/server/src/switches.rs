//! Builds the network service's switches from `[[network.switches]]`.

use std::path::Path;
use std::sync::Arc;

use ferric_net::service::Switch;
use ferric_net::switch::generic_ssh::{GenericSsh, SshLogin, Templates};
use ferric_net::switch::linux_bridge::{LinuxBridge, Mode};
use ferric_net::switch::sim::SimSwitch;
use ferric_net::switch::SwitchDriver;

use crate::config::SwitchConfig;

fn linux_bridge(c: &SwitchConfig) -> Result<Arc<dyn SwitchDriver>, String> {
    let mode = Mode::parse(c.mode.as_deref().unwrap_or("bridge-per-vlan"))?;
    let bridge = c.bridge.clone().unwrap_or_else(|| "fbr".into());
    Ok(Arc::new(LinuxBridge::new(mode, bridge, c.netns.clone())?))
}

fn generic_ssh(c: &SwitchConfig, data_dir: &Path) -> Result<Arc<dyn SwitchDriver>, String> {
    let host = c.host.clone().ok_or("generic-ssh needs host")?;
    let username = c.username.clone().ok_or("generic-ssh needs username")?;
    if c.password.is_none() && c.key_file.is_none() {
        return Err("generic-ssh needs password or key_file".into());
    }
    let templates = match (&c.bind_commands, &c.unbind_commands, &c.os) {
        (Some(bind), Some(unbind), _) => Templates {
            bind: bind.clone(),
            unbind: unbind.clone(),
            lag_bind: c.lag_bind_commands.clone().unwrap_or_default(),
            lag_member_bind: c.lag_member_bind_commands.clone().unwrap_or_default(),
            lag_unbind: c.lag_unbind_commands.clone().unwrap_or_default(),
            lag_member_unbind: c.lag_member_unbind_commands.clone().unwrap_or_default(),
        },
        (None, None, Some(os)) => Templates::for_os(os)?,
        _ => return Err("generic-ssh needs os, or both bind_commands and unbind_commands".into()),
    };
    let login = SshLogin {
        host,
        port: c.port.unwrap_or(22),
        username,
        password: c.password.clone(),
        key_file: c.key_file.clone(),
        known_hosts: data_dir.join("switch_known_hosts"),
        askpass: data_dir.join("switch_askpass"),
    };
    Ok(Arc::new(GenericSsh::new(login, templates)))
}

fn sim(c: &SwitchConfig) -> Result<Arc<dyn SwitchDriver>, String> {
    let url = c.url.as_deref().ok_or("sim needs url")?;
    let login = match (&c.username, &c.password) {
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        (None, None) => None,
        _ => return Err("sim needs both username and password, or neither".into()),
    };
    Ok(Arc::new(SimSwitch::new(url, login)?))
}

pub fn build(configs: &[SwitchConfig], data_dir: &Path) -> Result<Vec<Switch>, String> {
    configs
        .iter()
        .map(|c| {
            let driver = match c.driver.as_str() {
                "generic-ssh" => generic_ssh(c, data_dir),
                "sim" => sim(c),
                _ => linux_bridge(c),
            }
            .map_err(|e| format!("switch {}: {e}", c.name))?;
            Ok(Switch {
                name: c.name.clone(),
                switch_id: c.switch_id.clone(),
                switch_info: c.switch_info.clone(),
                driver,
            })
        })
        .collect()
}
