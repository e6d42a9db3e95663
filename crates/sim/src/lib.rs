//! A rack on a laptop: simulated machines that speak the real protocols, for demos
//! and scale tests. Each machine has a Redfish BMC (one listener serves them all)
//! whose power-on network-boots it — it asks Ferric for its iPXE script and, when
//! Ferric is working on it, runs a `ferric-agent` in this process on a sparse-file
//! disk — or boots the image on its disk. Its NICs are cabled to simulated
//! top-of-rack switch ports, whose LLDP its agent reports when inspecting, and
//! whose VLANs Ferric's `sim` switch driver configures. Faults
//! can be injected: BMCs that time out, agents that die mid-write, slow disks,
//! ramdisks that never heartbeat.

pub mod machine;
pub mod rack;
pub mod redfish;
pub mod switch;
pub mod switch_board;

pub use machine::{Machine, Nic, Running};
pub use rack::{Faults, Rack, RackConfig};
pub use switch_board::{Change, PortSegment};
