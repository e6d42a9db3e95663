#!/usr/bin/env bash
# lab/build-ipa-ramdisk.sh [OUTDIR]
#
# Builds a deploy ramdisk running the REAL OpenStack ironic-python-agent 13 (IPA,
# `pip install 'ironic-python-agent==13.*'` from PyPI), so a QEMU VM booted with
# `-kernel OUTDIR/ipa.kernel -initrd OUTDIR/ipa.initramfs` (or a node whose
# deploy_kernel/deploy_ramdisk are these files) talks to Ferric's API as it would to
# Ironic's. Writes OUTDIR/ipa.kernel (Debian bookworm's linux-image-amd64) and
# OUTDIR/ipa.initramfs (cpio | zstd) and prints OUTDIR, absolute, on its last stdout
# line; progress goes to stderr. Default OUTDIR: ${CARGO_TARGET_DIR:-target}/ipa-ramdisk.
#
# Cache: the files are built once into
#   ${FERRIC_LAB_DIR:-$HOME/.cache/ferric-lab}/ipa-ramdisk-<first 12 hex of this script's sha256>/
# and later runs only hard-link (or copy) them into OUTDIR. Editing this script
# gives a new cache folder; old ones are left for you to delete. A lock makes
# concurrent runs build once.
#
# What is in it (a Debian bookworm `debootstrap --variant=minbase` root; ~100 s cold):
#   python3, python3-venv   IPA 13 in a virtualenv at /opt/ipa, byte-compiled
#                           (without .pyc files its imports cost ~20 s under TCG)
#   udev                    systemd-udevd + udevadm: /dev/disk/by-*, module autoload;
#                           IPA uses udevadm and pyudev (libudev)
#   kmod                    modprobe (IPA loads ipmi/multipath modules, udev loads drivers)
#   iproute2                ip: IPA lists and configures interfaces with it
#   busybox                 udhcpc (DHCP in /init) and `poweroff -f`/`reboot -f`
#   lshw                    IPA's hardware inventory (sent with every lookup): without
#                           it the agent never looks up
#   dmidecode               inspection's DMI collector
#   util-linux, mount       lsblk, blkid, blockdev, wipefs, findmnt, partx, blkdiscard,
#                           lscpu, hwclock, mount (minbase has them)
#   bsdextrautils           hexdump: the disk identifier IPA reports as "root uuid"
#                           of a whole-disk image (get_partition_uuids)
#   psmisc                  fuser: erase_devices_metadata and partitioning wait with
#                           it until nobody holds the disk (fails without)
#   gdisk, parted           sgdisk (metadata erase, GPT fix-ups, partition images),
#                           parted/partprobe (partition tables after writing an image)
#   qemu-utils              qemu-img: standby.write_image converts non-raw images
#                           (qcow2) onto the disk with it
#   hdparm                  erase_devices asks hdparm -I for ATA secure erase first
#   nvme-cli, smartmontools, mdadm, efibootmgr
#                           probes IPA runs (NVMe erase, SMART, software RAID, UEFI
#                           boot entries); cheap, and they spare warnings
#   dosfstools              mkfs.vfat for the EFI partition of partition images
#   e2fsprogs               mkfs.ext* for partition images (minbase has it)
#   ca-certificates         https image URLs and https Ironic API URLs
# Not included: `file` (only for BIOS grub installs of partition images), chrony/
# ntpdate (only with ipa-ntp-server), multipath-tools, iscsi (IPA logs and goes on).
# Kernel modules (with their dependencies): virtio pci/net/blk/scsi/rng, e1000,
# e1000e, nvme, ahci, ata_piix, sd_mod, sr_mod, ext4, vfat, isofs, efivarfs, md
# raid0/raid1.
#
# Boot: /init mounts /proc, /sys, /dev, /run, starts systemd-udevd (trigger + settle),
# gets an address by DHCP (busybox udhcpc) on the BOOTIF NIC, or on every NIC when
# there is no BOOTIF, and runs ironic-python-agent (restarted 10 s after it exits, as
# its systemd unit would be). IPA logs to stdout, which /init leaves on the console:
# pass console=ttyS0 to read it on the serial port. There is no init system: the
# `poweroff`/`reboot` IPA runs for standby.power_off/run_image are /usr/local/sbin
# scripts that sync and call busybox `poweroff -f`/`reboot -f` a second later (IPA
# would otherwise fall back to /proc/sysrq-trigger itself).
#
# Kernel command line the ramdisk expects:
#   console=ttyS0                 IPA's log on the first serial port
#   ipa-api-url=http://HOST:PORT  the Ironic (Ferric) API — required
#   BOOTIF=01-aa-bb-cc-dd-ee-ff   optional: DHCP only on that NIC
#   and any other ipa-* parameter IPA 13 reads from /proc/cmdline itself, e.g.
#   ipa-insecure=1, ipa-disk-wait-attempts=1 (a VM disk < 4 GiB), ipa-debug=1,
#   ipa-ironic-api-version=1.67 (plain-http agent API instead of auto TLS).
# Memory: the ramdisk (~190 MiB unpacked) lives in the rootfs, a tmpfs of half the
# RAM: 512 MiB boots, looks up and writes raw images (streamed to the disk); 384 MiB
# fails ("Initramfs unpacking failed: write error"). IPA downloads other formats
# (qcow2) into /tmp — RAM — before qemu-img converts them: 768 MiB or more for those.
#
# Installs with apt-get what the build needs when missing (debootstrap, cpio,
# zstd); fetches from the Debian mirror (FERRIC_DEBIAN_MIRROR, default
# http://deb.debian.org/debian) and PyPI. Needs root (debootstrap, chroot).
set -euo pipefail
SELF="$(readlink -f "${BASH_SOURCE[0]}")"
[ -n "${1:-}" ] && OUT="$(realpath -m "$1")"
cd "$(dirname "$SELF")/.."
OUT="${OUT:-$(realpath -m "${CARGO_TARGET_DIR:-target}/ipa-ramdisk")}"
LAB_DIR="${FERRIC_LAB_DIR:-${HOME:-/tmp}/.cache/ferric-lab}"
CACHE="$LAB_DIR/ipa-ramdisk-$(sha256sum "$SELF" | cut -c1-12)"
MIRROR="${FERRIC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
IPA_VERSION="13.*"
note() { printf 'build-ipa-ramdisk.sh: %s\n' "$*" >&2; }

# publish — links (or copies) the cached files into OUTDIR and prints it.
publish() {
    mkdir -p "$OUT"
    for f in ipa.kernel ipa.initramfs; do
        ln -f "$CACHE/$f" "$OUT/$f" 2>/dev/null || cp -f "$CACHE/$f" "$OUT/$f"
    done
    echo "$OUT"
}
cached() { [ -f "$CACHE/ipa.kernel" ] && [ -f "$CACHE/ipa.initramfs" ]; }
if cached; then
    note "cached in $CACHE"
    publish
    exit 0
fi

[ "$(id -u)" -eq 0 ] || { note "building needs root (debootstrap, chroot)"; exit 1; }
mkdir -p "$LAB_DIR"
exec 9>"$LAB_DIR/ipa-ramdisk.lock"
flock 9
if cached; then   # another run built it while we waited
    note "cached in $CACHE"
    publish
    exit 0
fi

started=$SECONDS
# Built on disk next to the cache (~600 MiB at the peak): /tmp may be a small or
# noexec tmpfs, and the root's programs run chrooted.
WORK="$(mktemp -d "$LAB_DIR/.ipa-ramdisk-build.XXXXXX")"
# Every mount below lives in a private mount namespace (unshare) and is gone with
# it, so the trap only removes files (--one-file-system, to be safe).
trap 'rm -rf --one-file-system "$WORK" "$CACHE.partial"' EXIT
ROOT="$WORK/root"

export DEBIAN_FRONTEND=noninteractive
note "apt-get update"
apt-get update -qq >&2
need=()
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v cpio >/dev/null 2>&1 || need+=(cpio)
command -v zstd >/dev/null 2>&1 || need+=(zstd)
if [ "${#need[@]}" -gt 0 ]; then
    note "installing ${need[*]}"
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The Debian root (what every package is for: see the header).
PACKAGES=(
    python3 python3-venv udev kmod iproute2 busybox lshw dmidecode bsdextrautils psmisc
    gdisk parted qemu-utils hdparm nvme-cli smartmontools mdadm efibootmgr dosfstools
    e2fsprogs ca-certificates
)
note "debootstrap $SUITE (minbase + ${#PACKAGES[@]} packages) from $MIRROR"
pkgs="$(IFS=,; echo "${PACKAGES[*]}")"
# Two stages, so the second (dpkg unpacking and configuring ~180 packages) runs with
# force-unsafe-io: no fsync per file, ~45 s less on this machine class.
if ! unshare --mount --propagation private -- debootstrap --foreign --variant=minbase --include="$pkgs" \
    "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK/debootstrap.log" >&2
    note "debootstrap (first stage) failed"
    exit 1
fi
mkdir -p "$ROOT/etc/dpkg/dpkg.cfg.d"
echo force-unsafe-io >"$ROOT/etc/dpkg/dpkg.cfg.d/ferric-unsafe-io"
if ! unshare --mount --propagation private -- chroot "$ROOT" /debootstrap/debootstrap --second-stage \
    >>"$WORK/debootstrap.log" 2>&1; then
    tail -n 20 "$WORK/debootstrap.log" >&2
    note "debootstrap (second stage) failed"
    exit 1
fi
note "debootstrap done ($((SECONDS - started)) s)"

# in_root CMD... — runs CMD chrooted in the root, with /proc and /dev/shm mounted
# for the time of the command only.
in_root() {
    # shellcheck disable=SC2016 # expanded by the inner sh
    unshare --mount --propagation private -- sh -ec \
        'r="$1"; shift; mount -t proc proc "$r/proc"; mount -t tmpfs tmpfs "$r/dev/shm"; exec chroot "$r" "$@"' \
        sh "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}
mkdir -p "$ROOT/dev/shm"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true

# pip in the root trusts what the host trusts (a site's TLS-inspecting proxy CA) and
# goes through the host's proxy and index settings.
pip_env=()
host_ca="${PIP_CERT:-${REQUESTS_CA_BUNDLE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}}"
if [ -f "$host_ca" ]; then
    cp -L "$host_ca" "$ROOT/tmp/host-ca.crt"
    pip_env+=(PIP_CERT=/tmp/host-ca.crt)
fi
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_INDEX_URL PIP_EXTRA_INDEX_URL \
    PIP_DEFAULT_TIMEOUT; do
    if [ -n "${!v:-}" ]; then pip_env+=("$v=${!v}"); fi
done
note "pip install ironic-python-agent==$IPA_VERSION"
in_root python3 -m venv /opt/ipa
in_root "${pip_env[@]}" /opt/ipa/bin/pip install -q --no-cache-dir --no-compile --disable-pip-version-check \
    "ironic-python-agent==$IPA_VERSION" >&2
rm -f "$ROOT/tmp/host-ca.crt"
IPA_INSTALLED="$(in_root /opt/ipa/bin/python -c 'from importlib import metadata; print(metadata.version("ironic-python-agent"))')"
note "ironic-python-agent $IPA_INSTALLED installed ($((SECONDS - started)) s)"
in_root /opt/ipa/bin/pip uninstall -q -y pip setuptools >&2 || true

# The kernel and its modules: the package linux-image-amd64 points at.
KPKG="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
[ -n "$KPKG" ] || { note "no kernel package behind linux-image-amd64"; exit 1; }
note "kernel package $KPKG"
(cd "$WORK" && apt-get download -q "$KPKG" >/dev/null 2>&1) || { note "apt-get download $KPKG failed"; exit 1; }
dpkg -x "$WORK"/linux-image-*.deb "$WORK/k"
KVER="$(ls "$WORK/k/lib/modules")"
mkdir -p "$ROOT/lib/modules"
cp -a "$WORK/k/lib/modules/$KVER" "$ROOT/lib/modules/$KVER"
in_root depmod "$KVER"
# Keep the wanted modules and what they depend on; drop the rest (~400 MiB).
MODULES=(
    virtio_pci virtio_net virtio_blk virtio_scsi virtio_rng e1000 e1000e nvme ahci ata_piix
    sd_mod sr_mod ext4 vfat nls_cp437 nls_iso8859_1 nls_utf8 isofs efivarfs crc32c_generic
    crc32c_intel raid0 raid1
)
keep="$WORK/modules.keep"
: >"$keep"
for m in "${MODULES[@]}"; do
    in_root modprobe --set-version "$KVER" --show-depends "$m" >"$WORK/deps" 2>/dev/null \
        || { note "module $m is not in $KVER: skipped"; continue; }
    awk '$1 == "insmod" {print $2}' "$WORK/deps" >>"$keep"
done
find "$ROOT/lib/modules/$KVER/kernel" -name '*.ko*' | sed "s|^$ROOT||" | sort >"$WORK/modules.all"
sort -u "$keep" | comm -23 "$WORK/modules.all" - | sed "s|^|$ROOT|" | xargs rm -f
find "$ROOT/lib/modules/$KVER/kernel" -type d -empty -delete
in_root depmod "$KVER"
note "kept $(sort -u "$keep" | wc -l) kernel modules of $KVER"

# Byte-compile everything Python imports (hash-based .pyc: valid whatever the mtimes).
in_root /opt/ipa/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash \
    /opt/ipa /usr/lib/python3.11 /usr/lib/python3/dist-packages >/dev/null || true

# Strip what a ramdisk never reads.
rm -rf "$ROOT"/usr/share/{doc,man,info,locale,lintian,linda,bash-completion,bug,menu,common-licenses,python-wheels} \
    "$ROOT"/usr/lib/python3.11/{test,ensurepip,idlelib,tkinter,turtledemo,lib2to3,pydoc_data} \
    "$ROOT"/opt/ipa/lib/python3.11/site-packages/ironic_python_agent/tests \
    "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/* "$ROOT"/var/cache/debconf/*-old \
    "$ROOT"/var/lib/dpkg/*-old "$ROOT"/var/log/* \
    "$ROOT"/etc/udev/hwdb.bin "$ROOT"/usr/lib/udev/hwdb.bin "$ROOT"/usr/lib/udev/hwdb.d \
    "$ROOT"/etc/resolv.conf "$ROOT"/etc/hostname "$ROOT"/etc/dpkg/dpkg.cfg.d/ferric-unsafe-io
# … and what only package management needs: perl (debconf), apt, dpkg's file lists,
# glibc's iconv modules; of qemu-utils only qemu-img is used.
rm -rf "$ROOT"/usr/bin/perl* "$ROOT"/usr/lib/x86_64-linux-gnu/perl-base "$ROOT"/usr/share/perl5 \
    "$ROOT"/usr/bin/apt* "$ROOT"/usr/lib/apt "$ROOT"/usr/lib/x86_64-linux-gnu/libapt-* \
    "$ROOT"/var/lib/dpkg/info "$ROOT"/var/cache/debconf "$ROOT"/usr/lib/x86_64-linux-gnu/gconv \
    "$ROOT"/usr/bin/qemu-nbd "$ROOT"/usr/bin/qemu-io
find "$ROOT/opt/ipa" -depth -type d \( -name tests -o -name testsuite \) -path '*/site-packages/*' -exec rm -rf {} +
# /dev is a devtmpfs at boot; the kernel wants /dev/console before /init runs.
rm -rf --one-file-system "${ROOT:?}/dev" && mkdir -p "$ROOT/dev"
mknod -m 600 "$ROOT/dev/console" c 5 1
mknod -m 666 "$ROOT/dev/null" c 1 3
mkdir -p "$ROOT"/{proc,sys,run,tmp,usr/local/sbin,etc/udhcpc}
chmod 1777 "$ROOT/tmp"
echo ipa-ramdisk >"$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"

cat >"$ROOT/etc/udhcpc/ipa.script" <<'EOF'
#!/bin/sh
# Applies a DHCP lease (busybox udhcpc calls this).
case "$1" in
    deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
    bound|renew)
        ip -4 addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        [ -n "${router:-}" ] && ip route replace default via "${router%% *}" dev "$interface"
        if [ -n "${dns:-}" ]; then
            : >/etc/resolv.conf
            [ -n "${domain:-}" ] && echo "search $domain" >>/etc/resolv.conf
            for s in $dns; do echo "nameserver $s" >>/etc/resolv.conf; done
        fi
        echo "ipa-ramdisk: $interface has $ip/${mask:-24}"
        ;;
esac
exit 0
EOF
for verb in poweroff reboot; do
    cat >"$ROOT/usr/local/sbin/$verb" <<EOF
#!/bin/sh
# IPA runs \`$verb\` (standby.power_off / run_image). There is no init system in this
# ramdisk: sync, and $verb a second later, once IPA has recorded its command's result.
sync
( sleep 1; sync; busybox $verb -f ) </dev/null >/dev/null 2>&1 &
exit 0
EOF
done
cat >"$ROOT/init" <<'EOF'
#!/bin/sh
# IPA deploy ramdisk (lab/build-ipa-ramdisk.sh): devices, network, ironic-python-agent.
export PATH=/opt/ipa/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
# IPA downloads non-raw images into /tmp before qemu-img converts them: a tmpfs of its
# own (half the RAM), not the rootfs, which the ~190 MiB of the ramdisk already fill.
mount -t tmpfs -o mode=1777 tmpfs /tmp
[ -d /sys/firmware/efi/efivars ] && mount -t efivarfs efivarfs /sys/firmware/efi/efivars
hostname -F /etc/hostname
echo "ipa-ramdisk: starting udev"
modprobe -a -q virtio_pci virtio_net virtio_blk virtio_scsi e1000 e1000e nvme ahci sd_mod
/lib/systemd/systemd-udevd --daemon --resolve-names=never
udevadm trigger --type=subsystems --action=add
udevadm trigger --type=devices --action=add
udevadm settle --timeout=30 || true
ip link set lo up
# DHCP on the BOOTIF NIC (01-aa-bb-… or aa:bb:…), else on every NIC, in parallel.
bootif=""
for p in $(cat /proc/cmdline); do
    case "$p" in BOOTIF=*) bootif="$(echo "${p#BOOTIF=}" | sed 's/^01-//; s/-/:/g' | tr 'A-F' 'a-f')" ;; esac
done
for dev in /sys/class/net/*; do
    name="${dev##*/}"
    [ "$name" = lo ] && continue
    [ -e "$dev/device" ] || continue
    mac="$(cat "$dev/address")"
    if [ -z "$bootif" ] || [ "$mac" = "$bootif" ]; then
        echo "ipa-ramdisk: DHCP on $name ($mac)"
        busybox udhcpc -i "$name" -q -n -t 20 -T 1 -s /etc/udhcpc/ipa.script &
    fi
done
wait
while :; do
    echo "ipa-ramdisk: starting ironic-python-agent"
    ironic-python-agent
    echo "ipa-ramdisk: ironic-python-agent exited ($?); restarting in 10 s"
    sleep 10
done
EOF
chmod 0755 "$ROOT/init" "$ROOT/etc/udhcpc/ipa.script" "$ROOT"/usr/local/sbin/{poweroff,reboot}

note "packing ($(du -sm "$ROOT" | cut -f1) MiB)"
rm -rf "$CACHE.partial"
mkdir -p "$CACHE.partial"
cp "$WORK"/k/boot/vmlinuz-* "$CACHE.partial/ipa.kernel"
(cd "$ROOT" && find . -xdev | LC_ALL=C sort | cpio -o -H newc --quiet | zstd -q -T0 -9) \
    >"$CACHE.partial/ipa.initramfs"
echo "ironic-python-agent $IPA_INSTALLED, kernel $KVER, Debian $SUITE" >"$CACHE.partial/VERSIONS"
mv -T "$CACHE.partial" "$CACHE"
note "built ironic-python-agent $IPA_INSTALLED ramdisk: $(du -h "$CACHE/ipa.initramfs" | cut -f1) initramfs, kernel $KVER ($((SECONDS - started)) s)"
publish
