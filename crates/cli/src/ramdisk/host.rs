//! What the ramdisk takes from the build machine: programs with the shared
//! libraries they load (as `ldd` lists them), a Debian kernel package unpacked,
//! and the kernel modules the ramdisk loads at boot, decompressed.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::tree::Tree;

/// The drivers the ramdisk loads, in load order (no `modules.dep` is shipped):
/// virtio for VMs, Intel e1000/e1000e NICs, NVMe. A module the kernel has built
/// in, or lacks, is skipped.
pub const MODULES: &[&str] = &[
    "drivers/virtio/virtio_ring",
    "drivers/virtio/virtio",
    "drivers/virtio/virtio_pci_modern_dev",
    "drivers/virtio/virtio_pci_legacy_dev",
    "drivers/virtio/virtio_pci",
    "net/core/failover",
    "drivers/net/net_failover",
    "drivers/net/virtio_net",
    "drivers/block/virtio_blk",
    "drivers/net/ethernet/intel/e1000/e1000",
    "drivers/net/ethernet/intel/e1000e/e1000e",
    "drivers/scsi/virtio_scsi",
    "drivers/nvme/host/nvme-core",
    "drivers/nvme/host/nvme",
];

fn run(cmd: &mut Command) -> Result<String, String> {
    run_bytes(cmd).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// `name` on the PATH, or in the sbin directories a user's PATH may lack.
pub fn find_program(name: &str) -> Result<PathBuf, String> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file());
    found.ok_or_else(|| format!("{name} is not installed on this machine"))
}

/// The shared libraries `program` loads, the dynamic loader included (none for a
/// static program).
pub fn libraries(program: &Path) -> Result<Vec<PathBuf>, String> {
    let out = Command::new("ldd")
        .arg(program)
        .output()
        .map_err(|e| format!("cannot run ldd: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || text.contains("statically linked") {
        // "not a dynamic executable": nothing to copy.
        return Ok(Vec::new());
    }
    let mut libs = Vec::new();
    for line in text.lines().map(str::trim) {
        let path = match line.split_once(" => ") {
            Some((name, "not found")) => {
                return Err(format!(
                    "{} needs {name}, which is not installed",
                    program.display()
                ))
            }
            Some((_, rest)) => rest.split(" (").next().unwrap_or_default(),
            None => line.split(" (").next().unwrap_or_default(),
        };
        if path.starts_with('/') {
            libs.push(PathBuf::from(path));
        }
    }
    Ok(libs)
}

/// Adds `program` at `at`, and the libraries it loads at their own paths.
pub fn add_program(tree: &mut Tree, program: &Path, at: &str) -> Result<(), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    tree.file(at, 0o755, read(program)?);
    for lib in libraries(program)? {
        let at = lib.to_string_lossy().into_owned();
        if !tree.contains(&at) {
            tree.file(&at, 0o755, read(&lib)?);
        }
    }
    Ok(())
}

/// Downloads and unpacks the kernel package Debian's `linux-image-amd64` points
/// at, under `work`; returns the kernel and its modules directory.
pub fn debian_kernel(work: &Path) -> Result<(PathBuf, PathBuf), String> {
    let depends = || run(Command::new("apt-cache").args(["depends", "linux-image-amd64"]));
    let package = |text: &str| {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix("Depends: "))
            .find(|p| {
                p.starts_with("linux-image-")
                    && p.as_bytes().get(12).is_some_and(u8::is_ascii_digit)
            })
            .map(str::to_string)
    };
    let name = match depends().ok().as_deref().and_then(package) {
        Some(name) => name,
        None => {
            run(Command::new("apt-get").args(["update", "-qq"]))?;
            package(&depends()?).ok_or("apt knows no linux-image-amd64 kernel package")?
        }
    };
    eprintln!("ferric ramdisk: kernel package {name}");
    run(Command::new("apt-get")
        .args(["download", "-q", &name])
        .current_dir(work))?;
    let deb = std::fs::read_dir(work)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or("apt-get download left no package")?;
    let root = work.join("kernel");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
    let first = |dir: &Path, prefix: &str| -> Result<PathBuf, String> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
            })
            .collect();
        found.sort();
        found
            .pop()
            .ok_or_else(|| format!("{} has no {prefix}*", dir.display()))
    };
    // Newer packages ship their modules under usr/lib.
    let modules = ["lib/modules", "usr/lib/modules"]
        .iter()
        .map(|d| root.join(d))
        .find(|d| d.is_dir())
        .unwrap_or_else(|| root.join("lib/modules"));
    Ok((first(&root.join("boot"), "vmlinuz-")?, first(&modules, "")?))
}

/// Adds the [`MODULES`] found under `modules` (a `lib/modules/VERSION` directory)
/// to `lib/modules/`, decompressed, with `lib/modules/order` listing them; returns
/// the ones absent from this kernel.
pub fn add_modules(tree: &mut Tree, modules: &Path) -> Result<Vec<&'static str>, String> {
    let mut order = String::new();
    let mut absent = Vec::new();
    for module in MODULES {
        let base = modules.join("kernel").join(module);
        let found = ["ko", "ko.xz", "ko.zst"]
            .iter()
            .map(|ext| PathBuf::from(format!("{}.{ext}", base.display())))
            .find(|p| p.is_file());
        let Some(path) = found else {
            absent.push(*module);
            continue;
        };
        let data = match path.extension().and_then(|e| e.to_str()) {
            Some("xz") => run_bytes(Command::new("xz").arg("-dc").arg(&path))?,
            Some("zst") => run_bytes(Command::new("zstd").arg("-dcq").arg(&path))?,
            _ => std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?,
        };
        let name = format!("{}.ko", module.rsplit('/').next().unwrap_or(module));
        tree.file(&format!("lib/modules/{name}"), 0o644, data);
        order.push_str(&name);
        order.push('\n');
    }
    tree.file("lib/modules/order", 0o644, order.into_bytes());
    Ok(absent)
}

/// Runs `cmd`; its standard output, or why it failed.
fn run_bytes(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{shown} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_program_brings_its_loader_and_libraries() {
        let sh = find_program("sh").unwrap();
        let libs = libraries(&sh).unwrap();
        assert!(
            libs.iter()
                .any(|l| l.to_string_lossy().contains("ld-linux")),
            "{libs:?}"
        );
        assert!(libs.iter().all(|l| l.is_absolute()));
    }
}
