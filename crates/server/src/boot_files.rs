//! The boot files this process serves at `/boot/`, over TFTP and at `/images/`:
//! its boot root (iPXE binaries), each netbooting node's files — written into the
//! root from the node's boot config in the database whenever they are asked for,
//! so any process with the boot role serves what any conductor prepared, and a
//! node adopted by another conductor keeps booting — and the image cache, which
//! fetches an image another process handed out from its recorded source.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferric_api::boot_files::{BootFiles, Refusal};
use ferric_boot::root_path::{resolve, Refused};
use ferric_boot::tftp::OnDemand;
use ferric_db::Datastore;
use ferric_drivers::image_cache::ImageCache;
use ferric_drivers::netboot;
use ferric_types::boot_config::{BootConfig, KERNEL_FILE, RAMDISK_FILE, SCRIPT_FILE};
use ferric_types::NodeId;
use futures_util::future::BoxFuture;

/// How long a node file brought into the root is served without asking the
/// database again (firmware sends a request again when an answer is slow, and a
/// flood of requests must not become a flood of queries).
const FRESH: Duration = Duration::from_secs(1);
/// Names remembered as fresh, at most; beyond it the memory starts again.
const REMEMBERED: usize = 10_000;

/// The boot root, the nodes' boot configs and the image cache of this process.
pub struct BootFileStore {
    root: PathBuf,
    image_cache: Arc<ImageCache>,
    db: Datastore,
    /// When each node file was last brought up to date.
    refreshed: Mutex<HashMap<String, Instant>>,
}

impl BootFileStore {
    pub fn new(root: PathBuf, image_cache: Arc<ImageCache>, db: Datastore) -> Self {
        Self {
            root,
            image_cache,
            db,
            refreshed: Mutex::default(),
        }
    }

    /// Whether `name` was brought up to date a moment ago; notes that it is now.
    fn recently_refreshed(&self, name: &str) -> bool {
        let mut seen = self.refreshed.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if seen
            .get(name)
            .is_some_and(|at| now.duration_since(*at) < FRESH)
        {
            return true;
        }
        if seen.len() >= REMEMBERED {
            seen.clear();
        }
        seen.insert(name.to_string(), now);
        false
    }

    /// Brings a node's file named by `name` (`<node uuid>/<file>`) up to date in
    /// the root, or removes the node's directory when it boots nothing; other
    /// names are left alone. When the database cannot be read, what the root has
    /// is served.
    async fn refresh(&self, name: &str) {
        let Some((dir, file)) = name.trim_start_matches('/').split_once('/') else {
            return;
        };
        let Ok(node) = dir.parse::<NodeId>() else {
            return;
        };
        if dir != node.to_string() || self.recently_refreshed(name) {
            return;
        }
        let node_dir = self.root.join(dir);
        match self.db.boot_config_get(node).await {
            Ok(Some(config)) => {
                if let Err(e) = self.write(&node_dir, file, &config).await {
                    tracing::warn!(%node, file, error = %e, "cannot bring a boot file into the boot root");
                }
            }
            Ok(None) => match tokio::fs::remove_dir_all(&node_dir).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    tracing::warn!(%node, error = %e, "cannot remove stale boot files");
                }
                _ => {}
            },
            Err(e) => {
                tracing::warn!(%node, error = %e, "cannot read the boot config; serving what the boot root has");
            }
        }
    }

    async fn write(&self, dir: &Path, file: &str, config: &BootConfig) -> Result<(), String> {
        let source = match file {
            SCRIPT_FILE => None,
            KERNEL_FILE => Some(&config.kernel),
            RAMDISK_FILE => Some(&config.ramdisk),
            _ => return Ok(()),
        };
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let to = dir.join(file);
        match source {
            None => write_if_changed(&to, config.script.as_bytes()).await,
            Some(source) => {
                let cached = self
                    .image_cache
                    .local_copy(source)
                    .await
                    .map_err(|e| e.to_string())?;
                link_if_changed(&cached, &to).await
            }
        }
    }
}

/// A name next to `to` for writing before the rename that replaces `to`.
fn partial(to: &Path) -> PathBuf {
    let name = to.file_name().unwrap_or_default().to_string_lossy();
    to.with_file_name(format!(".{name}.{}", uuid::Uuid::new_v4().simple()))
}

/// Replaces `to` with `content` unless it holds it already (readers of the old
/// file keep reading it).
async fn write_if_changed(to: &Path, content: &[u8]) -> Result<(), String> {
    if tokio::fs::read(to).await.is_ok_and(|old| old == content) {
        return Ok(());
    }
    let part = partial(to);
    let io = |e: std::io::Error| format!("{}: {e}", to.display());
    tokio::fs::write(&part, content).await.map_err(io)?;
    tokio::fs::rename(&part, to).await.map_err(io)
}

/// Makes `to` the cached file `from` (a hard link; a copy across file systems)
/// unless it is already.
async fn link_if_changed(from: &Path, to: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if let (Ok(a), Ok(b)) = (
        tokio::fs::metadata(from).await,
        tokio::fs::metadata(to).await,
    ) {
        if (a.dev(), a.ino()) == (b.dev(), b.ino()) {
            return Ok(());
        }
    }
    let part = partial(to);
    let io = |e: std::io::Error| format!("{}: {e}", to.display());
    if tokio::fs::hard_link(from, &part).await.is_err() {
        tokio::fs::copy(from, &part).await.map_err(io)?;
    }
    tokio::fs::rename(&part, to).await.map_err(io)
}

impl BootFiles for BootFileStore {
    fn boot_file<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<PathBuf, Refusal>> {
        Box::pin(async move {
            self.refresh(name).await;
            let root = self.root.canonicalize().map_err(|_| Refusal::NotFound)?;
            resolve(&root, name).map_err(|e| match e {
                Refused::NotFound => Refusal::NotFound,
                Refused::Denied => Refusal::Denied,
            })
        })
    }

    fn node_script<'a>(&'a self, node_uuid: &'a str) -> BoxFuture<'a, Option<String>> {
        Box::pin(async move {
            let node = node_uuid.parse::<NodeId>().ok()?;
            let config = netboot::config_path(&node.to_string());
            match self.db.boot_config_get(node).await {
                Ok(found) => found.map(|_| config),
                Err(_) => self.root.join(&config).is_file().then_some(config),
            }
        })
    }

    fn image<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Option<PathBuf>> {
        Box::pin(self.image_cache.served(key))
    }
}

impl OnDemand for BootFileStore {
    fn refresh<'a>(
        &'a self,
        name: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
        Box::pin(BootFileStore::refresh(self, name))
    }
}
