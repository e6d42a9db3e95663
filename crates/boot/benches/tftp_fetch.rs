//! TFTP throughput on loopback: one client fetching a 1 MiB boot file (the size of
//! an iPXE binary) at the block sizes firmware uses, and eight clients at once.

use std::net::UdpSocket;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferric_boot::tftp::{TftpConfig, TftpServer};

const SIZE: usize = 1 << 20;

/// Fetches `name` with `blksize`; returns the bytes received.
fn fetch(port: u16, name: &str, blksize: usize) -> usize {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rrq = b"\x00\x01".to_vec();
    rrq.extend_from_slice(name.as_bytes());
    rrq.extend_from_slice(format!("\0octet\0blksize\0{blksize}\0").as_bytes());
    sock.send_to(&rrq, ("127.0.0.1", port)).unwrap();
    let mut buf = vec![0u8; blksize + 4];
    let mut total = 0;
    loop {
        let (n, from) = sock.recv_from(&mut buf).unwrap();
        let op = u16::from_be_bytes([buf[0], buf[1]]);
        let block = [buf[2], buf[3]];
        match op {
            6 => sock.send_to(b"\x00\x04\x00\x00", from).unwrap(),
            3 => {
                sock.send_to(&[0, 4, block[0], block[1]], from).unwrap();
                total += n - 4;
                if n - 4 < blksize {
                    return total;
                }
                continue;
            }
            _ => panic!("unexpected TFTP packet {op}"),
        };
    }
}

fn bench(c: &mut Criterion) {
    let root = std::env::temp_dir().join(format!("ferric-tftp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("ipxe.efi"), vec![7u8; SIZE]).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let port = rt.block_on(async {
        let server = TftpServer::bind(TftpConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            root.clone(),
        ))
        .await
        .unwrap();
        let port = server.local_addr().port();
        tokio::spawn(server.run());
        port
    });
    let mut g = c.benchmark_group("tftp_fetch_1MiB");
    g.throughput(Throughput::Bytes(SIZE as u64));
    for blksize in [512, 1468, 8192] {
        g.bench_function(format!("blksize_{blksize}"), |b| {
            b.iter(|| assert_eq!(fetch(port, "ipxe.efi", blksize), SIZE))
        });
    }
    g.throughput(Throughput::Bytes(8 * SIZE as u64));
    g.bench_function("8_clients_blksize_1468", |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..8)
                .map(|_| std::thread::spawn(move || fetch(port, "ipxe.efi", 1468)))
                .collect();
            for h in handles {
                assert_eq!(h.join().unwrap(), SIZE);
            }
        })
    });
    g.finish();
    drop(rt);
    let _ = std::fs::remove_dir_all(&root);
}

criterion_group!(benches, bench);
criterion_main!(benches);
