//! Runs Ferric's DHCP server on an interface answering every MAC with a boot target,
//! for load tests (`bench/dhcp-load.sh` drives it with Kea's perfdhcp).
//!   dhcp_serve IFACE SERVER_IP POOL_START POOL_END
//! Prints the server's counters on SIGUSR1 and when stopped.

use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use ferric_boot::dhcp::{open_socket, BootPolicy, BootTarget, DhcpConfig, DhcpServer, DhcpStats};

struct Everyone;

impl BootPolicy for Everyone {
    fn target(&self, _: [u8; 6]) -> Option<BootTarget> {
        Some(BootTarget {
            bios_file: "undionly.kpxe".into(),
            uefi_file: "snponly.efi".into(),
            ipxe_script: Some("http://10.249.0.1:6385/boot/node/config".into()),
            http_boot_url: None,
            extra_options: Vec::new(),
            fixed_ip: None,
        })
    }
}

fn print(stats: &DhcpStats) {
    let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    eprintln!(
        "dhcp_serve: received {} malformed {} ignored {} offers {} acks {} naks {}",
        get(&stats.received),
        get(&stats.malformed),
        get(&stats.ignored),
        get(&stats.offers),
        get(&stats.acks),
        get(&stats.naks)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, iface, server, start, end] = args.as_slice() else {
        eprintln!("usage: dhcp_serve IFACE SERVER_IP POOL_START POOL_END");
        std::process::exit(2);
    };
    let ip = |s: &str| -> Ipv4Addr { s.parse().expect("an IPv4 address") };
    let cfg = DhcpConfig {
        interface: Some(iface.clone()),
        server_ip: ip(server),
        prefix: 16,
        pool_start: ip(start),
        pool_end: ip(end),
        gateway: None,
        dns: Vec::new(),
        lease_time: Duration::from_secs(3600),
        server_port: 67,
        client_port: 68,
        proxy_port: None,
    };
    let server =
        DhcpServer::from_socket(open_socket(&cfg).expect("socket"), cfg, Arc::new(Everyone))
            .expect("server");
    let stats = server.stats();
    let task = tokio::spawn(server.run());
    let mut usr1 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
        .expect("signal");
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal");
    loop {
        tokio::select! {
            _ = usr1.recv() => print(&stats),
            _ = term.recv() => break,
        }
    }
    task.abort();
    print(&stats);
}
