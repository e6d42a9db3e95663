//! Where the files firmware and ramdisks fetch over HTTP come from — the boot
//! root (iPXE binaries, each node's rendered script and its kernel and ramdisk)
//! and the image cache — as a trait the process running the API provides, so the
//! API serves `/boot/` and `/images/` without knowing how boot files are made.

use std::path::PathBuf;

use futures_util::future::BoxFuture;

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
    fn boot_file<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<PathBuf, Refusal>>;
    /// The name (relative to the root) of the node's rendered iPXE script, when
    /// one is rendered.
    fn node_script<'a>(&'a self, node_uuid: &'a str) -> BoxFuture<'a, Option<String>>;
    /// A cached image by its key.
    fn image<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<PathBuf>>;
}
