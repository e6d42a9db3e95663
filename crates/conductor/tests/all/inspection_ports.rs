//! Inspection completing the network model: a fake-hardware node waiting in
//! `inspect wait` gets an inventory whose NICs report their switch over LLDP (in
//! the inventory, or in the `lldp` collector's `lldp_raw`), and the conductor's
//! hooks create, keep or delete its ports under `[inspector]` `add_ports` and
//! `keep_ports`, set `pxe_enabled` from the booting NIC, add the switch link to
//! each port's `local_link_connection` (keeping what was set before) and map
//! addresses to a `physical_network`. An inventory none of whose NICs qualifies
//! fails the inspection and changes no port.

use std::time::Duration;

use ferric_conductor::inspection::{AddPorts, CidrMap, InspectorSettings, KeepPorts};
use ferric_conductor::{Conductor, ConductorApi, ConductorConfig};
use ferric_db::{Cond, Datastore, ListQuery};
use ferric_drivers::inspect;
use ferric_types::hardware::{InterfaceKind, FAKE_HARDWARE};
use ferric_types::lldp::{to_ipa, Tlv};
use ferric_types::provision::ProvisionState;
use ferric_types::{MacAddress, Node, NodeId, Port, PortId, Timestamp};
use serde_json::{json, Value};

use crate::both_backends;
use crate::harness::conductor;

const BOOT: &str = "52:54:00:00:10:01";
const DATA: &str = "52:54:00:00:10:02";
const STALE: &str = "52:54:00:00:10:09";
const LEAF_A: [u8; 6] = [0x02, 0x5e, 0, 0, 0, 0];
const LEAF_B: [u8; 6] = [0x02, 0x5e, 0, 0, 0, 1];

fn settings(add: AddPorts, keep: KeepPorts, map: &[&str]) -> ConductorConfig {
    ConductorConfig {
        inspector: InspectorSettings {
            add_ports: add,
            keep_ports: keep,
            update_pxe_enabled: true,
            physical_network_cidr_map: CidrMap::parse(map).unwrap(),
        },
        ..ConductorConfig::default()
    }
}

fn mac(s: &str) -> MacAddress {
    s.parse().unwrap()
}

/// A fake-hardware node with the agent inspect interface, its ramdisk booted and
/// the conductor waiting for its data.
async fn waiting_node(db: &Datastore) -> NodeId {
    let mut n = FAKE_HARDWARE.new_node(ProvisionState::InspectWait);
    n.set_interface(InterfaceKind::Inspect, Some("agent".into()));
    n.target_provision_state = Some(ProvisionState::Manageable);
    n.driver_internal_info
        .insert(inspect::BOOTING.into(), Value::Bool(true));
    db.node_create(&n).await.unwrap();
    n.uuid
}

async fn add_port(db: &Datastore, node: NodeId, address: &str, f: impl FnOnce(&mut Port)) {
    let mut p = Port::new(PortId::new_v4(), mac(address), node, Timestamp::now());
    f(&mut p);
    db.port_create(&p).await.unwrap();
}

async fn ports(db: &Datastore, node: NodeId) -> Vec<Port> {
    let mut list = db
        .port_list(&ListQuery {
            conds: vec![Cond::Eq("node_uuid", node.to_string().into())],
            ..ListQuery::default()
        })
        .await
        .unwrap();
    list.sort_by(|a, b| a.address.cmp(&b.address));
    list
}

fn lldp(switch: [u8; 6], port: &str, name: &str) -> Value {
    to_ipa(&[
        Tlv::chassis_mac(switch),
        Tlv::port_name(port),
        Tlv::ttl(120),
        Tlv::system_name(name),
        Tlv::end(),
    ])
}

/// What the agent posts: the boot NIC (with an address) on leaf A, a second NIC on
/// leaf B, the loopback; booted from the first.
fn data() -> Value {
    json!({
        "inventory": {
            "interfaces": [
                {"name": "eth0", "mac_address": BOOT, "ipv4_address": "10.20.0.7",
                 "lldp": lldp(LEAF_A, "Ethernet1/7", "leaf-a")},
                {"name": "eth1", "mac_address": DATA,
                 "lldp": lldp(LEAF_B, "Ethernet1/7", "leaf-b")},
                {"name": "lo", "mac_address": "00:00:00:00:00:00", "ipv4_address": "127.0.0.1"},
            ],
            "cpu": {"count": 2, "architecture": "x86_64"},
            "memory": {"total": 4_294_967_296u64},
            "boot": {"current_boot_mode": "uefi", "pxe_interface": format!("01-{}", BOOT.replace(':', "-"))},
        },
        "root_disk": {"name": "/dev/sda", "size": 21_474_836_480u64},
        "boot_interface": format!("01-{}", BOOT.replace(':', "-")),
    })
}

/// Hands the data over and waits until the node rests; the node.
async fn inspect(conductor: &Conductor, db: &Datastore, node: NodeId, data: Value) -> Node {
    conductor.continue_inspection(node, data).await.unwrap();
    for _ in 0..500 {
        let n = db.node_get(node).await.unwrap();
        if n.reservation.is_none() && n.provision_state != ProvisionState::InspectWait {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("node {node} never finished its inspection");
}

both_backends!(
    every_nic_becomes_a_port_linked_to_its_switch,
    |db: Datastore| async move {
        let c = conductor(
            &db,
            settings(
                AddPorts::All,
                KeepPorts::Present,
                &["10.20.0.0/16:physnet-a"],
            ),
        )
        .await;
        let node = waiting_node(&db).await;
        // Enrolled by hand: the boot NIC (not marked PXE, its switch port known by
        // name only) and a NIC the machine no longer has.
        add_port(&db, node, BOOT, |p| {
            p.pxe_enabled = false;
            p.local_link_connection
                .insert("port_id".into(), json!("Eth1/7 (hand-set)"));
        })
        .await;
        add_port(&db, node, STALE, |_| {}).await;

        let done = inspect(&c, &db, node, data()).await;
        assert_eq!(done.provision_state, ProvisionState::Manageable);
        assert!(done.last_error.is_none(), "{:?}", done.last_error);

        let list = ports(&db, node).await;
        let addresses: Vec<&str> = list.iter().map(|p| p.address.as_str()).collect();
        assert_eq!(
            addresses,
            [BOOT, DATA],
            "stale port gone, loopback left out"
        );
        let (boot, second) = (&list[0], &list[1]);
        assert!(boot.pxe_enabled && !second.pxe_enabled);
        assert_eq!(
            Value::Object(boot.local_link_connection.clone()),
            json!({"port_id": "Eth1/7 (hand-set)", "switch_id": "02:5e:00:00:00:00", "switch_info": "leaf-a"}),
            "what was set by hand stays"
        );
        assert_eq!(
            Value::Object(second.local_link_connection.clone()),
            json!({"switch_id": "02:5e:00:00:00:01", "port_id": "Ethernet1/7", "switch_info": "leaf-b"})
        );
        assert_eq!(boot.physical_network.as_deref(), Some("physnet-a"));
        assert_eq!(second.physical_network, None, "no address, no mapping");
        assert!(boot.updated_at.is_some());

        let stored = db.inventory_get(node).await.unwrap();
        let pd = &stored.plugin_data;
        assert_eq!(pd["all_interfaces"]["eth0"]["pxe_enabled"], json!(true));
        assert_eq!(pd["valid_interfaces"]["eth1"]["mac_address"], json!(DATA));
        assert!(pd["valid_interfaces"].get("lo").is_none());
        assert_eq!(pd["macs"], json!([BOOT, DATA]));
        let history = db.history_list(node, &ListQuery::default()).await.unwrap();
        assert!(
            history.iter().any(|h| h
                .event
                .contains("ports: 1 created, 1 deleted, 1 updated, 2 linked")),
            "{history:?}"
        );

        // Inspected again: nothing left to change.
        let before = ports(&db, node).await;
        let mut n = db.node_get(node).await.unwrap();
        let read = n.updated_at;
        n.provision_state = ProvisionState::InspectWait;
        n.target_provision_state = Some(ProvisionState::Manageable);
        n.driver_internal_info
            .insert(inspect::BOOTING.into(), Value::Bool(true));
        n.updated_at = Some(Timestamp::now());
        assert_eq!(
            db.node_update(&n, read).await.unwrap(),
            ferric_db::UpdateOutcome::Updated
        );
        let done = inspect(&c, &db, node, data()).await;
        assert_eq!(done.provision_state, ProvisionState::Manageable);
        assert_eq!(ports(&db, node).await, before, "a second pass is a no-op");
    }
);

both_backends!(
    by_default_only_the_boot_nic_gets_a_port_and_every_port_stays,
    |db: Datastore| async move {
        let c = conductor(&db, ConductorConfig::default()).await;
        let node = waiting_node(&db).await;
        add_port(&db, node, STALE, |_| {}).await;
        // The agent's LLDP collector reported the boot NIC under `lldp_raw`.
        let mut d = data();
        d["inventory"]["interfaces"][0]["lldp"] = Value::Null;
        d["lldp_raw"] = json!({"eth0": lldp(LEAF_A, "Ethernet1/9", "leaf-a")});
        let done = inspect(&c, &db, node, d).await;
        assert_eq!(done.provision_state, ProvisionState::Manageable);

        let list = ports(&db, node).await;
        let addresses: Vec<&str> = list.iter().map(|p| p.address.as_str()).collect();
        assert_eq!(
            addresses,
            [BOOT, STALE],
            "keep_ports=all keeps the stale port"
        );
        assert!(list[0].pxe_enabled);
        assert!(!list[1].pxe_enabled, "the machine did not boot from it");
        assert_eq!(
            list[0].local_link_connection["port_id"],
            json!("Ethernet1/9")
        );
        assert_eq!(list[0].physical_network, None, "no CIDR map");
        assert!(list[1].local_link_connection.is_empty());
    }
);

both_backends!(
    a_mac_another_node_owns_is_left_alone,
    |db: Datastore| async move {
        let c = conductor(&db, settings(AddPorts::All, KeepPorts::All, &[])).await;
        let node = waiting_node(&db).await;
        let other = waiting_node(&db).await;
        add_port(&db, other, DATA, |_| {}).await;
        let done = inspect(&c, &db, node, data()).await;
        assert_eq!(done.provision_state, ProvisionState::Manageable);
        let mine: Vec<String> = ports(&db, node)
            .await
            .iter()
            .map(|p| p.address.to_string())
            .collect();
        assert_eq!(mine, [BOOT]);
        let theirs = ports(&db, other).await;
        assert!(
            theirs[0].local_link_connection.is_empty(),
            "another node's port is not touched"
        );
    }
);

both_backends!(
    an_inventory_with_no_qualifying_nic_fails_the_inspection,
    |db: Datastore| async move {
        let c = conductor(&db, settings(AddPorts::Active, KeepPorts::Added, &[])).await;
        let node = waiting_node(&db).await;
        add_port(&db, node, STALE, |_| {}).await;
        let mut d = data();
        d["inventory"]["interfaces"] = json!([{"name": "eth1", "mac_address": DATA}]);
        let done = inspect(&c, &db, node, d).await;
        assert_eq!(done.provision_state, ProvisionState::InspectFailed);
        let err = done.last_error.unwrap_or_default();
        assert!(err.contains("add_ports set to \"active\""), "{err}");
        let list = ports(&db, node).await;
        assert_eq!(list.len(), 1, "no port created or deleted");
        assert!(db.inventory_get(node).await.is_err(), "nothing stored");
    }
);
