//! Config drives given as JSON (API 1.56): `meta_data`, `user_data`, `network_data`
//! and `vendor_data` become the files of an OpenStack config-2 ISO 9660 image
//! (`openstack/latest/…`, Rock Ridge and Joliet names, volume label `config-2`, as
//! cloud-init expects), built with Debian's `genisoimage` (or `xorriso`/`mkisofs`),
//! then gzipped and base64-encoded — the form the agent writes to the disk.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use ferric_types::{JsonObject, Node};
use serde_json::Value;

/// The ISO makers tried, in order, with the arguments that make a config-2 image.
const MAKERS: &[(&str, &[&str])] = &[
    ("genisoimage", &[]),
    ("xorriso", &["-as", "mkisofs"]),
    ("mkisofs", &[]),
];

/// Builds the gzipped base64 ISO for `doc`.
pub(crate) async fn build(node: &Node, doc: &JsonObject) -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!(
        "ferric-configdrive-{}-{}",
        node.uuid,
        uuid::Uuid::new_v4().simple()
    ));
    let result = build_in(&dir, node, doc).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

async fn build_in(dir: &Path, node: &Node, doc: &JsonObject) -> Result<String, String> {
    let latest = dir.join("tree/openstack/latest");
    tokio::fs::create_dir_all(&latest)
        .await
        .map_err(|e| format!("cannot prepare the config drive: {e}"))?;
    let mut meta = match doc.get("meta_data") {
        Some(Value::Object(m)) => m.clone(),
        _ => JsonObject::new(),
    };
    meta.entry("uuid")
        .or_insert_with(|| Value::from(node.uuid.to_string()));
    if let Some(name) = &node.name {
        meta.entry("name")
            .or_insert_with(|| Value::from(name.as_str()));
    }
    let mut files: Vec<(&str, Vec<u8>)> = vec![(
        "meta_data.json",
        serde_json::to_vec(&Value::Object(meta)).unwrap_or_default(),
    )];
    match doc.get("user_data") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => files.push(("user_data", s.clone().into_bytes())),
        Some(other) => files.push(("user_data", serde_json::to_vec(other).unwrap_or_default())),
    }
    for (key, file) in [
        ("network_data", "network_data.json"),
        ("vendor_data", "vendor_data.json"),
    ] {
        if let Some(v) = doc.get(key).filter(|v| !v.is_null()) {
            files.push((file, serde_json::to_vec(v).unwrap_or_default()));
        }
    }
    for (name, data) in files {
        tokio::fs::write(latest.join(name), data)
            .await
            .map_err(|e| format!("cannot prepare the config drive: {e}"))?;
    }
    let iso = dir.join("configdrive.iso");
    let mut last = String::from("no ISO maker");
    let mut made = false;
    for (tool, prefix) in MAKERS {
        let out = tokio::process::Command::new(tool)
            .args(*prefix)
            .args(["-o"])
            .arg(&iso)
            .args([
                "-ldots",
                "-allow-lowercase",
                "-allow-multidot",
                "-l",
                "-publisher",
                "ferric",
                "-quiet",
                "-J",
                "-r",
                "-V",
                "config-2",
            ])
            .arg(dir.join("tree"))
            .output()
            .await;
        match out {
            Ok(o) if o.status.success() => {
                made = true;
                break;
            }
            Ok(o) => last = format!("{tool}: {}", String::from_utf8_lossy(&o.stderr).trim()),
            Err(e) => last = format!("{tool}: {e}"),
        }
    }
    if !made {
        return Err(format!(
            "cannot build the config drive ISO (install genisoimage or xorriso): {last}"
        ));
    }
    let bytes = tokio::fs::read(&iso)
        .await
        .map_err(|e| format!("cannot read the config drive ISO: {e}"))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes)
        .map_err(|e| format!("cannot compress the config drive: {e}"))?;
    let gz = gz
        .finish()
        .map_err(|e| format!("cannot compress the config drive: {e}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(gz))
}
