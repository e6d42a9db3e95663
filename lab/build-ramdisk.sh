#!/usr/bin/env bash
# lab/build-ramdisk.sh [OUTDIR]
#
# Builds Ferric's deploy ramdisk for the lab's VM tests with the command operators
# use, `ferric ramdisk build --debian-kernel` (Debian's amd64 kernel, the static
# ferric-agent this checkout builds, busybox, sfdisk and their libraries, the
# virtio/e1000/NVMe modules). Prints OUTDIR, which then holds ferric.kernel,
# ferric.initramfs and SHA256SUMS. Default OUTDIR: target/ramdisk.
#
# Needs busybox and sfdisk on this machine (lab/install-deps.sh installs them) and
# apt, to download the kernel package (no install).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-${CARGO_TARGET_DIR:-target}/ramdisk}"
AGENT="$(bash lab/build-agent-static.sh)"
cargo build --locked -q --bin ferric >&2
"${CARGO_TARGET_DIR:-target}/debug/ferric" ramdisk build --debian-kernel --agent "$AGENT" -o "$OUT" >&2
echo "$OUT"
