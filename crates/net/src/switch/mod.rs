//! Switch drivers: what puts a node's switch ports on a network's segment (the role
//! Neutron's ML2 mechanism drivers such as networking-generic-switch play). A
//! driver is chosen per switch, matched by the `switch_id` or `switch_info` of a
//! port's `local_link_connection`.

pub mod generic_ssh;
pub mod linux_bridge;
pub mod sim;

use std::future::Future;
use std::pin::Pin;

/// A boxed future, so drivers can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An L2 segment a switch port can be put on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Segment {
    /// The untagged network of a physical network.
    Flat,
    Vlan(u16),
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Segment::Flat => f.write_str("flat"),
            Segment::Vlan(id) => write!(f, "VLAN {id}"),
        }
    }
}

/// Checks a switch port name before it reaches a command line: letters, digits and
/// `/ . _ : -`, at most 64 characters (no spaces, newlines, separators or shell
/// characters).
pub fn check_port_name(port: &str) -> Result<(), String> {
    let ok = !port.is_empty()
        && port.len() <= 64
        && !port.starts_with('-')
        && port
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._:-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "switch port name {port:?} is not allowed (letters, digits and / . _ : - only)"
        ))
    }
}

/// One switch's configuration of its ports.
pub trait SwitchDriver: Send + Sync {
    /// Puts `port` on `segment` (as an access port), off any other.
    fn bind<'a>(&'a self, port: &'a str, segment: Segment) -> BoxFuture<'a, Result<(), String>>;
    /// Takes `port` off every segment: it reaches nothing.
    fn unbind<'a>(&'a self, port: &'a str) -> BoxFuture<'a, Result<(), String>>;

    /// Puts a bond's member ports on `segment` as one link aggregate, named `lag`
    /// on the switch. Without link aggregation, member by member.
    fn bind_group<'a>(
        &'a self,
        lag: &'a str,
        ports: &'a [String],
        segment: Segment,
    ) -> BoxFuture<'a, Result<(), String>> {
        let _ = lag;
        Box::pin(async move {
            for p in ports {
                self.bind(p, segment).await?;
            }
            Ok(())
        })
    }

    /// Takes a bond's member ports (and its aggregate) off every segment.
    fn unbind_group<'a>(
        &'a self,
        lag: &'a str,
        ports: &'a [String],
    ) -> BoxFuture<'a, Result<(), String>> {
        let _ = lag;
        Box::pin(async move {
            for p in ports {
                self.unbind(p).await?;
            }
            Ok(())
        })
    }
}
