//! The conductor's image cache: with `image_download_source=http` (or an image given
//! as a local path) the conductor fetches the image once into its data directory and
//! agents download it from the conductor's own HTTP endpoint (`/images/{key}`), so a
//! rack deploying the same image reads the origin once. Concurrent requests for one
//! image share one download; the least recently used images are evicted beyond the
//! configured size. With a registry (the database), the source behind each served
//! key is recorded, so any process serving `/images/` can fetch an image another
//! process's conductor handed out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ferric_db::Datastore;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::interfaces::DriverError;

/// The cache lookups counter on `/metrics`.
const LOOKUPS: &str = "ferric_image_cache_lookups_total";

/// Settings of the cache.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    pub dir: PathBuf,
    /// The base URL agents reach the conductor's `/images/` at (empty: unknown).
    pub base_url: String,
    /// Bytes kept before the least recently used images are deleted.
    pub max_bytes: u64,
    /// Directories local image sources may come from (anything else could publish
    /// a host file — a config with switch passwords, the database — to the network).
    pub allowed_local: Vec<PathBuf>,
}

/// The cache.
pub struct ImageCache {
    settings: CacheSettings,
    http: reqwest::Client,
    fetching: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Where the sources behind served keys are recorded and looked up.
    registry: Option<Datastore>,
}

/// True for a key this cache could have made (hex digits only).
fn is_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `source` as logs and errors show it: an URL without its credentials and query
/// (a signed URL's query is a token), a path as it is.
pub(crate) fn shown(source: &str) -> String {
    let Some((scheme, rest)) = source.split_once("://") else {
        return source.to_string();
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}{path}")
}

/// A local path named by `source` (`file://` URL or absolute path).
pub fn local_path(source: &str) -> Option<&Path> {
    let p = source.strip_prefix("file://").unwrap_or(source);
    p.starts_with('/').then(|| Path::new(p))
}

impl ImageCache {
    /// Gives the cache's metrics their help text and first values.
    pub fn describe_metrics() {
        for result in ["hit", "miss", "failed"] {
            metrics::counter!(LOOKUPS, "result" => result).increment(0);
        }
        metrics::describe_counter!(
            LOOKUPS,
            "Image cache lookups: hit (cached), miss (fetched now), failed (could not fetch)."
        );
    }

    /// A cache in `settings.dir` (created when missing).
    pub fn open(settings: CacheSettings) -> Result<Self, String> {
        std::fs::create_dir_all(&settings.dir)
            .map_err(|e| format!("cannot create image cache {}: {e}", settings.dir.display()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            settings,
            http,
            fetching: Mutex::new(HashMap::new()),
            registry: None,
        })
    }

    /// The cache, recording the sources behind the keys it serves in `db`.
    pub fn with_registry(mut self, db: Datastore) -> Self {
        self.registry = Some(db);
        self
    }

    /// The cached image of `key` for the HTTP endpoint: cached here, or fetched
    /// from the source the registry has for it.
    pub async fn served(&self, key: &str) -> Option<PathBuf> {
        if !is_key(key) {
            return None;
        }
        let path = self.settings.dir.join(key);
        if tokio::fs::metadata(&path).await.is_ok() {
            return Some(path);
        }
        let source = match self.registry.as_ref()?.served_image_source(key).await {
            Ok(found) => found?,
            Err(e) => {
                tracing::warn!(key, error = %e, "cannot look up the source of a served image");
                return None;
            }
        };
        match self.local_copy(&source).await {
            Ok(path) if path.file_name().is_some_and(|n| n == key) => Some(path),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(key, error = %e, "cannot fetch a served image");
                None
            }
        }
    }

    /// Makes sure `source` is cached; returns the URL agents fetch it from.
    pub async fn url_for(&self, source: &str) -> Result<String, DriverError> {
        if self.settings.base_url.is_empty() {
            return Err(DriverError::Config(
                "ferricd listens on every address and has no public endpoint: set [deploy] http_url so agents can reach the image cache".into(),
            ));
        }
        let path = self.local_copy(source).await?;
        let key = path.file_name().unwrap_or_default().to_string_lossy();
        if let Some(db) = &self.registry {
            db.served_image_put(&key, source).await.map_err(|e| {
                DriverError::Hardware(format!("recording the cached image {key}: {e}"))
            })?;
        }
        Ok(format!(
            "{}/images/{key}",
            self.settings.base_url.trim_end_matches('/')
        ))
    }

    /// Makes sure `source` is cached; returns the cached file.
    pub async fn local_copy(&self, source: &str) -> Result<PathBuf, DriverError> {
        let key: String = Sha256::digest(source.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let path = self.settings.dir.join(&key);
        let gate = self
            .fetching
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        let _held = gate.lock().await;
        let result = if tokio::fs::metadata(&path).await.is_ok() {
            touch(&path);
            Ok("hit")
        } else {
            match self.fetch(source, &path).await {
                Ok(()) => {
                    self.evict(&key).await;
                    Ok("miss")
                }
                Err(e) => Err(e),
            }
        };
        let label = *result.as_ref().unwrap_or(&"failed");
        metrics::counter!(LOOKUPS, "result" => label).increment(1);
        result.map(|_| path)
    }

    async fn fetch(&self, source: &str, path: &Path) -> Result<(), DriverError> {
        let part = path.with_extension("part");
        let fail =
            |e: String| DriverError::Hardware(format!("caching image {}: {e}", shown(source)));
        if let Some(local) = local_path(source) {
            self.check_local(local)?;
            tokio::fs::copy(local, &part)
                .await
                .map_err(|e| fail(format!("{}: {e}", local.display())))?;
        } else if source.starts_with("http://") || source.starts_with("https://") {
            let mut resp = self
                .http
                .get(source)
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| fail(e.without_url().to_string()))?;
            let mut out = tokio::fs::File::create(&part)
                .await
                .map_err(|e| fail(e.to_string()))?;
            let announced = resp.content_length();
            let mut total = 0u64;
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| fail(e.without_url().to_string()))?
            {
                total += chunk.len() as u64;
                out.write_all(&chunk)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
            }
            if announced.is_some_and(|n| n != total) {
                let _ = tokio::fs::remove_file(&part).await;
                return Err(fail(format!("short download: {total} bytes")));
            }
            out.sync_all().await.map_err(|e| fail(e.to_string()))?;
        } else {
            return Err(DriverError::Config(format!(
                "image_source {} is neither an http(s) URL nor an absolute local path",
                shown(source)
            )));
        }
        tokio::fs::rename(&part, path)
            .await
            .map_err(|e| fail(e.to_string()))?;
        tracing::info!(source = %shown(source), "image cached");
        Ok(())
    }

    /// Refuses a local source outside the allowed directories (symlinks resolved).
    fn check_local(&self, local: &Path) -> Result<(), DriverError> {
        let real = local
            .canonicalize()
            .map_err(|e| DriverError::Config(format!("local image {}: {e}", local.display())))?;
        let allowed = self
            .settings
            .allowed_local
            .iter()
            .filter_map(|d| d.canonicalize().ok())
            .any(|d| real.starts_with(d));
        if allowed {
            Ok(())
        } else {
            Err(DriverError::Config(format!(
                "local image {} is outside the directories images may come from ([deploy] allowed_local_paths)",
                local.display()
            )))
        }
    }

    /// Deletes the least recently used images beyond the size limit (never `keep`).
    async fn evict(&self, keep: &str) {
        let dir = self.settings.dir.clone();
        let max = self.settings.max_bytes;
        let keep = keep.to_string();
        let _ = tokio::task::spawn_blocking(move || {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                return;
            };
            let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
                .flatten()
                .filter(|e| is_key(&e.file_name().to_string_lossy()))
                .filter_map(|e| {
                    let m = e.metadata().ok()?;
                    Some((m.modified().ok()?, m.len(), e.path()))
                })
                .collect();
            let mut total: u64 = files.iter().map(|f| f.1).sum();
            files.sort();
            for (_, len, path) in files {
                if total <= max {
                    break;
                }
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy() == keep)
                {
                    continue;
                }
                if std::fs::remove_file(&path).is_ok() {
                    total -= len;
                    tracing::info!(path = %path.display(), "evicted cached image");
                }
            }
        })
        .await;
    }
}

/// Marks a cached image as just used.
fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn sources_are_shown_without_credentials_or_query() {
        assert_eq!(
            shown("https://user:pw@swift.example/v1/AUTH_x/images/disk.raw?temp_url_sig=abc&temp_url_expires=1"),
            "https://swift.example/v1/AUTH_x/images/disk.raw"
        );
        assert_eq!(shown("http://10.0.0.1:8080/k"), "http://10.0.0.1:8080/k");
        assert_eq!(shown("/srv/ferric/ramdisk"), "/srv/ferric/ramdisk");
    }
}
