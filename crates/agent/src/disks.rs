//! The machine's disks: read from `/sys/block` (RAM, loop, zram, floppy and optical
//! devices excluded), or in test mode the files named on the command line. Fields a
//! device does not expose are left out, never invented.

use std::fs;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::settings::Settings;

/// A disk and what is known about it.
#[derive(Debug, Clone, Default)]
pub struct Disk {
    pub path: PathBuf,
    pub size: u64,
    pub rotational: Option<bool>,
    pub model: Option<String>,
    pub vendor: Option<String>,
    pub serial: Option<String>,
    pub wwn: Option<String>,
    pub hctl: Option<String>,
    pub by_path: Option<String>,
    pub logical_sectors: Option<u64>,
    pub physical_sectors: Option<u64>,
    pub tran: Option<String>,
}

impl Disk {
    /// The inventory's disk object.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.path.display().to_string()));
        m.insert("size".into(), json!(self.size));
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        };
        put("rotational", self.rotational.map(Value::from));
        put("model", self.model.clone().map(Value::from));
        put("vendor", self.vendor.clone().map(Value::from));
        put("serial", self.serial.clone().map(Value::from));
        put("wwn", self.wwn.clone().map(Value::from));
        put("hctl", self.hctl.clone().map(Value::from));
        put("by_path", self.by_path.clone().map(Value::from));
        put("logical_sectors", self.logical_sectors.map(Value::from));
        put("physical_sectors", self.physical_sectors.map(Value::from));
        put("tran", self.tran.clone().map(Value::from));
        Value::Object(m)
    }
}

/// The size in bytes of a file or block device.
pub fn size_of(path: &Path) -> Result<u64, String> {
    let mut f = fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    f.seek(SeekFrom::End(0))
        .map_err(|e| format!("cannot size {}: {e}", path.display()))
}

/// Every disk of the machine, sorted by size then name.
pub fn list(settings: &Settings) -> Result<Vec<Disk>, String> {
    let mut disks = if settings.test_mode() {
        settings
            .disks
            .iter()
            .map(|p| {
                Ok(Disk {
                    path: p.clone(),
                    size: size_of(p)?,
                    rotational: Some(false),
                    ..Disk::default()
                })
            })
            .collect::<Result<Vec<_>, String>>()?
    } else {
        from_sysfs()
    };
    disks.sort_by(|a, b| a.size.cmp(&b.size).then(a.path.cmp(&b.path)));
    Ok(disks)
}

/// The disks an erase step works on.
pub fn erasable(settings: &Settings) -> Result<Vec<Disk>, String> {
    let disks = list(settings)?;
    if disks.is_empty() {
        return Err("no disks found".into());
    }
    Ok(disks)
}

fn read(path: impl AsRef<Path>) -> Option<String> {
    let s = fs::read_to_string(path).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn from_sysfs() -> Vec<Disk> {
    let Ok(entries) = fs::read_dir("/sys/block") else {
        return Vec::new();
    };
    let skip = ["loop", "ram", "zram", "fd", "sr", "nbd"];
    let by_path = by_path_links();
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            if skip.iter().any(|p| name.starts_with(p)) {
                return None;
            }
            let sys = e.path();
            let sectors: u64 = read(sys.join("size"))?.parse().ok()?;
            if sectors == 0 {
                return None;
            }
            let dev = PathBuf::from(format!("/dev/{name}"));
            let hctl = fs::read_link(sys.join("device"))
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
                .filter(|n| n.split(':').count() == 4);
            Some(Disk {
                size: sectors * 512,
                rotational: read(sys.join("queue/rotational")).map(|r| r == "1"),
                model: read(sys.join("device/model")),
                vendor: read(sys.join("device/vendor")),
                serial: read(sys.join("device/serial")),
                wwn: read(sys.join("device/wwid")).or_else(|| read(sys.join("wwid"))),
                hctl,
                by_path: by_path
                    .iter()
                    .find(|(_, target)| *target == name)
                    .map(|(link, _)| link.clone()),
                logical_sectors: read(sys.join("queue/logical_block_size"))
                    .and_then(|v| v.parse().ok()),
                physical_sectors: read(sys.join("queue/physical_block_size"))
                    .and_then(|v| v.parse().ok()),
                tran: None,
                path: dev,
            })
        })
        .collect()
}

/// `/dev/disk/by-path` links and the device names they point at.
fn by_path_links() -> Vec<(String, String)> {
    let Ok(entries) = fs::read_dir("/dev/disk/by-path") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let target = fs::read_link(e.path()).ok()?;
            let name = target.file_name()?.to_string_lossy().to_string();
            Some((e.path().display().to_string(), name))
        })
        .collect()
}
