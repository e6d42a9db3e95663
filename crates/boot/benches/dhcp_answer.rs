//! The DHCP server's decision path without sockets: parsing a DISCOVER, choosing an
//! address, building and encoding the OFFER — with the pool nearly full of other
//! clients' leases (a rack booting at once), and a renewal of a held lease.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use ferric_boot::dhcp::answer::answer;
use ferric_boot::dhcp::leases::Leases;
use ferric_boot::dhcp::packet::{kind, opt, Message, BOOTREQUEST};
use ferric_boot::dhcp::{BootPolicy, BootTarget, DhcpConfig};

struct Everyone;

impl BootPolicy for Everyone {
    fn target(&self, _: [u8; 6]) -> Option<BootTarget> {
        Some(BootTarget {
            bios_file: "undionly.kpxe".into(),
            uefi_file: "snponly.efi".into(),
            ipxe_script: Some("http://10.0.0.1:6385/boot/node/config".into()),
            http_boot_url: None,
            extra_options: Vec::new(),
            fixed_ip: None,
        })
    }
}

fn mac(i: u32) -> [u8; 6] {
    let b = i.to_be_bytes();
    [0x52, 0x54, b[0], b[1], b[2], b[3]]
}

fn request(kind_code: u8, i: u32, wanted: Option<Ipv4Addr>) -> Vec<u8> {
    let mut chaddr = [0u8; 16];
    chaddr[..6].copy_from_slice(&mac(i));
    let mut options = vec![
        (opt::MESSAGE_TYPE, vec![kind_code]),
        (
            opt::VENDOR_CLASS,
            b"PXEClient:Arch:00000:UNDI:002001".to_vec(),
        ),
        (opt::USER_CLASS, b"iPXE".to_vec()),
        (opt::CLIENT_ARCH, vec![0, 0]),
    ];
    if let Some(ip) = wanted {
        options.push((opt::REQUESTED_IP, ip.octets().to_vec()));
    }
    Message {
        op: BOOTREQUEST,
        htype: 1,
        hlen: 6,
        hops: 0,
        xid: i,
        secs: 0,
        flags: 0x8000,
        ciaddr: Ipv4Addr::UNSPECIFIED,
        yiaddr: Ipv4Addr::UNSPECIFIED,
        siaddr: Ipv4Addr::UNSPECIFIED,
        giaddr: Ipv4Addr::UNSPECIFIED,
        chaddr,
        sname: String::new(),
        file: String::new(),
        options,
    }
    .to_bytes()
}

fn bench(c: &mut Criterion) {
    let cfg = DhcpConfig {
        interface: None,
        server_ip: Ipv4Addr::new(10, 0, 0, 1),
        prefix: 16,
        pool_start: Ipv4Addr::new(10, 0, 1, 0),
        pool_end: Ipv4Addr::new(10, 0, 40, 255),
        gateway: None,
        dns: Vec::new(),
        lease_time: Duration::from_secs(3600),
        server_port: 67,
        client_port: 68,
        proxy_port: None,
    };
    let now = Instant::now();
    let mut leases = Leases::new(cfg.pool_start, cfg.pool_end);
    const HELD: u32 = 10_000;
    for i in 0..HELD {
        let ip = leases.offer(mac(i), None, now).unwrap();
        assert!(leases.bind(mac(i), ip, cfg.lease_time, now));
    }
    let renew_ip = leases.get(&mac(42)).unwrap().ip;
    let mut g = c.benchmark_group("dhcp");
    let mut next = HELD;
    g.bench_function("discover_offer_with_10000_leases", |b| {
        b.iter(|| {
            next += 1;
            if next == 20_000 {
                next = HELD;
            }
            let req = Message::parse(&request(kind::DISCOVER, next, None)).unwrap();
            let reply = answer(&cfg, &Everyone, &mut leases, &req, now).unwrap();
            leases.release(mac(next));
            reply.to_bytes()
        })
    });
    g.bench_function("request_ack_renewal", |b| {
        b.iter(|| {
            let req = Message::parse(&request(kind::REQUEST, 42, Some(renew_ip))).unwrap();
            answer(&cfg, &Everyone, &mut leases, &req, now)
                .unwrap()
                .to_bytes()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
