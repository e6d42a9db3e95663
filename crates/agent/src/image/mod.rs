//! The image pipeline of `write_image` / `prepare_image`: choose the disk by the root
//! device hints, find the expected digest, stream the download through the hasher to
//! the disk writer (a bounded channel between them, so memory stays flat), then
//! check the digest and the length. qcow2 images are converted as they stream
//! (`qcow2.rs`). A config drive, when given, goes to a partition added at the end
//! of the disk (`configdrive.rs`). A mismatch or a short download fails the step
//! and wipes the disk's metadata so a half-written image is never booted.

mod checksum;
mod download;
mod qcow2;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::agent::{Agent, Written};
use crate::commands::CommandError;
use crate::{configdrive, disks, erase, hints, partitions};
use checksum::{Algo, Expected, Hasher};
use download::download_error;
use writer::DiskWriter;

const QCOW2_MAGIC: &[u8] = b"QFI\xfb";

/// How many downloaded chunks may wait for the disk.
const QUEUE: usize = 16;

fn invalid_image(details: impl Into<String>) -> CommandError {
    CommandError::failed("ImageWriteError", "Error writing image", details)
}

/// The HTTP client images and config drives are fetched with.
pub fn http_client(settings: &crate::settings::Settings) -> Result<reqwest::Client, CommandError> {
    download::client(settings)
}

/// Checks an `image_info` before the command is accepted.
pub fn check_image_info(info: &Value) -> Result<(), CommandError> {
    let bad = |why: &str| CommandError::invalid(format!("image_info: {why}"));
    let info = info.as_object().ok_or_else(|| bad("must be an object"))?;
    if !info.get("id").is_some_and(Value::is_string) {
        return Err(bad("id is required"));
    }
    let urls_ok = info
        .get("urls")
        .and_then(Value::as_array)
        .is_some_and(|u| !u.is_empty() && u.iter().all(Value::is_string));
    if !urls_ok {
        return Err(bad("urls must be a non-empty list of URLs"));
    }
    let has_checksum = info
        .get("checksum")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    let has_hash = info.get("os_hash_algo").is_some_and(Value::is_string)
        && info.get("os_hash_value").is_some_and(Value::is_string);
    if !has_checksum && !has_hash {
        return Err(bad(
            "a checksum, or os_hash_algo with os_hash_value, is required",
        ));
    }
    if info
        .get("root_gb")
        .is_some_and(|v| !v.is_null() && v.as_u64().is_none())
    {
        return Err(bad("root_gb must be a whole number of GiB"));
    }
    if info.get("image_type").and_then(Value::as_str) == Some("partition") {
        return Err(bad(
            "partition images are not supported by ferric-agent; use a whole-disk image",
        ));
    }
    Ok(())
}

/// The `prepare_image` command's own parameter check.
pub fn validate_params(_: &Agent, params: &Value) -> Result<(), CommandError> {
    check_image_info(params.get("image_info").unwrap_or(&Value::Null))
}

fn text<'a>(info: &'a Value, key: &str) -> Option<&'a str> {
    info.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// The digest the image must have.
async fn expected_digest(
    agent: &Agent,
    http: &reqwest::Client,
    info: &Value,
) -> Result<Expected, CommandError> {
    let bad = |d: String| CommandError::invalid(format!("image_info: {d}"));
    // A checksum file names the image by its file name: the download URL's, or the
    // image id's (the source's name when the conductor's cache serves it).
    let first_url = info["urls"][0].as_str().unwrap_or_default();
    let url_name = first_url.rsplit('/').next().unwrap_or_default();
    let id_name = text(info, "id")
        .and_then(|id| id.rsplit('/').next())
        .unwrap_or(url_name);
    let resolve = |value: &str, text: String| -> Result<String, CommandError> {
        if is_url(value) {
            checksum::from_checksum_file(&text, url_name)
                .or_else(|| checksum::from_checksum_file(&text, id_name))
                .ok_or_else(|| {
                    download_error(format!(
                        "checksum file {value} has no entry for {url_name} or {id_name}"
                    ))
                })
        } else {
            Ok(value.to_ascii_lowercase())
        }
    };
    let fetch = |value: &str| {
        let value = value.to_string();
        async move {
            if is_url(&value) {
                download::fetch_text(http, &value, &agent.settings).await
            } else {
                Ok(String::new())
            }
        }
    };
    let algo_named = text(info, "os_hash_algo").and_then(Algo::parse);
    let (algo, hex) = match (algo_named, text(info, "os_hash_value")) {
        (Some(algo), Some(value)) => (algo, resolve(value, fetch(value).await?)?),
        _ => {
            let value = text(info, "checksum").ok_or_else(|| {
                bad(format!(
                    "os_hash_algo {:?} is not supported (md5, sha256, sha512) and there is no checksum",
                    text(info, "os_hash_algo")
                ))
            })?;
            let hex = resolve(value, fetch(value).await?)?;
            let algo = match algo_named {
                Some(a) if is_url(value) => a,
                _ => Algo::by_length(hex.len()).ok_or_else(|| {
                    bad(format!(
                        "checksum {hex:?} is neither an MD5, SHA-256 nor SHA-512 digest"
                    ))
                })?,
            };
            (algo, hex)
        }
    };
    checksum::check_hex(algo, &hex).map_err(bad)?;
    if algo == Algo::Md5 && !agent.config_flag("agent_md5_checksum_enable", true) {
        return Err(bad(
            "MD5 checksums are disabled by the conductor; give a SHA-256 or SHA-512 digest".into(),
        ));
    }
    Ok(Expected { algo, hex })
}

/// Streams the image onto the chosen disk; returns the result sentence.
pub async fn prepare_image(agent: Arc<Agent>, args: Value) -> Result<String, CommandError> {
    let info = args.get("image_info").cloned().unwrap_or(Value::Null);
    check_image_info(&info)?;
    let configdrive = args
        .get("configdrive")
        .or_else(|| info.get("configdrive"))
        .filter(|c| !c.is_null() && c.as_str() != Some(""));
    let configdrive = match configdrive {
        None => None,
        Some(Value::String(s)) => Some(configdrive::fetch(s, &agent.settings).await?),
        Some(other) => {
            return Err(configdrive::error(format!(
                "the config drive must be a URL or gzipped base64 text, not {}",
                if other.is_object() {
                    "an object"
                } else {
                    "this"
                }
            )))
        }
    };
    let id = text(&info, "id").unwrap_or_default().to_string();
    let node = agent.node();
    let hint_source = node
        .pointer("/instance_info/root_device")
        .or_else(|| node.pointer("/properties/root_device"))
        .and_then(Value::as_object)
        .cloned();
    let all = disks::list(&agent.settings).map_err(invalid_image)?;
    let disk = hints::choose(&all, hint_source.as_ref(), agent.settings.test_mode())
        .map_err(|e| CommandError::failed("DeviceNotFound", "Error finding the root device", e))?
        .clone();
    if let Some(gb) = info.get("root_gb").and_then(Value::as_u64) {
        if gb
            .checked_mul(1 << 30)
            .is_none_or(|bytes| disk.size < bytes)
        {
            return Err(CommandError::failed(
                "DeviceNotFound",
                "Error finding the root device",
                format!(
                    "the root device {} has {} bytes, less than the {gb} GiB root_gb asks for",
                    disk.path.display(),
                    disk.size
                ),
            ));
        }
    }
    let http = download::client(&agent.settings)?;
    let expected = expected_digest(&agent, &http, &info).await?;
    let urls: Vec<String> = info["urls"]
        .as_array()
        .map(|u| {
            u.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let disk_format = text(&info, "disk_format")
        .unwrap_or("")
        .to_ascii_lowercase();
    let started = std::time::Instant::now();
    tracing::info!(image = %id, device = %disk.path.display(), "writing image");
    let mut attempt = 0;
    let outcome = loop {
        match write_once(
            &agent,
            &http,
            &urls,
            &disk.path,
            expected.algo,
            &disk_format,
        )
        .await
        {
            Err(Attempt::Retry(e)) if attempt < agent.settings.download_retries => {
                attempt += 1;
                tracing::warn!(attempt, error = %e, "image download broke off; starting over");
                tokio::time::sleep(agent.settings.download_retry_interval).await;
            }
            Err(Attempt::Retry(e) | Attempt::Fatal(e)) => break Err(e),
            Ok(done) => break Ok(done),
        }
    };
    let checked = outcome.and_then(|(total, url, actual)| {
        if actual == expected.hex {
            return Ok(total);
        }
        Err(CommandError::failed(
            "ImageChecksumError",
            "Error verifying image checksum",
            format!(
                "image {id} from {url} has {} {actual}, expected {}",
                expected.algo.name(),
                expected.hex
            ),
        ))
    });
    let total = match checked {
        Ok(total) => total,
        Err(err) => {
            // Never leave a partial or unverified image bootable.
            if let Err(e) = erase::metadata(&disk.path).await {
                tracing::warn!(error = %e, "could not wipe the partial image");
            }
            return Err(err);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(image = %id, bytes = total, seconds = secs, mib_per_s = total as f64 / 1048576.0 / secs.max(1e-9), "image written");
    *agent.written.lock().unwrap_or_else(|p| p.into_inner()) = Some(Written {
        device: disk.path.clone(),
        image_id: id.clone(),
    });
    if let Some(cd) = configdrive {
        let path = disk.path.clone();
        tokio::task::spawn_blocking(move || configdrive::write(&path, &cd))
            .await
            .map_err(|e| configdrive::error(e.to_string()))?
            .map_err(configdrive::error)?;
    }
    let root = partitions::disk_identifier(&disk.path).map_err(invalid_image)?;
    Ok(format!(
        "image ({id}) written to device {} root_uuid={root}",
        disk.path.display()
    ))
}

/// How one attempt at the download failed.
enum Attempt {
    /// The transfer broke off (a stall, a reset, a short body): worth another try.
    Retry(CommandError),
    /// Anything else: the disk, the format, a refusal by the server.
    Fatal(CommandError),
}

/// Downloads the image once onto the disk: `(bytes, url, digest)`.
async fn write_once(
    agent: &Agent,
    http: &reqwest::Client,
    urls: &[String],
    disk: &std::path::Path,
    algo: Algo,
    disk_format: &str,
) -> Result<(u64, String, String), Attempt> {
    let (resp, url) = download::open(http, urls, &agent.settings)
        .await
        .map_err(Attempt::Fatal)?;
    let announced = resp.content_length();
    let mut stream = resp.bytes_stream();
    let writer = DiskWriter::open(disk)
        .map_err(|e| Attempt::Fatal(invalid_image(e)))?
        .throttled(agent.settings.disk_rate)
        .chunked(agent.settings.write_chunk);
    let (tx, rx) = mpsc::channel::<Bytes>(QUEUE);
    let work_dir = agent.settings.work_dir.clone();
    let write_task = tokio::task::spawn_blocking(move || write_stream(writer, rx, &work_dir));
    let mut hasher = Hasher::new(algo);
    let mut total: u64 = 0;
    let stall = agent
        .settings
        .download_connect_timeout
        .max(Duration::from_secs(1));
    let mut broke_off = None;
    let mut refused = None;
    loop {
        let next = match tokio::time::timeout(stall, stream.next()).await {
            Ok(n) => n,
            Err(_) => {
                broke_off = Some(format!("download of {url} stalled for {stall:?}"));
                break;
            }
        };
        let Some(chunk) = next else { break };
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                broke_off = Some(format!("download of {url} failed after {total} bytes: {e}"));
                break;
            }
        };
        if total == 0 {
            if let Some(why) = format_problem(disk_format, chunk.starts_with(QCOW2_MAGIC)) {
                refused = Some(why);
                break;
            }
        }
        hasher.update(&chunk);
        total += chunk.len() as u64;
        if tx.send(chunk).await.is_err() {
            break;
        }
    }
    drop(tx);
    let written = write_task
        .await
        .map_err(|e| Attempt::Fatal(invalid_image(format!("the write task failed: {e}"))))?;
    if let Some(why) = refused {
        return Err(Attempt::Fatal(invalid_image(why)));
    }
    if let Some(why) = broke_off {
        return Err(Attempt::Retry(download_error(why)));
    }
    if let Some(n) = announced.filter(|n| *n != total) {
        return Err(Attempt::Retry(download_error(format!(
            "short download from {url}: {total} of {n} bytes"
        ))));
    }
    written.map_err(|e| Attempt::Fatal(invalid_image(e)))?;
    Ok((total, url, hasher.hex()))
}

/// Why the data's format and the declared `disk_format` cannot be written. `gpt`
/// (a raw disk with a GPT) and `iso` (an ISO 9660 image) are written as raw, as
/// Ironic's `permitted_image_formats` allow.
fn format_problem(disk_format: &str, is_qcow2: bool) -> Option<String> {
    match (disk_format, is_qcow2) {
        ("raw" | "gpt" | "iso", true) => Some(format!(
            "the image is qcow2 but its disk_format says {disk_format}; refusing to write it"
        )),
        ("qcow2", false) => {
            Some("the image's disk_format says qcow2 but the data is not qcow2".into())
        }
        ("qcow2" | "", true) | ("raw" | "gpt" | "iso" | "", false) => None,
        (other, _) => Some(format!(
            "disk_format {other} is not supported (raw, gpt, iso, qcow2)"
        )),
    }
}

/// Writes the stream to the disk: raw bytes as they are, a qcow2 image converted.
fn write_stream(
    mut writer: DiskWriter,
    mut rx: mpsc::Receiver<Bytes>,
    work_dir: &std::path::Path,
) -> Result<u64, String> {
    let Some(first) = rx.blocking_recv() else {
        return writer.finish();
    };
    if first.starts_with(QCOW2_MAGIC) {
        let mut sink = qcow2::Qcow2Sink::new(writer, work_dir);
        sink.push(&first)?;
        while let Some(chunk) = rx.blocking_recv() {
            sink.push(&chunk)?;
        }
        let spilled = sink.spilled_bytes();
        if spilled > 0 {
            tracing::info!(bytes = spilled, "qcow2 layout needed a spill file");
        }
        return sink.finish();
    }
    writer.push(&first)?;
    while let Some(chunk) = rx.blocking_recv() {
        writer.push(&chunk)?;
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::format_problem;

    #[test]
    fn raw_like_formats_take_raw_data_and_refuse_qcow2() {
        for format in ["raw", "gpt", "iso", ""] {
            assert_eq!(format_problem(format, false), None, "{format}");
        }
        for format in ["raw", "gpt", "iso"] {
            let why = format_problem(format, true).expect(format);
            assert!(why.contains(&format!("says {format}")), "{why}");
        }
        assert_eq!(format_problem("qcow2", true), None);
        assert!(format_problem("qcow2", false).is_some());
        let why = format_problem("vmdk", false).unwrap();
        assert!(why.contains("raw, gpt, iso, qcow2"), "{why}");
    }
}
