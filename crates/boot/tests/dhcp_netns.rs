//! The DHCP server with real packets: two network namespaces joined by a veth pair,
//! the server's socket opened inside one, busybox `udhcpc` as the client in the
//! other. A BIOS PXE client gets the TFTP server and `undionly.kpxe`, a UEFI one
//! `snponly.efi`, iPXE its script URL; every client gets an address from the pool,
//! the mask, router and DNS; an unknown MAC gets nothing; junk is counted.
//! Needs root (namespaces), `ip` and busybox.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use ferric_boot::dhcp::{open_socket, BootPolicy, BootTarget, DhcpConfig, DhcpServer, ExtraOption};

const KNOWN: [u8; 6] = [0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01];
const SCRIPT_URL: &str = "http://10.251.0.1:6385/boot/52-54-00-aa-bb-01.ipxe";

struct Policy;

impl BootPolicy for Policy {
    fn target(&self, mac: [u8; 6]) -> Option<BootTarget> {
        (mac == KNOWN).then(|| BootTarget {
            bios_file: "undionly.kpxe".into(),
            uefi_file: "snponly.efi".into(),
            ipxe_script: Some(SCRIPT_URL.into()),
            http_boot_url: None,
            extra_options: vec![ExtraOption {
                code: 42,
                value: vec![10, 251, 0, 1],
                for_ipxe: None,
            }],
            fixed_ip: None,
        })
    }
}

fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().expect("ip runs");
    assert!(st.success(), "ip {args:?}");
}

/// Two namespaces and a veth pair, removed on drop.
struct Net {
    server: String,
    client: String,
}

impl Net {
    fn new() -> Net {
        let id = std::process::id() % 100_000;
        let net = Net {
            server: format!("fdhs{id}"),
            client: format!("fdhc{id}"),
        };
        ip(&["netns", "add", &net.server]);
        ip(&["netns", "add", &net.client]);
        ip(&[
            "link",
            "add",
            "fdvs",
            "netns",
            &net.server,
            "type",
            "veth",
            "peer",
            "name",
            "fdvc",
            "netns",
            &net.client,
        ]);
        ip(&[
            "-n",
            &net.server,
            "addr",
            "add",
            "10.251.0.1/24",
            "dev",
            "fdvs",
        ]);
        ip(&["-n", &net.server, "link", "set", "fdvs", "up"]);
        ip(&[
            "-n",
            &net.client,
            "link",
            "set",
            "fdvc",
            "address",
            "52:54:00:aa:bb:01",
        ]);
        ip(&["-n", &net.client, "link", "set", "fdvc", "up"]);
        net
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.server])
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.client])
            .status();
    }
}

/// Opens the server socket inside the namespace `ns` (sockets keep the namespace
/// they were created in).
fn socket_in(ns: &str, cfg: &DhcpConfig) -> std::net::UdpSocket {
    let ns = ns.to_string();
    let cfg = cfg.clone();
    std::thread::spawn(move || {
        use std::os::unix::io::AsRawFd;
        let target = std::fs::File::open(format!("/run/netns/{ns}")).unwrap();
        // SAFETY: setns on this (short-lived) thread only.
        assert_eq!(
            unsafe { libc::setns(target.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        open_socket(&cfg).unwrap()
    })
    .join()
    .unwrap()
}

/// Runs udhcpc in the client namespace; the environment of its `bound` event.
fn udhcpc(ns: &str, extra: &[&str]) -> Option<std::collections::HashMap<String, String>> {
    let dir = std::env::temp_dir().join(format!(
        "ferric-dhcp-{}-{}",
        std::process::id(),
        extra.join("_").replace([':', '/'], "")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("script");
    let out = dir.join("env");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = bound ] && env > {}\nexit 0\n",
            out.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let st = Command::new("ip")
        .args([
            "netns", "exec", ns, "busybox", "udhcpc", "-i", "fdvc", "-f", "-q", "-n", "-t", "3",
            "-T", "1", "-s",
        ])
        .arg(&script)
        .args(extra)
        .output()
        .expect("busybox runs");
    let env = std::fs::read_to_string(&out).ok().map(|text| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    });
    let _ = std::fs::remove_dir_all(&dir);
    if !st.status.success() {
        return None;
    }
    env
}

/// A config for sockets that only send.
fn junk_cfg() -> DhcpConfig {
    DhcpConfig {
        interface: None,
        server_ip: Ipv4Addr::UNSPECIFIED,
        prefix: 24,
        pool_start: Ipv4Addr::UNSPECIFIED,
        pool_end: Ipv4Addr::UNSPECIFIED,
        gateway: None,
        dns: Vec::new(),
        lease_time: Duration::from_secs(1),
        server_port: 0,
        client_port: 0,
        proxy_port: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udhcpc_gets_leases_and_boot_files() {
    let net = Net::new();
    let cfg = DhcpConfig {
        interface: Some("fdvs".into()),
        server_ip: Ipv4Addr::new(10, 251, 0, 1),
        prefix: 24,
        pool_start: Ipv4Addr::new(10, 251, 0, 100),
        pool_end: Ipv4Addr::new(10, 251, 0, 199),
        gateway: Some(Ipv4Addr::new(10, 251, 0, 1)),
        dns: vec![Ipv4Addr::new(10, 251, 0, 53)],
        lease_time: Duration::from_secs(600),
        server_port: 67,
        client_port: 68,
        proxy_port: None,
    };
    let server =
        DhcpServer::from_socket(socket_in(&net.server, &cfg), cfg, Arc::new(Policy)).unwrap();
    let stats = server.stats();
    let task = tokio::spawn(server.run());
    let client = net.client.clone();
    let run = |extra: Vec<&'static str>| {
        let client = client.clone();
        tokio::task::spawn_blocking(move || udhcpc(&client, &extra))
    };

    let bios = run(vec![
        "-V",
        "PXEClient:Arch:00000:UNDI:002001",
        "-x",
        "93:0000",
    ])
    .await
    .unwrap()
    .expect("a BIOS PXE client gets a lease");
    assert_eq!(bios["ip"], "10.251.0.100");
    assert_eq!(bios["subnet"], "255.255.255.0");
    assert_eq!(bios["router"].trim(), "10.251.0.1");
    assert_eq!(bios["dns"].trim(), "10.251.0.53");
    assert_eq!(bios["serverid"], "10.251.0.1");
    assert_eq!(bios["siaddr"], "10.251.0.1");
    assert_eq!(bios["boot_file"], "undionly.kpxe");
    assert_eq!(bios["lease"], "600");
    assert_eq!(
        bios["ntpsrv"].trim(),
        "10.251.0.1",
        "a per-port extra option (42)"
    );

    let uefi = run(vec![
        "-V",
        "PXEClient:Arch:00007:UNDI:003016",
        "-x",
        "93:0007",
    ])
    .await
    .unwrap()
    .expect("a UEFI client gets a lease");
    assert_eq!(uefi["boot_file"], "snponly.efi");
    assert_eq!(uefi["ip"], "10.251.0.100", "the same MAC keeps its address");

    let ipxe = run(vec!["-x", "77:69505845"])
        .await
        .unwrap()
        .expect("iPXE gets a lease");
    assert_eq!(ipxe["boot_file"], SCRIPT_URL);

    // Junk on the wire is dropped and counted.
    let before = stats.malformed.load(Ordering::Relaxed);
    let junk_cfg = DhcpConfig {
        interface: Some("fdvc".into()),
        server_port: 68,
        ..junk_cfg()
    };
    let junk = socket_in(&net.client, &junk_cfg);
    junk.send_to(b"not a DHCP message", (Ipv4Addr::BROADCAST, 67))
        .unwrap();
    for _ in 0..100 {
        if stats.malformed.load(Ordering::Relaxed) > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stats.malformed.load(Ordering::Relaxed), before + 1);

    // An unknown MAC gets nothing.
    ip(&[
        "-n",
        &net.client,
        "link",
        "set",
        "fdvc",
        "address",
        "52:54:00:aa:bb:02",
    ]);
    let unknown = run(vec![]).await.unwrap();
    assert!(
        unknown.is_none(),
        "unknown MACs are not answered: {unknown:?}"
    );
    assert!(stats.ignored.load(Ordering::Relaxed) >= 1);
    assert!(stats.offers.load(Ordering::Relaxed) >= 3);
    assert!(stats.acks.load(Ordering::Relaxed) >= 3);
    task.abort();
}
