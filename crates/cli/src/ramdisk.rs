//! `ferric ramdisk build`: Ferric's deploy ramdisk in one command — a kernel and
//! an initramfs holding busybox, the agent, the programs the agent runs (sfdisk)
//! with their libraries, the NIC and disk drivers, and an `/init` that loads the
//! drivers, configures the boot NIC by DHCP and runs the agent. Reproducible: the
//! same inputs give the same bytes (`SOURCE_DATE_EPOCH` sets the files' time).

mod host;
mod tree;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::Failure;
use tree::Tree;

/// The ramdisk's `/init`.
const INIT: &str = include_str!("ramdisk/init.sh");
/// What busybox's udhcpc runs to apply a lease.
const UDHCPC_SCRIPT: &str = include_str!("ramdisk/udhcpc.sh");
/// The programs the agent runs that busybox does not provide.
const AGENT_TOOLS: &[&str] = &["sfdisk"];
/// Where the Debian package installs the static agent.
const PACKAGED_AGENT: &str = "/usr/lib/ferric/ferric-agent";

#[derive(Debug, clap::Subcommand)]
pub enum RamdiskCommand {
    /// Build the deploy kernel and initramfs into a directory.
    Build(BuildArgs),
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The kernel to boot (its drivers built in, or give --modules).
    #[arg(long, value_name = "PATH", required_unless_present = "debian_kernel")]
    kernel: Option<PathBuf>,
    /// The kernel's modules directory (`/lib/modules/VERSION`), with --kernel.
    #[arg(long, value_name = "DIR", requires = "kernel")]
    modules: Option<PathBuf>,
    /// Download Debian's current amd64 kernel package (apt-get download, no install).
    #[arg(long, conflicts_with = "kernel")]
    debian_kernel: bool,
    /// The agent binary [default: /usr/lib/ferric/ferric-agent, else the
    /// ferric-agent beside this program].
    #[arg(long, value_name = "PATH")]
    agent: Option<PathBuf>,
    /// Where to write ferric.kernel and ferric.initramfs.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
}

pub fn run(cmd: RamdiskCommand) -> Result<(), Failure> {
    match cmd {
        RamdiskCommand::Build(args) => build(args).map_err(Failure::Operation),
    }
}

/// The agent to put in: the one asked for, the packaged one, or the one beside
/// this program.
fn agent_path(asked: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(path) = asked {
        return match path.is_file() {
            true => Ok(path),
            false => Err(format!("no agent at {}", path.display())),
        };
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("ferric-agent")));
    [Some(PathBuf::from(PACKAGED_AGENT)), beside]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!("no ferric-agent at {PACKAGED_AGENT} or beside this program: give --agent PATH (lab/build-agent-static.sh builds a static one)")
        })
}

fn build(args: BuildArgs) -> Result<(), String> {
    let agent = agent_path(args.agent)?;
    let mtime = source_date()?;
    let work = tempdir()?;
    let result = build_in(
        &work,
        args.kernel,
        args.modules,
        args.debian_kernel,
        &agent,
        &args.output,
        mtime,
    );
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// A new work directory only this user can enter; an existing one (stale, or put
/// there by someone else) is never reused.
fn tempdir() -> Result<PathBuf, String> {
    use std::os::unix::fs::DirBuilderExt;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir =
        std::env::temp_dir().join(format!("ferric-ramdisk-{}-{nanos:08x}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("cannot create the work directory {}: {e}", dir.display()))?;
    Ok(dir)
}

/// `SOURCE_DATE_EPOCH`, the files' time: 0 when unset, an error when not a time.
fn source_date() -> Result<u32, String> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(_) => Ok(0),
        Ok(s) => s.trim().parse().map_err(|_| {
            format!("SOURCE_DATE_EPOCH={s} is not a time in seconds since 1970 (0 to 4294967295)")
        }),
    }
}

/// Writes `bytes` to `path` through a temporary file renamed over it, so a reader
/// (ferricd caching the ramdisk) never sees half a file.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let part = path.with_extension("part");
    std::fs::write(&part, bytes)
        .and_then(|()| std::fs::rename(&part, path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn build_in(
    work: &Path,
    kernel: Option<PathBuf>,
    modules: Option<PathBuf>,
    debian_kernel: bool,
    agent: &Path,
    output: &Path,
    mtime: u32,
) -> Result<(), String> {
    let (kernel, modules) = match (kernel, debian_kernel) {
        (_, true) => {
            let (k, m) = host::debian_kernel(work)?;
            (k, Some(m))
        }
        (Some(k), false) => (k, modules),
        (None, false) => return Err("give --kernel PATH or --debian-kernel".into()),
    };
    let kernel_bytes = std::fs::read(&kernel)
        .map_err(|e| format!("cannot read the kernel {}: {e}", kernel.display()))?;

    let mut tree = Tree::default();
    for dir in [
        "dev", "etc", "mnt", "proc", "run", "sys", "tmp", "sbin", "usr/bin", "usr/sbin",
    ] {
        tree.dir(dir);
    }
    let busybox = host::find_program("busybox")?;
    host::add_program(&mut tree, &busybox, "bin/busybox")?;
    let applets = std::process::Command::new(&busybox)
        .arg("--list")
        .output()
        .map_err(|e| format!("cannot list busybox's applets: {e}"))?;
    let applets = String::from_utf8_lossy(&applets.stdout).into_owned();
    if !applets.split_whitespace().any(|a| a == "sh") {
        return Err(format!(
            "{} lists no sh applet: the ramdisk would have no shell to run /init",
            busybox.display()
        ));
    }
    host::add_program(&mut tree, agent, "bin/ferric-agent")?;
    for tool in AGENT_TOOLS {
        let path = host::find_program(tool)?;
        host::add_program(&mut tree, &path, &format!("usr/sbin/{tool}"))?;
    }
    // After the real programs: an applet never hides one.
    for applet in applets.split_whitespace() {
        tree.symlink(&format!("bin/{applet}"), "busybox");
    }
    tree.file("init", 0o755, INIT.as_bytes().to_vec());
    tree.file(
        "usr/share/udhcpc/default.script",
        0o755,
        UDHCPC_SCRIPT.as_bytes().to_vec(),
    );
    match &modules {
        Some(dir) => {
            for absent in host::add_modules(&mut tree, dir)? {
                eprintln!("ferric ramdisk: module {absent} is not in this kernel (built in, or absent): skipped");
            }
        }
        None => {
            tree.file("lib/modules/order", 0o644, Vec::new());
            eprintln!("ferric ramdisk: no --modules: the kernel's drivers must be built in");
        }
    }
    let initramfs = tree
        .archive(mtime)
        .map_err(|e| format!("cannot write the initramfs: {e}"))?;

    std::fs::create_dir_all(output).map_err(|e| format!("{}: {e}", output.display()))?;
    let mut sums = String::new();
    for (name, bytes) in [
        ("ferric.kernel", &kernel_bytes),
        ("ferric.initramfs", &initramfs),
    ] {
        let path = output.join(name);
        write_whole(&path, bytes)?;
        sums.push_str(&format!(
            "{}  {name}\n",
            ferric_types::lldp::hex(&Sha256::digest(bytes))
        ));
        println!(
            "{}  {:.1} MiB",
            path.display(),
            bytes.len() as f64 / (1 << 20) as f64
        );
    }
    write_whole(&output.join("SHA256SUMS"), sums.as_bytes())?;
    print!("{sums}");
    let dir = std::fs::canonicalize(output).unwrap_or_else(|_| output.to_path_buf());
    println!(
        "point nodes at it: ferric node set NODE --driver-info deploy_kernel={0}/ferric.kernel --driver-info deploy_ramdisk={0}/ferric.initramfs",
        dir.display()
    );
    Ok(())
}
