//! `ferric node inventory`: what inspection found, in a few lines a person reads —
//! CPUs, memory, the root disk, each disk and each NIC. (The switch port LLDP
//! named for a NIC is on its port: `ferric port list --node NODE`.) `--format
//! json|yaml` prints the whole document instead.

use serde_json::{json, Value};

const GIB: f64 = (1u64 << 30) as f64;

fn gib(bytes: &Value) -> String {
    bytes
        .as_u64()
        .map_or_else(|| "?".into(), |b| format!("{:.1} GiB", b as f64 / GIB))
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// The inventory endpoint's document (`inventory`, `plugin_data`) in one record.
pub fn summary(body: &Value) -> Value {
    let inv = &body["inventory"];
    let plugin = &body["plugin_data"];
    let cpu = &inv["cpu"];
    let disks: Vec<String> = inv["disks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            format!(
                "{} {} {}",
                text(d, "name"),
                gib(&d["size"]),
                text(d, "model")
            )
            .trim_end()
            .to_string()
        })
        .collect();
    let nics: Vec<String> = inv["interfaces"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let mut line = format!("{} {}", text(i, "name"), text(i, "mac_address"));
            if let Some(ip) = i["ipv4_address"].as_str() {
                line.push_str(&format!(" {ip}"));
            }
            line
        })
        .collect();
    json!({
        "cpus": format!("{} × {} ({})", cpu["count"], text(cpu, "model_name"), text(cpu, "architecture")),
        "memory": inv["memory"]["physical_mb"].as_u64().map_or_else(|| "?".into(), |m| format!("{m} MiB")),
        "root disk": format!("{} {}", text(&plugin["root_disk"], "name"), gib(&plugin["root_disk"]["size"])),
        "disks": disks.join("\n"),
        "interfaces": nics.join("\n"),
        "system": format!("{} {}", text(&inv["system_vendor"], "manufacturer"), text(&inv["system_vendor"], "product_name")).trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inventory_in_a_few_lines() {
        let body = json!({
            "inventory": {
                "cpu": {"count": 4, "model_name": "Xeon", "architecture": "x86_64"},
                "memory": {"physical_mb": 8192},
                "disks": [{"name": "/dev/sda", "size": 8u64 << 30, "model": "QEMU HARDDISK"}],
                "interfaces": [{"name": "eth0", "mac_address": "52:54:00:00:00:01", "ipv4_address": "10.0.0.5"}],
                "system_vendor": {"manufacturer": "QEMU", "product_name": "Standard PC"}
            },
            "plugin_data": {
                "root_disk": {"name": "/dev/sda", "size": 8u64 << 30}
            }
        });
        let s = summary(&body);
        assert_eq!(s["cpus"], "4 × Xeon (x86_64)");
        assert_eq!(s["memory"], "8192 MiB");
        assert_eq!(s["root disk"], "/dev/sda 8.0 GiB");
        assert_eq!(s["disks"], "/dev/sda 8.0 GiB QEMU HARDDISK");
        assert_eq!(s["interfaces"], "eth0 52:54:00:00:00:01 10.0.0.5");
        assert_eq!(s["system"], "QEMU Standard PC");
    }
}
