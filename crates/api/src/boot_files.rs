//! Where the files firmware and ramdisks fetch over HTTP come from — the boot
//! root (iPXE binaries, each node's rendered script and its kernel and ramdisk)
//! and the conductor's image cache — as a trait the process running the API
//! provides, so the API serves `/boot/` and `/images/` without knowing how boot
//! files are made.

use std::path::PathBuf;

/// Why a boot file name gives no file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotFound,
    /// Outside the boot root, or unreadable.
    Denied,
}

/// The files of this process's boot root and image cache.
pub trait BootFiles: Send + Sync {
    /// A file of the boot root by its name relative to the root.
    fn boot_file(&self, name: &str) -> Result<PathBuf, Refusal>;
    /// The name (relative to the root) of the node's rendered iPXE script, when
    /// one is rendered.
    fn node_script(&self, node_uuid: &str) -> Option<String>;
    /// A cached image by its key.
    fn image(&self, key: &str) -> Option<PathBuf>;
}
