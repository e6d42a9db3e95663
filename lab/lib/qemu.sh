# shellcheck shell=bash
# lab/lib/qemu.sh — QEMU's x86 system emulator for the lab's VMs (lab/vm-deploy.sh,
# lab/ipa-deploy.sh). Sourced, not run.
#
# `apt-get install qemu-system-x86` would remove the installed qemu-utils here, so
# the emulator is unpacked once from Debian packages into
# ${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}/qemu and its shared libraries and
# SeaBIOS are installed with apt-get. Run it with
#   "$QEMU" -L "$QEMU_DIR/usr/share/qemu" -L /usr/share/seabios …
# (add -L /usr/lib/ipxe/qemu, from ipxe-qemu, for NIC boot ROMs).
#
# The caller defines note; LAB_DIR, when set, names the lab's cache folder.

# ensure_qemu — unpacks the emulator when it is missing; sets QEMU_DIR and QEMU.
ensure_qemu() {
    QEMU_DIR="${LAB_DIR:-${FERRIC_LAB_DIR:-${HOME:-/tmp}/.cache/ferric-lab}}/qemu"
    QEMU="$QEMU_DIR/usr/bin/qemu-system-x86_64"
    "$QEMU" --version >/dev/null 2>&1 && [ -f /usr/share/seabios/bios-256k.bin ] && return 0
    note "unpacking qemu-system-x86 into $QEMU_DIR"
    mkdir -p "$QEMU_DIR/debs"
    (cd "$QEMU_DIR/debs" && apt-get download -q qemu-system-x86 qemu-system-common qemu-system-data >/dev/null)
    for d in "$QEMU_DIR"/debs/*.deb; do dpkg -x "$d" "$QEMU_DIR"; done
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcapstone4 libfdt1 libpmem1 librdmacm1 \
        libibverbs1 libslirp0 libvdeplug2 libaio1 liburing2 libnuma1 libpixman-1-0 seabios >/dev/null
    "$QEMU" --version >/dev/null || { note "QEMU does not run"; exit 1; }
}
