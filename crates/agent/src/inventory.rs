//! The hardware inventory (`poll.get_hardware_info`, inspection): NICs, CPU, memory,
//! disks, firmware vendor and boot mode, read from /proc and /sys, each NIC's
//! addresses, and what each NIC heard over LLDP when that was collected. What cannot
//! be read is left out rather than invented. In test mode the NICs are the MACs and
//! the disks the files named on the command line.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::lldp::{self, Heard};
use crate::settings::Settings;
use crate::{addresses, disks};

fn read(path: impl AsRef<Path>) -> Option<String> {
    let s = fs::read_to_string(path).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The machine's NICs: `(name, mac)`.
pub fn nics(settings: &Settings) -> Vec<(String, String)> {
    if !settings.macs.is_empty() {
        return settings
            .macs
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("eth{i}"), m.to_ascii_lowercase()))
            .collect();
    }
    let Ok(entries) = fs::read_dir("/sys/class/net") else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = entries
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            let physical = p.join("device").exists() || p.join("bonding").exists();
            if !physical && !name.contains('.') {
                return None;
            }
            let mac = read(p.join("address"))?.to_ascii_lowercase();
            (!mac.starts_with("fa:") && mac != "00:00:00:00:00:00").then_some((name, mac))
        })
        .collect();
    out.sort();
    out
}

fn interfaces(settings: &Settings, heard: Option<&Heard>) -> Vec<Value> {
    let addresses = if settings.test_mode() {
        Default::default()
    } else {
        addresses::by_interface()
    };
    nics(settings)
        .into_iter()
        .map(|(name, mac)| {
            let sys = Path::new("/sys/class/net").join(&name);
            let mut m = Map::new();
            m.insert("name".into(), json!(name));
            m.insert("mac_address".into(), json!(mac));
            if let Some(a) = addresses.get(&name) {
                if let Some(ip) = a.ipv4 {
                    m.insert("ipv4_address".into(), json!(ip.to_string()));
                }
                if let Some(ip) = &a.ipv6 {
                    m.insert("ipv6_address".into(), json!(ip));
                }
            }
            if !settings.test_mode() {
                if let Some(c) = read(sys.join("carrier")) {
                    m.insert("has_carrier".into(), json!(c == "1"));
                }
                if let Some(s) = read(sys.join("speed")).and_then(|s| s.parse::<i64>().ok()) {
                    if s > 0 {
                        m.insert("speed_mbps".into(), json!(s));
                    }
                }
                if let Some(v) = read(sys.join("device/vendor")) {
                    m.insert("vendor".into(), json!(v));
                }
                if let Some(p) = read(sys.join("device/device")) {
                    m.insert("product".into(), json!(p));
                }
                if let Ok(link) = fs::read_link(sys.join("device/driver")) {
                    if let Some(d) = link.file_name() {
                        m.insert("driver".into(), json!(d.to_string_lossy()));
                    }
                }
                if let Ok(link) = fs::read_link(sys.join("device")) {
                    if let Some(d) = link.file_name() {
                        m.insert("pci_address".into(), json!(d.to_string_lossy()));
                    }
                }
            }
            m.insert("lldp".into(), lldp::inventory_value(heard, &name));
            Value::Object(m)
        })
        .collect()
}

fn cpu() -> Option<Value> {
    let info = fs::read_to_string("/proc/cpuinfo").ok()?;
    let field = |k: &str| {
        info.lines()
            .find(|l| l.split(':').next().map(str::trim) == Some(k))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    let count = info.lines().filter(|l| l.starts_with("processor")).count();
    let sockets: BTreeSet<&str> = info
        .lines()
        .filter(|l| l.starts_with("physical id"))
        .filter_map(|l| l.split_once(':').map(|(_, v)| v.trim()))
        .collect();
    let mut m = Map::new();
    if let Some(name) = field("model name") {
        m.insert("model_name".into(), json!(name));
    }
    let max_khz = read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
        .and_then(|v| v.parse::<u64>().ok());
    let freq = max_khz
        .map(|k| (k / 1000).to_string())
        .or_else(|| field("cpu MHz"));
    if let Some(f) = freq {
        m.insert("frequency".into(), json!(f));
    }
    m.insert("count".into(), json!(count));
    m.insert("architecture".into(), json!(std::env::consts::ARCH));
    if let Some(flags) = field("flags") {
        m.insert(
            "flags".into(),
            json!(flags.split_whitespace().collect::<Vec<_>>()),
        );
    }
    m.insert("socket_count".into(), json!(sockets.len().max(1)));
    Some(Value::Object(m))
}

fn memory() -> Option<Value> {
    let info = fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = info
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(json!({"total": kib * 1024}))
}

fn system_vendor() -> Value {
    let dmi = Path::new("/sys/class/dmi/id");
    let mut m = Map::new();
    for (key, file) in [
        ("product_name", "product_name"),
        ("serial_number", "product_serial"),
        ("manufacturer", "sys_vendor"),
    ] {
        if let Some(v) = read(dmi.join(file)) {
            m.insert(key.into(), json!(v));
        }
    }
    let mut fw = Map::new();
    for (key, file) in [
        ("vendor", "bios_vendor"),
        ("version", "bios_version"),
        ("build_date", "bios_date"),
    ] {
        if let Some(v) = read(dmi.join(file)) {
            fw.insert(key.into(), json!(v));
        }
    }
    if !fw.is_empty() {
        m.insert("firmware".into(), Value::Object(fw));
    }
    Value::Object(m)
}

/// The whole inventory, without LLDP.
pub fn collect(settings: &Settings) -> Value {
    collect_with(settings, None)
}

/// The whole inventory, with what each NIC heard over LLDP when it was collected.
pub fn collect_with(settings: &Settings, heard: Option<&Heard>) -> Value {
    let mut inv = Map::new();
    inv.insert(
        "interfaces".into(),
        Value::from(interfaces(settings, heard)),
    );
    if let Some(c) = cpu() {
        inv.insert("cpu".into(), c);
    }
    if let Some(m) = memory() {
        inv.insert("memory".into(), m);
    }
    let disks: Vec<Value> = disks::list(settings)
        .unwrap_or_default()
        .iter()
        .map(disks::Disk::to_json)
        .collect();
    inv.insert("disks".into(), Value::from(disks));
    inv.insert("bmc_address".into(), Value::Null);
    inv.insert("bmc_v6address".into(), Value::Null);
    inv.insert("system_vendor".into(), system_vendor());
    let mode = if Path::new("/sys/firmware/efi").exists() {
        "uefi"
    } else {
        "bios"
    };
    inv.insert(
        "boot".into(),
        json!({"current_boot_mode": mode, "pxe_interface": settings.bootif}),
    );
    if let Some(h) = read("/proc/sys/kernel/hostname") {
        inv.insert("hostname".into(), json!(h));
    }
    Value::Object(inv)
}
