//! `ferric ramdisk build` as an operator runs it: two builds from the same inputs
//! give the same bytes (and the checksums file says so), the initramfs holds the
//! init, busybox, the agent, sfdisk and the libraries they load, and bad input is
//! refused with a reason. The lab's VM test boots a ramdisk built by this command
//! with Debian's kernel (`lab/vm-deploy.sh`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ferric-ramdisk-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ferric(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ferric"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap()
}

/// The archive's entries: name, mode, mtime.
fn listing(initramfs: &Path) -> Vec<(String, u32, u32)> {
    let gz = std::fs::read(initramfs).unwrap();
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut raw)
        .unwrap();
    let mut rest: &[u8] = &raw;
    let mut out = Vec::new();
    loop {
        let r = cpio::newc::Reader::new(rest).unwrap();
        if r.entry().is_trailer() {
            return out;
        }
        let e = r.entry();
        out.push((e.name().to_string(), e.mode(), e.mtime()));
        rest = r.finish().unwrap();
    }
}

#[test]
fn two_builds_are_the_same_bytes() {
    let dir = scratch("twice");
    let kernel = dir.join("vmlinuz");
    std::fs::write(&kernel, b"a kernel with its drivers built in").unwrap();
    // Any program stands in for the agent: its libraries come along.
    let agent = ["/usr/bin/true", "/bin/true"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .unwrap();
    let mut sums = Vec::new();
    for out in ["a", "b"] {
        let out = dir.join(out);
        let run = ferric(&[
            "ramdisk",
            "build",
            "--kernel",
            kernel.to_str().unwrap(),
            "--agent",
            agent,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(stdout.contains("deploy_ramdisk="), "{stdout}");
        sums.push(std::fs::read_to_string(out.join("SHA256SUMS")).unwrap());
    }
    assert_eq!(sums[0], sums[1], "same inputs, same bytes");
    assert_eq!(
        std::fs::read(dir.join("a/ferric.kernel")).unwrap(),
        std::fs::read(&kernel).unwrap()
    );

    let entries = listing(&dir.join("a/ferric.initramfs"));
    let names: Vec<&str> = entries.iter().map(|(n, _, _)| n.as_str()).collect();
    for want in [
        "init",
        "bin/busybox",
        "bin/sh",
        "bin/ferric-agent",
        "usr/sbin/sfdisk",
        "usr/share/udhcpc/default.script",
        "lib/modules/order",
    ] {
        assert!(names.contains(&want), "no {want} in {names:?}");
    }
    assert!(
        names.iter().any(|n| n.contains("libfdisk")),
        "sfdisk's libraries: {names:?}"
    );
    assert!(
        names.iter().any(|n| n.contains("ld-linux")),
        "the dynamic loader: {names:?}"
    );
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "entries in path order");
    assert!(entries.iter().all(|(_, _, mtime)| *mtime == 1_700_000_000));
    let init = entries.iter().find(|(n, _, _)| n == "init").unwrap();
    assert_eq!(init.1, 0o100755);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let dir = scratch("bad");
    let out = dir.join("out");
    let run = ferric(&[
        "ramdisk",
        "build",
        "--kernel",
        "/nonexistent/vmlinuz",
        "--agent",
        env!("CARGO_BIN_EXE_ferric"),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&run.stderr)
            .contains("cannot read the kernel /nonexistent/vmlinuz"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(!out.exists(), "nothing written");
    let run = ferric(&["ramdisk", "build", "-o", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2), "no kernel named: a usage error");
    let run = ferric(&[
        "ramdisk",
        "build",
        "--debian-kernel",
        "--agent",
        "/nonexistent/agent",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("no agent at /nonexistent/agent"));
    let _ = std::fs::remove_dir_all(&dir);
}
