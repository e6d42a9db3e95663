//! Tenant isolation proven with real packets. Network namespaces play a switch (the
//! `linux-bridge` driver in bridge-per-VLAN mode: one bridge per VLAN, switch ports
//! are veth ends moved between them — this kernel has no 802.1Q or bridge VLAN
//! filtering), a provisioning host running Ferric's DHCP server on the provisioning
//! VLAN, a tenant host on the tenant VLAN, and servers whose NICs plug into switch
//! ports. The network service flips a node: on the provisioning network its NIC gets
//! a provisioning lease and reaches the provisioning host but not the tenant host;
//! after the flip it reaches the tenant host, no longer the provisioning host, and
//! gets no provisioning lease — checked with ping and ARP in both directions. Then a
//! node with a port group of two NICs (two plain NICs: no bonding driver here): both
//! switch ports flip together, each NIC checked. Needs root, `ip` and busybox.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use ferric_boot::dhcp::{open_socket, BootPolicy, BootTarget, DhcpConfig, DhcpServer};
use ferric_db::Datastore;
use ferric_net::service::{NetworkService, Switch, TENANT_VIF_KEY};
use ferric_net::switch::linux_bridge::{LinuxBridge, Mode};
use ferric_types::net::{AllocationPool, FixedIp, Network, Subnet, VifPort};
use ferric_types::provision::ProvisionState;
use ferric_types::{
    MacAddress, NetworkId, Node, NodeId, Port, PortGroup, PortGroupId, PortId, SubnetId, Timestamp,
    VifPortId,
};
use serde_json::json;

fn sh(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Namespaces, removed (with their links) on drop.
struct Lab {
    id: u32,
    namespaces: Vec<String>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

impl Lab {
    fn ns(&mut self, role: &str) -> String {
        let name = format!("fi{role}{}", self.id);
        sh(&["ip", "netns", "add", &name]);
        sh(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        self.namespaces.push(name.clone());
        name
    }

    /// A cable: `host_if` in `host` to `switch_if` in the switch namespace.
    fn cable(&self, host: &str, host_if: &str, switch: &str, switch_if: &str) {
        sh(&[
            "ip", "link", "add", host_if, "netns", host, "type", "veth", "peer", "name", switch_if,
            "netns", switch,
        ]);
        sh(&["ip", "-n", host, "link", "set", host_if, "up"]);
        sh(&["ip", "-n", switch, "link", "set", switch_if, "up"]);
    }
}

fn addr(ns: &str, dev: &str, cidr: &str) {
    sh(&["ip", "-n", ns, "addr", "add", cidr, "dev", dev]);
}

/// Whether `from` gets an ICMP echo reply from `to` within three tries: a bond's
/// ports settle a moment after a flip, and a loaded machine may drop the first
/// echo; an isolated pair must stay silent all three times.
fn pings(from: &str, to: &str) -> bool {
    (0..3).any(|_| {
        Command::new("ip")
            .args([
                "netns", "exec", from, "busybox", "ping", "-c", "1", "-W", "1", to,
            ])
            .output()
            .unwrap()
            .status
            .success()
    })
}

/// Whether `to` answers ARP on `dev` of `from` (the neighbour cache flushed first).
fn arps(from: &str, dev: &str, to: &str) -> bool {
    let _ = Command::new("ip")
        .args(["-n", from, "neigh", "flush", "dev", dev])
        .status();
    Command::new("ip")
        .args([
            "netns", "exec", from, "busybox", "arping", "-c", "1", "-w", "1", "-I", dev, to,
        ])
        .output()
        .unwrap()
        .status
        .success()
}

/// A DHCP exchange on `dev` of `ns`; the leased address.
fn lease(ns: &str, dev: &str) -> Option<String> {
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "busybox",
            "udhcpc",
            "-i",
            dev,
            "-f",
            "-q",
            "-n",
            "-t",
            "3",
            "-T",
            "1",
            "-s",
            "/bin/true",
        ])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.split("lease of ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
}

/// Answers the given MACs, as Ferric's DHCP does for nodes being provisioned.
struct Known(Vec<[u8; 6]>);

impl BootPolicy for Known {
    fn target(&self, mac: [u8; 6]) -> Option<BootTarget> {
        self.0.contains(&mac).then(|| BootTarget {
            bios_file: "undionly.kpxe".into(),
            uefi_file: "snponly.efi".into(),
            ipxe_script: None,
            http_boot_url: None,
            extra_options: Vec::new(),
            fixed_ip: None,
        })
    }
}

fn dhcp_socket_in(ns: &str, cfg: &DhcpConfig) -> std::net::UdpSocket {
    let ns = ns.to_string();
    let cfg = cfg.clone();
    std::thread::spawn(move || {
        use std::os::unix::io::AsRawFd;
        let target = std::fs::File::open(format!("/run/netns/{ns}")).unwrap();
        // SAFETY: setns on this short-lived thread only.
        assert_eq!(
            unsafe { libc::setns(target.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        open_socket(&cfg).unwrap()
    })
    .join()
    .unwrap()
}

fn network(name: &str, role: &str, vlan: u16) -> Network {
    Network {
        uuid: NetworkId::new_v4(),
        name: name.into(),
        description: String::new(),
        project_id: String::new(),
        shared: false,
        admin_state_up: true,
        role: role.into(),
        network_type: "vlan".into(),
        physical_network: Some("physnet1".into()),
        segmentation_id: Some(vlan),
        mtu: 1500,
        created_at: Timestamp::now(),
        updated_at: None,
    }
}

fn subnet(net: &Network, cidr: &str, start: &str, end: &str) -> Subnet {
    Subnet {
        uuid: SubnetId::new_v4(),
        network_uuid: net.uuid,
        name: String::new(),
        description: String::new(),
        project_id: String::new(),
        cidr: cidr.into(),
        gateway_ip: None,
        dns_nameservers: Vec::new(),
        allocation_pools: vec![AllocationPool {
            start: start.into(),
            end: end.into(),
        }],
        enable_dhcp: true,
        created_at: Timestamp::now(),
        updated_at: None,
    }
}

fn port(node: &Node, mac: &str, switch_port: &str, group: Option<PortGroupId>, pxe: bool) -> Port {
    let mut port = Port::new(
        PortId::new_v4(),
        mac.parse().unwrap(),
        node.uuid,
        Timestamp::now(),
    );
    port.portgroup_uuid = group;
    port.local_link_connection = json!({"switch_info": "tor1", "port_id": switch_port,
        "switch_id": "aa:bb:cc:dd:ee:ff"})
    .as_object()
    .unwrap()
    .clone();
    port.pxe_enabled = pxe;
    port.physical_network = Some("physnet1".into());
    port
}

fn tenant_vif(net: &Network, sub: &Subnet, ip: &str, last: u8) -> VifPort {
    VifPort {
        uuid: VifPortId::new_v4(),
        network_uuid: net.uuid,
        name: String::new(),
        description: String::new(),
        project_id: String::new(),
        mac_address: MacAddress::from([0xfa, 0x16, 0x3e, 0, 0, last]),
        fixed_ips: vec![FixedIp {
            subnet_id: sub.uuid,
            ip_address: ip.into(),
        }],
        extra_dhcp_opts: Vec::new(),
        binding_profile: Default::default(),
        vnic_type: "baremetal".into(),
        host_id: String::new(),
        device_id: String::new(),
        device_owner: String::new(),
        admin_state_up: true,
        status: "DOWN".into(),
        created_at: Timestamp::now(),
        updated_at: None,
    }
}

fn bridge_members(switch: &str, bridge: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["-n", switch, "-o", "link", "show", "master", bridge])
        .output()
        .unwrap();
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flip_isolates_tenants() {
    let mut lab = Lab {
        id: std::process::id() % 100_000,
        namespaces: Vec::new(),
    };
    let switch = lab.ns("sw");
    let prov = lab.ns("pv");
    let tenant = lab.ns("tn");
    let server = lab.ns("sa");
    let bond_a = lab.ns("ba");
    let bond_b = lab.ns("bb");
    // The switch: the hosts' ports sit on their VLANs' bridges for good.
    for b in ["fbr100", "fbr200"] {
        sh(&["ip", "-n", &switch, "link", "add", b, "type", "bridge"]);
        sh(&["ip", "-n", &switch, "link", "set", b, "up"]);
    }
    lab.cable(&prov, "eth0", &switch, "hostprov");
    lab.cable(&tenant, "eth0", &switch, "hosttenant");
    sh(&[
        "ip", "-n", &switch, "link", "set", "hostprov", "master", "fbr100",
    ]);
    sh(&[
        "ip",
        "-n",
        &switch,
        "link",
        "set",
        "hosttenant",
        "master",
        "fbr200",
    ]);
    addr(&prov, "eth0", "10.100.0.1/24");
    addr(&tenant, "eth0", "10.200.0.1/24");
    // The servers' NICs, plugged into switch ports swp1..swp3, on no bridge yet.
    lab.cable(&server, "eth0", &switch, "swp1");
    lab.cable(&bond_a, "eth0", &switch, "swp2");
    lab.cable(&bond_b, "eth0", &switch, "swp3");
    let macs = [
        "52:54:00:55:00:01",
        "52:54:00:55:00:02",
        "52:54:00:55:00:03",
    ];
    for (ns, mac) in [(&server, macs[0]), (&bond_a, macs[1]), (&bond_b, macs[2])] {
        sh(&["ip", "-n", ns, "link", "set", "eth0", "address", mac]);
    }
    // Addresses on both subnets up front: only the switch decides what a NIC reaches.
    addr(&server, "eth0", "10.200.0.10/24");
    for (ns, last) in [(&bond_a, 21), (&bond_b, 22)] {
        addr(ns, "eth0", &format!("10.200.0.{last}/24"));
        addr(ns, "eth0", &format!("10.100.0.{last}/24"));
    }

    // Ferric's DHCP server on the provisioning VLAN.
    let cfg = DhcpConfig {
        interface: Some("eth0".into()),
        server_ip: Ipv4Addr::new(10, 100, 0, 1),
        prefix: 24,
        pool_start: Ipv4Addr::new(10, 100, 0, 100),
        pool_end: Ipv4Addr::new(10, 100, 0, 150),
        gateway: None,
        dns: Vec::new(),
        lease_time: Duration::from_secs(600),
        server_port: 67,
        client_port: 68,
        proxy_port: None,
    };
    let known = macs
        .iter()
        .map(|m| m.parse::<MacAddress>().unwrap().octets())
        .collect();
    let dhcp =
        DhcpServer::from_socket(dhcp_socket_in(&prov, &cfg), cfg, Arc::new(Known(known))).unwrap();
    let dhcp_task = tokio::spawn(dhcp.run());

    // The network service over a fresh database, with the lab switch.
    let dir = std::env::temp_dir().join(format!("ferric-isolation-{}", lab.id));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Datastore::connect(&format!("sqlite://{}/net.db?mode=rwc", dir.display()))
        .await
        .unwrap();
    let driver = LinuxBridge::new(Mode::BridgePerVlan, "fbr".into(), Some(switch.clone())).unwrap();
    let service = NetworkService::new(
        db.clone(),
        vec![Switch {
            name: "tor1".into(),
            switch_id: None,
            switch_info: Some("tor1".into()),
            driver: Arc::new(driver),
        }],
    );
    let prov_net = network("prov", "provisioning", 100);
    let tenant_net = network("tenant-a", "tenant", 200);
    db.network_create(&prov_net).await.unwrap();
    db.network_create(&tenant_net).await.unwrap();
    let prov_sub = subnet(&prov_net, "10.100.0.0/24", "10.100.0.100", "10.100.0.150");
    db.subnet_create(&prov_sub).await.unwrap();
    let tenant_sub = subnet(&tenant_net, "10.200.0.0/24", "10.200.0.10", "10.200.0.99");
    db.subnet_create(&tenant_sub).await.unwrap();

    // Node A: one NIC, a tenant VIF attached.
    let mut a = Node::new(
        NodeId::new_v4(),
        "fake-hardware".into(),
        ProvisionState::Deploying,
        Timestamp::now(),
    );
    db.node_create(&a).await.unwrap();
    let mut nic = port(&a, macs[0], "swp1", None, true);
    let vif = tenant_vif(&tenant_net, &tenant_sub, "10.200.0.10", 1);
    db.vif_port_create(&vif).await.unwrap();
    nic.internal_info
        .insert(TENANT_VIF_KEY.into(), json!(vif.uuid.to_string()));
    db.port_create(&nic).await.unwrap();

    assert!(
        !pings(&server, "10.200.0.1") && lease(&server, "eth0").is_none(),
        "unplugged at first"
    );
    service.add_network(&mut a, "provisioning").await.unwrap();
    assert_eq!(bridge_members(&switch, "fbr100"), vec!["hostprov", "swp1"]);
    let got = lease(&server, "eth0").expect("a lease on the provisioning network");
    assert!(got.starts_with("10.100.0."), "{got}");
    addr(&server, "eth0", &format!("{got}/24"));
    assert!(
        pings(&server, "10.100.0.1") && pings(&prov, &got),
        "provisioning both ways"
    );
    assert!(arps(&server, "eth0", "10.100.0.1") && arps(&prov, "eth0", &got));
    assert!(
        !pings(&server, "10.200.0.1") && !pings(&tenant, "10.200.0.10"),
        "no tenant either way"
    );
    assert!(!arps(&server, "eth0", "10.200.0.1") && !arps(&tenant, "eth0", "10.200.0.10"));
    let prov_ports = db
        .vif_port_list(&ferric_db::ListQuery::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.device_owner == "baremetal:provisioning")
        .collect::<Vec<_>>();
    assert_eq!(prov_ports.len(), 1);
    assert_eq!(prov_ports[0].mac_address.as_str(), macs[0]);
    assert_eq!(prov_ports[0].fixed_ips[0].subnet_id, prov_sub.uuid);

    let refused = service.configure_tenant(&mut a).await.unwrap_err();
    assert!(
        refused.contains("still on the provisioning network"),
        "{refused}"
    );
    service
        .remove_network(&mut a, "provisioning")
        .await
        .unwrap();
    service.configure_tenant(&mut a).await.unwrap();
    assert_eq!(
        bridge_members(&switch, "fbr200"),
        vec!["hosttenant", "swp1"]
    );
    assert!(bridge_members(&switch, "fbr100") == vec!["hostprov"]);
    assert!(
        pings(&server, "10.200.0.1") && pings(&tenant, "10.200.0.10"),
        "tenant both ways"
    );
    assert!(arps(&server, "eth0", "10.200.0.1") && arps(&tenant, "eth0", "10.200.0.10"));
    assert!(
        !pings(&server, "10.100.0.1") && !pings(&prov, &got),
        "no provisioning either way"
    );
    assert!(!arps(&server, "eth0", "10.100.0.1") && !arps(&prov, "eth0", &got));
    assert!(
        lease(&server, "eth0").is_none(),
        "no provisioning lease on the tenant network"
    );
    let refused = service.add_network(&mut a, "cleaning").await.unwrap_err();
    assert!(refused.contains("tenant networks"), "{refused}");
    let vif = db.vif_port_get(vif.uuid).await.unwrap();
    assert_eq!(vif.status, "ACTIVE");
    assert_eq!(vif.host_id, a.uuid.to_string());

    // Node B: a port group of two NICs, one pxe-enabled; both flip together.
    let mut b = Node::new(
        NodeId::new_v4(),
        "fake-hardware".into(),
        ProvisionState::Deploying,
        Timestamp::now(),
    );
    db.node_create(&b).await.unwrap();
    let mut group = PortGroup {
        uuid: PortGroupId::new_v4(),
        name: Some("bond0".into()),
        address: None,
        node_uuid: b.uuid,
        // Bundled on the switch (a Linux bridge bundles by moving each member).
        extra: json!({"switch_lag_id": "1"}).as_object().unwrap().clone(),
        internal_info: Default::default(),
        standalone_ports_supported: false,
        mode: Some("active-backup".into()),
        properties: Default::default(),
        physical_network: None,
        category: None,
        dynamic_portgroup: false,
        created_at: Timestamp::now(),
        updated_at: None,
    };
    let bond_vif = tenant_vif(&tenant_net, &tenant_sub, "10.200.0.21", 2);
    db.vif_port_create(&bond_vif).await.unwrap();
    group
        .internal_info
        .insert(TENANT_VIF_KEY.into(), json!(bond_vif.uuid.to_string()));
    db.portgroup_create(&group).await.unwrap();
    db.port_create(&port(&b, macs[1], "swp2", Some(group.uuid), true))
        .await
        .unwrap();
    db.port_create(&port(&b, macs[2], "swp3", Some(group.uuid), false))
        .await
        .unwrap();

    service.add_network(&mut b, "provisioning").await.unwrap();
    for (ns, own) in [(&bond_a, "10.100.0.21"), (&bond_b, "10.100.0.22")] {
        assert!(
            pings(ns, "10.100.0.1") && pings(&prov, own),
            "{ns}: provisioning both ways"
        );
        assert!(!pings(ns, "10.200.0.1"), "{ns}: no tenant");
    }
    service
        .remove_network(&mut b, "provisioning")
        .await
        .unwrap();
    service.configure_tenant(&mut b).await.unwrap();
    for (ns, own) in [(&bond_a, "10.200.0.21"), (&bond_b, "10.200.0.22")] {
        assert!(
            pings(ns, "10.200.0.1") && pings(&tenant, own),
            "{ns}: tenant both ways"
        );
        assert!(
            !pings(ns, "10.100.0.1") && !arps(ns, "eth0", "10.100.0.1"),
            "{ns}: no provisioning"
        );
    }
    let bond_vif = db.vif_port_get(bond_vif.uuid).await.unwrap();
    let profile = &bond_vif.binding_profile;
    assert_eq!(
        profile["local_link_information"].as_array().unwrap().len(),
        2
    );
    assert_eq!(profile["local_group_information"]["name"], "bond0");

    let history_b = db
        .history_list(b.uuid, &ferric_db::ListQuery::default())
        .await
        .unwrap();
    assert!(
        history_b
            .iter()
            .any(|h| h.event.contains("link aggregate 1 (swp2, swp3)")
                && h.event.contains("VLAN 200")),
        "{history_b:?}"
    );

    // Off the tenant network again: nothing reachable.
    service.unconfigure_tenant(&mut b).await.unwrap();
    assert!(!pings(&bond_a, "10.200.0.1") && !pings(&bond_a, "10.100.0.1"));

    // Every flip is in the node's history.
    let history = db
        .history_list(a.uuid, &ferric_db::ListQuery::default())
        .await
        .unwrap();
    assert!(
        history
            .iter()
            .any(|h| h.event.contains("swp1") && h.event.contains("VLAN 100")),
        "{history:?}"
    );
    assert!(history
        .iter()
        .any(|h| h.event.contains("swp1") && h.event.contains("VLAN 200")));
    dhcp_task.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
