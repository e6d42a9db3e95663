//! Criterion benchmarks of inspection rules: applying 100 rules to one node's
//! inspection data (a realistic inventory: 2 CPUs, 4 NICs, 2 disks; a node with
//! 4 ports), and validating 100 rule bodies as the API does on create.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use ferric_types::inspection_rules::{
    apply_rules, validate_create, InspectionRule, MaskSecrets, RuleContext,
};
use ferric_types::provision::ProvisionState;
use ferric_types::{JsonObject, Node, NodeId, Timestamp};
use serde_json::{json, Value};

fn obj(v: Value) -> JsonObject {
    match v {
        Value::Object(m) => m,
        _ => JsonObject::new(),
    }
}

const MACS: [&str; 4] = [
    "52:54:00:12:34:01",
    "52:54:00:12:34:02",
    "52:54:00:12:34:03",
    "52:54:00:12:34:04",
];

fn context() -> RuleContext {
    let node = Node::new(
        NodeId::new_v4(),
        "redfish".into(),
        ProvisionState::Inspecting,
        Timestamp::now(),
    );
    let interfaces: Vec<Value> = MACS
        .iter()
        .enumerate()
        .map(|(i, mac)| {
            json!({
                "name": format!("eno{}", i + 1),
                "mac_address": mac,
                "ipv4_address": format!("10.{}.0.{}", i, 10 + i),
                "ipv6_address": format!("fe80::5054:ff:fe12:34{:02x}", i + 1),
                "has_carrier": i < 2,
                "lldp": null,
                "vendor": "0x8086",
                "product": "0x1572",
                "client_id": null,
                "biosdevname": format!("em{}", i + 1),
                "speed_mbps": 10000,
                "pxe_enabled": i == 0
            })
        })
        .collect();
    let inventory = obj(json!({
        "cpu": {
            "model_name": "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz",
            "frequency": "2100.0000",
            "count": 2,
            "socket_count": 2,
            "architecture": "x86_64",
            "flags": ["fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "vmx", "avx2", "avx512f"]
        },
        "memory": {"total": 274877906944u64, "physical_mb": 262144},
        "interfaces": interfaces,
        "disks": [
            {"name": "/dev/sda", "model": "PERC H740P Mini", "size": 479559942144u64, "rotational": false,
             "wwn": "0x6d0946607f2a6e00", "serial": "00a66e2a7f6046096d", "vendor": "DELL", "hctl": "0:2:0:0", "by_path": "/dev/disk/by-path/pci-0000:18:00.0-scsi-0:2:0:0"},
            {"name": "/dev/nvme0n1", "model": "Dell Ent NVMe CM6 RI 1.92TB", "size": 1920383410176u64, "rotational": false,
             "wwn": "eui.36344830526006470025384500000001", "serial": "S4YNNE0N600647", "vendor": null, "hctl": null, "by_path": "/dev/disk/by-path/pci-0000:65:00.0-nvme-1"}
        ],
        "bmc_address": "192.168.10.21",
        "bmc_v6address": "::/0",
        "bmc_mac": "d0:8e:79:00:00:01",
        "system_vendor": {"product_name": "PowerEdge R640", "serial_number": "ABC1234", "manufacturer": "Dell Inc.",
                          "firmware": {"vendor": "Dell Inc.", "version": "2.17.1", "build_date": "03/13/2023"}},
        "boot": {"current_boot_mode": "uefi", "pxe_interface": MACS[0]},
        "hostname": "localhost.localdomain"
    }));
    let ports = MACS
        .iter()
        .map(|mac| {
            obj(json!({
                "uuid": uuid::Uuid::new_v4().to_string(),
                "address": mac,
                "extra": {},
                "local_link_connection": {},
                "pxe_enabled": true,
                "physical_network": null
            }))
        })
        .collect();
    RuleContext {
        node: obj(serde_json::to_value(node).unwrap_or_default()),
        inventory,
        plugin_data: obj(
            json!({"auto_discovered": false, "valid_interfaces": {}, "root_disk": {"name": "/dev/sda"}}),
        ),
        ports,
    }
}

/// Rule `i` of 100: ten shapes seen in real rule sets, about half of which match.
fn rule_body(i: usize) -> Value {
    let p = (i * 37) % 1000;
    match i % 10 {
        0 => {
            json!({"priority": p, "conditions": [{"op": "eq", "args": {"values": ["{inventory[cpu][architecture]}", "x86_64"]}}],
                    "actions": [{"op": "set-capability", "args": {"name": format!("cpu_arch_{i}"), "value": "{inventory[cpu][architecture]}"}}]})
        }
        1 => {
            json!({"priority": p, "conditions": [{"op": "gt", "args": {"values": ["{inventory[memory][physical_mb]}", 131072]}}],
                    "actions": [{"op": "add-trait", "args": {"name": format!("CUSTOM_BIG_MEMORY_{i}")}}]})
        }
        2 => {
            json!({"priority": p, "conditions": [{"op": "contains", "args": {"value": "{inventory[system_vendor][manufacturer]}", "regex": "(?i)dell"}}],
                    "actions": [{"op": "set-attribute", "args": {"path": "/driver_info/redfish_address", "value": "https://{inventory[bmc_address]}"}},
                                {"op": "set-attribute", "args": {"path": format!("/properties/rule_{i}"), "value": "{inventory[cpu][count]}"}}]})
        }
        3 => {
            json!({"priority": p, "conditions": [{"op": "in-net", "args": {"address": "{item}", "subnet": "10.2.0.0/16"},
                                                   "loop": ["{inventory[interfaces][0][ipv4_address]}", "{inventory[interfaces][1][ipv4_address]}",
                                                            "{inventory[interfaces][2][ipv4_address]}", "{inventory[interfaces][3][ipv4_address]}"]}],
                    "actions": [{"op": "set-port-attribute", "args": {"port_id": "{item}", "path": "/physical_network", "value": "physnet1"},
                                 "loop": MACS}]})
        }
        4 => {
            json!({"priority": p, "conditions": [{"op": "matches", "args": {"value": "{item[model]}", "regex": "(PERC|Dell Ent NVMe).*"},
                                                   "loop": [{"model": "{inventory[disks][0][model]}"}, {"model": "{inventory[disks][1][model]}"}], "multiple": "all"}],
                    "actions": [{"op": "set-plugin-data", "args": {"path": format!("checks.disks_{i}"), "value": true}}]})
        }
        5 => {
            json!({"priority": p, "conditions": [{"op": "one-of", "args": {"value": "{inventory[system_vendor][product_name]}", "values": ["PowerEdge R640", "PowerEdge R650"]}}],
                    "actions": [{"op": "log", "args": {"msg": "rule {node.driver} sees {inventory[system_vendor][product_name]}", "level": "debug"}}]})
        }
        6 => {
            json!({"priority": p, "conditions": [{"op": "is-empty", "args": {"value": "{inventory[bmc_address]}"}}],
                    "actions": [{"op": "fail", "args": {"msg": "no BMC address"}}]})
        }
        7 => {
            json!({"priority": p, "conditions": [{"op": "is-true", "args": {"value": "{plugin_data[auto_discovered]}"}}],
                    "actions": [{"op": "set-attribute", "args": {"path": "/driver", "value": "idrac-redfish"}}]})
        }
        8 => {
            json!({"priority": p, "conditions": [{"op": "lt", "args": {"values": ["{inventory[cpu][count]}", 2]}},
                                                  {"op": "!is-none", "args": {"value": "{inventory[cpu][model_name]}"}}],
                    "actions": [{"op": "fail", "args": {"msg": "too few CPUs"}}]})
        }
        _ => {
            json!({"priority": p, "conditions": [{"op": "eq", "args": {"values": ["{inventory[boot][current_boot_mode]}", "uefi"], "force_strings": true}}],
                    "actions": [{"op": "extend-attribute", "args": {"path": "/extra/tags", "value": format!("uefi-{}", i % 3), "unique": true}},
                                {"op": "extend-plugin-data", "args": {"path": "seen", "value": i}}]})
        }
    }
}

fn rules() -> (Vec<Value>, Vec<InspectionRule>) {
    let bodies: Vec<Value> = (0..100).map(rule_body).collect();
    let rules = bodies
        .iter()
        .filter_map(|b| validate_create(b).ok())
        .map(|d| d.into_rule(Timestamp::now()))
        .collect::<Vec<_>>();
    assert_eq!(rules.len(), 100);
    (bodies, rules)
}

fn inspection_rules(c: &mut Criterion) {
    let (bodies, rules) = rules();
    let ctx = context();
    let mut check = ctx.clone();
    let applied = apply_rules(&rules, &mut check, MaskSecrets::Always);
    let matched = applied.map(|a| a.matched.len()).unwrap_or_default();
    assert!(matched >= 50, "only {matched} rules matched");

    c.bench_function("apply_100_rules_per_node", |b| {
        b.iter_batched(
            || ctx.clone(),
            |mut ctx| apply_rules(&rules, &mut ctx, MaskSecrets::Always),
            BatchSize::SmallInput,
        )
    });
    c.bench_function("clone_rule_context", |b| b.iter(|| ctx.clone()));
    c.bench_function("validate_100_rule_bodies", |b| {
        b.iter(|| bodies.iter().filter(|b| validate_create(b).is_ok()).count())
    });
}

criterion_group!(benches, inspection_rules);
criterion_main!(benches);
