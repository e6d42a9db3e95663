//! The boot files this process serves at `/boot/` and `/images/`: its boot root
//! (iPXE binaries, the per-node scripts the conductor renders, their kernels and
//! ramdisks), names resolved without escaping the root, and the conductor's image
//! cache.

use std::path::PathBuf;
use std::sync::Arc;

use ferric_api::boot_files::{BootFiles, Refusal};
use ferric_boot::root_path::{resolve, Refused};
use ferric_drivers::image_cache::ImageCache;
use ferric_drivers::netboot;

/// The boot root and image cache of this process.
pub struct LocalBootFiles {
    pub root: PathBuf,
    pub image_cache: Arc<ImageCache>,
}

impl BootFiles for LocalBootFiles {
    fn boot_file(&self, name: &str) -> Result<PathBuf, Refusal> {
        let root = self.root.canonicalize().map_err(|_| Refusal::NotFound)?;
        resolve(&root, name).map_err(|e| match e {
            Refused::NotFound => Refusal::NotFound,
            Refused::Denied => Refusal::Denied,
        })
    }

    fn node_script(&self, node_uuid: &str) -> Option<String> {
        let config = netboot::config_path(node_uuid);
        self.root.join(&config).is_file().then_some(config)
    }

    fn image(&self, key: &str) -> Option<PathBuf> {
        self.image_cache.path_of(key)
    }
}
