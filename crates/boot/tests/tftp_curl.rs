//! The TFTP server against a real client, curl's TFTP implementation: files fetched
//! with and without options (blksize, tsize), a file past 65 535 blocks (block
//! numbers wrap), an empty file, the refusals (missing file, a symlink out of the
//! root, uploads, and — sent raw, since curl normalises it away — `..`), and
//! malformed datagrams that are dropped and counted.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;

use ferric_boot::tftp::{TftpConfig, TftpServer, TftpStats};

fn bytes(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(seed) >> 7) as u8)
        .collect()
}

/// `curl tftp://…` into `out`; returns curl's exit code.
fn curl(port: u16, name: &str, out: &Path, extra: &[&str]) -> i32 {
    Command::new("curl")
        .args(["-s", "--max-time", "60", "-o"])
        .arg(out)
        .args(extra)
        .arg(format!("tftp://127.0.0.1:{port}/{name}"))
        .status()
        .expect("curl is installed")
        .code()
        .unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_fetches_and_is_refused() {
    let base = std::env::temp_dir().join(format!("ferric-tftp-{}", std::process::id()));
    let root = base.join("root");
    std::fs::create_dir_all(root.join("pxelinux.cfg")).unwrap();
    let small = b"#!ipxe\nchain http://boot/script\n".to_vec();
    let medium = bytes(3 * 1024 * 1024 + 17, 2_654_435_761);
    let large = bytes(512 * 65_536 + 1_000, 40_503);
    std::fs::write(root.join("boot.ipxe"), &small).unwrap();
    std::fs::write(root.join("pxelinux.cfg/01-52-54-00-12-34-56"), &small).unwrap();
    std::fs::write(root.join("undionly.kpxe"), &medium).unwrap();
    std::fs::write(root.join("big.img"), &large).unwrap();
    std::fs::write(root.join("empty"), b"").unwrap();
    std::fs::write(base.join("secret"), b"no").unwrap();
    std::os::unix::fs::symlink(base.join("secret"), root.join("escape")).unwrap();

    let server = TftpServer::bind(TftpConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        root.clone(),
    ))
    .await
    .unwrap();
    let port = server.local_addr().port();
    let stats = server.stats();
    let task = tokio::spawn(server.run());
    let out = base.join("out");

    let cases: &[(&str, &[&str], &Vec<u8>)] = &[
        ("boot.ipxe", &[], &small),
        (
            "pxelinux.cfg/01-52-54-00-12-34-56",
            &["--tftp-no-options"],
            &small,
        ),
        ("undionly.kpxe", &["--tftp-blksize", "1468"], &medium),
        ("undionly.kpxe", &["--tftp-no-options"], &medium),
        ("undionly.kpxe", &["--tftp-blksize", "65464"], &medium),
        ("big.img", &["--tftp-blksize", "512"], &large),
    ];
    for (name, extra, want) in cases {
        let (n, out2, x) = (name.to_string(), out.clone(), extra.to_vec());
        let code = tokio::task::spawn_blocking(move || curl(port, &n, &out2, &x))
            .await
            .unwrap();
        assert_eq!(code, 0, "{name} {extra:?}");
        assert_eq!(&std::fs::read(&out).unwrap(), *want, "{name} {extra:?}");
    }
    let empty: PathBuf = out.clone();
    let code = tokio::task::spawn_blocking(move || curl(port, "empty", &empty, &[]))
        .await
        .unwrap();
    assert_eq!(code, 0);
    assert!(std::fs::read(&out).unwrap().is_empty());

    // 68: TFTP file not found; 69: TFTP permission problem.
    for (name, want) in [("missing", 68), ("escape", 69)] {
        let out2 = out.clone();
        let code = tokio::task::spawn_blocking(move || curl(port, name, &out2, &[]))
            .await
            .unwrap();
        assert_eq!(code, want, "{name}");
    }
    let upload = base.join("upload");
    std::fs::write(&upload, b"data").unwrap();
    let code = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args(["-s", "--max-time", "20", "-T"])
            .arg(&upload)
            .arg(format!("tftp://127.0.0.1:{port}/new"))
            .status()
            .unwrap()
            .code()
            .unwrap_or(-1)
    })
    .await
    .unwrap();
    assert_ne!(code, 0, "uploads are refused");
    assert!(!root.join("new").exists());

    // curl normalises `..` away, so that request goes out raw: an access violation.
    let raw = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    raw.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    for name in ["../secret", "pxelinux.cfg/../../secret", "/../secret"] {
        let mut rrq = b"\x00\x01".to_vec();
        rrq.extend_from_slice(name.as_bytes());
        rrq.extend_from_slice(b"\x00octet\x00");
        raw.send_to(&rrq, ("127.0.0.1", port)).unwrap();
        let mut buf = [0u8; 128];
        let (n, _) = raw.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..4], b"\x00\x05\x00\x02", "{name}: {:?}", &buf[..n]);
    }

    // Junk is dropped and counted; the server keeps serving.
    let junk = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    junk.send_to(b"\x00\x01no-terminator", ("127.0.0.1", port))
        .unwrap();
    junk.send_to(b"\xff", ("127.0.0.1", port)).unwrap();
    let out2 = out.clone();
    let code = tokio::task::spawn_blocking(move || curl(port, "boot.ipxe", &out2, &[]))
        .await
        .unwrap();
    assert_eq!(code, 0);
    assert_eq!(TftpStats::get(&stats.malformed), 2);
    // curl exits once it has sent the last acknowledgement; the server counts the
    // transfer when that acknowledgement arrives, a moment later.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while stats.completed.load(Ordering::Relaxed) < 8 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(stats.completed.load(Ordering::Relaxed), 8);
    assert!(TftpStats::get(&stats.refused) >= 6);
    task.abort();
    std::fs::remove_dir_all(&base).unwrap();
}
