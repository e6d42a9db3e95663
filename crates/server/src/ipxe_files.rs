//! Puts the iPXE binaries network-booting firmware loads (`undionly.kpxe` for BIOS,
//! `snponly.efi` / `ipxe.efi` for UEFI) into the boot root, from the configured
//! directory (Debian's `ipxe` package by default). Missing ones are reported once at
//! start: nodes whose firmware already runs iPXE boot without them.

use std::path::Path;

/// The binaries looked for.
const BINARIES: &[&str] = &["undionly.kpxe", "snponly.efi", "ipxe.efi"];

/// Copies each binary that is missing or differs in size; returns the names installed
/// or already there.
pub fn install(from: &Path, root: &Path) -> Vec<&'static str> {
    let mut present = Vec::new();
    for name in BINARIES {
        let (src, dst) = (from.join(name), root.join(name));
        let Ok(meta) = std::fs::metadata(&src) else {
            continue;
        };
        let same = std::fs::metadata(&dst).is_ok_and(|d| d.len() == meta.len());
        if !same {
            let part = root.join(format!(".{name}.part"));
            let copied = std::fs::copy(&src, &part).and_then(|_| std::fs::rename(&part, &dst));
            if let Err(e) = copied {
                tracing::warn!(file = %src.display(), error = %e, "could not copy an iPXE binary into the boot root");
                continue;
            }
        }
        present.push(*name);
    }
    if present.is_empty() {
        tracing::warn!(
            dir = %from.display(),
            "no iPXE binaries found (install Debian's ipxe package or set [boot] ipxe_dir): only firmware that already runs iPXE can network-boot"
        );
    }
    present
}
