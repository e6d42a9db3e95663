//! What a node network-boots, as its conductor rendered it: the iPXE script and the
//! sources of the kernel and ramdisk next to it. Kept in the database, so whichever
//! process serves boot files can serve them.

use serde::{Deserialize, Serialize};

use crate::NodeId;

/// A node's boot files: `<node>/config` (the script), `<node>/deploy_kernel` and
/// `<node>/deploy_ramdisk` (fetched from their sources into the serving process's
/// image cache).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootConfig {
    pub node_uuid: NodeId,
    pub script: String,
    /// An http(s) URL or an absolute local path, as in `driver_info`.
    pub kernel: String,
    pub ramdisk: String,
}

/// The boot file names of a node's directory.
pub const SCRIPT_FILE: &str = "config";
pub const KERNEL_FILE: &str = "deploy_kernel";
pub const RAMDISK_FILE: &str = "deploy_ramdisk";
