//! `linux-bridge`: a Linux host as the top-of-rack switch of labs and tests; a
//! switch port is a network interface of that host (a veth end, a physical NIC).
//! Two modes:
//! - `bridge-per-vlan`: one bridge per segment (`<prefix><vlan>`, `<prefix>flat`),
//!   created on first use; binding moves the port into the segment's bridge,
//!   unbinding takes it out of every bridge. Works on kernels without 802.1Q or
//!   bridge VLAN filtering (this lab's).
//! - `vlan-filtering`: one VLAN-aware bridge; binding makes the port an untagged
//!   access port of the VLAN (`bridge vlan` with `pvid untagged`), unbinding removes
//!   its VLANs. Needs a kernel with bridge VLAN filtering.
//!
//! Commands run with `ip` / `bridge`, inside a network namespace when one is
//! configured (the lab "switch" of the tests). One port is changed at a time.

use tokio::process::Command;
use tokio::sync::Mutex;

use super::{BoxFuture, Segment, SwitchDriver};

/// How the bridge host separates segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    BridgePerVlan,
    VlanFiltering,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Mode, String> {
        match s {
            "bridge-per-vlan" => Ok(Mode::BridgePerVlan),
            "vlan-filtering" => Ok(Mode::VlanFiltering),
            other => Err(format!(
                "unknown linux-bridge mode {other} (bridge-per-vlan or vlan-filtering)"
            )),
        }
    }
}

/// A Linux host acting as a switch.
pub struct LinuxBridge {
    pub mode: Mode,
    /// `bridge-per-vlan`: bridge name prefix; `vlan-filtering`: the bridge's name.
    pub bridge: String,
    /// The network namespace the ports and bridges live in, if not the host's.
    pub netns: Option<String>,
    serial: Mutex<()>,
}

impl LinuxBridge {
    pub fn new(mode: Mode, bridge: String, netns: Option<String>) -> Result<Self, String> {
        let longest = match mode {
            Mode::BridgePerVlan => bridge.len() + 4,
            Mode::VlanFiltering => bridge.len(),
        };
        if bridge.is_empty() || longest > 15 {
            return Err(format!(
                "linux-bridge name {bridge:?} leaves no room for interface names (15 characters at most)"
            ));
        }
        Ok(Self {
            mode,
            bridge,
            netns,
            serial: Mutex::new(()),
        })
    }

    /// The bridge of a segment in `bridge-per-vlan` mode.
    pub fn bridge_of(&self, segment: Segment) -> String {
        match segment {
            Segment::Flat => format!("{}flat", self.bridge),
            Segment::Vlan(id) => format!("{}{id}", self.bridge),
        }
    }

    async fn run(&self, tool: &str, args: &[&str]) -> Result<String, String> {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, tool]);
                c
            }
            None => Command::new(tool),
        };
        let out = cmd
            .args(args)
            .output()
            .await
            .map_err(|e| format!("{tool}: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "{tool} {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    async fn ensure_bridge(&self, name: &str) -> Result<(), String> {
        if self
            .run("ip", &["link", "show", "dev", name])
            .await
            .is_err()
        {
            self.run("ip", &["link", "add", name, "type", "bridge"])
                .await?;
        }
        self.run("ip", &["link", "set", name, "up"]).await.map(drop)
    }

    /// Refuses names that are not switch ports of this host: bad characters, too
    /// long for an interface, or one of its own bridges.
    fn check_port(&self, port: &str) -> Result<(), String> {
        super::check_port_name(port)?;
        if port.len() > 15 {
            return Err(format!("{port} is longer than an interface name can be"));
        }
        let own = match self.mode {
            Mode::BridgePerVlan => port.starts_with(&self.bridge),
            Mode::VlanFiltering => port == self.bridge,
        };
        if own {
            return Err(format!("{port} is one of the switch's bridges, not a port"));
        }
        Ok(())
    }

    async fn bind_port(&self, port: &str, segment: Segment) -> Result<(), String> {
        self.check_port(port)?;
        match self.mode {
            Mode::BridgePerVlan => {
                let bridge = self.bridge_of(segment);
                self.ensure_bridge(&bridge).await?;
                self.run("ip", &["link", "set", port, "master", &bridge])
                    .await?;
                self.run("ip", &["link", "set", port, "up"]).await.map(drop)
            }
            Mode::VlanFiltering => {
                self.ensure_bridge(&self.bridge).await?;
                self.run(
                    "ip",
                    &[
                        "link",
                        "set",
                        &self.bridge,
                        "type",
                        "bridge",
                        "vlan_filtering",
                        "1",
                        // No default PVID: a port is on no VLAN until given one.
                        "vlan_default_pvid",
                        "0",
                    ],
                )
                .await?;
                self.run("ip", &["link", "set", port, "master", &self.bridge])
                    .await?;
                self.clear_vlans(port).await?;
                let vid = match segment {
                    Segment::Vlan(id) => id.to_string(),
                    Segment::Flat => "1".into(),
                };
                self.run(
                    "bridge",
                    &["vlan", "add", "dev", port, "vid", &vid, "pvid", "untagged"],
                )
                .await?;
                self.run("ip", &["link", "set", port, "up"]).await.map(drop)
            }
        }
    }

    /// Removes every VLAN of `port` on the VLAN-aware bridge.
    async fn clear_vlans(&self, port: &str) -> Result<(), String> {
        let listing = self.run("bridge", &["vlan", "show", "dev", port]).await?;
        for vid in listing
            .split_whitespace()
            .filter_map(|w| w.parse::<u16>().ok())
        {
            self.run(
                "bridge",
                &["vlan", "del", "dev", port, "vid", &vid.to_string()],
            )
            .await?;
        }
        Ok(())
    }

    async fn unbind_port(&self, port: &str) -> Result<(), String> {
        self.check_port(port)?;
        if self.mode == Mode::VlanFiltering {
            let _ = self.clear_vlans(port).await;
        }
        self.run("ip", &["link", "set", port, "nomaster"])
            .await
            .map(drop)
    }
}

impl SwitchDriver for LinuxBridge {
    fn bind<'a>(&'a self, port: &'a str, segment: Segment) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let _one = self.serial.lock().await;
            self.bind_port(port, segment).await
        })
    }

    fn unbind<'a>(&'a self, port: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let _one = self.serial.lock().await;
            self.unbind_port(port).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridges_per_segment_and_name_limits() {
        let lb = LinuxBridge::new(Mode::BridgePerVlan, "fbr".into(), None).unwrap();
        assert_eq!(lb.bridge_of(Segment::Vlan(100)), "fbr100");
        assert_eq!(lb.bridge_of(Segment::Flat), "fbrflat");
        assert!(LinuxBridge::new(Mode::BridgePerVlan, "a-very-long-nam".into(), None).is_err());
        assert!(Mode::parse("vlan-filtering").is_ok());
        assert!(Mode::parse("stp").is_err());
    }
}
